"""What ``auto`` chose (:attr:`riskmodel.forecast.auto.Auto.selection_`), as a table and as text.

Light on purpose (numpy and pandas only): :mod:`riskmodel.forecast.forecaster`
imports it at the command line's start to publish ``auto_selection.csv`` and
the summary's lines, without importing the models.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SELECTION_COLUMNS = ("chunk", "group", "n_series", "model", "score", "weight", "combined_score", "windows", "h")
"""Columns of :func:`selection_table`."""


def selection_table(model: object) -> pd.DataFrame | None:
    """``auto``'s choice per group of series, as it scored it; None for a model that is not ``auto``.

    Parameters
    ----------
    model : :class:`~riskmodel.forecast.auto.Auto` or a ChunkedForecaster of them (fitted and predicted)

    Returns
    -------
    DataFrame with :data:`SELECTION_COLUMNS`, one row per chunk, group and
    candidate: ``group`` (a category, or ``ALL`` for the categories with
    fewer than ``min_group`` series), ``n_series``, ``score`` (the
    candidate's mean scaled pinball loss over the group's series and the
    internal windows; NaN without internal windows), ``weight`` (its weight
    in the group's combination; 0: not used), ``combined_score`` (the
    combination's score on the same windows), ``windows`` and ``h`` (of the
    internal backtest). ``chunk`` numbers the chunks of series fitted apart.
    """
    parts = getattr(model, "models_", None) or [model]
    frames = [sel.assign(chunk=i) for i, m in enumerate(parts)
              if getattr(m, "name", None) == "auto" and isinstance(sel := getattr(m, "selection_", None), pd.DataFrame)]
    if not frames:
        return None
    return pd.concat(frames, ignore_index=True).reindex(columns=list(SELECTION_COLUMNS))


def selection_text(table: pd.DataFrame, top: int = 12) -> list[str]:
    """Lines of text: per chunk and group, the weights and the internal scores (at most ``top`` groups)."""
    lines = []
    keys = list(dict.fromkeys(zip(table["chunk"], table["group"], strict=True)))
    for chunk, group in keys[:top]:
        g = table[(table["chunk"] == chunk) & (table["group"] == group)]
        used = g[g["weight"] > 0].sort_values("weight", ascending=False, kind="stable")
        combo = " + ".join(f"{r.model} {r.weight:.2g}" for r in used.itertuples())
        scores = ", ".join(f"{r.model} {r.score:.3f}" for r in g.sort_values("score", kind="stable").itertuples())
        where = f"{group} ({int(g['n_series'].iloc[0])} series" + (f", chunk {chunk}" if table["chunk"].nunique() > 1 else "") + ")"
        comb = g["combined_score"].iloc[0]
        lines.append(f"    {where}: {combo}" + (f"; combined {comb:.3f}" if np.isfinite(comb) else "")
                     + (f"; members' scores {scores}" if np.isfinite(g["score"]).any() else "; no internal window: equal weights"))
    if len(keys) > top:
        lines.append(f"    ... {len(keys) - top} more group(s)")
    return lines


__all__ = ["SELECTION_COLUMNS", "selection_table", "selection_text"]
