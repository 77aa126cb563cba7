"""Data sets that ship with riskmodel: the simulated sample city.

>>> from riskmodel.datasets import load_sample_city
>>> city = load_sample_city()            # monthly counts per street and category
>>> city.panel
IncidentPanel(freq='M', series=225, areas=25, categories=9, ...)

The sample city is **simulated**: a Zhuhai-like city of 25 streets and towns
in 5 districts, 9 categories, daily counts 2014-2021, with the reported
claims built in and the true effects stored apart (``city.truth``). It is
made by :func:`riskmodel.data.sample_city.generate`, which gives the same
bytes for the same seed, so it is not stored in the package: the first call
generates it (about 10 s) into a cache folder (``$RISKMODEL_DATA``, else
``$XDG_CACHE_HOME/riskmodel``, else ``~/.cache/riskmodel``) and later calls
read it from there. Pass ``folder=`` to read a copy elsewhere (the
checkout's ``data/sample`` is one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from riskmodel import __version__
from riskmodel.data.loading import load_panel
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.sample_city import generate
from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import atomic_dir

SAMPLE_SEED = 20201029
"""The seed of the sample city in the repository (``data/sample``)."""

COUNTS_FILES = {"D": "counts_daily.csv.gz", "W": "counts_weekly.csv", "M": "counts_monthly.csv"}


def cache_dir() -> Path:
    """Where generated data sets are kept (see the module notes)."""
    if os.environ.get("RISKMODEL_DATA"):
        return Path(os.environ["RISKMODEL_DATA"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "riskmodel"


@dataclass
class SampleCity:
    """The sample city's tables (see :func:`load_sample_city`).

    Attributes
    ----------
    panel : IncidentPanel
        Counts per street and category at the frequency asked for, with the
        areas hierarchy, population by year and neighbours.
    folder : Path
        Where the files are (``counts_*``, ``areas.csv``, ``claims.csv``,
        ``indicators_monthly.csv``, ``events_grid.csv.gz``, ``truth/``...).
    categories : DataFrame
        ``category, name_zh, name_en``.
    claims : DataFrame
        The reported claims (read them with :func:`riskmodel.impact.read_claims`).
    indicators : DataFrame
        Monthly index indicators per street (``area_id, period, indicator, value``).
    truth : dict of DataFrame
        The simulation's truth: ``spikes``, ``claim_truth``, ``effects``.
    """

    panel: IncidentPanel
    folder: Path
    categories: pd.DataFrame
    claims: pd.DataFrame
    indicators: pd.DataFrame
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)

    def path(self, name: str) -> Path:
        """A file of the data set, e.g. ``city.path("events_grid.csv.gz")``."""
        return self.folder / name

    def category_names(self, lang: str = "zh") -> dict[str, str]:
        col = "name_zh" if lang == "zh" else "name_en"
        return dict(zip(self.categories["category"], self.categories[col], strict=True))


def sample_city_folder(seed: int = SAMPLE_SEED, folder: str | os.PathLike[str] | None = None) -> Path:
    """The folder of the sample city's files, generated there first if it is not."""
    if folder is not None:
        d = Path(folder)
        if not (d / "areas.csv").exists():
            raise InputError(Problem("not a sample-city folder (no areas.csv)", source=str(d)))
        return d
    d = cache_dir() / f"sample_city-{seed}-{__version__}"
    if not (d / "areas.csv").exists():
        with atomic_dir(d) as tmp:
            generate(tmp, seed=seed)
    return d


def load_sample_city(freq: str = "M", *, seed: int = SAMPLE_SEED,
                     folder: str | os.PathLike[str] | None = None) -> SampleCity:
    """The simulated sample city (see the module notes).

    Parameters
    ----------
    freq : {'D', 'W', 'M', 'Y'}
        Frequency of the counts panel (the files hold D, W and M; Y sums the
        monthly file to calendar years, 2014-2021).
    seed : int
        The generator's seed (the repository's city by default).
    folder : path, optional
        Read this copy instead of the cache (it is not generated).
    """
    f = str(freq).upper()
    if f not in COUNTS_FILES and f != "Y":
        raise InputError(Problem(f"unknown frequency {freq!r}; valid: {', '.join(COUNTS_FILES)}, Y"))
    d = sample_city_folder(seed, folder)
    panel = load_panel(d / COUNTS_FILES.get(f, COUNTS_FILES["M"]), freq=f, areas=d / "areas.csv", population=d / "population.csv",
                       neighbours=d / "neighbours.csv")
    truth = {p.stem: pd.read_csv(p) for p in sorted((d / "truth").glob("*.csv")) if p.stem != "expected_monthly"}
    return SampleCity(
        panel=panel, folder=d, categories=pd.read_csv(d / "categories.csv"), claims=pd.read_csv(d / "claims.csv"),
        indicators=pd.read_csv(d / "indicators_monthly.csv"), truth=truth,
    )


__all__ = ["SAMPLE_SEED", "SampleCity", "cache_dir", "load_sample_city", "sample_city_folder"]
