"""The workbench in a real browser: Debian's Chromium driven by Playwright's Python package.

The server runs in a thread on a free port on the small study of the sample city
(tests/workbench/conftest.py). Two experts enter their judgements; the consistency
ratio shown (computed in the browser while choosing, and by the server on saving) is
checked against riskmodel.index.ahp; a weight is changed and the ranks shown are
checked against the index built by the library from the weight config the workbench
exports; a street is clicked on the map; every page is screenshotted (non-blank PNGs
under tmp_path), without console errors, with Chinese text.

Skipped, saying why, when Playwright's package or Chromium is missing
(``bash scripts/ensure_chromium.sh`` installs Chromium; ``$RISKMODEL_CHROMIUM`` names
another binary).
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import threading
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from riskmodel.index.ahp import ahp
from riskmodel.index.build import build_index
from riskmodel.index.config import load_config
from riskmodel.workbench import open_study
from riskmodel.workbench.app import create_app

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("RISKMODEL_CHROMIUM", "/usr/bin/chromium")
FIXED = dt.datetime(2026, 1, 15, 9, 30, tzinfo=dt.UTC)

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright's Python package is not installed "
                                                             "(pip install -e '.[dev]')")
if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM}: run `bash scripts/ensure_chromium.sh` (Debian's chromium) or set "
                "RISKMODEL_CHROMIUM", allow_module_level=True)

EXPERTS = {  # upper triangles for the group Index (order, safety, urban, disputes, perception)
    "甲专家": ["3", "5", "3", "3", "2", "1", "1", "1/2", "1/2", "1"],
    "expert B": ["1", "2", "1/3", "1", "2", "1", "1", "1/3", "1/2", "1"],
}


@pytest.fixture(scope="module")
def server(tiny_study_dir, tmp_path_factory):
    """The workbench on the small study, serving in a thread; yields (base URL, study)."""
    from werkzeug.serving import make_server

    # the small study with the sample city's (simulated) street boundaries: maps of polygons
    folder = tmp_path_factory.mktemp("wb")
    shutil.copytree(tiny_study_dir.parents[1], folder / "study")
    config = folder / "study" / "experiments" / "tiny.toml"
    text = config.read_text(encoding="utf-8")
    boundaries = ROOT / "data" / "sample" / "boundaries.geojson"
    config.write_text(text.replace("[data]\n", f'[data]\nboundaries = "{boundaries.as_posix()}"\n', 1), encoding="utf-8")
    study = open_study(folder / "study" / "outputs" / "tiny", config=config, db=f"sqlite:///{folder / 'wb.sqlite'}",
                       clock=lambda: FIXED)
    srv = make_server("127.0.0.1", 0, create_app(study, study.ledger), threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{srv.server_port}", study
    srv.shutdown()
    study.close()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    pg = ctx.new_page()
    pg.errors = []  # console errors and uncaught exceptions, checked by every test
    pg.on("console", lambda m: pg.errors.append(m.text) if m.type == "error" else None)
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()


def _shot(page, path: Path) -> Path:
    """A full-page screenshot, checked to be a PNG that is not blank."""
    from PIL import Image

    page.screenshot(path=str(path), full_page=True)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    img = np.asarray(Image.open(path).convert("L"), dtype=float)
    assert img.std() > 10 and len(np.unique(img)) > 20, path  # text, tables and charts, not one colour
    return path


def _value(label: str) -> float:
    num, _, den = label.partition("/")
    return float(num) / float(den) if den else float(num)


def _matrix(upper: list[str], n: int) -> np.ndarray:
    A = np.ones((n, n))
    k = 0
    for i in range(n):
        for j in range(i + 1, n):
            A[i, j] = _value(upper[k])
            A[j, i] = 1 / A[i, j]
            k += 1
    return A


def test_committee_judgements_weights_ranks_and_a_street(server, page, tmp_path):
    base, study = server
    kids = dict(study.groups())["Index"]
    shots = []
    for expert, upper in EXPERTS.items():
        page.goto(f"{base}/calibration?group=Index&expert={expert}")
        assert "指数校准" in page.inner_text("body")  # Chinese by default
        selects = page.locator("#pairwise select.judgement")
        assert selects.count() == len(upper)
        for k, v in enumerate(upper):
            selects.nth(k).select_option(v)
        want = ahp(_matrix(upper, len(kids)), kids, "Index")
        shown = float(page.locator("#cr-browser").get_attribute("data-value"))
        assert shown == pytest.approx(want.cr, abs=1e-6)
        assert page.locator("#cr-browser").inner_text() == f"{want.cr:.4f}"
        assert page.locator("#revisit").is_hidden() == (want.cr < 0.1)
        page.click("#save-judgements")
        page.locator("#cr-server[data-value]").wait_for()
        assert float(page.locator("#cr-server").get_attribute("data-value")) == pytest.approx(want.cr, abs=1e-9)
        assert "版本 1" in page.locator("#save-status").inner_text()
    shots.append(_shot(page, tmp_path / "judgements.png"))

    # contradictory judgements (not saved): CR above 0.1 and the judgement to revisit, named as the library names it
    bad = ["9", "1/9", "9", "1/9", "9", "1/9", "9", "1/9", "9", "1/9"]
    for k, v in enumerate(bad):
        selects.nth(k).select_option(v)
    want = ahp(_matrix(bad, len(kids)), kids, "Index")
    assert want.cr > 0.1 and page.locator("#cr-browser").inner_text() == f"{want.cr:.4f}"
    names = study.index_tree().set_index("code")["name"]
    revisit = page.locator("#revisit")
    assert revisit.is_visible()
    assert f"({names[want.revisit['row']]}, {names[want.revisit['col']]})" in revisit.inner_text()
    saaty = want.revisit["saaty"]
    assert (str(round(saaty)) if saaty >= 1 else f"1/{round(1 / saaty)}") == revisit.inner_text().rsplit(" ", 1)[-1]
    shots.append(_shot(page, tmp_path / "revisit.png"))

    # the committee (AIJ) and each expert's ranking appear after a reload
    page.goto(f"{base}/calibration?group=Index&expert=expert B")
    assert page.locator("#committee-table tbody tr").count() >= len(kids)
    assert page.locator("#expert-rankings").is_visible()

    # change a weight: the ranks shown are the library's on the same weights
    before = page.locator("#ranks-table tbody tr").first.get_attribute("data-area-id")
    page.fill("#w-order", "3")
    t0 = time.perf_counter()
    page.locator("body[data-ranks-seq]").wait_for(timeout=20_000)
    browser_seconds = time.perf_counter() - t0
    shown = {r.get_attribute("data-area-id"): int(r.locator("td.rank").inner_text())
             for r in page.locator("#ranks-table tbody tr").all()}
    # the effective weights of the weights shown follow
    typed = {el.get_attribute("data-code"): float(el.input_value()) for el in page.locator("input.w").all()}
    eff = study.index_tree(typed).set_index("code")["effective"]
    page.locator('td.eff[data-code="order"]', has_text=f"{eff['order']:.4f}").wait_for(timeout=20_000)
    page.fill("#set-name", "browser test")
    page.click("#save-set")
    page.locator("#set-status", has_text="v1").wait_for()
    with urllib.request.urlopen(f"{base}/weightsets/browser%20test/1.toml", timeout=30) as resp:
        (tmp_path / "weights.toml").write_bytes(resp.read())
    built = build_index(load_config(tmp_path / "weights.toml")).index
    latest = built.loc[built["period"] == built["period"].max()]
    assert shown == {str(a): int(k) for a, k in zip(latest["area_id"], latest["rank"], strict=True)}
    assert page.locator("#ranks-table tr.moved").count() > 0 or before != next(iter(shown))
    shots.append(_shot(page, tmp_path / "weights_changed.png"))
    print(f"weight change -> ranks shown: {browser_seconds * 1000:.0f} ms in the browser "
          f"(request and re-render {page.locator('body').get_attribute('data-ranks-ms')} ms, after a 150 ms debounce)")

    # click a street on the map (the sample city's 25 street polygons): its detail page
    assert page.locator("#map svg.riskmodel-map path[data-area-id]").count() == len(shown)
    # a street with a warning (series on its page) whose polygon's centre is on land (not an archipelago)
    for area in dict.fromkeys(study.warnings()["area_id"].astype(str)):
        target = page.locator(f'#map [data-area-id="{area}"]')
        try:
            target.click(trial=True, timeout=2000)
            break
        except sync_api.TimeoutError:
            continue
    target.click()
    page.wait_for_url(f"**/area/{area}")
    assert page.locator("#area-title").get_attribute("data-area-id") == area
    rank = study.ranks_for(None).set_index("area_id").loc[area, "rank"]  # the current weights (none saved as current)
    assert page.locator('#components-table tr[data-code="Index"] td.rank').inner_text() == str(int(rank))
    assert page.locator("figure.series-chart svg").count() >= 1
    shots.append(_shot(page, tmp_path / "street.png"))
    assert not page.errors, page.errors
    for s in shots:
        assert s.stat().st_size > 10_000


def test_every_page_renders_without_console_errors(server, page, tmp_path):
    base, study = server
    for name, url, needle in [("forecasts", "/forecasts", "下期预测"), ("warnings", "/warnings", "本期预警"),
                              ("followup", "/followup", "预警整改"), ("publish", "/publish", "生成并下载附录"),
                              ("calibration_en", "/calibration?lang=en", "Index calibration")]:
        page.goto(base + url)
        assert needle in page.inner_text("body"), name
        _shot(page, tmp_path / f"{name}.png")
    page.goto(base + "/warnings?lang=zh")
    assert page.locator("figure.warning-chart svg").count() == len(study.warnings())
    assert not page.errors, page.errors
