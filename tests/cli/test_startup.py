"""What keeps the command line's start fast (issue 15, item 7): the modules a command's
``--help`` and its start import. Nothing is timed here (benchmarks/data/startup.py
measures the times); these tests fail when a heavy library is imported at module level
on a path that does not need it.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

RUN = r"""
import contextlib, io, json, sys
from riskmodel.cli import main
codes, seen = [], []
for args in json.loads(sys.argv[1]):
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        codes.append(main(args))
    seen.append(sorted(m for m in sys.modules if "." not in m))
print(json.dumps({"codes": codes, "modules": seen}))
"""

NEVER_AT_START = {"mlflow", "matplotlib", "statsmodels", "sqlalchemy", "duckdb", "openpyxl", "xlrd", "xlsxwriter",
                  "weasyprint", "psycopg2", "dask", "distributed", "shapely", "fastapi"}
"""Libraries of rare paths (tracking, figures, workbooks, databases, event logs, clusters, the server)."""

SCIENTIFIC = {"scipy", "sklearn"}


def _imported(*commands: list[str]) -> tuple[list[int], set[str]]:
    """Exit codes of ``riskmodel`` run with each argument list in turn, in one fresh
    process, and the top-level modules imported by the end."""
    codes, seen = _steps(*commands)
    return codes, seen[-1]


def _steps(*commands: list[str]) -> tuple[list[int], list[set[str]]]:
    """Exit codes, and the top-level modules imported after each command (one fresh process)."""
    out = subprocess.run([sys.executable, "-c", RUN, json.dumps(list(commands))], capture_output=True, text=True,
                         check=True, timeout=120)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["codes"], [set(m) for m in res["modules"]]


def test_riskmodel_help_imports_no_library():
    codes, mods = _imported(["--help"])
    assert codes == [0]
    assert not mods & (NEVER_AT_START | SCIENTIFIC | {"pandas", "numpy", "pandera"})


def test_data_index_and_tracking_commands_start_without_scipy_or_rare_libraries(tmp_path: Path):
    two = tmp_path / "two.csv"
    two.write_text("area_id,category,period,count\nA1,theft,2020-01-01,3\nA1,theft,2020-02-01,5\n", encoding="utf-8")
    codes, mods = _imported(["validate", "--help"], ["index", "--help"], ["index", "sensitivity", "--help"],
                            ["compare", "--help"], ["tracking", "--help"], ["grid", "--help"],
                            ["validate", "--counts", str(two)])
    assert codes == [0] * 7
    assert not mods & (NEVER_AT_START | SCIENTIFIC)


def test_modelling_commands_start_without_rare_libraries(tmp_path: Path):
    # their --help, and their start up to the first look at the input: a missing counts
    # file is refused (exit 2) after the options are parsed and checked
    missing = str(tmp_path / "missing.csv")
    claim = ["--area", "A1", "--category", "theft", "--intervention", "2020-02-01"]
    commands = []
    for cmd in ("claim", "forecast", "backtest", "detect"):
        commands += [[cmd, "--help"],
                     [cmd, "--counts", missing, "--out", str(tmp_path / "out"), "--no-track",
                      *(claim if cmd == "claim" else [])]]
    commands.append(["hotspots", "--help"])
    codes, seen = _steps(*commands)
    assert codes == [0, 2] * 4 + [0]
    for args, mods in zip(commands, seen, strict=True):
        assert not mods & NEVER_AT_START, (args, mods & NEVER_AT_START)
    assert "sklearn" not in seen[1]  # claim (run first): no scikit-learn either (its methods use scipy and numpy)
