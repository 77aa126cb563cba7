"""statsforecast's MSTL on simulated daily counts with weekly and yearly seasonality: the reference of
tests/forecast/test_mstl.py.

Run in a venv with statsforecast (it needs pandas < 3, so not riskmodel's)::

    python -m venv /tmp/rm-bench-venv && /tmp/rm-bench-venv/bin/pip install "statsforecast==2.1.1"
    /tmp/rm-bench-venv/bin/python benchmarks/forecast/auto_mstl_reference.py

Writes benchmarks/forecast/auto_mstl_reference.csv: one row per simulated
series and trend forecaster, ``unique_id``, ``trend`` (``drift``:
``RandomWalkWithDrift()``; ``theta``: ``Theta()``), ``y`` (the daily counts,
space-separated, oldest first) and ``mean`` (the point forecasts of
``MSTL(season_length=[7, 365], trend_forecaster=...)`` for ``H`` days).

Series (seed 20261204): 6 series of 800 to 1,100 days, negative binomial
counts with a mean of 5 to 60 times a weekly profile (weekend up to +50%)
times a yearly wave (up to +-40%) times a slow linear trend (up to +-30%).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("auto_mstl_reference.csv")
SEED = 20261204
H = 28
PERIODS = [7, 365]


def simulate(seed: int = SEED) -> list[np.ndarray]:
    """The simulated daily count series."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(6):
        n = int(rng.integers(800, 1101))
        t = np.arange(n)
        week = 1 + rng.uniform(0.1, 0.5) * (t % 7 >= 5)
        year = 1 + rng.uniform(0.1, 0.4) * np.sin(2 * np.pi * t / 365.25 + rng.uniform(0, 6.3))
        trend = 1 + rng.uniform(-0.3, 0.3) * t / n
        mu = rng.uniform(5, 60) * week * year * trend
        size = rng.uniform(5, 50)
        out.append(rng.negative_binomial(size, size / (size + mu)).astype(float))
    return out


def main() -> int:
    from statsforecast.models import MSTL, RandomWalkWithDrift, Theta  # noqa: PLC0415 - only in the peer venv

    rows = []
    for i, y in enumerate(simulate()):
        for name, trend in (("drift", RandomWalkWithDrift()), ("theta", Theta())):
            mean = MSTL(season_length=PERIODS, trend_forecaster=trend).fit(y).predict(H)["mean"]
            rows.append({"unique_id": f"s{i}", "trend": name, "y": " ".join(str(int(v)) for v in y),
                         "mean": " ".join(repr(float(v)) for v in mean)})
    df = pd.DataFrame(rows)
    df.to_csv(OUT, index=False)
    print(f"wrote {OUT} ({len(df)} rows)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
