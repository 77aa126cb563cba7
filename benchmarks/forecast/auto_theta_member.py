"""Does ``theta`` help ``auto``? The sample city's and Portland's backtests with and without it as a candidate.

Run with riskmodel's venv (no peer needed)::

    .venv/bin/python benchmarks/forecast/auto_theta_member.py

Prints and writes benchmarks/forecast/auto_theta_member.csv: per design
(data, frequency, horizon, windows) and variant (``auto`` with its default
candidates; ``auto+theta`` with ``theta`` added; ``theta`` alone; seasonal
naive, the reference) the overall MASE (of the mean), scaled CRPS proxy
(``spinball``: the scaled pinball loss auto scores with), CRPS and the
seconds, from :meth:`riskmodel.forecast.Forecaster.cross_validation` with
seed 0.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pandas as pd

from riskmodel.data.loading import load_panel
from riskmodel.forecast import Forecaster
from riskmodel.forecast.registry import MODELS

ROOT = Path(__file__).resolve().parents[2]
OUT = Path(__file__).with_name("auto_theta_member.csv")
DEFAULT = MODELS.get("auto").option("candidates").default


def designs() -> list[tuple[str, object, int, int]]:
    """(name, panel, h, windows): the sample city monthly and weekly; Portland monthly when its data are there."""
    out = [("sample monthly", load_panel(ROOT / "data" / "sample" / "counts_monthly.csv"), 3, 3),
           ("sample weekly", load_panel(ROOT / "data" / "sample" / "counts_weekly.csv"), 4, 3)]
    port = ROOT / "benchmarks" / "forecast" / "portland_monthly_district_counts.csv"
    if port.exists():
        out.append(("Portland monthly districts", load_panel(port), 3, 3))
    return out


def main() -> int:
    rows = []
    variants = {"auto": {}, "auto+theta": {"auto": {"candidates": (*DEFAULT, "theta")}}}
    for name, panel, h, windows in designs():
        for label, params in variants.items():
            t0 = time.perf_counter()
            bt = Forecaster(["auto"], params=params).cross_validation(panel, h, windows, 1)
            secs = time.perf_counter() - t0
            ov = bt.overall.set_index("model")
            rows.append({"design": name, "variant": label, "mase": ov.loc["auto", "mase"],
                         "spinball": ov.loc["auto", "spinball"], "crps": ov.loc["auto", "crps"], "seconds": secs})
            if label == "auto":
                rows.append({"design": name, "variant": "snaive", "mase": ov.loc["snaive", "mase"],
                             "spinball": ov.loc["snaive", "spinball"], "crps": ov.loc["snaive", "crps"],
                             "seconds": float("nan")})
        bt = Forecaster(["theta"]).cross_validation(panel, h, windows, 1)
        ov = bt.overall.set_index("model")
        rows.append({"design": name, "variant": "theta", "mase": ov.loc["theta", "mase"],
                     "spinball": ov.loc["theta", "spinball"], "crps": ov.loc["theta", "crps"],
                     "seconds": float(ov.loc["theta", "seconds"])})
        print(pd.DataFrame(rows).round(4).to_string(index=False), flush=True)
    df = pd.DataFrame(rows)
    df.to_csv(OUT, index=False, float_format="%.6g")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
