"""Write the simulated evaluation and tuning sets for benchmarks/alerts (see run_benchmark.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.alerts.simulate import SCENARIOS, simulate

OUT = Path(__file__).parent / "out"
N_REPS = 100
SEED_EVAL, SEED_TUNE = 20240601, 20240602


def sets() -> tuple:
    ev = simulate(SCENARIOS, N_REPS, seed=SEED_EVAL)
    tune = simulate(SCENARIOS, N_REPS, seed=SEED_TUNE, current_k=(0,))  # no current outbreak
    return ev, tune


if __name__ == "__main__":
    OUT.mkdir(exist_ok=True)
    ev, _ = sets()
    pd.DataFrame(ev.y, columns=[f"s{j}" for j in range(ev.y.shape[1])]).to_csv(
        OUT / "sim_eval.csv.gz", index=False
    )
    print("wrote", ev.y.shape, file=sys.stderr)
    np.save(OUT / "sim_eval_y.npy", ev.y)
