"""Start-up time of the command line (issue 15, item 7): ``riskmodel --help``, every
command's ``--help``, and the time to first work of forecast, backtest, detect, claim,
hotspots, grid, init, run, appendix and validate.

Every figure is the median of ``--repeat`` runs (default 5), each in a fresh
Python process (``python -c "from riskmodel.cli import main; ..."``, as the
``riskmodel`` script does), with ``PYTHONPATH`` set to the ``src`` folder being
measured, so that two checkouts (e.g. a ``git worktree`` of the commit before a
change, and the working tree) are measured with the same interpreter and
packages. The runs of the checkouts are interleaved, so that a change in the
machine's load affects them alike.

Two figures per case:

* ``wall``: elapsed seconds from starting the process to its exit;
* ``cpu``: user + system CPU seconds of the process (``resource.getrusage``
  of the children), much less sensitive than ``wall`` to other work on the
  machine.

"Time to first work" is defined as the whole run of the command given a counts
file that does not exist: the process starts, imports the command's module
(and so every library it imports at module level), parses the options, runs
the option checks and stops at the first look at its input (exit 2, "counts
file does not exist"). For ``validate`` it is the full run on a valid two-row
counts file (exit 0). No model is fitted in any case. The input that does not
exist is, for hotspots and grid, the polygons file (read first); for init, the
data file; for run, the study config; for appendix, the study's run in the
tracking store (an MLflow file store in a new temporary folder: looking a run
up needs MLflow).

The commands measured are those of ``riskmodel.cli.COMMANDS`` in each ``src``
folder (a command missing from one, such as a new one, is measured where it
exists).

Usage::

    git worktree add /tmp/rm-startup-before <commit>
    .venv/bin/python benchmarks/data/startup.py --src before=/tmp/rm-startup-before/src --src after=src \\
        --out benchmarks/data/startup_results.md
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RUNNER = "import sys; from riskmodel.cli import main; sys.exit(main(sys.argv[1:]))"



def commands_of(src: str) -> list[str]:
    """The commands of ``riskmodel --help`` in the ``src`` folder (``riskmodel.cli.COMMANDS``)."""
    code = "import json; from riskmodel.cli import COMMANDS; print(json.dumps(list(COMMANDS)))"
    out = subprocess.run([sys.executable, "-c", code], env={**os.environ, "PYTHONPATH": src}, capture_output=True,
                         text=True, check=True)
    return json.loads(out.stdout)


def first_work_cases(tmp: Path) -> list[tuple[str, list[str], int]]:
    """(name, arguments, expected exit code) of the time-to-first-work cases."""
    missing = str(tmp / "missing.csv")
    two = tmp / "two_rows.csv"
    two.write_text("area_id,category,period,count\nA1,theft,2020-01-01,3\nA1,theft,2020-02-01,5\n", encoding="utf-8")
    out = str(tmp / "out.csv")
    events = ["--events", missing, "--polygons", str(tmp / "missing.geojson"), "--id-field", "area_id",
              "--cell-size", "100"]
    return [
        ("forecast (missing counts)", ["forecast", "--counts", missing, "--out", out, "--no-track"], 2),
        ("backtest (missing counts)", ["backtest", "--counts", missing, "--out", str(tmp / "bt"), "--no-track"], 2),
        ("detect (missing counts)", ["detect", "--counts", missing, "--out", out, "--no-track"], 2),
        ("claim (missing counts)", ["claim", "--counts", missing, "--area", "A1", "--category", "theft",
                                    "--intervention", "2020-02-01", "--out", str(tmp / "claim"), "--no-track"], 2),
        ("hotspots (missing polygons)", ["hotspots", *events, "--coverage", "0.05", "--out", str(tmp / "hs"),
                                         "--no-track"], 2),
        ("grid (missing polygons)", ["grid", *events, "--out", out], 2),
        ("init (missing data file)", ["init", missing, "--out", str(tmp / "study.toml")], 2),
        ("run (missing config)", ["run", str(tmp / "missing.toml"), "--out", str(tmp / "study"), "--no-track"], 2),
        ("appendix (run not in the store)", ["appendix", "--run", "0" * 32, "--out", str(tmp / "app")], 2),
        ("validate (2-row file)", ["validate", "--counts", str(two)], 0),
    ]


def run_once(src: str, args: list[str], expect: int) -> tuple[float, float]:
    """(wall, cpu) seconds of one fresh process running ``riskmodel args``."""
    env = {**os.environ, "PYTHONPATH": src, "MLFLOW_TRACKING_URI": "file:" + tempfile.mkdtemp(prefix="rm-mlruns-"),
           "MLFLOW_ALLOW_FILE_STORE": "true"}  # MLflow 3 refuses a file store otherwise
    env.pop("RISKMODEL_PROGRESS", None)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", RUNNER, *args], env=env, capture_output=True, text=True,
                          check=False)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != expect:
        raise SystemExit(f"riskmodel {' '.join(args)} with {src}: exit {proc.returncode} (expected {expect})\n"
                         f"{proc.stderr[-2000:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", action="append", required=True, help="LABEL=PATH of a src folder (repeatable)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--out", type=Path, help="Markdown table to write (default: print only)")
    a = ap.parse_args(argv)
    srcs = [tuple(s.split("=", 1)) for s in a.src]
    known = {label: commands_of(str(Path(src).resolve())) for label, src in srcs}
    commands = list(dict.fromkeys(c for cs in known.values() for c in cs))
    with tempfile.TemporaryDirectory() as d:
        cases = [("riskmodel --help", ["--help"], 0)]
        cases += [(f"riskmodel {c} --help", [c, "--help"], 0) for c in commands]
        cases += [(f"first work: {name}", args, code) for name, args, code in first_work_cases(Path(d))]
        rows = []
        for name, args, code in cases:
            runs: dict[str, list[tuple[float, float]]] = {
                label: [] for label, _ in srcs if args[0].startswith("-") or args[0] in known[label]}
            for _ in range(a.repeat):
                for label, src in srcs:  # interleaved
                    if label in runs:
                        runs[label].append(run_once(str(Path(src).resolve()), args, code))
            med = {label: (statistics.median(w for w, _ in r), statistics.median(c for _, c in r))
                   for label, r in runs.items()}
            rows.append((name, med))
            print(name, "  ".join(f"{k}: {w:.2f} s wall, {c:.2f} s cpu" for k, (w, c) in med.items()), flush=True)
    labels = [label for label, _ in srcs]
    head = "| case | " + " | ".join(f"{lb} wall (s) | {lb} cpu (s)" for lb in labels) + " |"
    lines = [head, "|" + "---|" * (1 + 2 * len(labels))]
    for name, med in rows:
        cells = (f"{med[lb][0]:.2f} | {med[lb][1]:.2f}" if lb in med else "- | -" for lb in labels)
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    table = "\n".join(lines)
    print(table)
    if a.out:
        load = os.getloadavg()
        a.out.write_text(
            f"<!-- written by benchmarks/data/startup.py; median of {a.repeat} fresh processes per case; "
            f"load average at the end {load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} cores -->\n"
            + table + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
