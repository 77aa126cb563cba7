"""Outlier treatment: the skewness/kurtosis rule, winsorisation with ties, log fallback.

The rule is COINr's (JRC) default, itself the OECD/JRC Handbook's: an
indicator fails when ``|skewness| >= skew`` **and** ``kurtosis >= kurtosis``
(sample skewness and excess kurtosis, the "type 2" definitions used by Excel
and ``e1071``). A failing indicator is winsorised one step at a time (all the
values tied at the extreme on the skewed side take the next value in), up to
``winmax`` points; if it still fails, the *original* values are log
transformed instead (``log(x - min + 0.01 (max - min))``).

Written here rather than taken from ``scipy.stats.mstats.winsorize`` because
that one clips fixed proportions, not "until the rule passes", and ties are
handled differently; the point of this module is parity with COINr.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

TREAT_METHODS = ("winsorise", "log", "none")


def skewness(x: np.ndarray) -> float:
    """Sample skewness, type 2 (bias-corrected, as Excel SKEW), NaN ignored."""
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 3:
        return float("nan")
    d = x - x.mean()
    s2 = np.sum(d**2)
    if s2 == 0:
        return 0.0
    g1 = np.sqrt(n) * np.sum(d**3) / s2**1.5
    return float(g1 * np.sqrt(n * (n - 1)) / (n - 2))


def kurtosis(x: np.ndarray) -> float:
    """Sample excess kurtosis, type 2 (bias-corrected, as Excel KURT), NaN ignored."""
    x = np.asarray(x, float)
    x = x[~np.isnan(x)]
    n = x.size
    if n < 4:
        return float("nan")
    d = x - x.mean()
    s2 = np.sum(d**2)
    if s2 == 0:
        return 0.0
    r = n * np.sum(d**4) / s2**2
    return float(((n + 1) * (r - 3) + 6) * (n - 1) / ((n - 2) * (n - 3)))


def passes(x: np.ndarray, skew: float = 2.0, kurt: float = 3.5) -> bool:
    """True when ``|skewness| < skew`` or ``kurtosis < kurt`` (no treatment needed)."""
    s, k = skewness(x), kurtosis(x)
    if np.isnan(s) or np.isnan(k):
        return True
    return bool(abs(s) < skew or k < kurt)


def winsorise(x: np.ndarray, winmax: int = 5, skew: float = 2.0, kurt: float = 3.5) -> tuple[np.ndarray, int, np.ndarray]:
    """Winsorise until the rule passes or ``winmax`` points are reached.

    Each step replaces every value tied at the extreme on the skewed side
    (high when skewness >= 0) by the next value in; the count of treated
    points follows COINr (the points tied at the latest high plus latest low
    extreme).

    Returns
    -------
    (x_treated, n_points, treated_mask)
    """
    x = np.asarray(x, float).copy()
    treated = np.zeros(x.shape, bool)
    ok = passes(x, skew, kurt)
    nwin = 0
    imax: np.ndarray | None = None
    imin: np.ndarray | None = None
    while not ok and nwin < winmax:
        finite = ~np.isnan(x)
        if finite.sum() < 2:
            break
        if skewness(x) >= 0:
            top = np.nanmax(x)
            imax = np.flatnonzero(x == top)
            rest = np.delete(x, imax)
            if np.all(np.isnan(rest)):
                break
            x[imax] = np.nanmax(rest)
            treated[imax] = True
        else:
            bot = np.nanmin(x)
            imin = np.flatnonzero(x == bot)
            rest = np.delete(x, imin)
            if np.all(np.isnan(rest)):
                break
            x[imin] = np.nanmin(rest)
            treated[imin] = True
        nwin = (0 if imax is None else imax.size) + (0 if imin is None else imin.size)
        ok = passes(x, skew, kurt)
    return x, nwin, treated


def log_ct(x: np.ndarray) -> np.ndarray:
    """COINr's log transform ``log(x - min + 0.01 (max - min))`` (NaN kept)."""
    x = np.asarray(x, float)
    lo, hi = np.nanmin(x), np.nanmax(x)
    return np.log(x - lo + 0.01 * (hi - lo))


@dataclass
class TreatmentRecord:
    """What was done to one indicator."""

    code: str
    skew_before: float
    kurt_before: float
    action: str  # "none" | "winsorised" | "log"
    n_winsorised: int
    skew_after: float
    kurt_after: float
    passes_after: bool


def treat_column(
    x: np.ndarray, code: str = "", method: str = "winsorise", winmax: int = 5, skew: float = 2.0, kurt: float = 3.5
) -> tuple[np.ndarray, TreatmentRecord]:
    """Treat one indicator column; see the module notes for the rule."""
    x = np.asarray(x, float)
    s0, k0 = skewness(x), kurtosis(x)
    if method == "none" or passes(x, skew, kurt):
        return x.copy(), TreatmentRecord(code, s0, k0, "none", 0, s0, k0, passes(x, skew, kurt))
    if method == "log":
        y = log_ct(x)
        return y, TreatmentRecord(code, s0, k0, "log", 0, skewness(y), kurtosis(y), passes(y, skew, kurt))
    y, n, _ = winsorise(x, winmax=winmax, skew=skew, kurt=kurt)
    if passes(y, skew, kurt):
        return y, TreatmentRecord(code, s0, k0, "winsorised", n, skewness(y), kurtosis(y), True)
    y = log_ct(x)  # COINr applies the fallback to the original values
    return y, TreatmentRecord(code, s0, k0, "log", 0, skewness(y), kurtosis(y), passes(y, skew, kurt))
