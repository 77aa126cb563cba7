"""The tables of an experiment config every study has: ``[study]``, ``[data]``, ``[execution]``."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from pydantic import Field, field_validator, model_validator

from riskmodel.config import StrictModel
from riskmodel.data.loading import DataSource
from riskmodel.execution.backends import BACKENDS
from riskmodel.execution.chunks import DEFAULT_CHUNK_SIZE
from riskmodel.io_safety import is_database_url, redacted


class StudySection(StrictModel):
    name: str
    description: str = ""
    out: str | None = None
    seed: int = 0
    experiment: str = "riskmodel"


class SqlSourceSection(StrictModel):
    """``[data.source]``: the study's counts from a database (the readable form of a long query).

    ``url`` is a SQLAlchemy URL without riskmodel's ``table``/``query``
    parameters (``postgresql://analyst@db.example.org/city?sslmode=require``);
    exactly one of ``table`` (``NAME`` or ``schema.NAME``) and ``query`` (one
    ``SELECT``) says what to read (:mod:`riskmodel.data.sql`).
    """

    url: str
    table: str | None = None
    query: str | None = None

    @field_validator("url")
    @classmethod
    def _url(cls, v: str) -> str:
        if not is_database_url(v):
            raise ValueError(f"{redacted(v)!r} is not a database URL; e.g. postgresql://USER@HOST/DB or "
                             "sqlite:///PATH.db")
        bad = [k for k in ("table", "query") if re.search(rf"[?&]{k}=", v)]
        if bad:
            raise ValueError(f"give {bad[0]} as its own key of [data.source], not in the URL")
        return v

    @model_validator(mode="after")
    def _one(self) -> SqlSourceSection:
        if bool(self.table) == bool(self.query):
            raise ValueError("[data.source] needs table or query (one of them)")
        return self

    def as_url(self) -> str:
        """The one-string form every reader takes: ``url?table=NAME`` or ``url?query=...`` (encoded)."""
        key, value = ("table", self.table) if self.table else ("query", self.query)
        return f"{self.url}{'&' if '?' in self.url else '?'}{urlencode({key: value})}"


def _no_literal_password(key: str, v: str | None) -> str | None:
    """Refuse a database URL with its password written out: the config is logged to MLflow as it is."""
    if v is not None and is_database_url(v) and redacted(v) != v and "${" not in v.split("@")[0]:
        raise ValueError(f"{redacted(v)}: the password is written in the config, which riskmodel logs to MLflow; "
                         "write it as ${VAR} (expanded from the environment), or leave it out and set "
                         "PGPASSWORD or ~/.pgpass (PostgreSQL)")
    return v


class DataSection(StrictModel):
    counts: str = ""
    """The counts: a file, or a database URL with ?table= or ?query= (or give [data.source])."""
    sql_source: SqlSourceSection | None = Field(None, alias="source")
    """``[data.source]``: the counts from a database table or query (instead of ``counts``)."""
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
    boundaries: str | None = None
    """The areas' polygons for maps: a GeoJSON or shapefile (:func:`riskmodel.data.boundaries.read_boundaries`)."""
    country: str | None = None
    """The data's country (``CN``, ``US``, ...): the default calendar of the forecast models' holiday
    regressors (``[steps.forecast] calendar`` overrides it); None: the panel's own, else ``CN``, said in a note."""

    @field_validator("align")
    @classmethod
    def _align(cls, v: bool, info: Any) -> bool:  # noqa: ANN401 - pydantic's ValidationInfo
        if v and not info.data.get("freq"):
            raise ValueError("align = true needs freq (the periods to count each row in)")
        return v

    @field_validator("counts", "areas", "population", "neighbours", "indicators", "claims", "truth")
    @classmethod
    def _secrets(cls, v: str | None, info: Any) -> str | None:  # noqa: ANN401 - pydantic's ValidationInfo
        return _no_literal_password(info.field_name, v)

    @model_validator(mode="after")
    def _counts_or_source(self) -> DataSection:
        if self.sql_source is not None:
            if self.counts:
                raise ValueError("give the counts once: either counts or a [data.source] table, not both")
            _no_literal_password("source.url", self.sql_source.url)
            self.counts = self.sql_source.as_url()
        elif not self.counts:
            raise ValueError("counts is missing: a counts file or database URL, or a [data.source] table")
        return self

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
