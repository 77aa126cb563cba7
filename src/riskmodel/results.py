"""One result protocol for every method family.

Every family's public entry point returns a result object with

* ``summary()`` -- a text summary, like statsmodels' (never a DataFrame);
* ``to_frame()`` -- its main table in long format;
* ``conf_int(level)`` -- the intervals at ``level`` (percent, or a fraction
  below 1), where the result has intervals;
* ``artifacts()`` -- the files it is published as: a list of
  :class:`Artifact` (tables, figures as PNG bytes, texts).

:func:`write_artifacts` writes any result's artifacts into a folder, whole or
not at all; :meth:`riskmodel.tracking.RunHandle.publish` logs the same list to
the tracking run and writes it, so a command or a pipeline step publishes a
result with one call and knows nothing of its files.
"""

from __future__ import annotations

import gzip
import io
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import atomic_dir, csv_text

ArtifactKind = Literal["table", "figure", "text"]

FIGURE_PNG = {"dpi": 150, "bbox_inches": "tight"}
"""How a figure is rendered when it is logged to a tracking run (and embedded in the appendix)."""


@dataclass(frozen=True)
class Artifact:
    """One file of a result.

    Attributes
    ----------
    name : str
        Path inside the result's folder (``forecast.csv``, ``figures/fan_D1.png``).
    content : DataFrame, matplotlib Figure or str
        A table (written as CSV: ``index=False``, ``\\n`` line ends; gzip
        without a time stamp for ``.csv.gz``; Parquet for ``.parquet``), a
        figure (written as PNG with ``savefig``), or text (UTF-8).
    log_as : str, optional
        The artifact's name in the tracking run (default: its file name); an
        empty string keeps it out of the run.
    savefig : dict
        ``savefig`` keywords of a figure written to the folder (a logged
        figure is rendered with :data:`FIGURE_PNG`).
    """

    name: str
    content: Any
    log_as: str | None = None
    savefig: Mapping[str, Any] = field(default_factory=lambda: {"dpi": 150})

    @property
    def kind(self) -> ArtifactKind:
        if isinstance(self.content, pd.DataFrame):
            return "table"
        if isinstance(self.content, str):
            return "text"
        return "figure"

    @property
    def logged(self) -> bool:
        return self.log_as != ""

    @property
    def log_name(self) -> str:
        return self.log_as or Path(self.name).name


@runtime_checkable
class Result(Protocol):
    """What every family's public entry point returns (see the module notes)."""

    def summary(self) -> str: ...

    def to_frame(self) -> pd.DataFrame: ...

    def artifacts(self) -> list[Artifact]: ...


@runtime_checkable
class IntervalResult(Result, Protocol):
    """A result with intervals."""

    def conf_int(self, level: float = 95) -> pd.DataFrame: ...


def level_fraction(level: float) -> float:
    """An interval level as a fraction: ``95`` and ``0.95`` are both 0.95."""
    lv = float(level)
    frac = lv / 100.0 if lv > 1 else lv
    if not 0 < frac < 1:
        raise InputError(Problem(f"interval level must be between 0 and 100 (percent), got {level}"))
    return frac


def table_bytes(df: pd.DataFrame, name: str) -> bytes:
    """The bytes a table artifact is written as (by its file name's suffix).

    CSV (and ``.csv.gz``) is spreadsheet-safe: a text cell beginning with ``=``,
    ``+``, ``-``, ``@``, a tab or a carriage return that is not a number gets a
    ``'`` in front (:func:`riskmodel.io_safety.spreadsheet_safe`); Parquet keeps the
    values as they are.
    """
    if name.endswith(".parquet"):
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return buf.getvalue()
    # text that a spreadsheet would run as a formula gets a ' in front (io_safety.spreadsheet_safe)
    text = csv_text(df).encode("utf-8")
    if name.endswith(".gz"):
        # no file name or time in the gzip header: the same table gives the same bytes
        return gzip.compress(text, compresslevel=9, mtime=0)
    return text


def artifact_bytes(a: Artifact) -> bytes:
    """The bytes an artifact is written as."""
    if a.kind == "table":
        return table_bytes(a.content, a.name)
    if a.kind == "text":
        return a.content.encode("utf-8")
    if isinstance(a.content, bytes):
        return a.content
    return figure_png(a.content, **a.savefig)


def figure_png(fig: Any, **savefig: Any) -> bytes:  # noqa: ANN401 - a matplotlib Figure
    """A matplotlib figure as PNG bytes (``savefig`` keywords passed on, e.g. ``dpi``)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", **savefig)
    return buf.getvalue()


def write_artifacts(artifacts: Iterable[Artifact], folder: str | os.PathLike[str]) -> list[Path]:
    """Write artifacts into ``folder``, whole or not at all; returns the paths written."""
    arts = list(artifacts)
    names = [a.name for a in arts]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"artifact name(s) repeated: {', '.join(dup)}")
    folder = Path(folder)
    with atomic_dir(folder) as tmp:
        for a in arts:
            p = tmp / a.name
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(artifact_bytes(a))
    return [folder / n for n in names]


__all__ = [
    "FIGURE_PNG",
    "Artifact",
    "IntervalResult",
    "Result",
    "artifact_bytes",
    "figure_png",
    "level_fraction",
    "table_bytes",
    "write_artifacts",
]
