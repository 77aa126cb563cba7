"""From alarms to warnings: severity per alarm, consecutive alarms merged into episodes.

Severity of an alarm (what an official reads first):

* ``red`` (红色): the count is at least twice the upper bound above the
  expected count (``score >= 2`` with the Farrington-style score
  ``(y - expected) / (upper - expected)``), or the alarm ends an episode of
  three or more periods;
* ``orange`` (橙色): ``score >= 1.5``;
* ``yellow`` (黄色): any other alarm.

Episodes: runs of alarms in one series whose gaps are at most
``max_gap`` periods (default 0: strictly consecutive periods) form one
episode, reported with its first and last period, length, peak count,
total excess over the expected counts and its worst severity.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

SEVERITIES = ("yellow", "orange", "red")
SEVERITY_ZH = {"yellow": "黄色", "orange": "橙色", "red": "红色"}
_RANK = {s: i for i, s in enumerate(SEVERITIES)}


def severity(score: pd.Series | np.ndarray, alarm: pd.Series | np.ndarray) -> np.ndarray:
    """Severity of each row ('' where no alarm)."""
    s = np.asarray(score, dtype=float)
    a = np.asarray(alarm, dtype=bool)
    out = np.where(s >= 2.0, "red", np.where(s >= 1.5, "orange", "yellow"))
    return np.where(a, out, "").astype(object)


def episodes(table: pd.DataFrame, freq: str = "W", max_gap: int = 0) -> pd.DataFrame:
    """Merge alarms into episodes.

    Parameters
    ----------
    table : DataFrame
        A detection table (``area_id, category, period, count, expected,
        upperbound, alarm, score``), all monitored periods.
    freq : {'D', 'W', 'M'}
        Period length (to count gaps).
    max_gap : int
        Periods without alarm allowed inside one episode.

    Returns
    -------
    DataFrame
        ``area_id, category, episode, start, end, periods, alarms, peak_count,
        excess, max_score, severity`` (``excess`` = sum of count - expected over
        the alarms, NaN expected counted as 0 excess).
    """
    cols = ["area_id", "category", "episode", "start", "end", "periods", "alarms", "peak_count",
            "excess", "max_score", "severity"]
    a = table[table["alarm"].astype(bool)].copy()
    if a.empty:
        return pd.DataFrame(columns=cols)
    a = a.sort_values(["area_id", "category", "period"])
    per = pd.DatetimeIndex(a["period"])
    if freq == "M":
        idx = per.year * 12 + per.month
    else:
        step = 7 if freq == "W" else 1
        idx = (per - pd.Timestamp("1970-01-05")).days // step
    a["_i"] = np.asarray(idx)
    same = (a["area_id"] == a["area_id"].shift()) & (a["category"] == a["category"].shift())
    new = ~same | (a["_i"] - a["_i"].shift() > max_gap + 1)
    a["episode"] = new.cumsum()
    a["_sev"] = severity(a["score"], a["alarm"])
    a["_excess"] = (a["count"].astype(float) - a["expected"].astype(float)).fillna(0.0)
    g = a.groupby("episode", sort=True)
    out = pd.DataFrame({
        "area_id": g["area_id"].first(),
        "category": g["category"].first(),
        "start": g["period"].min(),
        "end": g["period"].max(),
        "periods": (g["_i"].max() - g["_i"].min() + 1).astype(int),
        "alarms": g.size().astype(int),
        "peak_count": g["count"].max(),
        "excess": g["_excess"].sum(),
        "max_score": g["score"].max(),
        "severity": g["_sev"].agg(lambda s: max(s, key=lambda v: _RANK.get(v, -1))),
    })
    # a long episode is red whatever its scores
    out.loc[out["alarms"] >= 3, "severity"] = "red"
    out = out.reset_index(drop=True)
    out["episode"] = np.arange(1, len(out) + 1)
    return out[cols]
