"""The event-log benchmark: DuckDB path vs the pandas path, wall time and peak memory per case.

    python benchmarks/data/events/generate.py /tmp/riskmodel-events-bench          # once: 1, 5, 20 million
    python benchmarks/data/events/run.py /tmp/riskmodel-events-bench [--sizes 1 5 20] [--pandas-sizes 1 5]

Each case runs in its own process (``case.py``); its peak resident memory is
that process's ``ru_maxrss`` (``os.wait4``), and a case is stopped at 10
minutes or 16 GB resident (read from /proc every half second). Cases:
street x category x day counts and 500 m grid cells (``riskmodel grid``'s
``cells_from_files``, daily counts), from CSV and Parquet, for every size with
DuckDB and for the ``--pandas-sizes`` (from ``--pandas-formats``) with the
pandas path. Equal ``digest``
values mean equal counts. Prints a Markdown table and appends it, with the
machine, the load average and the command, to ``--results``
(default benchmarks/data/events_results.md).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import signal
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIMIT_S = 600
LABELS = {"street": "street x category x day", "grid": "500 m grid cell x category x day",
          "grid-panel": "grid cells, zero-filled daily panel"}
LIMIT_RSS_KB = 16 * 1024**2


def rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def run_case(engine: str, target: str, events: Path, streets: Path) -> dict:
    cmd = [sys.executable, str(HERE / "case.py"), engine, target, str(events), str(streets), "--freq", "D"]
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    stopped = ""
    while True:
        pid, status, usage = os.wait4(p.pid, os.WNOHANG)
        if pid:
            break
        if time.perf_counter() - t0 > LIMIT_S:
            stopped = f"stopped at {LIMIT_S // 60} min"
        elif rss_kb(p.pid) > LIMIT_RSS_KB:
            stopped = "stopped at 16 GB"
        if stopped:
            p.send_signal(signal.SIGKILL)
            _, status, usage = os.wait4(p.pid, 0)
            break
        time.sleep(0.5)
    wall = time.perf_counter() - t0
    out = p.stdout.read() if p.stdout else ""
    err = p.stderr.read() if p.stderr else ""
    row = {"engine": engine, "target": target, "input": events.name, "wall_s": round(wall, 1),
           "peak_mb": round(usage.ru_maxrss / 1024), "status": stopped or ("ok" if status == 0 else f"exit {status}")}
    if not stopped and status == 0:
        row.update(json.loads(out.strip().splitlines()[-1]))
    elif not stopped:
        row["error"] = err.strip().splitlines()[-1] if err.strip() else ""
    return row


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("folder", nargs="?", default="/tmp/riskmodel-events-bench")
    ap.add_argument("--sizes", type=int, nargs="+", default=[1, 5, 20])
    ap.add_argument("--pandas-sizes", type=int, nargs="*", default=[1, 5])
    ap.add_argument("--formats", nargs="+", default=["csv", "parquet"])
    ap.add_argument("--pandas-formats", nargs="*", default=["csv"], help="inputs of the pandas path's cases")
    ap.add_argument("--targets", nargs="+", default=["street", "grid"])
    ap.add_argument("--results", default=str(HERE.parent / "events_results.md"))
    a = ap.parse_args()
    folder = Path(a.folder)
    streets = folder / "streets.geojson"
    load0 = os.getloadavg()
    rows = []
    for size in sorted(set(a.sizes) | set(a.pandas_sizes)):
        for fmt in a.formats:
            events = folder / f"events_{size}m.{fmt}"
            for target in a.targets:
                for engine in ("duckdb", "pandas"):
                    if engine == "duckdb" and size not in a.sizes or engine == "pandas" and (
                            size not in a.pandas_sizes or fmt not in a.pandas_formats):
                        continue
                    r = run_case(engine, target, events, streets)
                    r["millions"] = size
                    r["load"] = round(os.getloadavg()[0], 1)
                    rows.append(r)
                    print(json.dumps(r), flush=True)
    load1 = os.getloadavg()
    head = ("| events | input | counts | engine | wall s | of which counting s | peak MB | count rows | counted | "
            "unmatched | digest | load (1 min) | status |\n|---:|---|---|---|---:|---:|---:|---:|---:|---:|---|---:|---|")
    lines = [head] + [
        f"| {r['millions']} M | {r['input'].split('.', 1)[1]} | "
        f"{LABELS[r['target']]} | "
        f"{r['engine']} | {r['wall_s']} | {r.get('seconds', '')} | {r['peak_mb']:,} | {r.get('rows', '')} | "
        f"{r.get('counted', '')} | "
        f"{r.get('unmatched', '')} | {r.get('digest', '')} | {r['load']} | {r['status']} |" for r in rows]
    table = "\n".join(lines)
    print(table)
    cpu = next((ln.split(":", 1)[1].strip() for ln in Path("/proc/cpuinfo").read_text().splitlines()
                if ln.startswith("model name")), platform.processor())
    mem = next((int(ln.split()[1]) // 1024**2 for ln in Path("/proc/meminfo").read_text().splitlines()
                if ln.startswith("MemTotal")), 0)
    with open(a.results, "a", encoding="utf-8") as fh:
        fh.write(f"\n## Run of {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC\n\n"
                 f"Machine: {os.cpu_count()} cores ({cpu}), {mem} GB RAM, Python {platform.python_version()}; "
                 f"load average at start {load0[0]:.1f} / {load0[1]:.1f} / {load0[2]:.1f}, at end "
                 f"{load1[0]:.1f} / {load1[1]:.1f} / {load1[2]:.1f} (shared with other jobs).\n\n"
                 f"Command: `python benchmarks/data/events/run.py {' '.join(sys.argv[1:])}`\n\n{table}\n")


if __name__ == "__main__":
    main()
