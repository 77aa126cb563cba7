"""``auto``: choose and combine models per group of series by backtest score.

The rule (fixed before looking at any benchmark holdout):

1. Internal rolling-origin backtest on the training data only: ``windows``
   (2) cutoffs ``step`` (``max(1, h // 2)``) periods apart, the last one ``h``
   periods before the end of the training data; fewer windows when the data
   are short.
2. Each candidate (default: seasonal naive, historical mean, the NB GLM, the
   global GBM, the pooled top-down model and the Theta method) is scored per series by its
   *scaled pinball loss* (mean pinball loss over the quantiles 0.025, 0.1,
   0.5, 0.9, 0.975 divided by the in-sample seasonal-naive MAE: a
   probabilistic MASE), averaged over windows.
3. Scores are averaged within groups: the series of one category (all series
   together when a category has fewer than ``min_group`` series).
4. Per group, the ``max_models`` (3) best candidates are combined with the
   weights, on a grid of step ``weight_step`` (0.1) over the simplex, that
   minimise the group's scaled pinball loss of the *combined* forecast in the
   same internal windows (stacking; the grid contains each single model and
   near-equal weights, so the rule can only do better than "best model" or
   "equal weights" on the internal windows). Means and quantiles are
   combined with the same weights (quantile averaging, "Vincentization").
   Why not equal weights of the models within 10% of the best (the rule
   before): on Portland's districts it kept three models whose equal-weight
   average was worse, on the internal windows too, than the best of them.
5. Without any possible internal window (too short a history), the candidates
   are combined with equal weights.
6. What was chosen is kept (``selection_``: per group, each candidate's
   score, weight and the combination's score) and published as
   ``auto_selection.csv`` and in the summary (:mod:`riskmodel.forecast.selection`).
7. The combined forecast of each internal window is kept (``validation_``):
   :class:`~riskmodel.forecast.Forecaster` calibrates the final intervals on
   them, per area level and after reconciliation
   (:mod:`riskmodel.forecast.calibrate`).

``theta`` became a default candidate after it improved ``auto``'s backtest on
the sample city (monthly MASE 0.542 -> 0.532, weekly CRPS 9.58 -> 9.51) and on
Portland's districts (MASE 0.962 -> 0.960), for 0-10% more time
(benchmarks/forecast/auto_results.md). ETS and MSTL are not default candidates:
they are fitted series by series (ETS 0.05-0.2 s each, MSTL's STL 10-500 ms),
which would make ``auto`` far slower than the vectorised models on thousands of
series; pass ``candidates=(..., "ets")`` or ``"mstl"`` to include them.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskmodel.data.calendar_choice import DEFAULT_CALENDAR, check_calendar
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.forecast.backtest import cutoffs, run_windows, window_scores
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.calibrate import ValidationWindow
from riskmodel.forecast.metrics import PINBALL_PROBS, pinball, scales
from riskmodel.forecast.registry import MODELS, make_model
from riskmodel.forecast.result import combine


def simplex_grid(k: int, step: float) -> np.ndarray:
    """All weight vectors of ``k`` non-negative weights summing to 1 in steps of ``step``: (M, k).

    Ordered so that weight on the first models comes first (ties in a score
    then go to the better-ranked model).
    """
    K = max(1, int(round(1.0 / step)))
    rows = [v for v in itertools.product(range(K, -1, -1), repeat=k) if sum(v) == K]
    return np.array(rows, dtype=float) / K


def stacked_weights(qs: np.ndarray, y: list[np.ndarray], scale: list[np.ndarray], grid: np.ndarray) -> tuple[np.ndarray, float]:
    """Weights (from ``grid``) minimising the mean scaled pinball loss of the combined quantiles.

    Parameters
    ----------
    qs : ndarray (k, W, h, n, 5)
        Quantiles at :data:`~riskmodel.forecast.metrics.PINBALL_PROBS` of k
        models in W windows for n series.
    y : list of W arrays (h, n)
        Actual counts of each window.
    scale : list of W arrays (n,)
        Each series' in-sample seasonal-naive MAE before each window (NaN: unscaled, skipped).
    grid : ndarray (M, k)

    Returns
    -------
    (weights (k,), score): the score is the mean over series of the
    window-averaged scaled pinball loss (the score of step 2 in the module notes).
    """
    best, best_w = np.inf, grid[0]
    for w in grid:
        per = []
        for i in range(qs.shape[1]):
            q = np.tensordot(w, qs[:, i], axes=1)
            per.append(pinball(y[i], q, PINBALL_PROBS).mean(axis=(0, 2)) / scale[i])
        v = np.vstack(per)
        ok = np.isfinite(v)
        per_series = np.where(ok, v, 0.0).sum(0) / np.maximum(ok.sum(0), 1)
        has = ok.any(0)
        score = float(per_series[has].mean()) if has.any() else np.inf
        if score < best - 1e-12:
            best, best_w = score, w
    return best_w, best


class Auto(CountForecaster):
    """Backtest-scored selection and stacked combination of models per group (see module notes).

    Parameters
    ----------
    candidates : sequence of str
        Model names from :data:`riskmodel.forecast.registry.MODELS`.
    windows : int
        Internal backtest windows.
    h : int, optional
        Horizon of the internal backtest (default: the horizon asked of predict).
    max_models : int
        Combine at most this many models per group (the best by their own score).
    weight_step : float
        Step of the weight grid on the simplex (1 keeps the single best model).
    min_group : int
    random_state : int
    params : dict, optional
        Parameters of each candidate, by model name.
    calendar : str
        The holiday calendar of every candidate that has calendar regressors
        (``nbglm``, ``qpglm``, ``gbm``): ``"CN"`` (default), ``"none"`` or a
        country code of the ``holidays`` package; a candidate's own
        ``params[name]["calendar"]`` wins.
    """

    name = "auto"

    def __init__(
        self,
        candidates: Sequence[str] = ("snaive", "hmean", "nbglm", "gbm", "pooled", "theta"),
        windows: int = 2,
        h: int | None = None,
        max_models: int = 3,
        weight_step: float = 0.1,
        min_group: int = 5,
        random_state: int = 0,
        params: dict[str, dict] | None = None,
        calendar: str = DEFAULT_CALENDAR,
    ):
        self.candidates = candidates
        self.windows = windows
        self.h = h
        self.max_models = max_models
        self.weight_step = weight_step
        self.min_group = min_group
        self.random_state = random_state
        self.params = params
        self.calendar = calendar

    def _make(self, name: str) -> CountForecaster:
        own = dict((self.params or {}).get(name, {}))
        if MODELS.get(name).option("calendar") is not None:
            own.setdefault("calendar", self.calendar)
        return make_model(name, seed=self.random_state, **own)

    def _fit(self, wp: WidePanel) -> None:
        bad = [c for c in self.candidates if c not in MODELS or c == "auto"]
        if bad:
            raise InputError(Problem(f"unknown auto candidate(s) {bad}; valid: {', '.join(m for m in MODELS if m != 'auto')}"))
        check_calendar(self.calendar)  # a bad code is refused before any candidate is fitted
        self.fitted_models_: dict[str, CountForecaster] = {}

    def _select(self, h: int) -> None:
        wp = self.wide_
        n = len(wp.series)
        cands = list(self.candidates)
        T = wp.y.shape[0]
        cuts = None
        for k in range(self.windows, 0, -1):
            try:
                cuts = cutoffs(T, h, k, step=max(1, h // 2), min_train=max(8, min(T // 2, 24)))
                break
            except InputError:
                continue
        cats = np.array([s[1] for s in wp.series], dtype=object)
        groups = cats.copy()
        vc = pd.Series(cats).value_counts()
        small = vc.index[vc < self.min_group]
        groups[np.isin(cats, small)] = "ALL"
        rows = []
        W = np.zeros((len(cands), n))
        self.validation_: list[ValidationWindow] = []
        if cuts is None:
            W[:] = 1.0 / len(cands)
            rows = [{"group": "ALL", "n_series": n, "model": c, "score": np.nan, "weight": 1 / len(cands),
                     "combined_score": np.nan} for c in cands]
        else:
            wf = run_windows(wp, {c: (lambda c=c: self._make(c)) for c in cands}, h, cuts, grid=False)
            sc = window_scores(wp, wf)
            # quantiles at the pinball probabilities: (candidate, window, h, n, 5)
            qs = np.zeros((len(cands), len(cuts), h, n, len(PINBALL_PROBS)))
            ms = np.zeros((len(cands), len(cuts), h, n))
            for w in wf:
                idx = [int(np.flatnonzero(np.isclose(w.forecast.probs, p))[0]) for p in PINBALL_PROBS]
                qs[cands.index(w.model), cuts.index(w.cutoff)] = w.forecast.quantiles[:, :, idx]
                ms[cands.index(w.model), cuts.index(w.cutoff)] = w.forecast.mean
            ys = [wp.y[c : c + h] for c in cuts]
            sca = [scales(wp.y[:c], wp.season)[0] for c in cuts]
            for g in np.unique(groups):
                m = groups == g
                scores = np.array([np.nanmean(sc[c]["spinball"][m]) if np.isfinite(sc[c]["spinball"][m]).any() else np.inf for c in cands])
                order = np.argsort(scores, kind="stable")
                top = [int(i) for i in order[: self.max_models] if np.isfinite(scores[i])] or [int(order[0])]
                grid = simplex_grid(len(top), self.weight_step)
                wts, comb = stacked_weights(qs[top][:, :, :, m], [v[:, m] for v in ys], [v[m] for v in sca], grid)
                for i, c in enumerate(cands):
                    w = float(wts[top.index(i)]) if i in top else 0.0
                    W[i, m] = w
                    rows.append({"group": g, "n_series": int(m.sum()), "model": c, "score": float(scores[i]),
                                 "weight": w, "combined_score": comb})
            # the combined forecast of each internal window: what the intervals are calibrated on
            # (riskmodel.forecast.calibrate, after reconciliation, per area level)
            vm = np.einsum("kn,kwhn->whn", W, ms)
            vq = np.einsum("kn,kwhnq->whnq", W, qs)
            self.validation_ = [ValidationWindow(c, vm[i], vq[i]) for i, c in enumerate(cuts)]
        self.weights_ = W
        self.selection_ = pd.DataFrame(rows).assign(windows=0 if cuts is None else len(cuts), h=h)
        self.selected_h_ = h

    def _predict(self, h: int, probs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        wp = self.wide_
        hh = self.h or h
        if getattr(self, "selected_h_", None) != hh:
            self._select(hh)
        cands = list(self.candidates)
        used = [i for i in range(len(cands)) if self.weights_[i].any()]
        fcs = []
        for i in used:
            c = cands[i]
            if c not in self.fitted_models_:
                self.fitted_models_[c] = self._make(c).fit(wp)
            fcs.append(self.fitted_models_[c].predict(h, probs=probs))
        W = self.weights_[used]
        mean, q = combine(fcs, W)
        names = np.array(cands)[used]
        labels = []
        for j in range(W.shape[1]):
            lab = "auto(" + "+".join(f"{nm} {w:.2g}" if w < 1 else nm for nm, w in zip(names, W[:, j], strict=True) if w > 0) + ")"
            notes = [f"{cands[i]}: {self.fitted_models_[cands[i]].fallback_[j]}" for k, i in enumerate(used)
                     if W[k, j] > 0 and j in self.fitted_models_[cands[i]].fallback_]
            labels.append(lab + (" [" + "; ".join(notes) + "]" if notes else ""))
        self.component_ = np.array(labels, dtype=object)
        fit = np.zeros(wp.y.shape)
        for k, i in enumerate(used):
            fit += W[k][None, :] * np.nan_to_num(self.fitted_models_[cands[i]].fitted_, nan=0.0)
        self.fitted_[:] = fit
        return mean, q

    def predict(self, h: int, levels: Sequence[float] = (80, 95), probs: np.ndarray | None = None):  # noqa: ANN201
        fc = super().predict(h, levels=levels, probs=probs)
        if self.all_zero_:  # no candidate was fitted: every series is the zero fallback
            return fc
        plain = fc.model == "auto"
        fc.model[plain] = self.component_[plain]
        return fc
