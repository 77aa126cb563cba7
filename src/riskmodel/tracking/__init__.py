"""MLflow tracking for every riskmodel command and pipeline step.

>>> from riskmodel.tracking import Tracker
>>> tracker = Tracker()                       # local SQLite store, or $MLFLOW_TRACKING_URI
>>> with tracker.run("forecast", params={"h": 3}) as run:
...     run.log_metrics({"mase": 0.91})
...     run.log_table(per_area_df, "per_area.csv")

See :mod:`riskmodel.tracking.core`.
"""

from riskmodel.tracking.core import (
    DEFAULT_EXPERIMENT,
    RunHandle,
    Tracker,
    default_tracking_uri,
    fingerprint,
)

__all__ = ["DEFAULT_EXPERIMENT", "RunHandle", "Tracker", "default_tracking_uri", "fingerprint"]
