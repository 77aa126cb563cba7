"""Hypothesis over panel shapes with gaps (issue 14's "done means").

A small regular panel (weekly or monthly, one to three series, rates from
sparse to ordinary) loses random (series, period) rows from inside its series'
spans; ``validate``, ``forecast``, ``detect`` and ``claim`` then run on it
in-process. Whatever a command decides, it must not crash (exit 1) or print a
traceback, and no command may print an effect, forecast or alarm computed on
zeros it added without saying so: when cells are absent, every command that
exits 0 says ``counted as 0`` on stderr (the contract of
``IncidentPanel.added_zeros.note()``); when none is absent, none says it.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from riskmodel import cli

NOTE = "counted as 0"


@st.composite
def panels(draw):
    """(csv text, freq, the claim's arguments, number of absent cells, the lowest rate)."""
    freq = draw(st.sampled_from(["W", "M"]))
    n_series = draw(st.integers(1, 3))
    if freq == "M":
        years = draw(st.integers(3, 5))
        n = 12 * years
        periods = [f"{2015 + i // 12}-{i % 12 + 1:02d}-01" for i in range(n)]
        last = 2015 + years - 1
        claim = ["--freq", "M", "--period", str(last), "--intervention", f"{last}-01-01"]
    else:
        n = 157  # Monday 2016-01-04 .. Monday 2018-12-31
        start = np.datetime64("2016-01-04")
        periods = [str(start + np.timedelta64(7 * i, "D")) for i in range(n)]
        claim = ["--freq", "W", "--period", "2018-01-01:2018-12-30", "--intervention", "2018-01-01"]
    seed = draw(st.integers(0, 2**16))
    rng = np.random.default_rng(seed)
    rates = [draw(st.sampled_from([0.3, 2.0, 16.0])) for _ in range(n_series)]
    rows = []
    for s, rate in enumerate(rates):
        counts = rng.poisson(rate, n)
        # absent cells: only strictly inside the series' span, so "absent" is unambiguous
        n_drop = draw(st.integers(0, 6)) if draw(st.booleans()) else 0
        drop = set(rng.choice(np.arange(1, n - 1), size=n_drop, replace=False).tolist()) if n_drop else set()
        rows += [(f"S{s + 1}", "theft", periods[i], int(counts[i])) for i in range(n) if i not in drop]
    absent = n_series * n - len(rows)
    text = "area_id,category,period,count\n" + "".join(f"{a},{c},{p},{k}\n" for a, c, p, k in rows)
    return text, freq, claim, absent, min(rates)


def _run(argv: list[str], capsys) -> tuple[int, str]:  # noqa: ANN001
    capsys.readouterr()
    try:
        code = cli.main(argv)
    except SystemExit as exc:  # pragma: no cover - main returns its code
        code = exc.code if isinstance(exc.code, int) else 1
    out, err = capsys.readouterr()
    return code, out + err


@pytest.mark.slow
@settings(max_examples=15, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                                   HealthCheck.too_slow])
@given(panels())
def test_no_command_computes_on_zeros_it_added_without_saying_so(capsys, shape):
    text, freq, claim, absent, low = shape
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        counts = d / "counts.csv"
        counts.write_text(text, encoding="utf-8")
        commands = {
            "validate": ["validate", "--counts", str(counts)],
            "forecast": ["forecast", "--counts", str(counts), "--out", str(d / "fc.csv"), "--model", "naive",
                         "--workers", "1", "--no-track"],
            "detect": ["detect", "--counts", str(counts), "--out", str(d / "alarms.csv"), "--method", "glrnb",
                       "--workers", "1", "--no-track"],
            "claim": ["claim", "--counts", str(counts), "--area", "S1", "--category", "theft", "--out",
                      str(d / "claim"), "--method", "rate-ratio", "--no-track", *claim],
        }
        for name, argv in commands.items():
            code, output = _run(argv, capsys)
            assert code in (0, 2), f"{name} on a {freq} panel with {absent} absent cells: exit {code}: {output[-400:]}"
            assert "Traceback" not in output, f"{name}: {output[-400:]}"
            if code == 0 and absent:
                assert NOTE in output, (f"{name} exited 0 on a {freq} panel with {absent} absent cells and did not "
                                        f"say they were {NOTE}: {output[-400:]}")
            if not absent:
                assert NOTE not in output, f"{name} reported added zeros on a complete panel: {output[-400:]}"
                if low >= 2:  # a complete panel of ordinary counts: every command runs
                    assert code == 0, f"{name} refused a complete {freq} panel: {output[-400:]}"
        assert counts.read_text(encoding="utf-8") == text
