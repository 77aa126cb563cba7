"""scikit-learn style feature transformers on an IncidentPanel.

Each transformer's ``transform(panel)`` returns a long DataFrame with
``area_id, category, period`` and its feature columns, one row per series and
period of the panel (gaps counted as zero incidents). Data-derived features
for period ``t`` use counts of periods ``<= t - gap`` only (``gap=1`` by
default): no leakage, proved in ``tests/features/test_leakage.py``. Calendar,
trend and Fourier features are known in advance and describe period ``t``
itself.

:class:`FeatureBuilder` runs several transformers and joins their columns.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from riskmodel.data.frequency import Frequency
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.estimator import EstimatorParams
from riskmodel.features.calendar import period_calendar
from riskmodel.features.wide import fourier_terms, rolling_mean, shift

KEYS = ["area_id", "category", "period"]


def _check_gap(gap: int) -> int:
    if int(gap) < 1:
        raise InputError(Problem(f"gap must be >= 1 (a feature at t may use data up to t-gap); got {gap}"))
    return int(gap)


class PanelTransformer(EstimatorParams):
    """Base: ``fit`` records the panel's frequency; ``transform`` builds the features.

    The scikit-learn transformer shape (``get_params``, ``set_params``, ``clone``,
    ``fit_transform``) without importing scikit-learn (:mod:`riskmodel.estimator`
    says why).
    """

    def fit(self, panel: IncidentPanel, y: object = None) -> PanelTransformer:
        self.freq_ = panel.freq
        return self

    def fit_transform(self, panel: IncidentPanel, y: object = None) -> pd.DataFrame:
        """``fit(panel, y).transform(panel)``, as scikit-learn's ``TransformerMixin``."""
        return self.fit(panel, y).transform(panel)

    def _wide(self, panel: IncidentPanel) -> WidePanel:
        if getattr(self, "freq_", panel.freq) != panel.freq:
            raise InputError(Problem(f"fitted on frequency {self.freq_}, got a panel at {panel.freq}"))
        return WidePanel.from_panel(panel)

    def _frame(self, wp: WidePanel, cols: dict[str, np.ndarray]) -> pd.DataFrame:
        out = wp.to_long(np.zeros_like(wp.y), "_")[KEYS]
        for name, arr in cols.items():
            out[name] = arr.T.ravel()
        return out

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:  # pragma: no cover - abstract
        raise NotImplementedError


class LagFeatures(PanelTransformer):
    """Counts of earlier periods: ``lag_j`` = count at ``t - gap - j + 1``.

    Parameters
    ----------
    lags : sequence of int
        Which lags (1 = the last usable period). With ``gap=1`` and
        ``lags=(1, 12)`` on monthly data: last month and the same month a year ago.
    gap : int
        Periods between the feature's period and the last count used (>= 1).
    """

    def __init__(self, lags: Sequence[int] = (1, 2, 3, 12), gap: int = 1):
        self.lags = lags
        self.gap = gap

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        g = _check_gap(self.gap)
        wp = self._wide(panel)
        return self._frame(wp, {f"lag_{j}": shift(wp.y, g + j - 1) for j in self.lags})


class RollingFeatures(PanelTransformer):
    """Rolling means over the last ``w`` usable periods and ratios between them.

    Columns ``roll_mean_{w}`` (incidents per period) and, for consecutive
    windows ``w1 < w2``, ``roll_ratio_{w1}_{w2}`` = mean over w1 / mean over w2
    (NaN when the longer mean is 0): above 1 means a recent rise.
    """

    def __init__(self, windows: Sequence[int] = (3, 12), gap: int = 1):
        self.windows = windows
        self.gap = gap

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        g = _check_gap(self.gap)
        wp = self._wide(panel)
        ws = sorted(self.windows)
        cols = {f"roll_mean_{w}": rolling_mean(wp.y, w, g) for w in ws}
        for a, b in zip(ws[:-1], ws[1:], strict=False):
            num, den = cols[f"roll_mean_{a}"], cols[f"roll_mean_{b}"]
            with np.errstate(divide="ignore", invalid="ignore"):
                cols[f"roll_ratio_{a}_{b}"] = np.where(den > 0, num / den, np.nan)
        return self._frame(wp, cols)


class YearOnYear(PanelTransformer):
    """Year-on-year (同比) change of the last usable year: ``yoy_change``.

    Sum of the last ``season`` usable periods over the sum of the ``season``
    before them, minus 1 (a relative change; NaN when the earlier sum is 0).
    ``season`` defaults to a year at the panel's frequency (12, 52, 365).
    """

    def __init__(self, gap: int = 1, season: int | None = None):
        self.gap = gap
        self.season = season

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        g = _check_gap(self.gap)
        wp = self._wide(panel)
        m = self.season or int(round(Frequency.of(wp.freq).periods_per_year))
        recent = rolling_mean(wp.y, m, g)
        before = rolling_mean(wp.y, m, g + m)
        with np.errstate(divide="ignore", invalid="ignore"):
            yoy = np.where(before > 0, recent / before - 1.0, np.nan)
        return self._frame(wp, {"yoy_change": yoy})


class RateFeatures(PanelTransformer):
    """Incidents per ``per`` residents in the last usable period: ``rate_lag1``.

    Needs the panel's population table (nearest known year).
    """

    def __init__(self, per: float = 10_000, gap: int = 1):
        self.per = per
        self.gap = gap

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        g = _check_gap(self.gap)
        wp = self._wide(panel)
        if panel.population is None:
            raise InputError(Problem("RateFeatures needs a population table in the panel"))
        frame = self._frame(wp, {"_lag": shift(wp.y, g)})
        # population of the year of the period the count comes from (t - gap)
        t_idx = np.tile(np.arange(len(wp.periods)), len(wp.series))
        src_period = pd.Series(wp.periods[np.clip(t_idx - g, 0, None)])
        pop = panel.population_at(src_period, frame["area_id"])
        frame["rate_lag1"] = frame.pop("_lag") / pop * self.per
        return frame


class TrendFourier(PanelTransformer):
    """Deterministic time features: ``trend`` (years since the panel's first
    period) and ``sin_k``/``cos_k`` of the time of year (``order`` pairs;
    default 3 for M, 4 for W, 4 for D) plus ``dow`` (0 = Monday) for daily data.
    """

    def __init__(self, order: int | None = None):
        self.order = order

    def fit(self, panel: IncidentPanel, y: object = None) -> TrendFourier:
        super().fit(panel)
        self.origin_ = panel.periods[0]
        return self

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        wp = self._wide(panel)
        n = len(wp.series)
        order = self.order if self.order is not None else (3 if wp.freq == "M" else 4)
        origin = getattr(self, "origin_", wp.periods[0])
        trend = ((wp.periods - origin).days.to_numpy() / 365.25)[:, None].repeat(n, 1)
        cols = {"trend": trend}
        ft = fourier_terms(wp.periods, wp.freq, order)
        for k in range(order):
            cols[f"sin_{k + 1}"] = ft[:, 2 * k][:, None].repeat(n, 1)
            cols[f"cos_{k + 1}"] = ft[:, 2 * k + 1][:, None].repeat(n, 1)
        if wp.freq == "D":
            cols["dow"] = wp.periods.day_of_week.to_numpy()[:, None].repeat(n, 1).astype(float)
        return self._frame(wp, cols)


class HolidayFeatures(PanelTransformer):
    """Chinese holiday calendar per period (see :mod:`riskmodel.features.calendar`):
    ``days, workdays, holidays, makeup_workdays, spring_festival, calendar_known``.
    """

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        wp = self._wide(panel)
        cal = period_calendar(wp.periods, wp.freq)
        n = len(wp.series)
        return self._frame(wp, {c: cal[c].to_numpy()[:, None].repeat(n, 1) for c in cal.columns})


class SpatialLag(PanelTransformer):
    """Mean count over an area's neighbours (same category) in the last usable
    period: ``nb_mean_lag1``, and over the last ``window`` usable periods:
    ``nb_mean_{window}``. NaN for an area without neighbours. Needs the
    panel's neighbours table.
    """

    def __init__(self, window: int = 3, gap: int = 1):
        self.window = window
        self.gap = gap

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        g = _check_gap(self.gap)
        wp = self._wide(panel)
        if panel.neighbours is None:
            raise InputError(Problem("SpatialLag needs a neighbours table in the panel"))
        col = {s: j for j, s in enumerate(wp.series)}
        n = len(wp.series)
        A = np.zeros((n, n))  # A[i, j] = 1 / n_neighbours(i) when j is a neighbour of i (same category)
        nb = panel.neighbours.groupby("area_id")["neighbour_id"].apply(list).to_dict()
        for (a, k), i in col.items():
            js = [col[(b, k)] for b in nb.get(a, []) if (b, k) in col]
            if js:
                A[i, js] = 1.0 / len(js)
        has = A.sum(axis=1) > 0
        lag = shift(wp.y, g) @ A.T
        roll = rolling_mean(wp.y, self.window, g) @ A.T
        lag[:, ~has] = np.nan
        roll[:, ~has] = np.nan
        return self._frame(wp, {"nb_mean_lag1": lag, f"nb_mean_{self.window}": roll})


class CategoryMix(PanelTransformer):
    """Share of the series' category in all incidents of its area over the last
    ``window`` usable periods: ``category_share`` (0-1; NaN when the area had none).
    """

    def __init__(self, window: int = 12, gap: int = 1):
        self.window = window
        self.gap = gap

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        g = _check_gap(self.gap)
        wp = self._wide(panel)
        roll = rolling_mean(wp.y, self.window, g)
        areas = np.array([s[0] for s in wp.series])
        total = np.zeros_like(roll)
        for a in np.unique(areas):
            m = areas == a
            total[:, m] = roll[:, m].sum(axis=1, keepdims=True)
        with np.errstate(divide="ignore", invalid="ignore"):
            share = np.where(total > 0, roll / total, np.nan)
        return self._frame(wp, {"category_share": share})


def default_transformers(panel: IncidentPanel, gap: int = 1) -> list[PanelTransformer]:
    """The standard feature set for a panel (rates and spatial lags only when
    the panel has population and neighbours)."""
    m = panel.frequency.cycle
    year = int(round(panel.frequency.periods_per_year))
    lags = sorted({1, 2, 3, m})
    out: list[PanelTransformer] = [
        LagFeatures(lags=lags, gap=gap),
        RollingFeatures(windows=sorted({3, year}), gap=gap),
        YearOnYear(gap=gap),
        TrendFourier(),
        HolidayFeatures(),
        CategoryMix(window=year, gap=gap),
    ]
    if panel.population is not None:
        out.append(RateFeatures(gap=gap))
    if panel.neighbours is not None:
        out.append(SpatialLag(gap=gap))
    return out


class FeatureBuilder(PanelTransformer):
    """Runs several transformers and joins their columns on ``area_id, category, period``.

    Parameters
    ----------
    transformers : list of PanelTransformer, optional
        Default: :func:`default_transformers` for the panel given to ``fit``.
    include_count : bool
        Add the period's own ``count`` (the target, not a feature).
    """

    def __init__(self, transformers: list[PanelTransformer] | None = None, include_count: bool = True):
        self.transformers = transformers
        self.include_count = include_count

    def fit(self, panel: IncidentPanel, y: object = None) -> FeatureBuilder:
        super().fit(panel)
        ts = self.transformers if self.transformers is not None else default_transformers(panel)
        self.transformers_ = [t.fit(panel) for t in ts]
        return self

    def transform(self, panel: IncidentPanel) -> pd.DataFrame:
        wp = self._wide(panel)
        out = wp.to_long(wp.y, "count")
        if not self.include_count:
            out = out.drop(columns="count")
        for t in self.transformers_:
            f = t.transform(panel)
            out = pd.concat([out, f.drop(columns=KEYS)], axis=1)
        return out
