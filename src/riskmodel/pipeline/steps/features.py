"""The ``features`` step of ``riskmodel run``: the feature table per street, category and period.

Config keys (``[steps.features]``), all optional: ``freq`` ("M"), ``gap`` (1:
features at t use counts up to t-gap), ``file`` ("features.csv.gz").
Writes the table into the step's folder and logs its fingerprint, its size
and the share of missing values per feature (NaN where a lag reaches before
the data).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from riskmodel.config import StrictModel
from riskmodel.data.readers import write_table_atomic
from riskmodel.features.builders import FeatureBuilder, default_transformers
from riskmodel.pipeline.steps.base import register_step


class FeaturesStepConfig(StrictModel):
    freq: str = "M"
    gap: int = 1
    file: str = "features.csv.gz"


@register_step("features", config=FeaturesStepConfig)
def step(ctx: Any, cfg: FeaturesStepConfig, run: Any) -> dict[str, Any]:
    """Build leakage-free features (lags, rolling, YoY, calendar, spatial, category mix)."""
    panel = ctx.panel_at(cfg.freq)
    fb = FeatureBuilder(default_transformers(panel, gap=cfg.gap)).fit(panel)
    df = fb.transform(panel)
    path = ctx.step_dir("features") / cfg.file
    write_table_atomic(df, path)
    run.log_fingerprint("features", df)
    missing = df.drop(columns=["area_id", "category", "period", "count"]).isna().mean()
    run.log_table(pd.DataFrame({"feature": missing.index, "missing_share": missing.to_numpy()}), "feature_missing.csv")
    run.log_metrics({"rows": len(df), "features": len(missing)})
    return {"features": str(path), "columns": list(missing.index)}
