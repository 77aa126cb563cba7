"""The main job before and after a change, side by side: step times and output bytes.

Usage::

    git worktree add /tmp/rm-before <commit>          # the code before
    .venv/bin/python benchmarks/pipeline/main_job.py /tmp/rm-before --runs 2 --out /tmp/mainjob

Runs ``riskmodel run experiments/sample.toml`` (tracking on, each run with a
fresh SQLite store) alternately with the code of the other checkout (first)
and of this one, ``--runs`` times each, in the same session, so that both see
the same machine load; prints each step's seconds per run and their medians,
and compares the outputs of the last pair with ``compare_outputs.py``.
``--only STEP`` (repeatable) and ``--no-track`` time some steps alone.
Both checkouts run with this checkout's virtual environment (the other's
``src`` first on ``PYTHONPATH``), from their own folder (the config's relative
paths).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]

CODE = (
    "import json, sys; from riskmodel.pipeline import run_experiment; from riskmodel.tracking import Tracker; "
    "only = json.loads(sys.argv[2]) or None; "
    "s = run_experiment('experiments/sample.toml', tracker=Tracker(experiment='sample', enabled=sys.argv[3] == '1'), "
    "out=sys.argv[1], progress=False, only=only); "
    "print('RESULT ' + json.dumps({k: v['seconds'] for k, v in s['steps'].items()}))"
)


def run_once(checkout: Path, out: Path, only: list[str] | None = None, track: bool = True) -> dict[str, float]:
    env = dict(os.environ, PYTHONPATH=str(checkout / "src"), MLFLOW_TRACKING_URI=f"sqlite:///{out}.mlruns.db")
    r = subprocess.run([sys.executable, "-c", CODE, str(out), json.dumps(only or []), "1" if track else "0"],
                       cwd=checkout, env=env, capture_output=True, text=True)
    if r.returncode:
        raise SystemExit(f"{checkout}: the main job failed:\n{r.stderr[-3000:]}")
    line = next(x for x in r.stdout.splitlines() if x.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("before", type=Path, help="checkout of the code before (e.g. a git worktree)")
    ap.add_argument("--runs", type=int, default=2)
    ap.add_argument("--out", type=Path, default=Path("/tmp/mainjob"))
    ap.add_argument("--only", action="append", help="run only this step (repeatable)")
    ap.add_argument("--no-track", action="store_true", help="tracking off (the appendix then renders untracked)")
    a = ap.parse_args()
    a.out.mkdir(parents=True, exist_ok=True)
    times: dict[str, list[dict[str, float]]] = {"before": [], "after": []}
    for i in range(a.runs):
        for label, checkout in (("before", a.before.resolve()), ("after", ROOT)):
            t = run_once(checkout, a.out / f"{label}{i}", a.only, not a.no_track)
            times[label].append(t)
            print(f"{label} run {i + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in t.items()) +
                  f"; total {sum(t.values()):.1f} s", flush=True)
    steps = list(times["after"][0])
    print("\nmedian seconds per step (before -> after):")
    for s in steps:
        b = statistics.median(t[s] for t in times["before"])
        f = statistics.median(t[s] for t in times["after"])
        print(f"  {s:<12} {b:7.1f} -> {f:7.1f}")
    last = a.runs - 1
    r = subprocess.run([sys.executable, str(HERE / "compare_outputs.py"), str(a.out / f"before{last}"),
                        str(a.out / f"after{last}")], capture_output=True, text=True)
    print("\n" + "\n".join(x for x in r.stdout.splitlines() if not x.endswith(": identical")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
