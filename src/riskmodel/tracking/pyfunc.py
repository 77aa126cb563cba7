"""A study's forecaster as an MLflow model (``mlflow.pyfunc``).

The fitted estimator is pickled with the model (MLflow uses cloudpickle), so
a fresh process that has riskmodel installed can load it by URI and predict::

    model = mlflow.pyfunc.load_model("models:/riskmodel-sample-forecaster/1")
    fc = model.predict(pd.DataFrame({"h": [3], "level": [80]}))

The input is a table with a column ``h`` (periods ahead, one value) and
optionally ``level`` (one row per interval level wanted; default every level
available).

What it serves
--------------
A model logged by a study (``riskmodel run``, step ``forecast``) carries the
table the study **published** (``forecast.csv``: reconciled across the
hierarchy and with the study's calibrated intervals), and ``predict`` returns
its rows for the first ``h`` periods, with the ``lo_<L>, hi_<L>`` columns of
the levels asked: exactly the study's numbers (city alerts in January:
[1616, 2168] in the study, not the fitted model's own unreconciled [1795,
1982]). It does not refit or forecast anything new: asking for more periods
than the study forecast, or a level it did not publish, is refused with an
error naming what it has. For new data, run a study (or ``riskmodel
forecast``) on them. Only with a column ``source`` equal to ``"model"``
does it return the fitted model's own forecasts: per series (ancestors'
sums included when the study reconciled), unreconciled and uncalibrated,
for any ``h``.

A model logged without a published table (:func:`log_forecaster` with
``published=None``) serves the fitted model's own forecasts.

MLflow is imported when a model is logged or registered, not with this
module: the pipeline imports it, and the command line's start must not pay
for MLflow (about 1.5 s; tests/cli/test_startup.py). So
:class:`ForecasterModel`, a subclass of ``mlflow.pyfunc.PythonModel``, is
made on first use (``riskmodel.tracking.pyfunc.ForecasterModel``, PEP 562),
under that same name, so that models pickled by earlier versions load.
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Iterator
from typing import Any

import pandas as pd

from riskmodel.errors import InputError, Problem


def _levels_of(df: pd.DataFrame) -> list[float]:
    return sorted({float(c[3:]) for c in df.columns if c.startswith("lo_")})


class _Serving:
    """``ForecasterModel`` without its MLflow base class (see the module notes).

    Wraps a fitted :class:`riskmodel.forecast.base.CountForecaster` and what a study published with it.

    Parameters
    ----------
    forecaster : CountForecaster
        The fitted model.
    published : DataFrame, optional
        The study's published forecast table (``forecast.csv``: ``area_id,
        [level,] category, period, model, mean, lo_<L>, hi_<L>``); served by
        :meth:`predict` (see the module notes).
    """

    def __init__(self, forecaster: Any, published: pd.DataFrame | None = None):
        self.forecaster = forecaster
        self.published = None if published is None else published.reset_index(drop=True).copy()

    def predict(self, context: Any, model_input: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:  # noqa: ARG002
        """The forecast table for ``h`` periods (see the module notes)."""
        if "h" not in model_input.columns or len(model_input) == 0:
            raise InputError(Problem("the input needs a column 'h' (periods ahead) with one value"))
        h = int(model_input["h"].iloc[0])
        if h < 1:
            raise InputError(Problem(f"h must be at least 1, got {h}", column="h"))
        source = str((params or {}).get("source") or (model_input["source"].iloc[0] if "source" in model_input.columns
                                                    else "published"))
        asked = sorted({float(v) for v in model_input["level"]}) if "level" in model_input.columns else None
        if source not in ("published", "model"):
            raise InputError(Problem(f"unknown source {source!r}; valid: published, model", column="source"))
        pub = getattr(self, "published", None)  # models pickled before the table was kept have none
        if source == "model" or pub is None:
            levels = asked or [80.0, 95.0]
            return self.forecaster.predict(h, levels=levels).to_frame(levels=levels)
        periods = sorted(pd.to_datetime(pub["period"]).unique())
        if h > len(periods):
            raise InputError(Problem(
                f"the study published {len(periods)} period(s) ahead; asked h={h}. The model serves the "
                "study's forecast; for more periods run the study with a larger h (or pass source='model' "
                "for the fitted model's own unreconciled forecasts)", column="h"))
        have = _levels_of(pub)
        levels = asked or have
        missing = [lv for lv in levels if lv not in have]
        if missing:
            raise InputError(Problem(
                f"the study published intervals at {', '.join(f'{lv:g}' for lv in have)}%; asked "
                f"{', '.join(f'{lv:g}' for lv in missing)}%", column="level"))
        drop = [f"{s}_{lv:g}" for lv in have if lv not in levels for s in ("lo", "hi")]
        keep = pd.to_datetime(pub["period"]).isin(periods[:h])
        return pub.loc[keep].drop(columns=drop).reset_index(drop=True)


@functools.cache
def _forecaster_model() -> type:
    """``ForecasterModel``: :class:`_Serving` as an ``mlflow.pyfunc.PythonModel`` (MLflow imported now)."""
    import mlflow.pyfunc

    return type("ForecasterModel", (_Serving, mlflow.pyfunc.PythonModel),
                {"__module__": __name__, "__qualname__": "ForecasterModel", "__doc__": _Serving.__doc__})


def __getattr__(name: str) -> Any:  # noqa: ANN401 - the class
    if name == "ForecasterModel":
        cls = _forecaster_model()
        globals()[name] = cls  # pickles refer to it by this name: the same object from now on
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@contextlib.contextmanager
def _fluent_tracking_uri(uri: str) -> Iterator[None]:
    """Set MLflow's global tracking URI for a block; restore it and the
    MLFLOW_TRACKING_URI variable (which ``mlflow.set_tracking_uri`` overwrites) after."""
    import os

    import mlflow
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
    forecaster: Any,
    run_id: str,
    tracking_uri: str,
    name: str = "forecaster",
    registered_name: str | None = None,
    published: pd.DataFrame | None = None,
) -> str:
    """Log a fitted forecaster to a run as a pyfunc model; return its model URI.

    ``published`` is the forecast table the study published with it (the
    model then serves it, see the module notes). With ``registered_name`` the
    model is also registered (:func:`register_forecaster`); a study registers
    only after its outputs are in place.
    """
    import mlflow.pyfunc

    # MLflow's model logging is fluent-only: point it at our store for this call
    # only, and restore the process-wide URI after (other code must not inherit it)
    model = __getattr__("ForecasterModel")(forecaster, published)
    with _fluent_tracking_uri(tracking_uri):
        with mlflow.start_run(run_id=run_id):
            info = mlflow.pyfunc.log_model(name=name, python_model=model)
    if registered_name:
        register_forecaster(info.model_uri, registered_name, tracking_uri)
    return info.model_uri


def register_forecaster(model_uri: str, registered_name: str, tracking_uri: str) -> tuple[str, str]:
    """Register a logged model under ``registered_name`` (a new version); return (name, version)."""
    import io

    import mlflow

    with _fluent_tracking_uri(tracking_uri):
        # MLflow 3 keeps logged models apart from run artifacts: register by the model's own URI
        with contextlib.redirect_stdout(io.StringIO()):  # MLflow prints "Successfully registered ..."
            mv = mlflow.register_model(model_uri, registered_name)
    return registered_name, str(mv.version)
