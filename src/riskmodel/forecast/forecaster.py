"""The public entry point: :class:`Forecaster`, shaped like statsforecast's ``StatsForecast``.

::

    from riskmodel.forecast import Forecaster

    fc = Forecaster(models=["auto", "snaive"], seed=0, reconcile="none").forecast(panel, h=3, level=[80, 95])
    print(fc.summary())             # text: series, models used per series, fallbacks, horizon
    fc.to_frame()                   # long: area_id, category, period, [forecaster,] model, mean, lo_80, ...
    fc.conf_int(95)                 # long: area_id, category, period, [forecaster,] level, lo, hi
    cv = Forecaster(models=["nbglm"]).cross_validation(panel, h=3, n_windows=2)
    print(cv.summary())             # the overall backtest metrics per model

Models and reconciliation methods are named from the registries
(:data:`~riskmodel.forecast.registry.MODELS`,
:data:`~riskmodel.forecast.registry.RECONCILERS`). The series are fitted in
chunks of at most ``chunk_size`` through ``backend`` (default: this
process; see :mod:`riskmodel.execution.chunks`: models that pool across
series pool within a chunk); the results do not depend on the backend.
Reconciliation, which links series across chunks, is done on the driver over
all series.

A method that forecasts the ancestors' series too (``bottom_up``,
``mint_shrink``) works on :func:`with_all_levels` of the panel; a caller that
needs that panel itself (a pipeline step drawing fan charts of districts)
builds it once and passes it as ``all_levels=`` to both
:meth:`Forecaster.forecast` and :meth:`Forecaster.cross_validation`.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.calendar_choice import check_calendar
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.wide import WidePanel
from riskmodel.errors import InputError, Problem
from riskmodel.execution.backends import Backend
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE, check_chunk_size
from riskmodel.forecast.backtest import (
    METRICS,
    WindowForecast,
    cutoffs,
    forecasts_frame,
    metrics_frame,
)
from riskmodel.forecast.base import check_horizon
from riskmodel.forecast.calibrate import calibrate as calibrate_forecast
from riskmodel.forecast.calibrate import coverage_table
from riskmodel.forecast.chunked import ChunkedForecaster, backtest_chunks
from riskmodel.forecast.reconcile import reconcile as reconcile_forecast
from riskmodel.forecast.registry import DEFAULT_RECONCILE, MODELS, RECONCILERS, needs_hierarchy
from riskmodel.forecast.result import Forecast
from riskmodel.forecast.selection import selection_table, selection_text
from riskmodel.results import Artifact

REFERENCE = "snaive"
"""The skill reference every cross-validation adds (``rel_mase`` is relative to it)."""

FREQ_WORDS = {"D": "daily", "W": "weekly", "M": "monthly"}


def with_all_levels(panel: IncidentPanel) -> IncidentPanel:
    """The panel plus the sums of its series at every ancestor level (district, city...)."""
    c = panel.all_levels().drop(columns="level")
    c = c.groupby(["area_id", "category", "period"], as_index=False, sort=True)["count"].sum()
    out = IncidentPanel(counts=c, freq=panel.freq, hierarchy=panel.hierarchy,
                        population=panel.population, neighbours=panel.neighbours, meta=dict(panel.meta))
    return out._replace(c)


def check_levels(levels: Sequence[float]) -> list[float]:
    """Interval levels as floats in percent; an InputError for one outside (0, 100)."""
    out = []
    for lv in levels:
        if not 0 < float(lv) < 100:
            raise InputError(Problem(f"interval level must be between 0 and 100 (percent), got {lv}"))
        out.append(float(lv))
    return out


def _names(models: str | Sequence[str]) -> list[str]:
    names = [models] if isinstance(models, str) else list(models)
    if not names:
        raise InputError(Problem("no model given; valid: " + ", ".join(MODELS.names()), column="--model"))
    for name in names:
        MODELS.get(name)
    return list(dict.fromkeys(names))


def _area_levels(panel: IncidentPanel) -> dict[str, str]:
    return dict(panel.hierarchy.level)


def _counts_text(values: Sequence[str], top: int = 8, indent: str = "    ") -> list[str]:
    vc = pd.Series(list(values), dtype=object).value_counts(sort=True)
    vc = vc.sort_index(kind="stable").sort_values(ascending=False, kind="stable")
    width = max((len(str(k)) for k in vc.index[:top]), default=0)
    lines = [f"{indent}{str(k):<{width}}  {int(n):>6}" for k, n in vc.head(top).items()]
    if len(vc) > top:
        lines.append(f"{indent}... {len(vc) - top} more ({int(vc.iloc[top:].sum())} series)")
    return lines


# ---------------------------------------------------------------- results
@dataclass
class PanelForecast:
    """The forecasts of one or several models for every series of a panel.

    Attributes
    ----------
    forecasts : dict of str to Forecast
        Per model name (in the order asked): means (h, n) and quantiles
        (h, n, q) per series and period, reconciled when ``reconcile`` is not
        ``none``.
    fitted_models : dict of str to model
        Per model name: the fitted model (the model itself when the panel
        was one chunk, else a :class:`~riskmodel.forecast.chunked.ChunkedForecaster`
        of all chunks). Their own forecasts are unreconciled.
    wide : WidePanel
        The training data (with the ancestors' sums when reconciling).
    h : int
        Periods ahead.
    levels : list of float
        Central interval levels (percent) in the frames.
    reconcile : str
        The reconciliation method.
    chunks : int
        Chunks the series were fitted in.
    seconds : dict of str to float
        Per model: wall seconds of fitting, forecasting and reconciling.
    area_levels : dict of str to str
        Area id -> its hierarchy level (``district``...), for ``to_frame(area_level=True)``.
    panel_series : int, optional
        Series of the panel given (the others are ancestors' sums added for reconciliation).
    calibration : dict of str to DataFrame
        Per model with internal windows (``auto``): the interval factors per
        area level and nominal level (``level, nominal, factor, n``;
        :mod:`riskmodel.forecast.calibrate`); the forecasts are calibrated.
    """

    forecasts: dict[str, Forecast]
    fitted_models: dict[str, Any]
    wide: WidePanel
    h: int
    levels: list[float]
    reconcile: str = DEFAULT_RECONCILE
    chunks: int = 1
    seconds: dict[str, float] = field(default_factory=dict)
    area_levels: dict[str, str] = field(default_factory=dict)
    panel_series: int | None = None
    calibration: dict[str, pd.DataFrame] = field(default_factory=dict)

    @property
    def models(self) -> list[str]:
        """The model names, in the order asked."""
        return list(self.forecasts)

    @property
    def forecast(self) -> Forecast:
        """The first model's Forecast."""
        return self.forecasts[self.models[0]]

    @property
    def model(self) -> Any:  # noqa: ANN401 - a fitted CountForecaster or ChunkedForecaster
        """The first model, fitted."""
        return self.fitted_models[self.models[0]]

    def _one(self, model: str | None) -> list[str]:
        if model is None:
            return self.models
        if model not in self.forecasts:
            raise InputError(Problem(f"model {model!r} was not forecast; forecast: {', '.join(self.models)}"))
        return [model]

    def to_frame(self, model: str | None = None, *, area_level: bool = False) -> pd.DataFrame:
        """The forecasts, long: one row per series and period.

        Columns ``area_id, category, period, model, mean, lo_<L>, hi_<L>``
        (a pair per level, e.g. ``lo_80, hi_80, lo_95, hi_95``): exactly
        ``riskmodel forecast``'s file. ``model`` is the model that made the
        row's forecast (a fallback says so, e.g. ``zero (all-zero history)``;
        ``+<method>`` when reconciled).

        With several models (and ``model`` not given) the models' blocks are
        stacked in the order asked, each block in the one-model row order
        (series, then period), and a column ``forecaster`` (the registry name
        asked for, e.g. ``snaive``) is inserted before ``model``. With
        ``model`` given, that model's block alone, without ``forecaster``.

        With ``area_level`` a column ``level`` (the area's hierarchy level,
        ``area`` for an area without one) is inserted after ``area_id``.
        """
        names = self._one(model)
        parts = []
        for name in names:
            df = self.forecasts[name].to_frame(self.levels)
            if len(names) > 1:
                df.insert(3, "forecaster", name)
            parts.append(df)
        out = parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)
        if area_level:
            out.insert(1, "level", out["area_id"].map(self.area_levels).fillna("area"))
        return out

    def conf_int(self, level: float = 95, model: str | None = None) -> pd.DataFrame:
        """The central predictive intervals at ``level`` (percent, or a fraction below 1), long.

        Columns ``area_id, category, period, level, lo, hi`` (counts per
        period; ``level`` in percent), with a column ``forecaster`` after
        ``period`` when several models are shown (stacked as in
        :meth:`to_frame`). ``level`` must be one of the levels forecast
        (an InputError lists them otherwise).
        """
        names = self._one(model)
        parts = []
        for name in names:
            df = self.forecasts[name].conf_int(level)
            if len(names) > 1:
                df.insert(3, "forecaster", name)
            parts.append(df)
        return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)

    def fallbacks(self, model: str | None = None) -> dict[str, dict[tuple[str, str], str]]:
        """Per model: (area_id, category) -> the reason its series got a fallback forecast."""
        out = {}
        for name in self._one(model):
            fb = getattr(self.fitted_models[name], "fallback_", {}) or {}
            series = self.wide.series
            out[name] = {series[j]: why for j, why in sorted(fb.items())}
        return out

    def summary(self) -> str:
        """A text summary: series, horizon, models used per series, fallbacks."""
        fc = self.forecast
        n = len(fc.series)
        own = n if self.panel_series is None else self.panel_series
        freq = FREQ_WORDS.get(self.wide.freq, self.wide.freq)
        first, last = fc.periods[0].date().isoformat(), fc.periods[-1].date().isoformat()
        lines = [
            f"Forecast of {n} series, {self.h} period(s) ahead ({freq}: {first} to {last})",
            f"models: {', '.join(self.models)}; reconciliation: {self.reconcile}; "
            f"intervals: {', '.join(f'{lv:g}%' for lv in self.levels)}; chunks: {self.chunks}",
        ]
        if own != n:
            lines.append(f"series: {own} of the panel's areas and {n - own} ancestor sums (district, city...)")
        fbs = self.fallbacks()
        for name in self.models:
            lines.append(f"{name}: models used per series")
            lines += _counts_text(self.forecasts[name].model)
            fb = fbs[name]
            lines.append(f"  fallbacks: {len(fb)} series" + (":" if fb else ""))
            lines += _counts_text(list(fb.values()), indent="    ")
            cal = self.calibration.get(name)
            if cal is not None and len(cal):
                lines.append("  interval factors per area level (calibrated on the model's internal windows): "
                             + "; ".join(f"{r.level} {r.nominal:g}% x{r.factor:.2f}" for r in cal.itertuples()))
            sel = selection_table(self.fitted_models[name])
            if sel is not None:  # auto: its members' weights and internal scores per group (<name>_selection.csv)
                lines.append("  choice per group (weights; scaled pinball loss on the internal windows, lower is better):")
                lines += selection_text(sel)
        return "\n".join(lines) + "\n"

    def artifacts(self, name: str = "forecast.csv", *, area_level: bool = False) -> list[Artifact]:
        """The files it is published as: ``forecast.csv`` (:meth:`to_frame`), and for ``auto`` its choice per
        group of series with the members' internal scores, ``auto_selection.csv``
        (:func:`riskmodel.forecast.selection.selection_table`)."""
        arts = [Artifact(name, self.to_frame(area_level=area_level))]
        for m in self.models:
            sel = selection_table(self.fitted_models[m])
            if sel is not None:
                arts.append(Artifact(f"{m}_selection.csv", sel))
        return arts


@dataclass
class PanelBacktest:
    """A rolling-origin cross-validation (backtest) of one or several models.

    Attributes
    ----------
    forecasts : DataFrame
        Every window's forecasts, long: the columns of
        :meth:`PanelForecast.to_frame` (one model's, ``model`` naming the
        model that made the row) plus ``cutoff`` (the last training period,
        after ``model``) and ``actual`` (last); windows in order, then
        models in the order asked (seasonal naive last when added), then
        series and period.
    metrics : DataFrame
        One row per series and model, then per area level and model, then
        ``overall`` per model (``area_id = category = "ALL"``): ``windows,
        mase, rmsse, pinball, crps, coverage_80, coverage_95, bias,
        spinball, rel_mase`` (MASE relative to seasonal naive) and
        ``seconds`` (see :func:`riskmodel.forecast.backtest.metrics_frame`).
    windows : list of WindowForecast
        Each cutoff's and model's Forecast.
    wide : WidePanel
        The data (with the ancestors' sums when reconciling).
    models : list of str
        The models tested, seasonal naive included.
    h : int
    levels : list of float
    reconcile : str
    coverage : DataFrame
        Per model, area level (then ``overall``) and nominal level: ``coverage,
        n, mean_width, interval_score`` of the central intervals
        (:func:`riskmodel.forecast.calibrate.coverage_table`).
    calibration : DataFrame
        The interval factors each window's forecast was calibrated with:
        ``cutoff, model, level, nominal, factor, n`` (models with internal
        windows only).
    """

    forecasts: pd.DataFrame
    metrics: pd.DataFrame
    windows: list[WindowForecast]
    wide: WidePanel
    models: list[str]
    h: int
    levels: list[float]
    reconcile: str = DEFAULT_RECONCILE
    coverage: pd.DataFrame = field(default_factory=pd.DataFrame)
    calibration: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def cutoffs(self) -> list[pd.Timestamp]:
        """The last training period of each window."""
        return [self.wide.periods[c - 1] for c in sorted({w.cutoff for w in self.windows})]

    @property
    def overall(self) -> pd.DataFrame:
        """The ``overall`` metrics rows, one per model."""
        return self.metrics[self.metrics["level"] == "overall"]

    def to_frame(self) -> pd.DataFrame:
        """The window forecasts with ``cutoff`` and ``actual`` (:attr:`forecasts`)."""
        return self.forecasts

    def conf_int(self, level: float = 95) -> pd.DataFrame:
        """The intervals at ``level`` (one of the levels forecast), long, with the actual.

        Columns ``area_id, category, period, model, cutoff, level, lo, hi, actual``.
        """
        lv = check_levels([_percent(level)])[0]
        tag = f"{lv:g}"
        if f"lo_{tag}" not in self.forecasts.columns:
            raise InputError(Problem(f"level {level} not forecast; levels: {', '.join(f'{x:g}' for x in self.levels)}"))
        f = self.forecasts
        out = f[["area_id", "category", "period", "model", "cutoff"]].copy()
        out["level"] = lv
        out["lo"] = f[f"lo_{tag}"]
        out["hi"] = f[f"hi_{tag}"]
        out["actual"] = f["actual"]
        return out

    def summary(self) -> str:
        """A text summary: windows, series and the overall metrics of each model."""
        cuts = [c.date().isoformat() for c in self.cutoffs]
        n = len(self.wide.series)
        freq = FREQ_WORDS.get(self.wide.freq, self.wide.freq)
        cols = [*METRICS, "rel_mase", "seconds"]
        table = self.overall.set_index("model")[cols].round(3).to_string()
        text = (f"Cross-validation of {n} series ({freq}): {len(cuts)} window(s) of h={self.h}, "
                f"cutoffs {', '.join(cuts)}\n"
                f"models: {', '.join(self.models)} (rel_mase against {REFERENCE}); reconciliation: {self.reconcile}\n"
                f"overall (means over series; seconds: total):\n{table}\n")
        if len(self.coverage):
            text += f"interval coverage per area level:\n{self.coverage_text()}\n"
        return text

    def coverage_text(self) -> str:
        """:attr:`coverage` as a text table (one row per model, level and nominal level)."""
        c = self.coverage.copy()
        c["nominal"] = c["nominal"].map(lambda v: f"{v:g}%")
        return c.round({"coverage": 3, "mean_width": 2, "interval_score": 2}).to_string(index=False)

    def artifacts(self, prefix: str = "") -> list[Artifact]:
        """``forecasts.csv`` (written, not logged: it is large), ``metrics.csv`` and ``coverage.csv``
        (:attr:`coverage`); names prefixed by ``prefix``."""
        return [Artifact(f"{prefix}forecasts.csv", self.forecasts, log_as=""),
                Artifact(f"{prefix}metrics.csv", self.metrics),
                Artifact(f"{prefix}coverage.csv", self.coverage)]


def _percent(level: float) -> float:
    lv = float(level)
    return lv * 100.0 if 0 < lv < 1 else lv


# ---------------------------------------------------------------- the entry point
class Forecaster:
    """Forecast and cross-validate every series of a panel with registered models.

    Parameters
    ----------
    models : str or sequence of str
        Names from :data:`~riskmodel.forecast.registry.MODELS` (``auto``,
        ``snaive``, ...); an unknown name is an InputError listing the valid ones.
    seed : int
        ``random_state`` of the models that draw random numbers (every chunk
        gets the same).
    reconcile : str
        A name from :data:`~riskmodel.forecast.registry.RECONCILERS`
        (default :data:`~riskmodel.forecast.registry.DEFAULT_RECONCILE`).
    chunk_size : int
        Series fitted together per task.
    backend : Backend, optional
        Where the chunks are fitted (default: this process).
    params : dict of str to dict, optional
        Per model name: constructor parameters (the options the registry
        declares; others are refused). A model with calendar regressors
        (``nbglm``, ``gbm``, ``auto``...) given no ``calendar`` gets the data's
        country, ``panel.meta["country"]``, when the panel has one
        (:meth:`model_params`).
    gaps : {'zero', 'error'}
        Missing periods inside the data: zero counts, or an InputError.
    calibrate : bool
        Calibrate the intervals of models that backtest themselves (``auto``)
        per area level, after reconciliation (:mod:`riskmodel.forecast.calibrate`).
        Off by default: on the sample city it made the district and city
        intervals too narrow (see that module's notes).
    """

    def __init__(
        self,
        models: str | Sequence[str] = ("auto",),
        *,
        seed: int = 0,
        reconcile: str = DEFAULT_RECONCILE,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        backend: Backend | None = None,
        params: Mapping[str, Mapping[str, Any]] | None = None,
        gaps: str = "zero",
        calibrate: bool = False,
    ):
        self.models = _names(models)
        RECONCILERS.get(reconcile)
        self.reconcile = reconcile
        self.seed = int(seed)
        self.chunk_size = check_chunk_size(chunk_size)
        self.backend = backend
        self.params = {k: dict(v) for k, v in (params or {}).items()}
        for name, opts in self.params.items():
            MODELS.check_options(name, opts, where="parameter")
        self.gaps = gaps
        self.calibrate = bool(calibrate)

    def __repr__(self) -> str:
        return (f"Forecaster(models={self.models}, seed={self.seed}, reconcile={self.reconcile!r}, "
                f"chunk_size={self.chunk_size})")

    def model_params(self, panel: IncidentPanel) -> dict[str, dict[str, Any]]:
        """:attr:`params`, with the data's country (``panel.meta["country"]``) as the ``calendar`` of every
        model that has calendar regressors and was not given one (:mod:`riskmodel.data.calendar_choice`;
        without a country the models' own default, CN)."""
        country = panel.meta.get("country")
        if not country:
            return self.params
        out = {k: dict(v) for k, v in self.params.items()}
        for name in self.models:
            if MODELS.get(name).option("calendar") is not None and "calendar" not in out.get(name, {}):
                out.setdefault(name, {})["calendar"] = check_calendar(str(country), option="country")
        return out

    def _wide(self, panel: IncidentPanel, all_levels: IncidentPanel | None) -> WidePanel:
        if needs_hierarchy(self.reconcile):
            panel = all_levels if all_levels is not None else with_all_levels(panel)
        wp = WidePanel.from_panel(panel, gaps=self.gaps)
        for name in self.models:
            MODELS.check(name, freq=wp.freq)
        return wp

    def forecast(
        self,
        panel: IncidentPanel,
        h: int,
        level: Sequence[float] = (80, 95),
        *,
        all_levels: IncidentPanel | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PanelForecast:
        """Forecast every series of ``panel`` ``h`` periods ahead with each model.

        Parameters
        ----------
        panel : IncidentPanel
            Counts per area, category and period (the training data).
        h : int
            Periods ahead (>= 1).
        level : sequence of float
            Central interval levels in percent.
        all_levels : IncidentPanel, optional
            :func:`with_all_levels` of ``panel``, when the caller has built it
            (used only when the reconciliation needs the ancestors' series).
        progress : callable, optional
            ``progress(done, total)`` as the fits complete (model x chunk);
            it never changes the results.

        Returns
        -------
        PanelForecast
        """
        levels = check_levels(level)
        h = check_horizon(h, panel.freq, option="--h")
        wp = self._wide(panel, all_levels)
        forecasts, fitted, seconds, calibration = {}, {}, {}, {}
        level_of = _area_levels(panel)
        chunks = 0
        for k, name in enumerate(self.models):
            t0 = time.perf_counter()
            cf = ChunkedForecaster(name, seed=self.seed, params=self.model_params(panel).get(name),
                                   chunk_size=self.chunk_size)

            def step(done: int, total: int, k: int = k) -> None:
                assert progress is not None
                progress(k * total + done, len(self.models) * total)

            fc = cf.fit_predict(wp, int(h), levels=levels, backend=self.backend,
                                progress=None if progress is None else step)
            fc = reconcile_forecast(fc, panel.hierarchy, self.reconcile, wp.y, cf.fitted_)
            if self.calibrate:
                fc, factors = calibrate_forecast(fc, cf.validation_, wp, level_of, panel.hierarchy, self.reconcile,
                                                 cf.fitted_)
                if factors is not None:
                    calibration[name] = factors
            forecasts[name] = fc
            fitted[name] = cf.models_[0] if len(cf.models_) == 1 else cf
            seconds[name] = time.perf_counter() - t0
            chunks = len(cf.chunks_)
        own = len(wp.series)
        if needs_hierarchy(self.reconcile):  # the ancestors' sums were added
            own = int(panel.counts[["area_id", "category"]].drop_duplicates().shape[0])
        return PanelForecast(forecasts, fitted, wp, int(h), levels, self.reconcile, chunks, seconds,
                             level_of, own, calibration)

    def cross_validation(
        self,
        panel: IncidentPanel,
        h: int,
        n_windows: int = 1,
        step_size: int | None = None,
        level: Sequence[float] = (80, 95),
        *,
        all_levels: IncidentPanel | None = None,
        progress: Callable[[int, int], None] | None = None,
    ) -> PanelBacktest:
        """Rolling-origin backtest (expanding window) of every model, plus seasonal naive.

        Parameters
        ----------
        panel : IncidentPanel
        h : int
            Periods ahead in each window.
        n_windows : int
            Cutoffs; the last is ``h`` periods before the end of the data.
        step_size : int, optional
            Periods between cutoffs (default ``h``).
        level : sequence of float
            Central interval levels in percent.
        all_levels : IncidentPanel, optional
            As in :meth:`forecast`.
        progress : callable, optional
            ``progress(done, total)`` as the fits complete, counted per
            chunk x cutoff x model in that order (cutoffs outer, models inner,
            the models in :attr:`models` order then seasonal naive); it never
            changes the results.

        Returns
        -------
        PanelBacktest
            Each worker runs every window and model of its chunk; the
            ``seconds`` of the metrics sum the chunks' fit-and-forecast times
            (plus the reconciliation), whichever worker ran them.
        """
        levels = check_levels(level)
        names = list(dict.fromkeys([*self.models, REFERENCE]))
        h = check_horizon(h, panel.freq, option="--h")
        wp = self._wide(panel, all_levels)
        cuts = cutoffs(wp.y.shape[0], int(h), int(n_windows), step_size)
        rec = self.reconcile != "none"
        runs = backtest_chunks(wp, names, int(h), cuts, levels, self.seed, self.model_params(panel), self.chunk_size,
                               self.backend, keep_fitted=rec, progress=progress)
        wf = []
        level_of = _area_levels(panel)
        cal = []
        for c, name, fc, secs, fitted, val in runs:
            t0 = time.perf_counter()
            if rec:
                fc = reconcile_forecast(fc, panel.hierarchy, self.reconcile, wp.y[:c], fitted)
            if self.calibrate and val:
                fc, factors = calibrate_forecast(fc, val, wp.head(c), level_of, panel.hierarchy, self.reconcile,
                                                 fitted)
                if factors is not None:
                    cal.append(factors.assign(cutoff=wp.periods[c - 1], model=name))
            secs += time.perf_counter() - t0
            wf.append(WindowForecast(c, name, fc, secs))
        fr = forecasts_frame(wp, wf, levels)
        fr["actual"] = fr["actual"].astype(float)
        mt = metrics_frame(wp, wf, level_of=level_of)
        cov = coverage_table([(w.model, w.cutoff, w.forecast) for w in wf], wp, level_of, levels)
        calib = (pd.concat(cal, ignore_index=True)[["cutoff", "model", "level", "nominal", "factor", "n"]] if cal
                 else pd.DataFrame(columns=["cutoff", "model", "level", "nominal", "factor", "n"]))
        return PanelBacktest(fr, mt, wf, wp, names, int(h), levels, self.reconcile, cov, calib)


def series_table(wp: WidePanel) -> pd.DataFrame:
    """Per series: periods observed, total count, share of zeros (for summaries)."""
    return pd.DataFrame(
        {
            "area_id": [s[0] for s in wp.series],
            "category": [s[1] for s in wp.series],
            "periods": wp.n_obs,
            "total": wp.y.sum(0),
            "zero_share": (wp.y == 0).mean(0),
        }
    ).assign(mean=lambda d: d["total"] / np.maximum(d["periods"], 1))


__all__ = ["REFERENCE", "Forecaster", "PanelBacktest", "PanelForecast", "check_levels", "series_table",
           "with_all_levels"]
