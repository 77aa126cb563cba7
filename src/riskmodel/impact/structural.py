"""Structural time series counterfactuals (statsmodels ``UnobservedComponents``).

Two designs, both with regressors (e.g. untreated areas' series) held in the
state vector (``mle_regression=False``) and exact diffuse initialisation:

* :class:`StructuralCounterfactual` (CausalImpact's design, Brodersen et al.
  2015): fit on the pre-period only, forecast the post period as the
  counterfactual, and report the pointwise, cumulative and relative effects.
  The forecast distribution is simulated: each path starts from a draw of the
  state at the end of the pre-period (its filtered distribution, so level and
  regression-coefficient uncertainty are included) and adds state and
  observation noise. The variance parameters are integrated over, as
  CausalImpact does by MCMC, here by sampling-importance-resampling
  (:func:`variance_posterior`): their posterior under a flat prior on the
  standard deviations, proposed from a Student t around the ML estimate with
  the inverse Hessian of the log-likelihood in statsmodels' unconstrained
  (standard-deviation) coordinates, weighted by the exact likelihood. This
  matters most when the ML estimate of a variance is 0 (a level that never
  moves), where plugging it in gave intervals that covered the true effect in
  66-81% of the calibration benchmark's cities (benchmarks/impact/results.md).
  ``param_draws=0`` plugs in the ML estimates instead. The summary follows
  CausalImpact's ``summary()``: average and cumulative actual, prediction (sd)
  and interval, absolute effect, relative effect (interval from the simulated
  paths), and the tail-area probability.
* :class:`StructuralIntervention`: one model on the whole sample with an
  intervention (level-shift) regressor; its smoothed state gives the
  coefficient and standard error (on counts or on log counts).

On the log scale (``log=True``, the default for counts) the counterfactual is
back-transformed path by path, so the relative effect is the ratio of summed
counts, not of logs.

The model (:func:`structural_model`, :func:`fit_structural`) follows STAMP /
SsfPack (Harvey 1989; Durbin & Koopman 2012): a local level unless a slope
is asked for (``trend='trend'`` or ``'smooth'``); Harvey's trigonometric
seasonal, whose full form (``harmonics=None``) has ``s - 1`` states with a
single state at frequency pi and one common disturbance variance; regression
and intervention coefficients as time-invariant states with exact diffuse
initial conditions, so the Kalman filter and smoother estimate them (their
value and root mean square error are the smoothed state and its variance at
the end of the sample), never maximum-likelihood parameters; the variances
are maximum-likelihood estimates under the diffuse likelihood. It runs on
statsmodels' state-space filter and smoother (an ``MLEModel`` subclass:
statsmodels' ``UnobservedComponents`` carries an extra, never-observed state
at frequency pi, see :func:`_model_class`). Checked against Durbin &
Koopman's published fits (the Nile's local level; the UK drivers' basic
structural model with the seat belt law and the petrol price) and the closed
form of the Nile's 1899 level shift: benchmarks/impact/nile_results.md.
The full-sample :class:`StructuralIntervention` defaults to STAMP's full,
stochastic trigonometric seasonal; the counterfactual keeps its fixed
two-harmonic seasonal (``harmonics=2``), which its calibration was run with.
"""

from __future__ import annotations

import functools
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from riskmodel.impact.results import EffectResult

TRENDS = {"level": "local level", "trend": "local linear trend", "smooth": "smooth trend"}
SEASONALS = ("trig", "dummy", "none")


def _log_shift(y: np.ndarray) -> float:
    """The constant added before taking logs: 0 when all counts are positive, else 0.5 (NaN: missing)."""
    return 0.0 if np.all(y[~np.isnan(y)] > 0) else 0.5


def _components(
    trend: str, seasonal: str, season: int, harmonics: int | None, stochastic_seasonal: bool
) -> tuple[list[np.ndarray], list[float], list[tuple[int, str]], int]:
    """System blocks of the trend and seasonal of a structural model (Harvey 1989, ch. 2).

    Returns the transition blocks (in state order), the design entries, the
    disturbances as ``(state index, variance name)`` and the number of
    harmonics used. The trigonometric seasonal of period ``s`` with ``h``
    harmonics (``None``: all ``floor(s / 2)``) has a pair of states per
    frequency ``2 pi j / s`` rotating by that angle, except at ``j = s / 2``
    (even ``s``) where the single state alternates in sign: ``s - 1`` states
    in all for the full set, as in Harvey (1989, ch. 2) and Durbin & Koopman
    (2012, ch. 3). Every seasonal state has a disturbance of the one common
    variance ``sigma2.seasonal``. The dummy seasonal has ``s - 1`` states and
    one disturbance.
    """
    if trend not in TRENDS:
        raise ValueError(f"trend must be one of {list(TRENDS)}")
    if seasonal not in SEASONALS:
        raise ValueError(f"seasonal must be one of {SEASONALS}")
    blocks: list[np.ndarray] = []
    z: list[float] = []
    dist: list[tuple[int, str]] = []
    if trend == "level":
        blocks.append(np.ones((1, 1)))
        z.append(1.0)
        dist.append((0, "sigma2.level"))
    else:
        blocks.append(np.array([[1.0, 1.0], [0.0, 1.0]]))
        z += [1.0, 0.0]
        if trend == "trend":
            dist.append((0, "sigma2.level"))
        dist.append((1, "sigma2.trend"))
    season = int(season)
    h_used = 0
    if seasonal == "trig" and season > 1:
        h_used = season // 2 if harmonics is None else max(1, min(int(harmonics), season // 2))
        for j in range(1, h_used + 1):
            first = len(z)
            if 2 * j == season:
                blocks.append(-np.ones((1, 1)))
                z.append(1.0)
            else:
                lam = 2 * np.pi * j / season
                c, s = np.cos(lam), np.sin(lam)
                blocks.append(np.array([[c, s], [-s, c]]))
                z += [1.0, 0.0]
            if stochastic_seasonal:
                dist += [(i, "sigma2.seasonal") for i in range(first, len(z))]
    elif seasonal == "dummy" and season > 1:
        k = season - 1
        t = np.zeros((k, k))
        t[0, :] = -1.0
        t[1:, :-1] += np.eye(k - 1)
        first = len(z)
        blocks.append(t)
        z += [1.0] + [0.0] * (k - 1)
        if stochastic_seasonal:
            dist.append((first, "sigma2.seasonal"))
    return blocks, z, dist, h_used


@functools.lru_cache(maxsize=1)
def _model_class() -> type:
    """The structural model class, defined on first use (statsmodels is slow to import)."""
    from scipy.linalg import block_diag
    from statsmodels.tsa.statespace.mlemodel import MLEModel

    class HarveyStructural(MLEModel):
        """A univariate structural time series model in STAMP's form, on statsmodels' state space.

        Level (and slope), a trigonometric or dummy seasonal, and regression
        coefficients as time-invariant states, all with exact diffuse initial
        conditions (Durbin & Koopman 2012, chs 5-6): the Kalman filter
        and smoother estimate the coefficients, and the likelihood maximised
        over the variances is the diffuse likelihood (ch. 7). The parameters are
        the variances only, in the order ``sigma2.irregular``, ``sigma2.level``,
        ``sigma2.trend``, ``sigma2.seasonal`` (those present); the optimiser
        works on their square roots (statsmodels' convention for
        ``UnobservedComponents``). A class of its own rather than
        ``UnobservedComponents(freq_seasonal=...)`` because that one gives
        every harmonic two states, the one at frequency pi included, whose
        second state is never observed: the likelihood and the other states
        are the same, but that state stays diffuse to the end, so its results
        put every period in the diffuse start (``nobs_diffuse == nobs``),
        which riskmodel uses to blank the diffuse-start predictions and
        statsmodels to leave periods out of its residual diagnostics. Here the
        full seasonal has Harvey's ``s - 1`` states.
        """

        def __init__(self, endog, *, trend="level", seasonal="none", season=1, harmonics=None,
                     stochastic_seasonal=True, exog=None):
            y = np.asarray(endog, dtype=float).reshape(-1)
            n = len(y)
            x = None if exog is None else np.asarray(exog, dtype=float).reshape(n, -1)
            blocks, z, dist, h_used = _components(trend, seasonal, season, harmonics, stochastic_seasonal)
            k_x = 0 if x is None else x.shape[1]
            k_states = len(z) + k_x
            super().__init__(y, k_states=k_states, k_posdef=max(len(dist), 1), exog=x)
            self.spec = {"trend": trend, "seasonal": seasonal, "season": season, "harmonics": harmonics,
                         "stochastic_seasonal": stochastic_seasonal}
            self.harmonics_used = h_used
            self.k_components = len(z)
            self.k_regression = k_x
            self.ssm["transition"] = block_diag(*blocks, np.eye(k_x)) if k_x else block_diag(*blocks)
            if k_x:
                design = np.zeros((1, k_states, n))
                design[0, : len(z), :] = np.asarray(z)[:, None]
                design[0, len(z):, :] = x.T
            else:
                design = np.asarray(z)[None, :]
            self.ssm["design"] = design
            sel = np.zeros((k_states, max(len(dist), 1)))
            for col, (i, _) in enumerate(dist):
                sel[i, col] = 1.0
            self.ssm["selection"] = sel
            names = ["sigma2.irregular"] + list(dict.fromkeys(name for _, name in dist))
            self._names = names
            self._dist_param = np.array([names.index(name) for _, name in dist], dtype=int)
            self.k_obs_cov, self.k_state_cov = 1, len(names) - 1
            self.ssm.initialize_diffuse()

        @property
        def param_names(self):
            return list(self._names)

        @property
        def start_params(self):
            y = self.endog[:, 0]
            y = y[~np.isnan(y)]
            v = float(np.var(np.diff(y))) if len(y) > 2 else 1.0
            v = v if np.isfinite(v) and v > 0 else 1.0
            return np.r_[v / 2, np.full(len(self._names) - 1, v / 10)]

        def transform_params(self, unconstrained):
            return np.asarray(unconstrained, dtype=float) ** 2

        def untransform_params(self, constrained):
            return np.asarray(constrained, dtype=float) ** 0.5

        def update(self, params, **kwargs):
            params = super().update(params, **kwargs)
            self.ssm["obs_cov", 0, 0] = params[0]
            if self._dist_param.size:
                self.ssm["state_cov"] = np.diag(params[self._dist_param])
            else:
                self.ssm["state_cov"] = np.zeros((1, 1))
            return params

        def rescaled(self, factor: float):
            """The same model for ``factor * y`` (same regressors)."""
            return type(self)(self.endog[:, 0] * factor, exog=self.exog, **self.spec)

    return HarveyStructural


def structural_model(
    y: np.ndarray,
    *,
    trend: str = "level",
    seasonal: str = "none",
    season: int = 1,
    harmonics: int | None = None,
    stochastic_seasonal: bool = True,
    exog: np.ndarray | None = None,
):  # noqa: ANN201 - a statsmodels MLEModel
    """A structural time series model (STAMP's conventions) as a statsmodels ``MLEModel``.

    Parameters
    ----------
    y : array, shape (n,)
        The series (NaN: missing).
    trend : {'level', 'trend', 'smooth'}
        Local level (no slope), local linear trend, or smooth trend (fixed
        level equation, stochastic slope).
    seasonal : {'trig', 'dummy', 'none'}
        Harvey's trigonometric seasonal (:func:`_components`), a dummy seasonal
        or none.
    season : int
        Season length in periods.
    harmonics : int, optional
        Harmonics of the trigonometric seasonal (``None``: all ``season // 2``).
    stochastic_seasonal : bool
        Estimate a seasonal variance (else the seasonal is fixed).
    exog : array, shape (n, k), optional
        Regressors; their coefficients are the last ``k`` states (diffuse).
    """
    return _model_class()(y, trend=trend, seasonal=seasonal, season=season, harmonics=harmonics,
                          stochastic_seasonal=stochastic_seasonal, exog=exog)


def fit_ml(mod: object) -> object:
    """Maximum likelihood variances of a :func:`structural_model`; returns the smoothed results.

    The optimiser runs on the series divided by the standard deviation of its
    changes (the variances are then of order 1, where L-BFGS's default
    tolerances are meaningful; on log counts the variances are ~1e-3 and
    below, and it stopped early), then BFGS polishes from that point; the
    variances are scaled back and the model is smoothed at them. On the
    Nile's local level this gives Durbin & Koopman's 15099 and 1469.1; on the
    UK drivers' basic structural model their variances to four figures
    (benchmarks/impact/nile_results.md).
    """
    y = mod.endog[:, 0]  # type: ignore[attr-defined]
    ok = y[~np.isnan(y)]
    c = float(np.std(np.diff(ok))) if ok.size > 2 else 0.0
    if not np.isfinite(c) or c <= 0:
        c = float(np.std(ok)) if ok.size > 1 else 1.0
        c = c if np.isfinite(c) and c > 0 else 1.0
    scaled = mod.rescaled(1.0 / c)  # type: ignore[attr-defined]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        best = scaled.fit(disp=False, maxiter=500)
        polish = scaled.fit(start_params=best.params, method="bfgs", gtol=1e-6, maxiter=100, disp=False)
        if np.all(np.isfinite(polish.params)) and polish.llf > best.llf:
            best = polish
        return mod.smooth(np.asarray(best.params, dtype=float) * c**2, cov_type="none")  # type: ignore[attr-defined]


@dataclass
class StructuralFit:
    """A structural model fitted by maximum likelihood, as STAMP reports it.

    Attributes
    ----------
    params : dict
        ML variances (``sigma2.irregular``, ``sigma2.level``, ...), in the
        series' units squared.
    coefficients : DataFrame
        One row per regressor (index: names): ``coef`` (the smoothed state at
        the end, which for a fixed coefficient is its GLS estimate given the
        variances), ``rmse`` (its root mean square error) and ``t`` (their ratio).
    loglik : float
        The diffuse log-likelihood (Durbin & Koopman 2012, ch. 7).
    nobs_diffuse : int
        Periods of the diffuse start.
    result : statsmodels MLEResults
        The smoothed results (states, fitted values, ...).
    """

    params: dict
    coefficients: pd.DataFrame
    loglik: float
    nobs_diffuse: int
    result: object


def fit_structural(
    y: np.ndarray | pd.Series,
    *,
    exog: np.ndarray | pd.DataFrame | None = None,
    trend: str = "level",
    seasonal: str = "none",
    season: int = 1,
    harmonics: int | None = None,
    stochastic_seasonal: bool = True,
) -> StructuralFit:
    """Fit a structural model with regression and intervention effects as STAMP does.

    Parameters are those of :func:`structural_model`; ``exog`` columns are
    named by a DataFrame's columns (else ``x0``, ``x1``, ...). An intervention
    is a column of ``exog`` (a step: 0 before, 1 from the change on).

    Returns
    -------
    StructuralFit
    """
    yv = np.asarray(y, dtype=float).reshape(-1)
    names = None
    x = None
    if exog is not None:
        names = [str(c) for c in exog.columns] if isinstance(exog, pd.DataFrame) else None
        x = np.asarray(exog, dtype=float).reshape(len(yv), -1)
        names = names or [f"x{i}" for i in range(x.shape[1])]
    mod = structural_model(yv, trend=trend, seasonal=seasonal, season=season, harmonics=harmonics,
                           stochastic_seasonal=stochastic_seasonal, exog=x)
    res = fit_ml(mod)
    return StructuralFit(
        params=dict(zip(mod.param_names, map(float, res.params), strict=True)),
        coefficients=_coefficients(res, names or []), loglik=float(res.llf),
        nobs_diffuse=int(res.nobs_diffuse), result=res,
    )


def _coefficients(res: object, names: list[str]) -> pd.DataFrame:
    """The regression states (the last ``len(names)``) at the end of the sample: coef, rmse, t."""
    k_states = res.model.k_states  # type: ignore[attr-defined]
    idx = np.arange(k_states - len(names), k_states)
    coef = np.asarray(res.smoothed_state)[idx, -1]  # type: ignore[attr-defined]
    rmse = np.sqrt(np.maximum(np.asarray(res.smoothed_state_cov)[idx, idx, -1], 0.0))  # type: ignore[attr-defined]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(rmse > 0, coef / np.where(rmse > 0, rmse, 1.0), np.nan)
    return pd.DataFrame({"coef": coef, "rmse": rmse, "t": t}, index=pd.Index(names, name="regressor"))


def _describe(mod: object) -> str:
    """A one-line description of a :func:`structural_model` (trend, seasonal, regressors)."""
    spec = mod.spec  # type: ignore[attr-defined]
    parts = [TRENDS[spec["trend"]]]
    if spec["seasonal"] == "trig" and mod.harmonics_used:  # type: ignore[attr-defined]
        parts.append(f"{'stochastic' if spec['stochastic_seasonal'] else 'fixed'} trigonometric seasonal "
                     f"(period {spec['season']}, {mod.harmonics_used} harmonics)")  # type: ignore[attr-defined]
    elif spec["seasonal"] == "dummy" and int(spec["season"]) > 1:
        parts.append(f"{'stochastic' if spec['stochastic_seasonal'] else 'fixed'} dummy seasonal "
                     f"(period {spec['season']})")
    k = mod.k_regression  # type: ignore[attr-defined]
    if k:
        parts.append(f"{k} regression coefficient{'s' if k > 1 else ''} as diffuse states")
    return ", ".join(parts)


@dataclass
class _UCSpec:
    trend: str = "level"
    seasonal: str = "trig"
    season: int = 12
    harmonics: int | None = 2
    stochastic_seasonal: bool = False

    def model(self, y: np.ndarray, exog: np.ndarray | None):  # noqa: ANN201 - statsmodels model
        return structural_model(y, trend=self.trend, seasonal=self.seasonal, season=self.season,
                                harmonics=self.harmonics, stochastic_seasonal=self.stochastic_seasonal,
                                exog=exog)

    def fit(self, y: np.ndarray, exog: np.ndarray | None):  # noqa: ANN201
        return fit_ml(self.model(y, exog))


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
        Seed of the simulation (proposals, resampling and paths).
    param_draws : int
        Proposals of the variance parameters for their importance-sampled
        posterior (:func:`variance_posterior`); the paths are spread over
        ``min(n_sims, param_draws // 4)`` parameter sets resampled from them.
        0 plugs in the ML estimates (state uncertainty only).
    """

    log: bool = True
    n_sims: int = 1000
    level: float = 0.95
    seed: int = 0
    param_draws: int = 400

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
        rng = np.random.default_rng(self.seed)
        post = variance_posterior(res, self.param_draws, rng)
        n_sets = max(1, min(self.n_sims, self.param_draws // 4)) if post.weights.size > 1 else 1
        chosen = _systematic_resample(post.weights, n_sets, rng)
        per_set = np.full(n_sets, self.n_sims // n_sets)
        per_set[: self.n_sims % n_sets] += 1
        # the same model over [0, end) with the post period missing: its filter gives the state
        # at ``start`` from the pre-period alone, and its system matrices cover the post period
        y_ext = yt[:end].copy()
        y_ext[start:] = np.nan
        ext = self.model(y_ext, None if ex is None else ex[:end])
        paths = _forecast_paths(ext, start, h, post.params[chosen], per_set, rng)  # (h, n_sims)
        if self.log:
            # an expected count is not negative (with the 0.5 shift of rare counts it could be)
            paths = np.maximum(np.exp(np.clip(paths, -50, 50)) - shift, 0.0)
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
                "param_draws": int(post.weights.size) if self.param_draws > 0 else 0,
                "param_sets": int(len(np.unique(chosen))),
                "param_ess": float(post.ess),
                "params_posterior_mean": dict(
                    zip(res.model.param_names, map(float, post.weights @ post.params), strict=False)
                ),
            }
        )
        if post.note:
            out.note = post.note
        return out


@dataclass
class VarianceDraws:
    """Weighted draws of a structural model's variance parameters.

    Attributes
    ----------
    params : array, shape (n, k)
        Variances (statsmodels' constrained parameters, in ``param_names`` order).
    weights : array, shape (n,)
        Normalised importance weights (sum 1).
    ess : float
        Effective sample size ``1 / sum(weights**2)``.
    note : str
        Why the ML estimates were plugged in instead, if they were.
    """

    params: np.ndarray
    weights: np.ndarray
    ess: float
    note: str = ""


def variance_posterior(
    res: object, n_draws: int, rng: np.random.Generator, *, df: float = 4.0, inflate: float = 2.0
) -> VarianceDraws:
    """Posterior draws of the variance parameters by sampling-importance-resampling.

    The target is the posterior of the standard deviations ``u`` (statsmodels'
    unconstrained parameters of an ``UnobservedComponents`` model: the
    variances are ``u**2``) under a flat prior on ``u >= 0``, i.e. the
    likelihood of the pre-period. The proposal is a multivariate Student t
    (``df`` degrees of freedom) centred at the ML estimate with scale
    ``inflate**2`` times the inverse of minus the numerical Hessian of the
    log-likelihood in ``u`` (the asymptotic distribution of the MLE, Hamilton
    1986, widened so that its tails cover the likelihood's), folded onto
    ``u >= 0``; each draw is weighted by likelihood / proposal density. A
    variance whose ML estimate is 0 gets a half-t proposal and draws that
    move the level, which the plug-in forecast never does. When the weights
    are uneven (effective sample size below 30% of the draws) the proposal is
    adapted once to the weighted draws' mean and covariance and drawn again.

    Hand-written rather than MCMC (CausalImpact uses a Gibbs sampler with
    inverse-gamma priors; statsmodels has no sampler for these models): with
    two to four variance parameters one likelihood evaluation per draw
    (about 0.3 ms for 70 months) is cheap, and the draws are independent.

    Parameters
    ----------
    res : statsmodels MLEResults
        The ML fit of an ``UnobservedComponents`` model whose parameters are
        all variances.
    n_draws : int
        Number of proposals (0: return the ML estimate with weight 1).
    rng : numpy Generator
        Source of the proposals.
    df, inflate : float
        Proposal degrees of freedom and scale factor.

    Returns
    -------
    VarianceDraws
        ``n_draws`` weighted draws (one unweighted draw, the ML estimate, when
        ``n_draws`` is 0 or the Hessian cannot be used).
    """
    from statsmodels.tools.numdiff import approx_hess3

    mod = res.model  # type: ignore[attr-defined]
    mle = np.asarray(res.params, dtype=float)  # type: ignore[attr-defined]
    plug = VarianceDraws(mle[None, :], np.ones(1), 1.0)
    if n_draws <= 0:
        return plug
    k = len(mle)
    if int(getattr(mod, "k_obs_cov", 0)) + int(getattr(mod, "k_state_cov", 0)) != k:
        plug.note = "variance parameters at their ML estimates (the model has other parameters)"
        return plug

    def loglike(u: np.ndarray) -> float:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return float(mod.loglike(u, transformed=False))

    u_hat = np.abs(np.asarray(mod.untransform_params(mle), dtype=float))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        hess = approx_hess3(u_hat, loglike)
    if not np.all(np.isfinite(hess)):
        plug.note = "variance parameters at their ML estimates (the likelihood's Hessian is not finite)"
        return plug
    eig, vec = np.linalg.eigh(-(hess + hess.T) / 2)
    if eig.max() <= 0:
        plug.note = "variance parameters at their ML estimates (the likelihood is flat at the estimate)"
        return plug
    # directions the likelihood does not curve in get a wide (not infinite) proposal
    eig = np.maximum(eig, 1e-4 * eig.max())
    centre, shape = u_hat, (vec / eig) @ vec.T * inflate**2
    signs = np.array(np.meshgrid(*[[1.0, -1.0]] * k, indexing="ij")).reshape(k, -1).T  # (2**k, k)
    for stage in range(2):
        z = rng.standard_normal((n_draws, k)) @ np.linalg.cholesky(shape).T
        z /= np.sqrt(rng.chisquare(df, n_draws) / df)[:, None]
        u = np.abs(centre + z)
        proposal = stats.multivariate_t(loc=centre, shape=shape, df=df)
        log_q = np.logaddexp.reduce([proposal.logpdf(u * sg) for sg in signs], axis=0)
        log_w = np.array([loglike(ui) for ui in u]) - log_q
        log_w[~np.isfinite(log_w)] = -np.inf
        if not np.isfinite(log_w).any():
            plug.note = "variance parameters at their ML estimates (no proposal had a finite likelihood)"
            return plug
        w = np.exp(log_w - log_w.max())
        w /= w.sum()
        ess = float(1.0 / np.sum(w**2))
        if ess >= 0.3 * n_draws or stage == 1:
            break
        # a poor match (the likelihood is far from normal in u): one adaptive step, a new proposal
        # with the first draws' weighted mean and covariance (Cappe et al. 2004)
        centre = w @ u
        cov = (u - centre).T @ ((u - centre) * w[:, None]) / max(1.0 - np.sum(w**2), 1e-12)
        ev, evec = np.linalg.eigh((cov + cov.T) / 2)
        ev = np.maximum(ev, 1e-4 * max(ev.max(), 1e-300))
        shape = (evec * ev) @ evec.T * inflate**2
    params = np.array([mod.transform_params(ui) for ui in u])
    return VarianceDraws(params, w, ess)


def _systematic_resample(weights: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """Indices of ``n`` draws by systematic resampling (Kitagawa 1996)."""
    pos = (rng.random() + np.arange(n)) / n
    return np.minimum(np.searchsorted(np.cumsum(weights), pos), len(weights) - 1)


def _sqrt_psd(a: np.ndarray) -> np.ndarray:
    """A square root ``L`` with ``L @ L.T == a`` of a positive semi-definite matrix."""
    w, v = np.linalg.eigh((a + a.T) / 2)
    return v * np.sqrt(np.maximum(w, 0.0))


#: statsmodels state-space arrays and their number of axes when time-invariant
_SYSTEM = {"design": 2, "obs_intercept": 1, "obs_cov": 2, "transition": 2, "state_intercept": 1,
           "selection": 2, "state_cov": 2}


def _forecast_paths(
    ext: object, start: int, h: int, params: np.ndarray, n_paths: np.ndarray, rng: np.random.Generator
) -> np.ndarray:
    """Simulated observations of periods ``start .. start + h - 1``, shape (h, n_paths.sum()).

    ``ext`` is the model over the whole window with the post period missing.
    For each parameter set the Kalman filter gives the state's distribution at
    ``start`` from the pre-period; ``n_paths`` paths start from draws of it and
    run forward through the state equation, vectorised over the paths
    (statsmodels' ``simulate`` loops over repetitions in Python, and would
    need a results object per parameter set).
    """
    ssm = ext.ssm  # type: ignore[attr-defined]
    out = np.empty((h, int(n_paths.sum())))
    col = 0
    for p, k in zip(params, n_paths, strict=True):
        if k == 0:
            continue
        ext.update(p)  # type: ignore[attr-defined]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            fr = ssm.filter()
        mats = {name: np.asarray(ssm[name]) for name in _SYSTEM}

        def at(name: str, t: int, mats: dict = mats) -> np.ndarray:
            # time-varying system arrays carry a trailing period axis
            a = mats[name]
            return a[..., t] if a.ndim == _SYSTEM[name] + 1 else a

        a = np.asarray(fr.predicted_state[:, start])
        alpha = a[:, None] + _sqrt_psd(np.asarray(fr.predicted_state_cov[:, :, start])) @ rng.standard_normal((len(a), k))
        for t in range(start, start + h):
            d = np.ravel(at("obs_intercept", t))[0]
            z = np.ravel(at("design", t))
            obs_sd = np.sqrt(max(float(np.ravel(at("obs_cov", t))[0]), 0.0))
            out[t - start, col:col + k] = z @ alpha + d + obs_sd * rng.standard_normal(k)
            c = np.ravel(at("state_intercept", t))
            sel, q = np.atleast_2d(at("selection", t)), np.atleast_2d(at("state_cov", t))
            alpha = at("transition", t) @ alpha + c[:, None] + sel @ (_sqrt_psd(q) @ rng.standard_normal((q.shape[0], k)))
        col += k
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
    """Full-sample structural model with a level-shift intervention regressor, as STAMP fits it.

    The model is STAMP's / SsfPack's (Koopman, Harvey, Doornik & Shephard;
    Durbin & Koopman 2012): a local level unless a slope is asked for
    (``trend``), Harvey's trigonometric seasonal with all ``season // 2``
    harmonics and one stochastic seasonal variance (``harmonics=None``,
    ``stochastic_seasonal=True``; :func:`_components`), and the regression
    and intervention coefficients as states with exact diffuse initial
    conditions, estimated by the Kalman filter and smoother (not ML
    parameters); the variances are the ML estimates under the diffuse
    likelihood (:func:`fit_ml`). The intervention regressor is 1 from
    ``start`` to ``end`` and 0 before (periods after ``end`` are dropped).

    Given the variances, the smoothed coefficient is normal with mean and
    root mean square error as STAMP prints them: those, and the t-value, are
    ``diagnostics['coef_ml']``, ``['se_ml']``, ``['t_ml']`` and the
    ``coefficients`` table (every regressor). The reported ``coef``/``se``
    and interval go one step further than STAMP: over the variances'
    importance-sampled posterior (:func:`variance_posterior`, ``param_draws``
    proposals resampled to ``param_draws // 4`` sets, seeded by ``seed``) the
    coefficient is a mixture of normals, whose mean, standard deviation and
    quantiles are reported, so that a level variance estimated at 0 does not
    make the interval too narrow (``param_draws=0``: STAMP's plug-in figures).

    Parameters are those of :class:`StructuralCounterfactual` (without the
    path simulation), with STAMP's defaults for the seasonal.
    """

    harmonics: int | None = None
    stochastic_seasonal: bool = True
    log: bool = True
    level: float = 0.95
    param_draws: int = 400
    seed: int = 0

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
        rng = np.random.default_rng(self.seed)
        post = variance_posterior(res, self.param_draws, rng)
        if post.weights.size > 1:
            chosen = _systematic_resample(post.weights, max(1, self.param_draws // 4), rng)
            sets, times = np.unique(chosen, return_counts=True)
            means, variances = np.empty(len(sets)), np.empty(len(sets))
            mod = self.model(yt, X)
            for j, q in enumerate(sets):
                mod.update(post.params[q])
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    sm = mod.ssm.smooth()
                means[j], variances[j] = sm.smoothed_state[i, -1], sm.smoothed_state_cov[i, i, -1]
            mix_w = times / times.sum()
        else:
            means = np.array([res.smoothed_state[i, -1]], dtype=float)
            variances = np.array([res.smoothed_state_cov[i, i, -1]], dtype=float)
            mix_w = np.ones(1)
        coef = float(mix_w @ means)
        se = float(np.sqrt(max(mix_w @ (variances + means**2) - coef**2, 0.0)))
        c_lo, c_hi = _mixture_quantiles(means, np.sqrt(variances), mix_w, (0.5 - self.level / 2, 0.5 + self.level / 2))
        below0 = float(mix_w @ stats.norm.cdf(-means / np.sqrt(np.maximum(variances, 1e-300))))
        p = float(min(1.0, 2 * min(below0, 1 - below0))) if se > 0 else np.nan
        level_part = yt - coef * step[:, 0]
        if self.log:
            est, lo, hi = np.expm1(coef), np.expm1(c_lo), np.expm1(c_hi)
            scale = "log rate ratio (level shift)"
            cf = np.exp(level_part) - shift
        else:
            base = float(np.mean(level_part[start:]))
            est, lo, hi = coef / base, c_lo / base, c_hi / base
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
        k_x = X.shape[1]
        names = [f"regressor_{j}" for j in range(k_x - 1)] + ["intervention"]
        table = _coefficients(res, names)
        out.tables["coefficients"] = table.reset_index()
        mod_ml = res.model
        out.diagnostics.update({
            "log": self.log, "loglik": float(res.llf), "aic": float(res.aic),
            "coef_ml": float(table["coef"].iloc[-1]), "se_ml": float(table["rmse"].iloc[-1]),
            "t_ml": float(table["t"].iloc[-1]),
            "params": dict(zip(mod_ml.param_names, map(float, res.params), strict=True)),
            "model": _describe(mod_ml), "nobs_diffuse": int(res.nobs_diffuse),
            "param_draws": int(post.weights.size) if self.param_draws > 0 else 0,
            "param_sets": len(means), "param_ess": float(post.ess),
        })
        if post.note:
            out.note = post.note
        return out


def _mixture_quantiles(
    means: np.ndarray, sds: np.ndarray, weights: np.ndarray, probs: tuple[float, ...]
) -> list[float]:
    """Quantiles of a mixture of normals (root of its CDF; exact, no sampling)."""
    from scipy.optimize import brentq

    sds = np.maximum(sds, 1e-12)
    lo_b, hi_b = float(np.min(means - 10 * sds)), float(np.max(means + 10 * sds))

    def cdf(x: float) -> float:
        return float(weights @ stats.norm.cdf((x - means) / sds))

    return [brentq(lambda x, q=q: cdf(x) - q, lo_b, hi_b, xtol=1e-10) for q in probs]
