"""The workbench's web layer (riskmodel.workbench.app) through Flask's test client: every page,
the JSON endpoints against the library's numbers, validation (400 with a message, never a
traceback), CSRF, basic auth with lockout, and ``riskmodel serve``'s refusal of an open host."""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import json
import re
import shutil
import signal
import subprocess
import sys
import tomllib
import urllib.request

import numpy as np
import pytest

from riskmodel.cli import main
from riskmodel.errors import InputError
from riskmodel.index.ahp import ahp
from riskmodel.workbench import open_study
from riskmodel.workbench.app import (
    LABELS,
    BasicAuth,
    bump_svg,
    create_app,
    label,
    line_chart_svg,
    saaty_value,
)

FIXED = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)
CYCLE = (3.0, 1 / 5, 7.0, 5.0, 1 / 3, 9.0, 1 / 7, 2.0)


def _bad(n):
    """Judgements for n items that contradict each other (CR well above 0.1)."""
    pairs = [(i, j) for i in range(n) for j in range(i + 1, n)]
    return {p: CYCLE[k % len(CYCLE)] for k, p in enumerate(pairs)}


@pytest.fixture(scope="module")
def study(tiny_study_dir, tmp_path_factory):
    """The small study opened once for this module, with its own ledger (tests write distinct names)."""
    s = open_study(tiny_study_dir, db=f"sqlite:///{tmp_path_factory.mktemp('app') / 'wb.sqlite'}", clock=lambda: FIXED)
    yield s
    s.close()


@pytest.fixture
def client(study):
    app = create_app(study, study.ledger)
    app.testing = True
    c = app.test_client()
    c.get("/calibration")  # a session (and its CSRF token)
    return c


def _csrf(client) -> str:
    page = client.get("/publish").get_data(as_text=True)
    return re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)


def _post(client, url, body):
    return client.post(url, json=body, headers={"X-CSRF-Token": _csrf(client)})


def _group(study):
    parent, kids = next((p, k) for p, k in study.groups() if len(k) >= 4)
    return parent, kids


def _upper(kids, values):
    return {f"{kids[i]}|{kids[j]}": v for (i, j), v in values.items()}


def _matrix(n, values):
    A = np.ones((n, n))
    for (i, j), v in values.items():
        A[i, j], A[j, i] = v, 1 / v
    return A


def test_every_page_answers_in_chinese_by_default_and_in_english(client, study):
    for url in ("/calibration", "/forecasts", "/warnings", "/followup", "/publish",
                f"/area/{study.areas()['area_id'].iloc[-1]}"):
        r = client.get(url)
        assert r.status_code == 200, (url, r.get_data(as_text=True)[:500])
        page = r.get_data(as_text=True)
        assert label("calibration", "zh") in page and "模拟数据" in page, url
    en = client.get("/calibration?lang=en").get_data(as_text=True)
    assert "Index calibration" in en and "Pairwise judgements" in en
    assert "Index calibration" in client.get("/warnings").get_data(as_text=True)  # the choice is kept
    for level in study.forecast_levels():
        assert client.get(f"/forecasts?level={level}").status_code == 200


def test_every_label_has_both_languages():
    for key, (zh, en) in LABELS.items():
        assert zh and en, key
    assert label("no such key", "zh") == "no such key"


def test_pages_show_the_studys_numbers(client, study):
    warnings = client.get("/warnings").get_data(as_text=True)
    for r in study.warnings().itertuples():
        assert r.key in warnings
    assert warnings.count('<svg xmlns="http://www.w3.org/2000/svg" class="chart"') == len(study.warnings())
    area = study.warnings()["area_id"].iloc[0]
    page = client.get(f"/area/{area}").get_data(as_text=True)
    top = study.area_detail(area).components
    index_rank = int(top.loc[top["code"] == "Index", "rank"].iloc[0])
    assert re.search(rf'data-code="Index">.*?<td class="num rank">{index_rank}</td>', page, re.S)


def test_check_gives_the_libraries_cr_and_the_judgement_to_revisit(client, study):
    parent, kids = _group(study)
    n = len(kids)
    values = _bad(n)
    r = _post(client, "/api/check", {"parent": parent, "judgements": _upper(kids, values)})
    assert r.status_code == 200, r.get_data(as_text=True)
    got = r.get_json()
    want = ahp(_matrix(n, values), kids, parent)
    assert got["cr"] == pytest.approx(want.cr, abs=1e-9)
    assert got["consistent"] is False and want.cr > 0.1
    assert (got["revisit"]["row"], got["revisit"]["col"]) == (want.revisit["row"], want.revisit["col"])


def test_two_experts_judgements_make_committee_weights(client, study):
    parent, kids = _group(study)
    n = len(kids)
    ones = {(i, j): 1.0 for i in range(n) for j in range(i + 1, n)}
    favour_first = {(i, j): (3.0 if i == 0 else 1.0) for i in range(n) for j in range(i + 1, n)}
    for expert, values in (("甲专家", ones), ("expert B", favour_first)):
        r = _post(client, "/api/judgements", {"expert": expert, "parent": parent, "judgements": _upper(kids, values)})
        assert r.status_code == 200, r.get_data(as_text=True)
        assert r.get_json()["version"] == 1
    again = _post(client, "/api/judgements", {"expert": "甲专家", "parent": parent, "judgements": _upper(kids, ones)})
    assert again.get_json()["version"] == 2
    page = client.get(f"/calibration?group={parent}&expert=expert%20B").get_data(as_text=True)
    assert 'id="committee-table"' in page and "甲专家" in page
    # the AIJ committee weights of the group: the geometric mean of the two matrices, eigenvector
    want = ahp([_matrix(n, ones), _matrix(n, favour_first)], kids, parent)
    first = re.search(rf'<td class="num" data-code="{kids[0]}">([0-9.]+)</td>', page).group(1)
    assert float(first) == pytest.approx(want.weights[0], abs=1e-4)
    # expert B's saved judgements are the ones selected on the form
    sel = re.search(rf'id="j-{kids[0]}-{kids[1]}".*?</select>', page, re.S).group(0)
    assert re.search(r'<option value="3"[^>]*selected', sel)
    assert 'id="expert-rankings"' in page
    aip = client.get("/calibration?agg=AIP").get_data(as_text=True)
    assert 'value="AIP" selected' in aip


def test_a_weight_change_returns_new_ranks_beside_the_old(client, study):
    current = study.current_weights()
    code = next(c for c in current if c != "order" and current[c] > 0)
    w = {**current, code: current[code] * 4}
    r = _post(client, "/api/ranks", {"weights": w})
    assert r.status_code == 200, r.get_data(as_text=True)
    got = r.get_json()
    want = study.ranks_for(w)
    assert got["ranks"] == {str(a): int(k) for a, k in zip(want["area_id"], want["rank"], strict=True)}
    assert got["changed"] == int((want["rank_change"] != 0).sum()) > 0
    assert "<svg" in got["bump"] and "data-area-id" in got["map"] and 'id="ranks-table"' in got["table"]
    # the effective weights (within-parent weights multiplied down the tree) of the edited weights
    eff = _post(client, "/api/effective", {"weights": w}).get_json()
    tree = study.index_tree(w).set_index("code")["effective"]
    assert eff[code] == pytest.approx(tree[code], abs=1e-4)
    assert sum(eff[c] for c in study.spec.indicators) == pytest.approx(1.0, abs=1e-3)


def test_swap_intervals_and_weight_sets(client, study):
    streets = study.ranks_for()["area_id"].tolist()
    r = _post(client, "/api/swap", {"a": streets[0], "b": streets[1]})
    assert r.status_code == 200, r.get_data(as_text=True)
    assert r.get_json()["message"]
    r = _post(client, "/api/intervals", {})
    assert r.status_code == 200 and 'id="intervals-table"' in r.get_json()["table"]
    w = study.current_weights()
    r = _post(client, "/api/weightsets", {"name": "委员会 v1", "method": "direct", "note": "test", "weights": w})
    assert r.get_json() == {"name": "委员会 v1", "version": 1}
    toml = client.get("/weightsets/委员会 v1/1.toml")
    assert toml.status_code == 200 and "attachment" in toml.headers["Content-Disposition"]
    assert "weights" in tomllib.loads(toml.get_data(as_text=True))
    page = client.get("/calibration").get_data(as_text=True)
    assert "委员会 v1" in page
    use = client.post("/weightsets/use", data={"name": "委员会 v1", "version": "1", "csrf_token": _csrf(client)})
    assert use.status_code == 302
    assert client.get("/judgements.csv").status_code == 200


@pytest.mark.parametrize(("url", "body", "says"), [
    ("/api/check", {"parent": "Index", "judgements": {"order|safety": 10}}, "Saaty"),
    ("/api/check", {"parent": "nope", "judgements": {}}, "unknown group"),
    ("/api/check", {"parent": "Index", "judgements": {"order|safety": 3}}, "missing"),
    ("/api/judgements", {"expert": "", "parent": "Index", "judgements": {}}, "expert"),
    ("/api/ranks", {"weights": {"order": -1}}, ">= 0"),
    ("/api/ranks", {"weights": {"no_such_code": 1}}, "unknown code"),
    ("/api/ranks", {"weights": {"order": "abc"}}, "not a number"),
    ("/api/ranks", [1, 2], "JSON object"),
    ("/api/swap", {"a": "X", "b": "Y"}, "unknown area"),
    ("/api/weightsets", {"name": "<script>", "weights": {"order": 1}}, "name"),
])
def test_bad_json_input_is_a_400_with_a_message(client, url, body, says):
    r = _post(client, url, body)
    assert r.status_code == 400, (url, r.status_code)
    assert says in r.get_json()["error"]
    assert "Traceback" not in r.get_data(as_text=True)


def test_bad_page_input_is_a_400_or_404_page_with_a_message(client, study):
    r = client.get("/forecasts?level=galaxy")
    assert r.status_code == 400 and "galaxy" in r.get_data(as_text=True)
    r = client.get("/area/NOWHERE")
    assert r.status_code == 404 and "NOWHERE" in r.get_data(as_text=True)
    r = client.get("/calibration?group=<b>x</b>")
    assert r.status_code == 400 and "<b>x</b>" not in r.get_data(as_text=True)  # escaped
    key = study.warnings()["key"].iloc[0]
    token = _csrf(client)
    r = client.post("/followup", data={"key": key, "status": "assigned", "unit": "", "csrf_token": token})
    assert r.status_code == 400 and "unit" in r.get_data(as_text=True)
    r = client.post("/supervise", data={"area_id": key.split("|")[0], "indicator": "Index", "target": "80",
                                        "direction": "at_least", "review_date": "2026-13-45", "csrf_token": token})
    assert r.status_code == 400 and "not a date" in r.get_data(as_text=True)
    r = client.post("/publish", data={"doc_lang": "fr", "format": "html", "csrf_token": token})
    assert r.status_code == 400


def test_follow_up_supervision_and_publishing(client, study):
    key = study.warnings()["key"].iloc[0]
    token = _csrf(client)
    r = client.post("/followup", data={"key": key, "status": "assigned", "unit": "香湾街道办", "csrf_token": token})
    assert r.status_code == 302
    page = client.get("/followup").get_data(as_text=True)
    assert "香湾街道办" in page and "已交办" in page
    area = key.split("|")[0]
    r = client.post("/supervise", data={"area_id": area, "indicator": "Index", "target": "80", "direction": "at_least",
                                        "review_date": "2026-06-30", "note": "", "csrf_token": token})
    assert r.status_code == 302, r.get_data(as_text=True)
    sup = study.supervision()
    assert len(sup) == 1 and sup["who"].iloc[0]
    assert "supervision-table" in client.get("/followup").get_data(as_text=True)
    # the workbook (the HTML appendix renders the same state, with figures: slower)
    r = client.post("/publish", data={"doc_lang": "zh", "format": "xlsx", "csrf_token": token})
    assert r.status_code == 200 and "appendix_zh.xlsx" in r.headers["Content-Disposition"]
    assert r.get_data()[:2] == b"PK"  # a zip (xlsx) file


def test_every_post_needs_the_sessions_csrf_token(client, study):
    parent, kids = _group(study)
    body = {"parent": parent, "judgements": _upper(kids, {(i, j): 1.0 for i in range(len(kids))
                                                            for j in range(i + 1, len(kids))})}
    assert client.post("/api/check", json=body).status_code == 400
    r = client.post("/api/check", json=body, headers={"X-CSRF-Token": "forged"})
    assert r.status_code == 400 and "CSRF" in r.get_json()["error"]
    assert client.post("/followup", data={"key": "x", "status": "acknowledged"}).status_code == 400
    assert _post(client, "/api/check", body).status_code == 200


def test_basic_auth_with_lockout(study, tmp_path):
    from werkzeug.security import generate_password_hash

    users = tmp_path / "users.txt"
    users.write_text(f"ann:{generate_password_hash('correct horse battery', method='pbkdf2:sha256:1000')}\n",
                     encoding="utf-8")
    users.chmod(0o644)
    with pytest.raises(InputError, match="private"):
        BasicAuth.load(users, environ={})
    users.chmod(0o600)
    auth = BasicAuth.load(users, environ={})
    app = create_app(study, study.ledger, auth=auth)
    c = app.test_client()
    assert c.get("/publish").status_code == 401
    ok = c.get("/publish", auth=("ann", "correct horse battery"))
    assert ok.status_code == 200 and "ann" in ok.get_data(as_text=True)  # the user is the authenticated one
    for _ in range(5):
        assert c.get("/publish", auth=("ann", "wrong")).status_code == 401
    locked = c.get("/publish", auth=("ann", "correct horse battery"))
    assert locked.status_code == 429 and int(locked.headers["Retry-After"]) > 0
    with pytest.raises(InputError, match="plain passwords"):
        BasicAuth.parse("bob:secret", "$RISKMODEL_WORKBENCH_USERS")
    assert BasicAuth.load(None, environ={}) is None


def test_saaty_values_are_parsed_and_checked():
    assert saaty_value("1/3", "x") == pytest.approx(1 / 3)
    assert saaty_value(0.3333, "x") == pytest.approx(1 / 3)
    assert saaty_value("7", "x") == 7
    for bad in ("10", "0", "abc", "1/0", None, "nan"):
        with pytest.raises(InputError):
            saaty_value(bad, "x")


def test_serve_refuses_an_open_host_without_authentication(tiny_study_dir, monkeypatch):
    monkeypatch.delenv("RISKMODEL_WORKBENCH_USERS", raising=False)
    monkeypatch.delenv("RISKMODEL_WORKBENCH_USERS_FILE", raising=False)
    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        code = main(["serve", str(tiny_study_dir), "--host", "0.0.0.0", "--no-browser"])
    assert code == 2
    assert "--host 0.0.0.0: refused without authentication" in err.getvalue() and "--users" in err.getvalue()
    with contextlib.redirect_stderr(io.StringIO()), contextlib.redirect_stdout(io.StringIO()):
        assert main(["serve", "--no-browser"]) == 2  # neither STUDY_DIR nor --run
        assert main(["serve", str(tiny_study_dir), "--port", "70000", "--no-browser"]) == 2


def test_serve_help_imports_no_flask_pandas_or_sqlalchemy():
    code = ("import contextlib, io, json, sys; from riskmodel.cli import main\n"
            "with contextlib.redirect_stdout(io.StringIO()): c = main(['serve', '--help'])\n"
            "print(json.dumps([c, sorted(m for m in ('flask', 'pandas', 'sqlalchemy', 'werkzeug', 'numpy') "
            "if m in sys.modules)]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert json.loads(out.stdout.strip().splitlines()[-1]) == [0, []]


def test_bump_chart_draws_each_rank_at_its_row():
    import pandas as pd

    long = pd.DataFrame({"area_id": ["A", "B", "A", "B"], "scheme": ["before", "before", "after", "after"],
                         "rank": [1, 2, 2, 1]})
    svg = bump_svg(long, names={"A": "甲街道"})
    # x: the two schemes at 150 and 520 - 150 = 370; y: 28 + (rank - 0.5) * 18
    assert 'd="M150.0,37.0 L370.0,55.0"' in svg and 'd="M150.0,55.0 L370.0,37.0"' in svg
    assert "甲街道" in svg and svg.count("<g data-area-id") == 2
    many = pd.DataFrame({"area_id": [f"S{i}" for i in range(50)] * 2, "scheme": ["b"] * 50 + ["a"] * 50,
                         "rank": list(range(1, 51)) + list(range(50, 0, -1))})
    svg = bump_svg(many, max_lines=40, lang="en")
    assert svg.count("<g data-area-id") == 40 and "the 40 areas whose rank changes most (of 50)" in svg
    assert 'data-area-id="S24"' not in svg and 'data-area-id="S25"' not in svg  # the two that move least


def test_line_chart_scales_to_the_largest_value_and_leaves_gaps_for_suppressed_counts():
    import pandas as pd

    frame = pd.DataFrame({"period": ["2021-01-04", "2021-01-11", "2021-01-18"], "count": [0, 10, "<3"],
                          "expected": [5, 5, 5], "alarm": [False, True, False]})
    svg = line_chart_svg(frame, lines={"count": "#000", "expected": "#00f"})
    # plot area x 40..550, y 22..156 (0 at the bottom, the largest value, 10, at the top)
    assert 'd="M40.0,156.0 L295.0,22.0"' in svg  # the suppressed third count is a gap, not a point
    assert 'd="M40.0,89.0 L295.0,89.0 L550.0,89.0"' in svg
    assert svg.count("<circle") == 1  # the alarm


def test_an_english_study_with_small_counts_suppressed(tiny_study_dir, tmp_path):
    folder = tmp_path / "study"
    shutil.copytree(tiny_study_dir.parents[1], folder)
    config = folder / "experiments" / "tiny.toml"
    text = config.read_text(encoding="utf-8").replace('langs = ["zh"]', 'langs = ["en", "zh"]')
    config.write_text(text.replace("[steps.appendix]\n", "[steps.appendix]\nsuppress_below = 5\n"), encoding="utf-8")
    s = open_study(folder / "outputs" / "tiny", config=config, db=f"sqlite:///{tmp_path / 'wb.sqlite'}", clock=lambda: FIXED)
    try:
        c = create_app(s, s.ledger).test_client()
        w = s.warnings()
        small = w.loc[w["count"].astype(str).str.startswith("<")]
        assert len(small) == 1  # the warning of count 2 (the others are 6 and 11)
        page = c.get("/warnings").get_data(as_text=True)
        assert "This period&#39;s warnings" in page or "This period's warnings" in page  # the study's language first
        assert '<td class="num">&lt;5</td>' in page and '<td class="num">2</td>' not in page
        area = c.get(f"/area/{small['area_id'].iloc[0]}").get_data(as_text=True)
        assert '<td class="num">2</td>' not in area.split('id="area-warnings"')[1].split("</table>")[0]
    finally:
        s.close()


def test_serve_prints_its_url_and_start_up_time_and_stops_on_sigterm(tiny_study_dir, tmp_path):
    proc = subprocess.Popen([sys.executable, "-c", "from riskmodel.cli import entry; entry()", "serve",
                             str(tiny_study_dir), "--port", "0",
                             "--no-browser", "--db", f"sqlite:///{tmp_path / 'wb.sqlite'}"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        m = re.match(r"riskmodel workbench: (http://127\.0\.0\.1:\d+/)  \(started in (\d+\.\d) s; Ctrl-C to stop\)", line)
        assert m, (line, proc.stderr.read() if proc.poll() is not None else "")
        with urllib.request.urlopen(m.group(1) + "publish", timeout=30) as resp:
            assert resp.status == 200 and "发布" in resp.read().decode("utf-8")
    finally:
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    assert code == 0 and "stopped" in proc.stderr.read()
