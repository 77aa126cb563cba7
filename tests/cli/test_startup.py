"""What keeps the command line's start fast (issue 15, item 7): the modules a command's
``--help`` and its start import. Nothing is timed here (benchmarks/data/startup.py
measures the times); these tests fail when a heavy library is imported at module level
on a path that does not need it.

"First work" is a command run on an input that does not exist: the process imports the
command's module (and everything it imports at module level), parses and checks the
options and stops at the first look at its input (exit 2), as benchmarks/data/startup.py
defines it. No model is fitted, so no modelling library is needed.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import click

from riskmodel.cli import COMMANDS, load_command

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
                  "weasyprint", "psycopg2", "dask", "distributed", "shapely", "fastapi", "flask", "pyproj"}
"""Libraries of rare paths (tracking, figures, workbooks, databases, event logs, clusters, the server, maps)."""

SCIENTIFIC = {"scipy", "sklearn"}
"""The modelling libraries: imported when a method computes, never to list or check the methods."""

HEAVY = NEVER_AT_START | SCIENTIFIC


def _imported(*commands: list[str]) -> tuple[list[int], set[str]]:
    """Exit codes of ``riskmodel`` run with each argument list in turn, in one fresh
    process, and the top-level modules imported by the end."""
    codes, seen = _steps(*commands)
    return codes, seen[-1]


def _steps(*commands: list[str], env: dict[str, str] | None = None) -> tuple[list[int], list[set[str]]]:
    """Exit codes, and the top-level modules imported after each command (one fresh process)."""
    out = subprocess.run([sys.executable, "-c", RUN, json.dumps(list(commands))], capture_output=True, text=True,
                         check=True, timeout=120, env=env)
    res = json.loads(out.stdout.strip().splitlines()[-1])
    return res["codes"], [set(m) for m in res["modules"]]


def _first_heavy(commands: list[list[str]], seen: list[set[str]], heavy: set[str]) -> tuple[list[str], set[str]] | None:
    """The first command after which a library of ``heavy`` was imported, and which (None: none was)."""
    for args, mods in zip(commands, seen, strict=True):
        if mods & heavy:
            return args, mods & heavy
    return None


def every_command_path() -> list[list[str]]:
    """Every command of :data:`riskmodel.cli.COMMANDS` and every subcommand (``index build``,
    ``tracking cleanup``...), as argument lists."""
    paths: list[list[str]] = []

    def walk(prefix: list[str], cmd: click.Command) -> None:
        paths.append(prefix)
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            walk([*prefix, name], sub)

    for name in COMMANDS:
        walk([name], load_command(name))
    return paths


def test_riskmodel_help_imports_no_library():
    codes, mods = _imported(["--help"])
    assert codes == [0]
    assert not mods & (HEAVY | {"pandas", "numpy", "pandera"})


def test_every_commands_help_imports_no_heavy_library():
    paths = every_command_path()
    assert ["index", "build"] in paths and ["tracking", "cleanup"] in paths  # subcommands are walked too
    commands = [[*p, "--help"] for p in paths]
    codes, seen = _steps(*commands)
    assert codes == [0] * len(commands)
    # one process: a library imported by one command's help stays imported, so the first command
    # after which it appears is the one that imported it
    assert _first_heavy(commands, seen, HEAVY) is None, _first_heavy(commands, seen, HEAVY)


def test_data_index_and_tracking_commands_start_without_heavy_libraries(tmp_path: Path):
    two = tmp_path / "two.csv"
    two.write_text("area_id,category,period,count\nA1,theft,2020-01-01,3\nA1,theft,2020-02-01,5\n", encoding="utf-8")
    codes, mods = _imported(["validate", "--counts", str(two)])
    assert codes == [0]
    assert not mods & HEAVY


def _first_work(tmp_path: Path) -> dict[str, list[str]]:
    """Command -> arguments that stop at the first look at a missing input (exit 2)."""
    missing = str(tmp_path / "missing.csv")
    out = str(tmp_path / "out")
    events = ["--events", missing, "--polygons", str(tmp_path / "missing.geojson"), "--id-field", "area_id",
              "--cell-size", "100"]
    return {
        "forecast": ["forecast", "--counts", missing, "--out", out, "--no-track"],
        "backtest": ["backtest", "--counts", missing, "--out", out, "--no-track"],
        "detect": ["detect", "--counts", missing, "--out", out, "--no-track"],
        "claim": ["claim", "--counts", missing, "--area", "A1", "--category", "theft", "--intervention", "2020-02-01",
                  "--out", out, "--no-track"],
        "hotspots": ["hotspots", *events, "--coverage", "0.05", "--out", out, "--no-track"],
        "grid": ["grid", *events, "--out", str(tmp_path / "grid.csv")],
        "init": ["init", missing, "--out", str(tmp_path / "study.toml")],
        "run": ["run", str(tmp_path / "missing.toml"), "--out", out, "--no-track"],
    }


def test_commands_start_without_heavy_libraries(tmp_path: Path):
    # the start of every command up to the first look at its input: options parsed and checked, the
    # method choices (--model, --method, --ranker) checked against the registries, nothing computed
    commands = list(_first_work(tmp_path).values())
    codes, seen = _steps(*commands)
    assert codes == [2] * len(commands)
    assert _first_heavy(commands, seen, HEAVY) is None, _first_heavy(commands, seen, HEAVY)


def test_appendix_starts_with_mlflow_and_what_mlflow_imports_only(tmp_path: Path):
    # the appendix's first look at its input is the study's run in the tracking store: MLflow is needed
    # then (a run that does not exist: exit 2), with what MLflow itself imports (scipy, in MLflow 3);
    # nothing else heavy is (no matplotlib, no statsmodels...)
    env = {**os.environ, "MLFLOW_TRACKING_URI": (tmp_path / "mlruns").as_uri(), "MLFLOW_ALLOW_FILE_STORE": "true"}
    codes, seen = _steps(["appendix", "--run", "0" * 32, "--out", str(tmp_path / "app")], env=env)
    assert codes == [2]
    assert "mlflow" in seen[0]
    code = "import sys, mlflow, mlflow.tracking; print(' '.join(m for m in sys.modules if '.' not in m))"
    by_mlflow = set(subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                                   env=env).stdout.split())
    assert not seen[0] & (HEAVY - by_mlflow), seen[0] & (HEAVY - by_mlflow)
