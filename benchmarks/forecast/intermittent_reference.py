"""statsforecast's intermittent-demand point forecasts on simulated series: the reference of the tests.

Run in a venv with statsforecast (it needs pandas < 3, so not riskmodel's)::

    python -m venv /tmp/rm-bench-venv && /tmp/rm-bench-venv/bin/pip install "statsforecast==2.1.1"
    /tmp/rm-bench-venv/bin/python benchmarks/forecast/intermittent_reference.py

Writes benchmarks/forecast/intermittent_reference.csv: one row per simulated
series, ``unique_id``, ``y`` (its counts, space-separated, oldest first) and the
one-step forecasts of statsforecast's ``CrostonSBA``, ``TSB(alpha_d=0.1,
alpha_p=0.1)``, ``ADIDA`` and ``IMAPA`` from the whole series (their forecasts
are flat over the horizon). tests/forecast/test_intermittent.py checks
riskmodel's ``croston_sba``, ``tsb``, ``adida`` and ``imapa`` against it to 1e-6.

Series (seed 20260318): 40 series of 12 to 90 periods, each period non-zero
with probability 0.04 to 0.7, non-zero sizes 1 + negative binomial (mean 0.2
to 6); a series drawn all zeros gets one count of 1 in a random period; two
extra series have a single non-zero count (first and last period).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("intermittent_reference.csv")
SEED = 20260318


def simulate(seed: int = SEED) -> list[np.ndarray]:
    """The simulated intermittent series (whole counts as floats)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(40):
        n = int(rng.integers(12, 91))
        p = rng.uniform(0.04, 0.7)
        size_mean = rng.uniform(0.2, 6.0)
        nz = rng.random(n) < p
        sizes = 1 + rng.negative_binomial(2.0, 2.0 / (2.0 + size_mean), n)
        y = np.where(nz, sizes, 0).astype(float)
        if not (y > 0).any():
            y[rng.integers(n)] = 1.0
        out.append(y)
    one_first, one_last = np.zeros(30), np.zeros(30)
    one_first[0], one_last[-1] = 2.0, 3.0
    return [*out, one_first, one_last]


def main() -> int:
    from statsforecast.models import ADIDA, IMAPA, TSB, CrostonSBA  # noqa: PLC0415 - only in the peer venv

    rows = []
    for i, y in enumerate(simulate()):
        fc = {name: float(model.forecast(y=y, h=1)["mean"][0]) for name, model in (
            ("croston_sba", CrostonSBA()), ("tsb", TSB(alpha_d=0.1, alpha_p=0.1)),
            ("adida", ADIDA()), ("imapa", IMAPA()))}
        rows.append({"unique_id": f"s{i:02d}", "y": " ".join(str(int(v)) for v in y), **fc})
    df = pd.DataFrame(rows)
    df.to_csv(OUT, index=False, float_format="%.12g")
    print(f"wrote {OUT} ({len(df)} series)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
