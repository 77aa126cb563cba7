"""Forecasting and backtesting in chunks of series, through an execution backend.

The series of a panel are split by :func:`riskmodel.execution.plan_chunks`
(which depends only on the series and ``chunk_size``); each chunk is fitted
as a panel of its own, by one worker, and the forecasts are put back in the
panel's column order. Each chunk's model gets the run's ``seed`` as its
``random_state`` (the same model settings on every chunk), so a chunk's
random draws depend on its data and the seed, never on the worker that runs
it. A panel of at most ``chunk_size`` series is one chunk, fitted exactly as
without chunking. Reconciliation, which links series across chunks, is done
by the caller on the driver over all series.

Workers only compute: they return fitted models and forecasts, and never
log to MLflow.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from riskmodel.data.wide import WidePanel
from riskmodel.execution.backends import Backend, LocalBackend
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE, check_chunk_size, plan_chunks
from riskmodel.forecast.backtest import run_windows
from riskmodel.forecast.base import CountForecaster, as_wide
from riskmodel.forecast.calibrate import ValidationWindow
from riskmodel.forecast.registry import make_model
from riskmodel.forecast.result import Forecast, probs_for


def take(wp: WidePanel, cols: np.ndarray) -> WidePanel:
    """The chunk ``cols`` of a panel, with its own C-ordered copy of the counts
    (the layout of the whole panel's array: numpy's sums depend on it)."""
    assert wp.n_obs is not None
    if len(cols) == len(wp.series) and np.array_equal(cols, np.arange(len(wp.series))):
        return wp
    return WidePanel(np.ascontiguousarray(wp.y[:, cols]), wp.periods, [wp.series[j] for j in cols], wp.freq,
                     wp.n_obs[cols].copy())


def assemble(parts: Sequence[Forecast], chunks: Sequence[np.ndarray], series: list[tuple[str, str]]) -> Forecast:
    """One Forecast over all series from the forecasts of each chunk."""
    if len(parts) == 1 and len(chunks[0]) == len(series):
        return parts[0]
    h, q = parts[0].mean.shape[0], len(parts[0].probs)
    n = len(series)
    mean = np.empty((h, n))
    quant = np.empty((h, n, q))
    model = np.empty(n, dtype=object)
    for fc, cols in zip(parts, chunks, strict=True):
        mean[:, cols] = fc.mean
        quant[:, cols] = fc.quantiles
        model[cols] = fc.model
    return Forecast(mean, quant, parts[0].probs, parts[0].periods, list(series), model)


def assemble_validation(parts: Sequence[list[ValidationWindow] | None], chunks: Sequence[np.ndarray],
                        n: int) -> list[ValidationWindow] | None:
    """The internal windows of every chunk's model over all series (None unless every chunk has the same windows)."""
    if not parts or any(not p for p in parts):
        return None
    cuts = [w.cutoff for w in parts[0]]
    if any([w.cutoff for w in p] != cuts for p in parts):
        return None
    if len(parts) == 1 and len(chunks[0]) == n:
        return list(parts[0])
    out = []
    for k, c in enumerate(cuts):
        h, q = parts[0][k].mean.shape[0], parts[0][k].quantiles.shape[-1]
        mean, quant = np.full((h, n), np.nan), np.full((h, n, q), np.nan)
        for p, cols in zip(parts, chunks, strict=True):
            mean[:, cols] = p[k].mean
            quant[:, cols] = p[k].quantiles
        out.append(ValidationWindow(c, mean, quant))
    return out


def _assemble_fitted(fitted: Sequence[np.ndarray], chunks: Sequence[np.ndarray], n: int) -> np.ndarray:
    if len(fitted) == 1 and len(chunks[0]) == n:
        return fitted[0]
    out = np.full((fitted[0].shape[0], n), np.nan)
    for f, cols in zip(fitted, chunks, strict=True):
        out[:, cols] = f
    return out


# ---------------------------------------------------------------- worker tasks
@dataclass
class FitTask:
    """One chunk to fit (and forecast when ``h`` is given)."""

    wide: WidePanel
    model: str
    seed: int
    params: dict[str, Any]
    h: int | None = None
    levels: Sequence[float] = (80.0, 95.0)
    probs: np.ndarray | None = None


def fit_chunk(task: FitTask) -> tuple[CountForecaster, Forecast | None]:
    """Worker side: fit one chunk's model; forecast ``task.h`` periods if asked."""
    m = make_model(task.model, seed=task.seed, **task.params)
    m.fit(task.wide)
    fc = None if task.h is None else m.predict(task.h, levels=task.levels, probs=task.probs)
    return m, fc


@dataclass
class BacktestTask:
    """One chunk to backtest: every model at every cutoff."""

    wide: WidePanel
    names: list[str]
    seed: int
    params: dict[str, dict[str, Any]]
    h: int
    cuts: list[int]
    levels: Sequence[float]
    keep_fitted: bool = False
    progress: Callable[[int, int], None] | None = None
    """``progress(done, total)`` after each model and cutoff, when the chunk runs in the driver's process."""

    def __getstate__(self) -> dict[str, Any]:
        # the callback stays in the driver: a task sent to a worker is reported when it completes
        return {**self.__dict__, "progress": None}


@dataclass
class ChunkWindow:
    """What a worker returns per cutoff and model."""

    cutoff: int
    model: str
    forecast: Forecast
    seconds: float
    fitted: np.ndarray | None = None
    validation: list[ValidationWindow] | None = None


def backtest_chunk(task: BacktestTask) -> list[ChunkWindow]:
    """Worker side: :func:`riskmodel.forecast.backtest.run_windows` on one chunk,
    keeping each model's in-sample fits when the driver reconciles."""
    fits: list[np.ndarray | None] = []
    vals: list[list[ValidationWindow] | None] = []

    def keep(fc: Forecast, model: object, train: WidePanel) -> Forecast:  # noqa: ARG001
        fits.append(model.fitted_ if task.keep_fitted else None)  # type: ignore[attr-defined]
        vals.append(getattr(model, "validation_", None))
        return fc

    make = {n: (lambda n=n: make_model(n, seed=task.seed, **task.params.get(n, {}))) for n in task.names}
    wf = run_windows(task.wide, make, task.h, task.cuts, task.levels, keep, progress=task.progress)
    return [ChunkWindow(w.cutoff, w.model, w.forecast, w.seconds, f, v) for w, f, v in zip(wf, fits, vals, strict=True)]


# ---------------------------------------------------------------- driver side
@dataclass
class ChunkedForecaster:
    """One model name fitted chunk by chunk, seen as one forecaster of all series.

    Parameters
    ----------
    model : str
        A name from :data:`riskmodel.forecast.registry.MODELS`.
    seed : int
        ``random_state`` of every chunk's model.
    params : dict, optional
        The model's parameters.
    chunk_size : int
        Series per chunk (see :mod:`riskmodel.execution.chunks`).

    Attributes (after ``fit``)
    --------------------------
    chunks_ : list of ndarray
        Column positions of each chunk.
    models_ : list of CountForecaster
        The fitted model of each chunk.
    wide_ : WidePanel
        The training data (all series).
    fitted_ : ndarray (T, n)
        In-sample one-step fits of every series (NaN where a model has none).
    fallback_ : dict
        Series position -> fallback reason, over all series.
    """

    model: str = "auto"
    seed: int = 0
    params: dict[str, Any] | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE
    chunks_: list[np.ndarray] = field(default_factory=list, init=False, repr=False)
    models_: list[CountForecaster] = field(default_factory=list, init=False, repr=False)

    name = "chunked"

    def _tasks(self, wp: WidePanel, h: int | None, levels: Sequence[float], probs: np.ndarray | None) -> list[FitTask]:
        check_chunk_size(self.chunk_size)
        self.chunks_ = plan_chunks(wp.series, self.chunk_size)
        self.wide_ = wp
        return [FitTask(take(wp, c), self.model, int(self.seed), dict(self.params or {}), h, list(levels), probs)
                for c in self.chunks_]

    def _collect(self, results: list[tuple[CountForecaster, Forecast | None]]) -> list[Forecast | None]:
        self.models_ = [m for m, _ in results]
        n = len(self.wide_.series)
        self.fitted_ = _assemble_fitted([m.fitted_ for m in self.models_], self.chunks_, n)
        self.fallback_ = {int(cols[j]): why for m, cols in zip(self.models_, self.chunks_, strict=True)
                          for j, why in m.fallback_.items()}
        return [fc for _, fc in results]

    @property
    def validation_(self) -> list[ValidationWindow] | None:
        """The chunk models' internal windows over all series (``auto``'s), or None."""
        if not self.models_:
            return None
        return assemble_validation([getattr(m, "validation_", None) for m in self.models_], self.chunks_,
                                   len(self.wide_.series))

    def fit(self, data: Any, backend: Backend | None = None,
            progress: Callable[[int, int], None] | None = None) -> ChunkedForecaster:
        """Fit every chunk (through ``backend``; default: in this process);
        ``progress(done, total)`` as chunks complete."""
        wp = as_wide(data)
        backend = backend or LocalBackend(1)
        self._collect(backend.map(fit_chunk, self._tasks(wp, None, (), None), progress=progress))
        return self

    def fit_predict(self, data: Any, h: int, levels: Sequence[float] = (80, 95), probs: np.ndarray | None = None,
                    backend: Backend | None = None, progress: Callable[[int, int], None] | None = None) -> Forecast:
        """Fit and forecast every chunk in one trip to the workers (``progress(done, total)`` as chunks complete)."""
        wp = as_wide(data)
        backend = backend or LocalBackend(1)
        parts = self._collect(backend.map(fit_chunk, self._tasks(wp, int(h), levels, probs), progress=progress))
        return assemble(parts, self.chunks_, wp.series)  # type: ignore[arg-type]

    def predict(self, h: int, levels: Sequence[float] = (80, 95), probs: np.ndarray | None = None) -> Forecast:
        """Forecast every chunk in this process (e.g. a registered model reloaded)."""
        if not self.models_:
            raise RuntimeError("chunked: call fit() before predict()")
        probs = probs_for(levels) if probs is None else probs
        parts = [m.predict(h, levels=levels, probs=probs) for m in self.models_]
        return assemble(parts, self.chunks_, self.wide_.series)


def backtest_chunks(
    wp: WidePanel,
    names: Sequence[str],
    h: int,
    cuts: Sequence[int],
    levels: Sequence[float],
    seed: int,
    params: dict[str, dict[str, Any]],
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    backend: Backend | None = None,
    keep_fitted: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> list[tuple[int, str, Forecast, float, np.ndarray | None, list[ValidationWindow] | None]]:
    """Every model at every cutoff, chunk by chunk, assembled over all series.

    Returns, in :func:`run_windows` order (cutoff, then model):
    ``(cutoff, model, forecast, seconds, fitted, validation)`` with
    ``seconds`` the sum of the chunks' fit-and-forecast times, ``fitted``
    the in-sample fits of all series (``keep_fitted``) or None, and
    ``validation`` the model's internal windows over all series (``auto``'s;
    else None).

    ``progress(done, total)`` counts fits (chunk x cutoff x model): after
    each one while a chunk runs in this process, else as chunks complete.
    """
    chunks = plan_chunks(wp.series, check_chunk_size(chunk_size))
    per = len(cuts) * len(names)
    state = {"chunks": 0}

    def in_chunk(done: int, total: int) -> None:  # noqa: ARG001 - total is per
        assert progress is not None
        progress(state["chunks"] * per + min(done, per), len(chunks) * per)

    def chunk_done(done: int, total: int) -> None:  # noqa: ARG001 - total is len(chunks)
        assert progress is not None
        state["chunks"] = done
        progress(done * per, len(chunks) * per)

    tasks = [BacktestTask(take(wp, c), list(names), int(seed), params, int(h), list(cuts), list(levels), keep_fitted,
                          None if progress is None else in_chunk)
             for c in chunks]
    results = (backend or LocalBackend(1)).map(backtest_chunk, tasks, progress=None if progress is None else chunk_done)
    out = []
    for k, first in enumerate(results[0]):
        ws = [r[k] for r in results]
        fc = assemble([w.forecast for w in ws], chunks, wp.series)
        fitted = _assemble_fitted([w.fitted for w in ws], chunks, len(wp.series)) if keep_fitted else None
        val = assemble_validation([w.validation for w in ws], chunks, len(wp.series))
        out.append((first.cutoff, first.model, fc, float(sum(w.seconds for w in ws)), fitted, val))
    return out
