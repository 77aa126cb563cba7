"""A fitted riskmodel forecaster as an MLflow model (``mlflow.pyfunc``).

The fitted estimator is pickled with the model (MLflow uses cloudpickle), so
a fresh process that has riskmodel installed can load it by URI and predict::

    model = mlflow.pyfunc.load_model("runs:/<run_id>/forecaster")
    fc = model.predict(pd.DataFrame({"h": [3], "level": [80]}))

The input is a one-row table: ``h`` (periods ahead) and optionally ``level``
(repeat rows for several interval levels); the output is riskmodel's forecast
table: ``area_id, category, period, mean, lo_<L>, hi_<L>``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import mlflow.pyfunc
import pandas as pd

from riskmodel.errors import InputError, Problem


class ForecasterModel(mlflow.pyfunc.PythonModel):
    """Wraps a fitted :class:`riskmodel.forecast.base.CountForecaster`."""

    def __init__(self, forecaster: Any):
        self.forecaster = forecaster

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:  # noqa: ARG002
        if "h" not in model_input.columns or len(model_input) == 0:
            raise InputError(Problem("the input needs a column 'h' (periods ahead) with one value"))
        h = int(model_input["h"].iloc[0])
        levels = sorted({float(v) for v in model_input["level"]}) if "level" in model_input.columns else [80.0, 95.0]
        fc = self.forecaster.predict(h, levels=levels)
        return fc.to_frame(levels=levels)


@contextlib.contextmanager
def _fluent_tracking_uri(uri: str) -> Iterator[None]:
    """Set MLflow's global tracking URI for a block; restore it and the
    MLFLOW_TRACKING_URI variable (which ``mlflow.set_tracking_uri`` overwrites) after."""
    import os

    from mlflow.tracking._tracking_service import utils as tracking_utils

    old_uri = tracking_utils._tracking_uri  # noqa: SLF001 - None when never set
    old_env = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        tracking_utils.set_tracking_uri(old_uri)
        if old_env is None:
            os.environ.pop("MLFLOW_TRACKING_URI", None)
        else:
            os.environ["MLFLOW_TRACKING_URI"] = old_env


def log_forecaster(
    forecaster: Any, run_id: str, tracking_uri: str, name: str = "forecaster", registered_name: str | None = None
) -> str:
    """Log a fitted forecaster to a run as a pyfunc model; return its model URI.

    With ``registered_name`` the model is also registered in the MLflow model
    registry under that name (a new version each time).
    """
    import contextlib
    import io

    # MLflow's model logging is fluent-only: point it at our store for this call
    # only, and restore the process-wide URI after (other code must not inherit it)
    with _fluent_tracking_uri(tracking_uri):
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(name=name, python_model=ForecasterModel(forecaster))
        # MLflow 3 keeps logged models apart from run artifacts: register by the model's own URI
        if registered_name:
            with contextlib.redirect_stdout(io.StringIO()):  # MLflow prints "Successfully registered ..."
                mlflow.register_model(info.model_uri, registered_name)
    return info.model_uri
