"""The tables of an experiment config every study has: ``[study]``, ``[data]``, ``[execution]``."""

from __future__ import annotations

from typing import Any

from pydantic import field_validator, model_validator

from riskmodel.config import StrictModel
from riskmodel.data.loading import DataSource
from riskmodel.execution.backends import BACKENDS
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE


class StudySection(StrictModel):
    name: str
    description: str = ""
    out: str | None = None
    seed: int = 0
    experiment: str = "riskmodel"


class DataSection(StrictModel):
    counts: str
    format: str = "counts"
    freq: str | None = None
    align: bool = False
    """Count each row in the ``freq`` period that contains its date (``--align-dates``); needs ``freq``."""
    columns: dict[str, str] = {}
    """The counts file's headers -> riskmodel's columns (``[data.columns]``, as ``--columns``)."""
    areas: str | None = None
    population: str | None = None
    neighbours: str | None = None
    indicators: str | None = None
    claims: str | None = None
    events: str | None = None
    truth: str | None = None

    @field_validator("align")
    @classmethod
    def _align(cls, v: bool, info: Any) -> bool:  # noqa: ANN401 - pydantic's ValidationInfo
        if v and not info.data.get("freq"):
            raise ValueError("align = true needs freq (the periods to count each row in)")
        return v

    @field_validator("events")
    @classmethod
    def _events(cls, v: str | None) -> str | None:
        # accepted and ignored before; a study reads counts, so say how to make them
        if v is not None:
            raise ValueError("a study reads counts, not event records: count the events with `riskmodel grid` "
                             "(or IncidentPanel.from_events) and give the counts file as data.counts")
        return v

    def source(self) -> DataSource:
        """Where the counts come from (for :func:`riskmodel.data.load_source`)."""
        return DataSource(counts=self.counts, format=self.format, freq=self.freq, areas=self.areas,
                          population=self.population, neighbours=self.neighbours, align=self.align,
                          columns=tuple(self.columns.items()))

class ExecutionSection(StrictModel):
    """``[execution]``: see :mod:`riskmodel.execution` and ``docs/dask.md``."""

    backend: str = "local"
    workers: int | None = None
    scheduler: str | None = None
    chunk_size: int = DEFAULT_CHUNK_SIZE

    @field_validator("backend")
    @classmethod
    def _backend(cls, v: str) -> str:
        if v not in BACKENDS:
            raise ValueError(f"unknown value {v!r}; valid: {', '.join(BACKENDS)}")
        return v

    @field_validator("workers", "chunk_size")
    @classmethod
    def _positive(cls, v: int | None) -> int | None:
        if v is not None and v < 1:
            raise ValueError(f"must be >= 1, got {v}")
        return v

    @model_validator(mode="after")
    def _combination(self) -> ExecutionSection:
        if self.scheduler and self.backend != "dask":
            raise ValueError("scheduler needs backend = \"dask\"")
        if self.scheduler and self.workers is not None:
            raise ValueError("give either workers (start a local Dask cluster) or scheduler (join a running one), not both")
        return self

    def params(self) -> dict[str, str]:
        """For a run's params: ``execution.<key>`` of every key set."""
        return {f"execution.{k}": str(v) for k, v in self.model_dump().items() if v is not None}


__all__ = ["DataSection", "ExecutionSection", "StudySection"]
