"""Ranks with ties, grade bands and change since the last period."""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem

TIE_METHODS = ("min", "average", "max", "dense", "ordinal")

# Five safety levels by default (平安等级): thresholds on a 0-100 score, best first.
DEFAULT_GRADES = {
    "thresholds": [80.0, 65.0, 50.0, 35.0],
    "labels": ["A 平安", "B 较平安", "C 一般", "D 较不平安", "E 不平安"],
}


def rank_desc(scores: np.ndarray, ties: str = "min", axis: int = -1) -> np.ndarray:
    """Rank scores from the highest (rank 1) along ``axis``; NaN stays NaN.

    ``ties='min'`` gives tied units the lowest rank number (1, 2, 2, 4), as COINr.
    """
    if ties not in TIE_METHODS:
        raise InputError(Problem(f"unknown tie method {ties!r}; valid: {', '.join(TIE_METHODS)}"))
    # scipy here, not at import: `riskmodel index --help` and the start of every index command stay fast
    from scipy.stats import rankdata

    s = np.asarray(scores, float)
    r = rankdata(-s, method=ties, axis=axis, nan_policy="omit")
    return np.where(np.isnan(s), np.nan, r)


def grades(scores: np.ndarray | pd.Series, thresholds: list[float], labels: list[str]) -> np.ndarray:
    """Grade band of each score.

    ``thresholds`` are lower bounds in decreasing order; a score >= thresholds[0]
    gets labels[0], >= thresholds[1] labels[1], ..., below the last the last label.
    ``len(labels) == len(thresholds) + 1``.
    """
    th = list(map(float, thresholds))
    if len(labels) != len(th) + 1:
        raise InputError(Problem(f"grades: {len(th)} thresholds need {len(th) + 1} labels, got {len(labels)}"))
    if any(a <= b for a, b in zip(th, th[1:], strict=False)):
        raise InputError(Problem("grades: thresholds must be strictly decreasing (best band first)"))
    s = np.asarray(scores, float)
    idx = np.sum(s[..., None] < np.asarray(th), axis=-1)
    out = np.asarray(labels, dtype=object)[idx]
    return np.where(np.isnan(s), None, out)


def change_since_last(scores: pd.DataFrame) -> pd.DataFrame:
    """Add ``score_change`` and ``rank_change`` against each unit's previous period.

    ``scores`` has ``area_id, period, code, score, rank``; the previous period is
    the one before in the table's sorted periods (a missing previous value gives
    NaN). A positive ``rank_change`` means the unit moved up (its rank number fell).
    """
    df = scores.sort_values(["code", "area_id", "period"]).copy()
    g = df.groupby(["code", "area_id"], sort=False)
    df["score_change"] = df["score"] - g["score"].shift(1)
    df["rank_change"] = g["rank"].shift(1) - df["rank"]
    return df.sort_index()
