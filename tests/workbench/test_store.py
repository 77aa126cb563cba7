"""The ledger (riskmodel.ledger): validated writes with who and when, versions, history, exports.

Every test runs on SQLite; the round trip also on a throwaway PostgreSQL cluster
(riskmodel.server.team.LocalPostgres), skipped with the reason when PostgreSQL's
programs or psycopg2 are missing.
"""

from __future__ import annotations

import datetime as dt
import itertools

import numpy as np
import pytest
import sqlalchemy as sa

from riskmodel.errors import InputError
from riskmodel.index.weights import read_ahp_file
from riskmodel.ledger import Ledger, Vocabulary, default_url, warning_key
from riskmodel.ledger.store import SCHEMA_VERSION, parse_warning_key

GROUPS = {"Index": ("order", "safety", "urban"), "order": ("a", "b")}
VOCAB = Vocabulary(groups=GROUPS, codes=frozenset({"Index", "order", "safety", "urban", "a", "b"}),
                   areas=frozenset({"S1", "S2"}), categories=frozenset({"alerts", "fires"}))


def _clock(start=dt.datetime(2026, 3, 1, 8, 0, tzinfo=dt.UTC)):
    """A clock that moves one minute per write."""
    ticks = itertools.count()
    return lambda: start + dt.timedelta(minutes=next(ticks))


@pytest.fixture
def ledger(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'wb.sqlite'}", clock=_clock(), vocabulary=VOCAB)
    yield led
    led.dispose()


def test_created_on_open_with_schema_version_and_a_note(tmp_path):
    url = default_url(tmp_path)
    assert url == f"sqlite:///{(tmp_path / 'workbench.sqlite').resolve()}"
    led = Ledger(url)
    assert led.schema_version == SCHEMA_VERSION
    assert any("created the ledger" in n for n in led.notes)
    again = Ledger(url)
    assert again.notes == []  # opened, not created


def test_judgement_versions_increase_and_history_is_kept(ledger):
    j1 = {("order", "safety"): 3, ("order", "urban"): 5, ("safety", "urban"): 2}
    assert ledger.add_judgements("expert A", "Index", j1, who="clerk") == 1
    j2 = {**j1, ("order", "urban"): "1/3"}
    assert ledger.add_judgements("expert A", "Index", j2, who="clerk") == 2
    assert ledger.add_judgements("expert B", "Index", j1, who="clerk") == 1
    latest = ledger.judgements()
    assert set(latest["version"][latest["expert"] == "expert A"]) == {2}
    a = latest[(latest["expert"] == "expert A") & (latest["row"] == "order") & (latest["col"] == "urban")]
    assert a["value"].iloc[0] == pytest.approx(1 / 3)
    every = ledger.judgements(latest=False)
    assert len(every) == 9 and sorted(set(every["version"])) == [1, 2]
    # who and when: the injected clock, one tick per write, UTC ISO text
    assert set(every["who"]) == {"clerk"}
    assert every["at"].iloc[0] == "2026-03-01T08:00:00+00:00"
    assert every["at"].iloc[-1] == "2026-03-01T08:02:00+00:00"


@pytest.mark.parametrize("value", [10, 0.1, 0, -2, "x", float("nan"), True])
def test_a_judgement_off_saatys_scale_is_refused(ledger, value):
    with pytest.raises(InputError, match="Saaty|number"):
        ledger.add_judgements("e", "order", {("a", "b"): value}, who="clerk")
    assert ledger.judgements().empty


def test_judgement_checks_name_what_is_wrong(ledger):
    with pytest.raises(InputError, match="unknown indicator 'zz'"):
        ledger.add_judgements("e", "order", {("a", "zz"): 2}, who="clerk")
    with pytest.raises(InputError, match="unknown group 'nope'"):
        ledger.add_judgements("e", "nope", {("a", "b"): 2}, who="clerk")
    with pytest.raises(InputError, match="not judged: \\(order, urban\\)"):
        ledger.add_judgements("e", "Index", {("order", "safety"): 2, ("safety", "urban"): 2}, who="clerk")
    with pytest.raises(InputError, match="not reciprocal"):
        ledger.add_judgements("e", "order", {("a", "b"): 2, ("b", "a"): 2}, who="clerk")
    with pytest.raises(InputError, match="expert's name must not be empty"):
        ledger.add_judgements("  ", "order", {("a", "b"): 2}, who="clerk")
    with pytest.raises(InputError, match="who .* must not be empty"):
        ledger.add_judgements("e", "order", {("a", "b"): 2}, who="")
    # a reciprocal full matrix is accepted (stored once per pair)
    ledger.add_judgements("e", "order", {("a", "b"): 4, ("b", "a"): 0.25}, who="clerk")
    assert len(ledger.judgements()) == 1


def test_exported_judgements_read_back_as_the_index_config_reads_them(ledger, tmp_path):
    ledger.add_judgements("A", "Index", {("order", "safety"): 3, ("order", "urban"): 5, ("safety", "urban"): 2}, who="c")
    ledger.add_judgements("B", "order", {("a", "b"): "1/2"}, who="c")
    p = tmp_path / "judgements.csv"
    ledger.judgements_long().to_csv(p, index=False)
    mats = {(m.expert, m.parent): m for m in read_ahp_file(str(p))}
    assert set(mats) == {("A", "Index"), ("B", "order")}
    m = mats[("A", "Index")]
    A = np.array(m.matrix)
    assert m.codes == ["order", "safety", "urban"]
    assert A[0, 2] == 5 and A[2, 0] == pytest.approx(0.2) and A[1, 2] == 2
    assert np.array(mats[("B", "order")].matrix)[0, 1] == 0.5


def test_weight_sets_are_named_and_versioned(ledger):
    assert ledger.save_weight_set("committee 2026", {"order": 0.5, "safety": 0.3, "urban": 0.2},
                                  method="AIJ", who="chair", note="first meeting") == 1
    assert ledger.save_weight_set("committee 2026", {"order": 0.4, "safety": 0.4, "urban": 0.2},
                                  method="direct", who="chair") == 2
    assert ledger.save_weight_set("equal", {"order": 1, "safety": 1, "urban": 1}, method="direct", who="x") == 1
    sets = ledger.weight_sets()
    assert list(zip(sets["name"], sets["version"], strict=True)) == [("committee 2026", 1), ("committee 2026", 2), ("equal", 1)]
    assert list(sets["n_weights"]) == [3, 3, 3]
    assert ledger.weight_set("committee 2026").weights["order"] == 0.4  # latest
    v1 = ledger.weight_set("committee 2026", 1)
    assert (v1.weights["order"], v1.method, v1.who, v1.note) == (0.5, "AIJ", "chair", "first meeting")
    assert ledger.current() is None
    ledger.set_current("committee 2026", 1, who="chair")
    assert ledger.current().version == 1
    ledger.set_current("equal", 1, who="chair")
    assert ledger.current().name == "equal"


def test_weight_set_checks(ledger):
    with pytest.raises(InputError, match="name must not be empty"):
        ledger.save_weight_set("", {"order": 1}, method="direct", who="x")
    with pytest.raises(InputError, match="unknown indicator 'nope'"):
        ledger.save_weight_set("s", {"nope": 1}, method="direct", who="x")
    with pytest.raises(InputError, match="must be a number"):
        ledger.save_weight_set("s", {"order": "heavy"}, method="direct", who="x")
    with pytest.raises(InputError, match=">= 0"):
        ledger.save_weight_set("s", {"order": -1}, method="direct", who="x")
    with pytest.raises(InputError, match="unknown weight method"):
        ledger.save_weight_set("s", {"order": 1}, method="guess", who="x")
    with pytest.raises(InputError, match="no weight set 'missing'.*saved: none"):
        ledger.weight_set("missing")


def test_follow_up_keeps_every_event_and_shows_the_latest(ledger):
    key = ("S1", "alerts", "2021-12-20", "farrington")
    ledger.follow_up(*key, "acknowledged", who="duty officer")
    ledger.follow_up(*key, "assigned", who="duty officer", unit="派出所 A")
    ledger.follow_up(*key, "rectified", who="station chief", note="patrols added")
    ledger.follow_up("S2", "fires", "2021-12-20", "farrington", "acknowledged", who="x")
    h = ledger.follow_up_history()
    assert list(h["status"]) == ["acknowledged", "assigned", "rectified", "acknowledged"]
    t = ledger.follow_up_table()
    assert len(t) == 2
    s1 = t[t["area_id"] == "S1"].iloc[0]
    assert (s1["status"], s1["who"], s1["note"]) == ("rectified", "station chief", "patrols added")
    assert s1["at"] == "2026-03-01T08:02:00+00:00"
    assert warning_key(*key) == "S1|alerts|2021-12-20|farrington"
    assert parse_warning_key("S1|alerts|2021-12-20T00:00|farrington") == key


def test_follow_up_checks(ledger):
    key = ("S1", "alerts", "2021-12-20", "farrington")
    with pytest.raises(InputError, match="needs the unit"):
        ledger.follow_up(*key, "assigned", who="x")
    with pytest.raises(InputError, match="needs a note"):
        ledger.follow_up(*key, "rectified", who="x")
    with pytest.raises(InputError, match="unknown follow-up status 'closed'"):
        ledger.follow_up(*key, "closed", who="x")
    with pytest.raises(InputError, match="unknown area 'S9'"):
        ledger.follow_up("S9", "alerts", "2021-12-20", "f", "acknowledged", who="x")
    with pytest.raises(InputError, match="unknown category 'thefts'"):
        ledger.follow_up("S1", "thefts", "2021-12-20", "f", "acknowledged", who="x")
    with pytest.raises(InputError, match="not a date"):
        ledger.follow_up("S1", "alerts", "last week", "f", "acknowledged", who="x")
    with pytest.raises(InputError, match="not a warning key"):
        parse_warning_key("S1|alerts")
    assert ledger.follow_up_history().empty


def test_supervision_list_and_its_history(ledger):
    i = ledger.supervise("S1", "a", "12.5", "at_most", "2022-06-30", who="chief", note="督办")
    j = ledger.supervise("S2", "Index", 80, "at_least", dt.date(2022, 3, 31), who="chief")
    ledger.end_supervision(i, who="chief", note="target met")
    t = ledger.supervision_table()
    assert list(t["id"]) == [i, j]
    assert t["target"].tolist() == [12.5, 80.0]
    assert t["review_date"].tolist() == ["2022-06-30", "2022-03-31"]
    assert t["active"].tolist() == [False, True]
    assert t.loc[0, "end_note"] == "target met"
    assert ledger.supervision_table(active_only=True)["id"].tolist() == [j]
    with pytest.raises(InputError, match="already off the list"):
        ledger.end_supervision(i, who="chief")
    with pytest.raises(InputError, match="no supervision item 99"):
        ledger.end_supervision(99, who="chief")


@pytest.mark.parametrize(("target", "direction", "message"), [
    ("about ten", "at_most", "must be a number"), ("", "at_most", "must be a number"),
    (float("inf"), "at_most", "finite"), (3, "below", "unknown target direction"),
])
def test_supervision_checks(ledger, target, direction, message):
    with pytest.raises(InputError, match=message):
        ledger.supervise("S1", "a", target, direction, "2022-06-30", who="chief")


def test_supervision_names_unknown_area_and_indicator(ledger):
    with pytest.raises(InputError, match="unknown area 'S9'"):
        ledger.supervise("S9", "a", 1, "at_most", "2022-06-30", who="c")
    with pytest.raises(InputError, match="unknown indicator 'zz'"):
        ledger.supervise("S1", "zz", 1, "at_most", "2022-06-30", who="c")
    ledger.supervise("S1", "fires", 1, "at_most", "2022-06-30", who="c")  # a category is an indicator too


def test_a_naive_clock_is_taken_as_utc(tmp_path):
    led = Ledger(f"sqlite:///{tmp_path / 'l.sqlite'}", clock=lambda: dt.datetime(2026, 1, 2, 3, 4, 5))
    led.save_weight_set("s", {"x": 1}, method="direct", who="w")
    assert led.weight_set("s").at == "2026-01-02T03:04:05+00:00"


def test_schema_newer_than_this_riskmodel_is_refused_and_older_migrated(tmp_path):
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"
    Ledger(url).dispose()
    eng = sa.create_engine(url)
    with eng.begin() as c:
        c.execute(sa.text("UPDATE ledger_meta SET value = :v WHERE key = 'schema_version'"), {"v": str(SCHEMA_VERSION + 1)})
    with pytest.raises(InputError, match="newer than this riskmodel"):
        Ledger(url)
    with eng.begin() as c:
        c.execute(sa.text("UPDATE ledger_meta SET value = '0' WHERE key = 'schema_version'"))
    led = Ledger(url)
    assert led.schema_version == SCHEMA_VERSION
    assert any("migrated from schema 0" in n for n in led.notes)
    eng.dispose()


def test_database_urls_are_checked_and_passwords_never_shown(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="SQLite or PostgreSQL, not mysql"):
        Ledger("mysql://u@h/db")
    with pytest.raises(InputError, match="not memory"):
        Ledger("sqlite://")
    with pytest.raises(InputError, match="folder of the SQLite database does not exist"):
        Ledger(f"sqlite:///{tmp_path / 'nope' / 'l.sqlite'}")
    monkeypatch.delenv("RISKMODEL_TEST_PW", raising=False)
    with pytest.raises(InputError, match="RISKMODEL_TEST_PW is not set"):
        Ledger("postgresql://u:${RISKMODEL_TEST_PW}@127.0.0.1:1/db")
    monkeypatch.setenv("RISKMODEL_TEST_PW", "s3cret-pw")
    with pytest.raises(InputError) as e:  # nothing listens on port 1: refused at once
        Ledger("postgresql://u:${RISKMODEL_TEST_PW}@127.0.0.1:1/db")
    assert "s3cret-pw" not in str(e.value) and "cannot use the ledger database" in str(e.value)
    with pytest.raises(InputError) as e:
        Ledger("postgresql://u:plain-pw@127.0.0.1:1/db")
    assert "plain-pw" not in str(e.value) and "u:***@127.0.0.1" in str(e.value)


def test_postgresql_round_trip():
    from riskmodel.server.team import LocalPostgres, TeamServerError, postgres_bindir

    if postgres_bindir() is None:
        pytest.skip("PostgreSQL's server programs (initdb, pg_ctl) are not installed: run scripts/ensure_postgres.sh")
    pytest.importorskip("psycopg2", reason="psycopg2 is not installed (pip install -e '.[server]')")
    pg = LocalPostgres(user="ledger", databases=("workbench",))
    try:
        pg.start()
    except TeamServerError as exc:
        pytest.skip(f"PostgreSQL could not start: {exc}")
    try:
        import os

        os.environ["RISKMODEL_LEDGER_TEST_PW"] = pg.password_
        url = f"postgresql://ledger:${{RISKMODEL_LEDGER_TEST_PW}}@127.0.0.1:{pg.port_}/workbench"
        led = Ledger(url, clock=_clock(), vocabulary=VOCAB)
        assert led.schema_version == SCHEMA_VERSION
        assert led.add_judgements("A", "order", {("a", "b"): 3}, who="c") == 1
        assert led.add_judgements("A", "order", {("a", "b"): "1/9"}, who="c") == 2
        assert led.save_weight_set("w", {"order": 0.7, "safety": 0.2, "urban": 0.1}, method="AIP", who="c") == 1
        led.follow_up("S1", "alerts", "2021-12-20", "f", "assigned", who="c", unit="队")
        led.supervise("S1", "a", 3.25, "at_least", "2022-01-31", who="c")
        led.dispose()
        again = Ledger(url, vocabulary=VOCAB)  # a second connection sees the same ledger
        j = again.judgements(latest=False)
        assert j["version"].tolist() == [1, 2] and j["value"].iloc[1] == pytest.approx(1 / 9)
        assert again.weight_set("w").weights == {"order": 0.7, "safety": 0.2, "urban": 0.1}
        assert again.follow_up_table()["unit"].tolist() == ["队"]
        s = again.supervision_table()
        assert s["target"].tolist() == [3.25] and s["at"].tolist() == ["2026-03-01T08:04:00+00:00"]  # the 5th write
        assert pg.password_ not in repr(again)
        again.dispose()
    finally:
        os.environ.pop("RISKMODEL_LEDGER_TEST_PW", None)
        pg.stop()
