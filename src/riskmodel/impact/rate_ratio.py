"""Rate ratio of two periods (comparison / baseline), with exposure.

Three intervals, all for the ratio of incidence rates
``(sum after / exposure after) / (sum before / exposure before)``:

* **exact Poisson**: conditional on the total ``n = a + b`` the comparison
  count ``a`` is binomial with ``p = RR*Ea / (RR*Ea + Eb)``; the Clopper-Pearson
  interval for ``p`` maps to an exact interval for ``RR`` (Ederer & Mantel).
  Valid when the counts are Poisson; too narrow when they are overdispersed,
  which incident counts nearly always are.
* **quasi-Poisson**: a Poisson GLM on the per-period counts with a
  ``post`` indicator and ``log(exposure)`` offset, standard errors scaled by the
  Pearson dispersion ``X2 / (n - p)`` (statsmodels ``scale='X2'``).
* **negative binomial**: the NB2 regression of the same design
  (statsmodels ``NegativeBinomial``, dispersion estimated by ML).

The headline (``estimate, lo, hi`` of the result) is the quasi-Poisson
interval when there are at least two periods on each side, else the exact one.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd

from riskmodel.impact.results import EffectResult


def exact_poisson_ratio(
    a: float, ea: float, b: float, eb: float, level: float = 0.95
) -> tuple[float, float, float, float]:
    """Exact conditional interval for a ratio of two Poisson rates.

    Parameters
    ----------
    a, b : int
        Counts in the comparison and the baseline period.
    ea, eb : float
        Their exposures (person-time or days; any common unit).
    level : float
        Interval level.

    Returns
    -------
    (rr, lo, hi, p_value)
        ``rr = (a/ea)/(b/eb)`` and its exact interval; two-sided exact
        binomial p-value of ``RR = 1``.
    """
    from scipy import stats  # imported here: a claim's start must not load scipy
    alpha = 1.0 - level
    n = a + b
    rr = (a / ea) / (b / eb) if b > 0 else np.inf
    lo_p = stats.beta.ppf(alpha / 2, a, b + 1) if a > 0 else 0.0
    hi_p = stats.beta.ppf(1 - alpha / 2, a + 1, b) if b > 0 else 1.0
    scale = eb / ea
    lo = lo_p / (1 - lo_p) * scale
    hi = hi_p / (1 - hi_p) * scale if hi_p < 1 else np.inf
    p0 = ea / (ea + eb)
    p_value = stats.binomtest(int(a), int(n), p0).pvalue if n > 0 else 1.0
    return float(rr), float(lo), float(hi), float(p_value)


def rate_ratio(
    before: np.ndarray | pd.Series,
    after: np.ndarray | pd.Series,
    exposure_before: np.ndarray | pd.Series | float | None = None,
    exposure_after: np.ndarray | pd.Series | float | None = None,
    *,
    level: float = 0.95,
) -> EffectResult:
    """Rate ratio of the comparison period to the baseline period.

    Parameters
    ----------
    before, after : array of int, shape (n_before,), (n_after,)
        Counts per period (day, week or month) of the baseline and the
        comparison period. A single total each is allowed (then only the
        exact interval is available).
    exposure_before, exposure_after : array or float, optional
        Exposure per period (e.g. residents x days); scalars are spread
        evenly over the periods. Default 1 per period.
    level : float
        Interval level.

    Returns
    -------
    EffectResult
        ``method='rate_ratio'``; ``estimate = RR - 1``; ``coef`` = log RR and
        ``se`` its (dispersion-scaled) standard error;
        ``tables['intervals']``: the exact, quasi-Poisson and NB intervals;
        ``diagnostics``: totals, exposures, dispersion.
    """
    b = np.asarray(before, dtype=float).ravel()
    a = np.asarray(after, dtype=float).ravel()
    eb = _exposure(exposure_before, len(b))
    ea = _exposure(exposure_after, len(a))
    if b.sum() <= 0:
        return EffectResult.failed("rate_ratio", "no incidents in the baseline period")
    rr, lo, hi, p = exact_poisson_ratio(a.sum(), ea.sum(), b.sum(), eb.sum(), level)
    rows = [{"interval": "exact_poisson", "rate_ratio": rr, "lo": lo, "hi": hi, "p_value": p}]
    res = EffectResult(
        method="rate_ratio",
        estimate=rr - 1,
        lo=lo - 1,
        hi=hi - 1,
        level=level,
        coef=float(np.log(rr)) if rr > 0 else -np.inf,
        se=float(np.sqrt(1 / max(a.sum(), 0.5) + 1 / b.sum())),
        p_value=p,
        scale="log rate ratio",
        note="exact Poisson interval (one total per period)",
    )
    res.diagnostics.update(
        {"before_total": b.sum(), "after_total": a.sum(), "before_exposure": eb.sum(),
         "after_exposure": ea.sum(), "before_periods": len(b), "after_periods": len(a)}
    )
    if len(a) >= 2 and len(b) >= 2:
        y = np.concatenate([b, a])
        post = np.r_[np.zeros(len(b)), np.ones(len(a))]
        X = np.column_stack([np.ones_like(post), post])
        offset = np.log(np.concatenate([eb, ea]))
        q = _quasi_poisson(y, X, offset, level)
        rows.append({"interval": "quasi_poisson", **q})
        nb = _negbin(y, X, offset, level)
        if nb is not None:
            rows.append({"interval": "negative_binomial", **nb})
        res.estimate, res.lo, res.hi = q["rate_ratio"] - 1, q["lo"] - 1, q["hi"] - 1
        res.coef, res.se, res.p_value = np.log(q["rate_ratio"]), q["se"], q["p_value"]
        res.diagnostics["dispersion"] = q["dispersion"]
        res.note = f"quasi-Poisson interval (dispersion {q['dispersion']:.2f})"
    res.tables["intervals"] = pd.DataFrame(rows)
    return res


def _exposure(e: np.ndarray | pd.Series | float | None, n: int) -> np.ndarray:
    if e is None:
        return np.ones(n)
    arr = np.asarray(e, dtype=float).ravel()
    if arr.size == 1:
        return np.full(n, float(arr[0]) / n)
    if arr.size != n:
        raise ValueError(f"exposure has {arr.size} values for {n} periods")
    return arr


def _quasi_poisson(y: np.ndarray, X: np.ndarray, offset: np.ndarray, level: float) -> dict[str, float]:
    import statsmodels.api as sm
    from scipy import stats  # imported here: a claim's start must not load scipy

    fit = sm.GLM(y, X, family=sm.families.Poisson(), offset=offset).fit(scale="X2")
    z = stats.norm.ppf(0.5 + level / 2)
    coef, se = float(fit.params[1]), float(fit.bse[1])
    return {
        "rate_ratio": float(np.exp(coef)),
        "lo": float(np.exp(coef - z * se)),
        "hi": float(np.exp(coef + z * se)),
        "p_value": float(2 * stats.norm.sf(abs(coef / se))) if se > 0 else np.nan,
        "se": se,
        "dispersion": float(fit.scale),
    }


def _negbin(y: np.ndarray, X: np.ndarray, offset: np.ndarray, level: float) -> dict[str, float] | None:
    import statsmodels.api as sm
    from scipy import stats  # imported here: a claim's start must not load scipy

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fit = sm.NegativeBinomial(y, X, offset=offset).fit(disp=0, maxiter=200)
    except Exception:  # noqa: BLE001 - NB fails on degenerate data; the quasi interval remains
        return None
    coef, se = float(fit.params[1]), float(fit.bse[1])
    if not np.isfinite(se):
        return None
    z = stats.norm.ppf(0.5 + level / 2)
    return {
        "rate_ratio": float(np.exp(coef)),
        "lo": float(np.exp(coef - z * se)),
        "hi": float(np.exp(coef + z * se)),
        "p_value": float(2 * stats.norm.sf(abs(coef / se))),
        "se": se,
        "dispersion": float(fit.params[-1]),
    }
