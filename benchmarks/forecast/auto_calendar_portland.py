"""Which holiday calendar for Portland? ``nbglm`` and ``auto`` backtested with ``calendar`` CN, US and none.

Run with riskmodel's venv::

    .venv/bin/python benchmarks/forecast/auto_calendar_portland.py

Reads benchmarks/forecast/portland_monthly_district_counts.csv (the real Portland
burglary and vehicle-theft calls per police district and month, see results_portland.md),
backtests 3 windows of h=3 with seed 0, and writes
benchmarks/forecast/auto_calendar_portland.csv: per model and calendar the overall MASE,
scaled pinball loss and CRPS.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

from riskmodel.data.loading import load_panel
from riskmodel.forecast import Forecaster

HERE = Path(__file__).parent
OUT = HERE / "auto_calendar_portland.csv"


def main() -> int:
    panel = load_panel(HERE / "portland_monthly_district_counts.csv")
    rows = []
    for model in ("nbglm", "auto"):
        for cal in ("CN", "US", "none"):
            bt = Forecaster([model], params={model: {"calendar": cal}}).cross_validation(panel, 3, 3, 1)
            ov = bt.overall.set_index("model").loc[model]
            rows.append({"model": model, "calendar": cal, "mase": ov["mase"], "spinball": ov["spinball"],
                         "crps": ov["crps"]})
            print(pd.DataFrame(rows).round(4).to_string(index=False), flush=True)
    pd.DataFrame(rows).to_csv(OUT, index=False, float_format="%.6g")
    print(f"wrote {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
