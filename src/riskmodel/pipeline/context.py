"""What a step sees: :class:`StudyContext` (the config, the data, the output folder, earlier results)."""

from __future__ import annotations

import functools
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.data.boundaries import AreaBoundaries, read_boundaries
from riskmodel.data.loading import load_source
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.portland import portland_boundaries
from riskmodel.execution.backends import Backend, Progress, make_backend
from riskmodel.io_safety import is_database_url
from riskmodel.pipeline.sections import DataSection, ExecutionSection, StudySection
from riskmodel.tracking import RunHandle, Tracker


@dataclass
class StudyContext:
    """What a step sees: the config, the data, the output folder, earlier results.

    ``results[name]``: what an earlier step returned (result objects, in
    memory); ``runs[name]``: its run record (the tables, figures and texts it
    published); ``study_run``: the study's parent run; ``to_register``: models
    to register in the MLflow registry after the study succeeded.
    """

    config_path: Path
    study: StudySection
    data: DataSection
    root: Path
    out_tmp: Path
    tracker: Tracker
    results: dict[str, Any] = field(default_factory=dict)
    runs: dict[str, RunHandle] = field(default_factory=dict)
    study_run: RunHandle | None = None
    _panel: IncidentPanel | None = None
    execution: ExecutionSection = field(default_factory=ExecutionSection)
    _backend: Any = None
    to_register: list[tuple[str, str]] = field(default_factory=list)
    """(model URI, registered name) of models logged by steps: :func:`run_experiment`
    registers them once the study's outputs are in place, never before."""
    progress: Progress | None = None
    """The running step's ``progress(done, total)`` (set by :func:`run_experiment` when its
    bar is shown, else None): a step gives it to its long loop (fits, series, builds)."""

    @property
    def backend(self) -> Backend:
        """The study's execution backend, started on first use (closed by
        :meth:`close`, which :func:`run_experiment` calls at the end)."""
        if self._backend is None:
            ex = self.execution
            self._backend = make_backend(ex.backend, ex.workers, ex.scheduler)
        return self._backend

    @property
    def chunk_size(self) -> int:
        return self.execution.chunk_size

    def close(self) -> None:
        """Close the execution backend if a step started one."""
        if self._backend is not None:
            self._backend.close()
            self._backend = None

    def path(self, p: str | os.PathLike[str]) -> Path:
        """Resolve a path from the config (see the module notes); a database URL is returned as it is."""
        if is_database_url(p):
            return p  # type: ignore[return-value] # text: Path() would fold its '//' (riskmodel.data.sql)
        p = Path(p)
        if p.is_absolute() or p.exists():
            return p
        return self.root / p

    @property
    def seed(self) -> int:
        return self.study.seed

    @functools.cached_property
    def categories(self) -> pd.DataFrame | None:
        """The ``categories.csv`` beside the study's counts (``category, name_zh, name_en``), or None."""
        if is_database_url(self.data.counts):
            return None
        f = self.path(self.data.counts).parent / "categories.csv"
        return pd.read_csv(f, dtype=str) if f.is_file() else None

    @property
    def panel(self) -> IncidentPanel:
        """The study's panel at the data's own frequency (validated once)."""
        if self._panel is None:
            self._panel = load_source(self.data.source(), self.path)
            self._note_added_zeros(self._panel)
        return self._panel

    def _note_added_zeros(self, panel: IncidentPanel) -> None:
        """Say how many zeros riskmodel added to the counts (stderr, and the study run's tags and metrics),
        and the loader's notes (rows moved by ``align``, an encoding read)."""
        for line in panel.notes(str(self.data.counts)):
            print(line, file=sys.stderr)
        az = panel.added_zeros
        if not az.total:
            return
        note = az.note(str(self.data.counts))
        if self.study_run is not None:
            self.study_run.set_tags({"data.added_zeros": note})
            self.study_run.log_metrics({"data.added_zeros": az.total, "data.added_zeros_series": len(az.by_series)})

    @functools.cached_property
    def boundaries(self) -> AreaBoundaries | None:
        """The areas' polygons (``[data] boundaries``), validated against the study's areas, or None.

        Read once, in metres (:func:`riskmodel.data.boundaries.read_boundaries`); the notes
        (reprojection, areas without a polygon) are printed to stderr.
        """
        if not self.data.boundaries:
            return None
        if self.data.format == "portland":  # the shapefile's DISTRICT 510 is the panel's area D510
            b = portland_boundaries(self.path(self.data.boundaries))
        else:
            b = read_boundaries(self.path(self.data.boundaries), areas=self.panel.hierarchy.table)
        for line in b.notes:
            print(line if line.startswith("note:") else f"note: {line}", file=sys.stderr)
        if self.study_run is not None:
            self.study_run.set_tags({"data.boundaries": f"{b.source} ({len(b)} areas, {b.crs})"})
        return b

    def panel_at(self, freq: str) -> IncidentPanel:
        """The panel resampled to ``freq`` (cached)."""
        return self.panel.resample(freq)

    def step_dir(self, name: str) -> Path:
        d = self.out_tmp / name
        d.mkdir(parents=True, exist_ok=True)
        return d


__all__ = ["StudyContext"]
