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
