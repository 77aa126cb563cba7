"""Benchmark: the time from a weight change to updated ranks in the workbench.

Cases
-----
* the sample city's monthly Ping'an index (25 streets x 11 indicators in 3 levels, 96 months;
  ``experiments/pingan_sample.toml`` on ``data/sample``), the latest month ranked;
* a simulated index of 1,000 areas x 40 indicators (40 indicators -> 8 pillars -> Index; the data
  of ``benchmarks/index/bench_mc.py``), one period.

For each case a study folder is made in a temporary folder (its experiment config; no step
outputs are needed for the index) and opened with :func:`riskmodel.workbench.open_study`, which
builds the index once. Then, 50 times, a random change of the weights (every dimension's weight and
one indicator's, drawn uniformly) is made and :meth:`WorkbenchStudy.ranks_for` returns the new
ranks and grades beside the old ones: that call is the time a committee waits after moving a
slider (the web layer's own time comes on top). For comparison: the time of a full
``build_index`` with the same weights (what re-building would cost), and the first and cached
calls of ``rank_intervals`` (Monte Carlo, the study's n) and one ``what_would_it_take``.

Writes benchmarks/workbench/results.md. Run: ``nice .venv/bin/python benchmarks/workbench/bench_weights.py``.
"""

from __future__ import annotations

import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLE = ROOT / "data" / "sample"
REPEATS = 50


def _study(d: Path, indicators: Path, index_config: Path, areas: Path | None, n_mc: int) -> Path:
    (d / "experiments").mkdir(parents=True, exist_ok=True)
    (d / "outputs" / "bench").mkdir(parents=True, exist_ok=True)
    area_line = f'areas = "{areas}"\n' if areas else ""
    (d / "experiments" / "bench.toml").write_text(f"""[study]
name = "bench"
out = "outputs/bench"
seed = 1

[data]
counts = "{SAMPLE / 'counts_monthly.csv'}"
freq = "M"
indicators = "{indicators}"
{area_line}
[steps.index]
config = "{index_config}"

[steps.sensitivity]
n = {n_mc}
""", encoding="utf-8")
    return d / "outputs" / "bench"


def _synthetic(d: Path) -> tuple[Path, Path]:
    sys.path.insert(0, str(ROOT / "benchmarks" / "index"))
    from bench_mc import synthetic_inputs  # the Monte Carlo benchmark's 1,000 x 40 index

    cfg = synthetic_inputs(d)
    return d / "long.csv", cfg


def run_case(label: str, study_dir: Path, db: str) -> dict:
    import numpy as np

    from riskmodel.index import build_index
    from riskmodel.index.config import WeightsCfg
    from riskmodel.workbench import open_study

    t0 = time.perf_counter()
    s = open_study(study_dir, db=db)
    open_s = time.perf_counter() - t0
    rng = np.random.default_rng(0)
    dims = s.spec.codes_at(2)
    inds = s.spec.indicators
    s.ranks_for({dims[0]: 0.5})  # first call: nothing cached but the build
    times, changed = [], 0
    for _ in range(REPEATS):
        w = {c: float(rng.uniform(0.05, 1.0)) for c in dims}
        w[inds[int(rng.integers(len(inds)))]] = float(rng.uniform(0.05, 1.0))
        t = time.perf_counter()
        r = s.ranks_for(w)
        times.append(time.perf_counter() - t)
        changed += int((r["rank_change"] != 0).sum())
    w_full = s._full(w)  # noqa: SLF001 - the same weights for a full build
    cfg = s.index_config.model_copy(update={"weights": WeightsCfg(method="expert", values=w_full)})
    t = time.perf_counter()
    res = build_index(cfg, s.index.inputs.spec, s.index.inputs.data)
    build_s = time.perf_counter() - t
    top = res.index
    top = top[top["period"] == top["period"].max()] if top["period"].notna().any() else top
    same = bool((r.set_index("area_id")["rank"] == top.set_index("area_id").loc[r["area_id"], "rank"].to_numpy()).all())
    t = time.perf_counter()
    s.rank_intervals(w)
    mc_first = time.perf_counter() - t
    t = time.perf_counter()
    s.rank_intervals(w)
    mc_cached = time.perf_counter() - t
    ids = r["area_id"].tolist()
    t = time.perf_counter()
    sw = s.what_would_it_take(ids[len(ids) // 2], ids[len(ids) // 2 + 1], weights=w)  # neighbours mid-table
    swap_s = time.perf_counter() - t
    s.close()
    return {"case": label, "areas": len(r), "indicators": len(inds), "open": open_s,
            "median_ms": statistics.median(times) * 1000, "p95_ms": float(np.percentile(times, 95)) * 1000,
            "max_ms": max(times) * 1000, "build_s": build_s, "same": same, "mc_first": mc_first,
            "mc_cached_ms": mc_cached * 1000, "swap_s": swap_s, "swap_ok": sw.feasible, "n_mc": s.sensitivity_n,
            "moved": changed / REPEATS}


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        sample = _study(d / "sample", SAMPLE / "indicators_monthly.csv", ROOT / "experiments" / "pingan_sample.toml",
                        SAMPLE / "areas.csv", 1000)
        rows.append(run_case("sample city (25 streets x 11 indicators, 3 levels, 96 months)", sample,
                             f"sqlite:///{d / 'sample.sqlite'}"))
        (d / "syn").mkdir()
        long, cfg = _synthetic(d / "syn")
        syn = _study(d / "synthetic", long, cfg, None, 1000)
        rows.append(run_case("simulated 1,000 areas x 40 indicators, 3 levels", syn, f"sqlite:///{d / 'syn.sqlite'}"))
    lines = [
        "# Workbench: from a weight change to updated ranks",
        "",
        f"`nice .venv/bin/python benchmarks/workbench/bench_weights.py` on {platform.machine()}, 2 cores shared "
        f"with other jobs, Python {platform.python_version()}; {datetime.now(UTC):%Y-%m-%d %H:%M} UTC.",
        "",
        f"`ranks_for(weights)`: {REPEATS} random weight changes (every dimension's weight and one indicator's); "
        "the index's prepared and normalised indicators are kept from the one build when the study opens, so "
        "only the aggregation is redone, then ranks, grades and the comparison with the current weights. "
        "'full build' is `build_index` with the same weights (what rebuilding would cost); its ranks are "
        "checked equal to `ranks_for`'s. Rank intervals: Monte Carlo with the study's n (first call for a "
        "weight set, then cached). 'what would it take': one `what_would_it_take` (SLSQP) for the two neighbours in the middle of the table.",
        "",
        "| case | areas | indicators | open study (s) | ranks_for median (ms) | p95 (ms) | max (ms) | full build (s) "
        "| same ranks | rank intervals first (s) | cached (ms) | what would it take (s) | areas moved per change |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['areas']:,} | {r['indicators']} | {r['open']:.1f} | {r['median_ms']:.1f} | "
                     f"{r['p95_ms']:.1f} | {r['max_ms']:.1f} | {r['build_s']:.2f} | {'yes' if r['same'] else 'NO'} | "
                     f"{r['mc_first']:.2f} (n = {r['n_mc']}) | {r['mc_cached_ms']:.1f} | {r['swap_s']:.2f}"
                     f"{'' if r['swap_ok'] else ' (no tie reachable)'} | {r['moved']:.1f} |")
    lines += ["", "Goal (issue 17): a weight change to updated ranks well under 1 s on both."]
    (HERE / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
