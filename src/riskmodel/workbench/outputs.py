"""A study's published results as the appendix reads them: from its output folder, with overlays.

:class:`FolderOutputs` reads the folder ``riskmodel run`` wrote (``<out>/<step>/<file>``) through the
appendix's :class:`~riskmodel.report.appendix.StudyOutputs` protocol, under the names the steps log
(``alerts_warnings.csv`` is ``alerts/warnings.csv`` in the folder). :class:`Overlay` puts the
workbench's current state over any study outputs (a folder or a tracked run): the index scores and
rank intervals under the saved weights, the follow-up and supervision tables.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from riskmodel.report.appendix import StudyOutputs


@dataclass
class FolderOutputs:
    """A study's output folder (``riskmodel run``), read like a tracked run (see the module notes)."""

    folder: Path
    name: str
    config: dict
    run_id: str = "not tracked"
    tags: Mapping[str, str] = field(default_factory=dict)

    @property
    def steps(self) -> Mapping[str, Path]:
        return {p.name: p for p in sorted(self.folder.iterdir()) if p.is_dir()}

    def _path(self, step: str, name: str) -> Path | None:
        d = self.folder / step
        for cand in (d / name, d / "tables" / name, d / name.removeprefix(f"{step}_")):
            if cand.is_file():
                return cand
        return None

    def table(self, step: str, name: str) -> pd.DataFrame | None:
        p = self._path(step, name)
        return None if p is None else pd.read_csv(p)

    def images(self, step: str, pattern: str = "*.png", limit: int | None = None) -> list[bytes]:
        d = self.folder / step
        if not d.is_dir():
            return []
        return [p.read_bytes() for p in sorted(d.rglob(pattern))[:limit]]


@dataclass
class Overlay:
    """Study outputs with some tables replaced or added: ``tables[(step, name)]`` wins."""

    base: StudyOutputs
    tables: dict[tuple[str, str], pd.DataFrame] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return self.base.run_id

    @property
    def name(self) -> str:
        return self.base.name

    @property
    def tags(self) -> Mapping[str, str]:
        return self.base.tags

    @property
    def config(self) -> dict:
        return self.base.config

    @property
    def steps(self) -> Mapping[str, Any]:
        extra = {s: None for s, _ in self.tables if s not in self.base.steps}
        return {**self.base.steps, **extra}

    def table(self, step: str, name: str) -> pd.DataFrame | None:
        if (step, name) in self.tables:
            return self.tables[(step, name)].copy()
        return self.base.table(step, name)

    def images(self, step: str, pattern: str = "*.png", limit: int | None = None) -> list[bytes]:
        return self.base.images(step, pattern, limit)


def read_config(path: Path) -> dict:
    """The experiment TOML as a dict."""
    return tomllib.loads(path.read_text(encoding="utf-8"))
