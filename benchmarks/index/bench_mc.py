"""Benchmark: Monte Carlo rank uncertainty of the full index build, vectorised.

Cases
-----
* synthetic: 1,000 areas x 40 indicators in 3 levels (40 indicators -> 8 pillars -> Index),
  10,000 replications with weights (uniform +-25 % on all 48 weights), normalisation
  (minmax [1, 100] / z-score (100, 10)) and aggregation (arithmetic / geometric) varied;
* ASEM (COINr's example, 51 countries x 49 indicators in 4 levels), the same 10,000
  replications with the config experiments/asem_coinr.toml.

Each case runs in a fresh process (peak memory = that process's max RSS).
Writes benchmarks/index/results.md. Run: ``nice .venv/bin/python benchmarks/index/bench_mc.py``.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def synthetic_inputs(d: Path, n_areas: int = 1000, n_ind: int = 40, n_pillars: int = 8, seed: int = 1) -> Path:
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(seed)
    codes = [f"x{j:02d}" for j in range(n_ind)]
    X = rng.gamma(2.0, 10.0, size=(n_areas, n_ind)) + rng.normal(0, 5, size=(n_areas, 1)) ** 2
    long = pd.DataFrame({
        "area_id": np.repeat([f"A{i:04d}" for i in range(n_areas)], n_ind),
        "indicator": np.tile(codes, n_areas),
        "value": X.ravel(),
    })
    long.to_csv(d / "long.csv", index=False)
    pillars = [f"P{k}" for k in range(n_pillars)]
    spec = pd.DataFrame({
        "indicator": codes + pillars + ["Index"],
        "parent": [pillars[j % n_pillars] for j in range(n_ind)] + ["Index"] * n_pillars + [""],
        "direction": [1 if j % 3 else -1 for j in range(n_ind)] + [1] * (n_pillars + 1),
        "weight": list(rng.uniform(0.5, 1.5, n_ind)) + [1.0] * n_pillars + [1.0],
    })
    spec.to_csv(d / "spec.csv", index=False)
    cfg = d / "synthetic.toml"
    cfg.write_text(f"""
[data]
indicators = "{d / 'long.csv'}"
spec = "{d / 'spec.csv'}"
[steps]
normalise = {{ method = "minmax", range = [1, 100] }}
aggregate = {{ method = "arithmetic" }}
[sensitivity]
weights_noise = 0.25
normalise = [{{ method = "minmax", range = [1, 100] }}, {{ method = "zscore", mean_sd = [100, 10] }}]
aggregate = ["arithmetic", "geometric"]
chunk = 128
""", encoding="utf-8")
    return cfg


def one(cfg_path: str, n: int) -> dict:
    from riskmodel.index.build import load_inputs
    from riskmodel.index.config import load_config
    from riskmodel.index.uncertainty import rank_uncertainty

    cfg = load_config(cfg_path)
    t0 = time.perf_counter()
    spec, data = load_inputs(cfg)
    t_load = time.perf_counter() - t0
    t1 = time.perf_counter()
    u = rank_uncertainty(cfg, n=n, seed=2024, spec=spec, data=data)
    secs = time.perf_counter() - t1
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    width = (u.rank_stats["q95"] - u.rank_stats["q05"])
    from riskmodel.index.uncertainty import sobol

    sob = sobol(cfg, seed=2024, spec=spec, data=data, base=256)
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"sobol_builds": sob.n_builds, "sobol_seconds": sob.seconds, "sobol_factors": len(sob.table),"units": len(u.rank_stats), "indicators": len(spec.indicators), "levels": spec.n_levels,
            "n": n, "failed": u.n_failed, "seconds": secs, "load_seconds": t_load, "peak_mb": peak_mb,
            "median_width": float(width.median())}


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(json.dumps(one(sys.argv[2], int(sys.argv[3]))))
        return
    n = 10_000
    with tempfile.TemporaryDirectory() as tmp:
        cases = {
            "synthetic 1,000 x 40, 3 levels": str(synthetic_inputs(Path(tmp))),
            "ASEM (COINr) 51 x 49, 4 levels": str(ROOT / "experiments" / "asem_coinr.toml"),
        }
        rows = []
        for name, cfg in cases.items():
            out = subprocess.run([sys.executable, __file__, "--one", cfg, str(n)], capture_output=True, text=True,
                                 check=True, cwd=ROOT, env={**os.environ, "OMP_NUM_THREADS": "2",
                                                            "OPENBLAS_NUM_THREADS": "2"})
            r = json.loads(out.stdout.strip().splitlines()[-1])
            r["case"] = name
            rows.append(r)
            print(name, r, flush=True)
    lines = [
        "# Index Monte Carlo benchmark",
        "",
        f"`nice .venv/bin/python benchmarks/index/bench_mc.py` on {platform.machine()}, {os.cpu_count()} cores "
        f"(shared with other jobs), Python {platform.python_version()}; {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.",
        "",
        "Each replication is a full build of the index from the prepared data: weights perturbed (uniform +-25 %",
        "on every weight), normalisation (minmax [1, 100] or z-score (100, 10)) and aggregation (arithmetic or",
        "geometric) drawn at random; then all areas are ranked. Normalised data are computed once per",
        "alternative; replications are aggregated in chunks as arrays (replications x areas x children).",
        "Time excludes reading the input files (given separately). Peak memory = the process's max RSS",
        "(Monte Carlo and Sobol' in the same process). Sobol': Saltelli design, one factor per varied weight",
        "plus normalisation and aggregation, base sample 256, 200 bootstrap resamples.",
        "",
        "| case | areas | indicators | levels | replications | failed | seconds | read inputs (s) | peak memory (MB) | median 5-95% rank interval width | Sobol' factors | Sobol' builds (base 256) | Sobol' seconds |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(f"| {r['case']} | {r['units']} | {r['indicators']} | {r['levels']} | {r['n']:,} | {r['failed']} | "
                     f"{r['seconds']:.1f} | {r['load_seconds']:.1f} | {r['peak_mb']:.0f} | {r['median_width']:.1f} | "
                     f"{r['sobol_factors']} | {r['sobol_builds']:,} | {r['sobol_seconds']:.1f} |")
    lines += ["", "Targets (issue 5): under 60 s and under 4 GB for the synthetic case on 2 cores."]
    (HERE / "results.md").write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
