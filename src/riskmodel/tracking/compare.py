"""Compare the metrics of two tracked runs (two weight schemes, two model choices).

For two study runs (``riskmodel run``) the step runs are paired by step name
and their metrics compared too, so ``riskmodel compare A B`` shows, say, the
forecast step's MASE and the index step's rank statistics side by side.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.tracking.core import Tracker


def _run(client, run_id: str):  # noqa: ANN001, ANN202 - mlflow types
    from mlflow.exceptions import MlflowException

    try:
        return client.get_run(run_id)
    except MlflowException:
        raise InputError(Problem(f"no MLflow run {run_id!r} in the tracking store {client.tracking_uri}")) from None


def compare_runs(run_a: str, run_b: str, tracking_uri: str | None = None) -> pd.DataFrame:
    """Metric differences between two runs (and their step runs, paired by step).

    Returns
    -------
    DataFrame
        ``scope`` (``run`` or the step name), ``metric``, ``a``, ``b``,
        ``diff`` (b - a) and ``rel_diff`` ((b - a) / |a|), one row per metric
        present in either run; NaN where a run lacks the metric.
    """
    client = Tracker(uri=tracking_uri).client
    ra, rb = _run(client, run_a), _run(client, run_b)
    rows = []

    def add(scope: str, ma: dict, mb: dict) -> None:
        for k in sorted(set(ma) | set(mb)):
            a, b = ma.get(k, np.nan), mb.get(k, np.nan)
            rows.append({"scope": scope, "metric": k, "a": a, "b": b, "diff": b - a,
                         "rel_diff": (b - a) / abs(a) if np.isfinite(a) and a != 0 else np.nan})

    add("run", ra.data.metrics, rb.data.metrics)

    def steps(r) -> dict:  # noqa: ANN001
        kids = client.search_runs([r.info.experiment_id], f"tags.mlflow.parentRunId = '{r.info.run_id}'")
        return {k.data.tags.get("riskmodel.step", k.info.run_name): k for k in kids}

    sa, sb = steps(ra), steps(rb)
    for name in sorted(set(sa) | set(sb)):
        add(name, sa[name].data.metrics if name in sa else {}, sb[name].data.metrics if name in sb else {})
    return pd.DataFrame(rows, columns=["scope", "metric", "a", "b", "diff", "rel_diff"])
