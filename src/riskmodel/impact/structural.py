"""Structural time series counterfactuals (statsmodels ``UnobservedComponents``).

Two designs, both with regressors (e.g. untreated areas' series) held in the
state vector (``mle_regression=False``) and exact diffuse initialisation:

* :class:`StructuralCounterfactual` (CausalImpact's design, Brodersen et al.
  2015): fit on the pre-period only, forecast the post period as the
  counterfactual, and report the pointwise, cumulative and relative effects.
  The forecast distribution is simulated (``MLEResults.simulate`` anchored at
  the end of the pre-period, the initial state drawn from its predicted
  distribution, so state and regression-coefficient uncertainty are included;
  the variance parameters are taken at their ML estimates, where CausalImpact
  integrates over them by MCMC). The summary follows CausalImpact's
  ``summary()``: average and cumulative actual, prediction (sd) and interval,
  absolute effect, relative effect (interval from the simulated paths), and the
  tail-area probability.
* :class:`StructuralIntervention`: one model on the whole sample with an
  intervention (level-shift) regressor; its smoothed state gives the
  coefficient and standard error (on counts or on log counts).

On the log scale (``log=True``, the default for counts) the counterfactual is
back-transformed path by path, so the relative effect is the ratio of summed
counts, not of logs.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.impact.results import EffectResult

TRENDS = {"level": "local level", "trend": "local linear trend", "smooth": "smooth trend"}
SEASONALS = ("trig", "dummy", "none")


def _log_shift(y: np.ndarray) -> float:
    """The constant added before taking logs: 0 when all counts are positive, else 0.5."""
    return 0.0 if np.all(y > 0) else 0.5


@dataclass
class _UCSpec:
    trend: str = "level"
    seasonal: str = "trig"
    season: int = 12
    harmonics: int = 2
    stochastic_seasonal: bool = False

    def model(self, y: np.ndarray, exog: np.ndarray | None):  # noqa: ANN201 - statsmodels model
        from statsmodels.tsa.statespace.structural import UnobservedComponents

        if self.trend not in TRENDS:
            raise ValueError(f"trend must be one of {list(TRENDS)}")
        if self.seasonal not in SEASONALS:
            raise ValueError(f"seasonal must be one of {SEASONALS}")
        kw: dict = {"level": TRENDS[self.trend], "use_exact_diffuse": True}
        if self.seasonal == "trig" and self.season > 1:
            kw["freq_seasonal"] = [{"period": self.season, "harmonics": self.harmonics}]
            kw["stochastic_freq_seasonal"] = [self.stochastic_seasonal]
        elif self.seasonal == "dummy" and self.season > 1:
            kw["seasonal"] = int(self.season)
            kw["stochastic_seasonal"] = self.stochastic_seasonal
        if exog is not None:
            kw["exog"] = exog
            kw["mle_regression"] = False
        return UnobservedComponents(y, **kw)

    def fit(self, y: np.ndarray, exog: np.ndarray | None):  # noqa: ANN201
        mod = self.model(y, exog)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = mod.fit(disp=False, maxiter=200)
        return res


@dataclass
class StructuralCounterfactual(_UCSpec):
    """CausalImpact-style analysis: pre-period model, post-period forecast.

    Parameters
    ----------
    trend : {'level', 'trend', 'smooth'}
        Local level, local linear trend or smooth trend.
    seasonal : {'trig', 'dummy', 'none'}
        Trigonometric (``harmonics`` pairs) or dummy seasonal of ``season``
        periods; deterministic unless ``stochastic_seasonal``.
    season : int
        Season length in periods (12 for monthly data).
    harmonics : int
        Harmonic pairs of the trigonometric seasonal.
    log : bool
        Model log counts (the effect is then multiplicative).
    n_sims : int
        Simulated counterfactual paths.
    level : float
        Interval level.
    seed : int
        Seed of the simulation.
    """

    log: bool = True
    n_sims: int = 1000
    level: float = 0.95
    seed: int = 0

    def fit(  # type: ignore[override]
        self,
        y: np.ndarray | pd.Series,
        start: int,
        exog: np.ndarray | None = None,
        index: pd.Index | None = None,
        end: int | None = None,
        eval_start: int | None = None,
    ) -> EffectResult:
        """Fit on ``y[:start]`` and compare ``y[eval_start:end]`` with the forecast.

        Parameters
        ----------
        y : array, shape (n,)
            Counts (or any positive series when ``log``).
        start : int
            Position of the first post period.
        exog : array, shape (n, k), optional
            Regressors known in both periods (untreated series; in logs when
            ``log``; the caller transforms them).
        index : Index, optional
            Period labels for the series table.
        end : int, optional
            End (exclusive) of the post period (default: the end of ``y``).
        eval_start : int, optional
            First period the effects are summed from (default ``start``); the
            periods in between (a ramp-up) are forecast but not evaluated.

        Returns
        -------
        EffectResult
            ``method='structural'``; estimate = relative effect (sum observed /
            mean summed counterfactual - 1); ``coef``/``se`` = mean and sd of
            the average absolute effect per period (counts);
            ``tables['series']`` (pointwise and cumulative effects),
            ``tables['summary']`` (CausalImpact's table).
        """
        yv = np.asarray(y, dtype=float)
        n = len(yv)
        end = n if end is None else end
        eval_start = start if eval_start is None else eval_start
        h = end - start
        if eval_start >= end:
            return EffectResult.failed("structural", "empty evaluation window")
        if start < 2 * max(self.season, 1) and self.seasonal != "none":
            return EffectResult.failed(
                "structural", f"pre-period of {start} periods is shorter than two seasons ({2 * self.season})"
            )
        if h < 1:
            return EffectResult.failed("structural", "empty post period")
        shift = _log_shift(yv[:end]) if self.log else 0.0
        yt = np.log(yv + shift) if self.log else yv
        ex = None if exog is None else np.asarray(exog, dtype=float).reshape(n, -1)
        res = _UCSpec.fit(self, yt[:start], None if ex is None else ex[:start])
        sims = res.simulate(
            h, repetitions=self.n_sims, anchor="end",
            exog=None if ex is None else ex[start:end],
            rng=np.random.default_rng(self.seed),
        )
        paths = np.asarray(sims).reshape(h, -1)  # (h, n_sims)
        if self.log:
            paths = np.exp(np.clip(paths, -50, 50)) - shift
        skip = eval_start - start
        paths_all = paths
        paths = paths[skip:]
        obs = yv[eval_start:end]
        h = end - eval_start
        a = (1 - self.level) / 2
        pred_sum = paths.sum(axis=0)
        rel = obs.sum() / pred_sum - 1
        abs_eff = obs.sum() - pred_sum
        estimate = obs.sum() / pred_sum.mean() - 1
        lo, hi = np.quantile(rel, [a, 1 - a])
        # CausalImpact's posterior tail-area probability (one-sided, of the observed sum)
        tail = min((pred_sum >= obs.sum()).sum() + 1, (pred_sum <= obs.sum()).sum() + 1) / (self.n_sims + 1)
        out = EffectResult(
            method="structural",
            estimate=float(estimate),
            lo=float(lo),
            hi=float(hi),
            level=self.level,
            coef=float(abs_eff.mean() / h),
            se=float(abs_eff.std(ddof=1) / h),
            p_value=float(tail),
            scale="average absolute effect per period (counts)",
        )
        # pre-period fit, back-transformed one-step predictions
        fitted_pre = np.asarray(res.fittedvalues, dtype=float).copy()
        if self.log:
            fitted_pre = np.exp(fitted_pre) - shift
        # one-step predictions during the diffuse start are not predictions
        fitted_pre[: max(int(getattr(res, "nobs_diffuse", 0) or 0), int(res.model.k_states))] = np.nan
        idx = index[:end] if index is not None else pd.RangeIndex(end)
        point = obs[:, None] - paths
        cum = np.cumsum(point, axis=0)
        if skip:
            # periods forecast but not evaluated (ramp-up): counterfactual only
            gap_nan = np.full((skip, paths.shape[1]), np.nan)
            point = np.vstack([yv[start:eval_start, None] - paths_all[:skip], point])
            cum = np.vstack([gap_nan, cum])
            paths = paths_all
        ser = pd.DataFrame(
            {
                "period": idx,
                "observed": yv[:end],
                "counterfactual": np.r_[fitted_pre, paths.mean(axis=1)],
                "counterfactual_lo": np.r_[np.full(start, np.nan), np.quantile(paths, a, axis=1)],
                "counterfactual_hi": np.r_[np.full(start, np.nan), np.quantile(paths, 1 - a, axis=1)],
                "point_effect": np.r_[np.full(start, np.nan), point.mean(axis=1)],
                "point_effect_lo": np.r_[np.full(start, np.nan), np.quantile(point, a, axis=1)],
                "point_effect_hi": np.r_[np.full(start, np.nan), np.quantile(point, 1 - a, axis=1)],
                "cumulative_effect": np.r_[np.full(start, np.nan), _nanmean(cum)],
                "cumulative_effect_lo": np.r_[np.full(start, np.nan), _nanq(cum, a)],
                "cumulative_effect_hi": np.r_[np.full(start, np.nan), _nanq(cum, 1 - a)],
                "post": np.arange(end) >= start,
                "evaluated": np.arange(end) >= eval_start,
            }
        )
        out.tables["series"] = ser
        out.tables["summary"] = _causalimpact_summary(obs, paths[skip:], self.level)
        resid = (yt[:start] - np.asarray(res.fittedvalues))[max(self.season, 1):]
        out.diagnostics.update(
            {
                "pre_periods": start,
                "post_periods": h,
                "skipped_periods": skip,
                "log": self.log,
                "log_shift": shift,
                "loglik": float(res.llf),
                "aic": float(res.aic),
                "pre_rmse": float(np.sqrt(np.mean(resid**2))) if len(resid) else np.nan,
                "params": dict(zip(res.model.param_names, map(float, res.params), strict=False)),
            }
        )
        return out


def _nanmean(x: np.ndarray) -> np.ndarray:
    out = np.full(x.shape[0], np.nan)
    ok = ~np.isnan(x[:, 0])
    out[ok] = x[ok].mean(axis=1)
    return out


def _nanq(x: np.ndarray, q: float) -> np.ndarray:
    out = np.full(x.shape[0], np.nan)
    ok = ~np.isnan(x[:, 0])
    if ok.any():
        out[ok] = np.quantile(x[ok], q, axis=1)
    return out


def _causalimpact_summary(obs: np.ndarray, paths: np.ndarray, level: float) -> pd.DataFrame:
    """CausalImpact's summary table: rows Average and Cumulative."""
    a = (1 - level) / 2
    h = len(obs)
    rows = {}
    for name, div in (("average", h), ("cumulative", 1)):
        pred = paths.sum(axis=0) / div
        actual = obs.sum() / div
        eff = actual - pred
        rel = eff / pred
        rows[name] = {
            "actual": actual,
            "prediction": pred.mean(),
            "prediction_sd": pred.std(ddof=1),
            "prediction_lo": np.quantile(pred, a),
            "prediction_hi": np.quantile(pred, 1 - a),
            "abs_effect": actual - pred.mean(),
            "abs_effect_sd": eff.std(ddof=1),
            "abs_effect_lo": np.quantile(eff, a),
            "abs_effect_hi": np.quantile(eff, 1 - a),
            "rel_effect": actual / pred.mean() - 1,
            "rel_effect_sd": rel.std(ddof=1),
            "rel_effect_lo": np.quantile(rel, a),
            "rel_effect_hi": np.quantile(rel, 1 - a),
        }
    return pd.DataFrame(rows).T


@dataclass
class StructuralIntervention(_UCSpec):
    """Full-sample structural model with a level-shift intervention regressor.

    Parameters are those of :class:`StructuralCounterfactual` (without the
    simulation). The intervention regressor is 1 from ``start`` to ``end``
    and 0 before (periods after ``end`` are dropped).
    """

    log: bool = True
    level: float = 0.95

    def fit(  # type: ignore[override]
        self,
        y: np.ndarray | pd.Series,
        start: int,
        exog: np.ndarray | None = None,
        index: pd.Index | None = None,
        end: int | None = None,
    ) -> EffectResult:
        """Fit the full-sample model; return the level shift as a relative effect.

        Returns
        -------
        EffectResult
            ``method='structural_full'``; ``coef``/``se``: the smoothed
            intervention coefficient (log scale when ``log``, else counts) and
            its standard error; estimate = ``exp(coef) - 1`` on logs, else
            ``coef`` divided by the mean counterfactual level of the post period.
        """
        yv = np.asarray(y, dtype=float)
        end = len(yv) if end is None else end
        yv = yv[:end]
        n = end
        if start < 2 * max(self.season, 1) and self.seasonal != "none":
            return EffectResult.failed(
                "structural_full", f"pre-period of {start} periods is shorter than two seasons"
            )
        shift = _log_shift(yv) if self.log else 0.0
        yt = np.log(yv + shift) if self.log else yv
        step = (np.arange(n) >= start).astype(float)[:, None]
        X = step if exog is None else np.column_stack([np.asarray(exog, dtype=float).reshape(len(exog), -1)[:end], step])
        res = _UCSpec.fit(self, yt, X)
        i = res.model.k_states - 1  # the step regressor is the last state
        coef = float(res.smoothed_state[i, -1])
        se = float(np.sqrt(res.smoothed_state_cov[i, i, -1]))
        z = stats.norm.ppf(0.5 + self.level / 2)
        p = float(2 * stats.norm.sf(abs(coef / se))) if se > 0 else np.nan
        level_part = yt - np.asarray(res.smoothed_state[i, -1]) * step[:, 0]
        if self.log:
            est, lo, hi = np.expm1(coef), np.expm1(coef - z * se), np.expm1(coef + z * se)
            scale = "log rate ratio (level shift)"
            cf = np.exp(level_part) - shift
        else:
            base = float(np.mean(level_part[start:]))
            est, lo, hi = coef / base, (coef - z * se) / base, (coef + z * se) / base
            scale = "counts per period (level shift)"
            cf = level_part
        out = EffectResult(
            method="structural_full", estimate=float(est), lo=float(lo), hi=float(hi), level=self.level,
            coef=coef, se=se, p_value=p, scale=scale,
        )
        idx = index[:end] if index is not None else pd.RangeIndex(n)
        out.tables["series"] = pd.DataFrame(
            {"period": idx, "observed": yv, "counterfactual": cf, "post": step[:, 0] > 0}
        )
        out.diagnostics.update({"log": self.log, "loglik": float(res.llf), "aic": float(res.aic)})
        return out
