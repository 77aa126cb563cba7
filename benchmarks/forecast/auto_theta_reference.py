"""statsforecast's standard Theta (STM) on simulated count series: the reference of tests/forecast/test_theta.py.

Run in a venv with statsforecast (it needs pandas < 3, so not riskmodel's)::

    python -m venv /tmp/rm-bench-venv && /tmp/rm-bench-venv/bin/pip install "statsforecast==2.1.1"
    /tmp/rm-bench-venv/bin/python benchmarks/forecast/auto_theta_reference.py

Writes benchmarks/forecast/auto_theta_reference.csv: one row per simulated
series, ``unique_id``, ``m`` (season length given to statsforecast), ``y``
(its counts, space-separated, oldest first), statsforecast ``Theta(season_length=m)``'s
fitted parameters ``alpha`` and ``initial_smoothed``, its objective ``mse``
(sum of squared one-step errors from the 4th period on, divided by mean |y|),
``decompose`` (the seasonal decomposition it chose: ``""``, ``multiplicative``
or ``additive``) and ``mean`` (its point forecasts for ``H`` periods,
space-separated).

Series (seed 20261203): 36 series of 14 to 160 periods: Poisson / negative
binomial counts around a level of 1 to 80 with a linear trend (up to +-40%
over the series), half of them with a yearly seasonal swing (m = 12) of up to
40%; m is 12 for the first 30 and 1 for the last 6 (no seasonality tested).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).with_name("auto_theta_reference.csv")
SEED = 20261203
H = 8


def simulate(seed: int = SEED) -> list[tuple[np.ndarray, int]]:
    """The simulated count series and the season length given to Theta."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(36):
        n = int(rng.integers(14, 161))
        level = rng.uniform(1.0, 80.0)
        slope = rng.uniform(-0.4, 0.4) / n
        t = np.arange(n)
        amp = rng.uniform(0.1, 0.4) if i % 2 == 0 else 0.0
        mu = level * np.maximum(1 + slope * t, 0.05) * (1 + amp * np.sin(2 * np.pi * t / 12 + rng.uniform(0, 6.3)))
        size = rng.uniform(2.0, 50.0)
        y = rng.negative_binomial(size, size / (size + mu)).astype(float)
        if not (y > 0).any():
            y[-1] = 1.0
        out.append((y, 12 if i < 30 else 1))
    return out


def main() -> int:
    from statsforecast.models import Theta  # noqa: PLC0415 - only in the peer venv

    rows = []
    for i, (y, m) in enumerate(simulate()):
        model = Theta(season_length=m).fit(y)
        fit = model.model_
        mean = model.predict(H)["mean"]
        rows.append({"unique_id": f"s{i:02d}", "m": m, "y": " ".join(str(int(v)) for v in y),
                     "alpha": fit["par"]["alpha"], "initial_smoothed": fit["par"]["initial_smoothed"],
                     "mse": fit["mse"], "decompose": fit.get("decomposition_type", "") if fit.get("decompose") else "",
                     "mean": " ".join(repr(float(v)) for v in mean)})
    df = pd.DataFrame(rows)
    df.to_csv(OUT, index=False, float_format="%.17g")
    print(f"wrote {OUT} ({len(df)} series)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
