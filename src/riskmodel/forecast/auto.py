"""``auto``: choose and combine models per group of series by backtest score.

The rule (fixed before looking at any benchmark holdout):

1. Internal rolling-origin backtest on the training data only: ``windows``
   (2) cutoffs ``step`` (``max(1, h // 2)``) periods apart, the last one ``h``
   periods before the end of the training data; fewer windows when the data
   are short.
2. Each candidate (default: seasonal naive, historical mean, the NB GLM and
   the global GBM) is scored per series by its *scaled pinball loss* (mean
   pinball loss over the quantiles 0.025, 0.1, 0.5, 0.9, 0.975 divided by the
   in-sample seasonal-naive MAE: a probabilistic MASE), averaged over windows.
3. Scores are averaged within groups: the series of one category (all series
   together when a category has fewer than ``min_group`` series).
4. Per group, the best candidate is kept, with every other candidate whose
   score is within ``tolerance`` (10%) of the best, at most ``max_models``
   (3); the kept models are combined with equal weights, means and quantiles
   alike (quantile averaging, "Vincentization").
5. Without any possible internal window (too short a history), the candidates
   are combined with equal weights.

ETS is not a default candidate: it is fitted series by series (0.05-0.2 s
each), which would make ``auto`` far slower than the vectorised models on
thousands of series; pass ``candidates=(..., "ets")`` to include it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskmodel.errors import InputError
from riskmodel.features.wide import WidePanel
from riskmodel.forecast.backtest import cutoffs, run_windows, window_scores
from riskmodel.forecast.base import CountForecaster
from riskmodel.forecast.result import combine


class Auto(CountForecaster):
    """Backtest-scored selection and equal-weight combination (see module notes).

    Parameters
    ----------
    candidates : sequence of str
        Model names from :data:`riskmodel.forecast.registry.MODELS`.
    windows : int
        Internal backtest windows.
    h : int, optional
        Horizon of the internal backtest (default: the horizon asked of predict).
    tolerance : float
        Keep models whose group score is within this fraction of the best.
    max_models : int
    min_group : int
    random_state : int
    """

    name = "auto"

    def __init__(
        self,
        candidates: Sequence[str] = ("snaive", "hmean", "nbglm", "gbm"),
        windows: int = 2,
        h: int | None = None,
        tolerance: float = 0.10,
        max_models: int = 3,
        min_group: int = 5,
        random_state: int = 0,
        params: dict[str, dict] | None = None,
    ):
        self.candidates = candidates
        self.windows = windows
        self.h = h
        self.tolerance = tolerance
        self.max_models = max_models
        self.min_group = min_group
        self.random_state = random_state
        self.params = params

    def _make(self, name: str) -> CountForecaster:
        from riskmodel.forecast.registry import make_model

        return make_model(name, seed=self.random_state, **(self.params or {}).get(name, {}))

    def _fit(self, wp: WidePanel) -> None:
        from riskmodel.forecast.registry import MODELS

        bad = [c for c in self.candidates if c not in MODELS or c == "auto"]
        if bad:
            from riskmodel.errors import Problem

            raise InputError(Problem(f"unknown auto candidate(s) {bad}; valid: {', '.join(m for m in MODELS if m != 'auto')}"))
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
        if cuts is None:
            W[:] = 1.0 / len(cands)
            rows = [{"group": "ALL", "model": c, "score": np.nan, "weight": 1 / len(cands)} for c in cands]
        else:
            wf = run_windows(wp, {c: (lambda c=c: self._make(c)) for c in cands}, h, cuts, grid=False)
            sc = window_scores(wp, wf)
            for g in np.unique(groups):
                m = groups == g
                scores = np.array([np.nanmean(sc[c]["spinball"][m]) if np.isfinite(sc[c]["spinball"][m]).any() else np.inf for c in cands])
                order = np.argsort(scores, kind="stable")
                best = scores[order[0]]
                keep = [i for i in order[: self.max_models] if scores[i] <= best * (1 + self.tolerance)] if np.isfinite(best) else list(order)
                for i, c in enumerate(cands):
                    w = 1.0 / len(keep) if i in keep else 0.0
                    W[i, m] = w
                    rows.append({"group": g, "model": c, "score": float(scores[i]), "weight": w})
        self.weights_ = W
        self.selection_ = pd.DataFrame(rows)
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
            lab = "auto(" + "+".join(names[W[:, j] > 0]) + ")"
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
        plain = fc.model == "auto"
        fc.model[plain] = self.component_[plain]
        return fc
