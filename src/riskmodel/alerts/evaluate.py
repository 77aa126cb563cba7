"""How well a detector does: false-positive rate, detection, sensitivity, timeliness.

Definitions (Noufaily et al. 2013), over the evaluation periods of each series:

* **FPR**: alarms in periods without any outbreak case / periods without any
  outbreak case.
* **POD** (probability of detection): share of current outbreaks with at least
  one alarm in a period that holds cases of that outbreak.
* **sensitivity**: alarms in outbreak periods / outbreak periods.
* **timeliness**: per outbreak, (first alarm - outbreak start) / outbreak
  length in periods, 1 when never detected; averaged (0 is best).
* **delay**: periods from the outbreak's start to its first alarm, among the
  detected outbreaks (mean).

Thresholds: a detector's ``score`` is compared with a threshold (an alarm when
score > threshold); :func:`tune_threshold` finds the smallest threshold whose
false-positive rate does not exceed a target.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency


def outbreak_metrics(
    alarm: np.ndarray,
    outbreak_any: np.ndarray,
    outbreak_current: np.ndarray,
) -> dict[str, float]:
    """Metrics for one group of series.

    Parameters
    ----------
    alarm : ndarray (K, R) bool
        Alarms in the evaluation periods (NaN-free).
    outbreak_any : ndarray (K, R) bool
        Periods holding cases of any outbreak.
    outbreak_current : ndarray (K, R) bool
        Periods holding cases of the outbreak to detect (at most one per series).
    """
    alarm = np.asarray(alarm, dtype=bool)
    quiet = ~np.asarray(outbreak_any, dtype=bool)
    cur = np.asarray(outbreak_current, dtype=bool)
    n_quiet = quiet.sum()
    fpr = float((alarm & quiet).sum() / n_quiet) if n_quiet else float("nan")
    has = cur.any(axis=0)
    det = (alarm & cur).any(axis=0)
    pod = float(det[has].mean()) if has.any() else float("nan")
    sens = float((alarm & cur).sum() / cur.sum()) if cur.sum() else float("nan")
    K = cur.shape[0]
    first_case = np.where(has, cur.argmax(axis=0), K)
    last_case = np.where(has, K - 1 - cur[::-1].argmax(axis=0), -1)
    length = last_case - first_case + 1
    hit = alarm & cur
    first_alarm = np.where(det, hit.argmax(axis=0), -1)
    tl = np.where(det, (first_alarm - first_case) / np.maximum(length, 1), 1.0)
    timeliness = float(tl[has].mean()) if has.any() else float("nan")
    delay = float((first_alarm - first_case)[det].mean()) if det.any() else float("nan")
    return {
        "fpr": fpr,
        "pod": pod,
        "sensitivity": sens,
        "timeliness": timeliness,
        "delay": delay,
        "outbreaks": int(has.sum()),
        "quiet_periods": int(n_quiet),
    }


def tune_threshold(score: np.ndarray, quiet: np.ndarray, target_fpr: float) -> float:
    """Smallest threshold ``c`` with ``mean(score[quiet] > c) <= target_fpr``.

    NaN scores never alarm. Returns +inf when no finite threshold is needed.
    """
    s = np.asarray(score, dtype=float)[np.asarray(quiet, dtype=bool)]
    n = s.size
    if n == 0:
        return float("inf")
    s = np.where(np.isnan(s), -np.inf, s)
    allowed = int(np.floor(target_fpr * n + 1e-9))
    srt = np.sort(s)[::-1]
    if allowed >= n:
        return float("-inf")
    # alarms are score > c: c = the (allowed+1)-th largest score lets exactly the
    # scores strictly above it alarm (ties at c stay quiet)
    return float(srt[allowed])


def metrics_table(
    alarms: dict[str, np.ndarray],
    outbreak_any: np.ndarray,
    outbreak_current: np.ndarray,
    groups: np.ndarray,
) -> pd.DataFrame:
    """Metrics per method and group (e.g. scenario), plus an ``all`` row per method.

    ``alarms`` maps a method name to a (K, R) boolean array.
    """
    rows = []
    groups = np.asarray(groups)
    for name, a in alarms.items():
        for g in [*dict.fromkeys(groups.tolist()), "all"]:
            sel = np.ones(len(groups), bool) if g == "all" else groups == g
            m = outbreak_metrics(a[:, sel], outbreak_any[:, sel], outbreak_current[:, sel])
            rows.append({"method": name, "group": g, **m})
    return pd.DataFrame(rows)


def evaluate_spikes(table: pd.DataFrame, spikes: pd.DataFrame, freq: str) -> pd.DataFrame:
    """Detection of known spikes (``area_id, category, start, days``) in a detection table.

    A spike is detected when a monitored period overlapping its days has an
    alarm; quiet periods are those of the spiked-or-not series with no spike
    day. All monitored periods count, including those where the method could
    not evaluate (limit54, short history): a spike there is missed, as it would
    be in practice. Returns one row per category and ``all``.
    """
    tab = table.copy()
    tab["period"] = pd.to_datetime(tab["period"])
    key = tab.set_index(["area_id", "category", "period"])["alarm"]
    in_spike = pd.Series(False, index=key.index)
    rows = []
    first_p = tab["period"].min()
    last_p = tab["period"].max()
    for s in spikes.itertuples(index=False):
        days = pd.date_range(s.start, periods=int(s.days), freq="D")
        pers = pd.DatetimeIndex(Frequency.of(freq).start(pd.Series(days)).unique())
        idx = [(s.area_id, s.category, p) for p in pers if (s.area_id, s.category, p) in key.index]
        if not idx or pers.min() < first_p or pers.max() > last_p:
            continue
        in_spike.loc[idx] = True
        hits = key.loc[idx].to_numpy()
        delay = int(np.argmax(hits)) if hits.any() else np.nan
        rows.append({"category": s.category, "detected": bool(hits.any()), "delay": delay})
    ev = pd.DataFrame(rows, columns=["category", "detected", "delay"])
    quiet = ~in_spike
    fa = key[quiet].groupby(level="category").agg(["sum", "size"])
    out = []
    for cat in [*sorted(set(ev["category"]) | set(fa.index)), "all"]:
        e = ev if cat == "all" else ev[ev["category"] == cat]
        f = fa if cat == "all" else fa.loc[[cat]] if cat in fa.index else fa.iloc[0:0]
        out.append({
            "category": cat,
            "spikes": int(len(e)),
            "detected": int(e["detected"].sum()),
            "pod": float(e["detected"].mean()) if len(e) else np.nan,
            "delay": float(e["delay"].mean()) if e["detected"].any() else np.nan,
            "fpr": float(f["sum"].sum() / f["size"].sum()) if len(f) and f["size"].sum() else np.nan,
        })
    return pd.DataFrame(out)
