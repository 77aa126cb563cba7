"""Data sets that ship with riskmodel: the simulated sample city, and the Portland calls when present.

>>> from riskmodel.datasets import load_sample_city
>>> city = load_sample_city()            # monthly counts per street and category
>>> city.panel
IncidentPanel(freq='M', series=225, areas=25, categories=9, ...)
>>> print(city.DESCR)                    # the data dictionary (English and Chinese)

As in ``sklearn.datasets`` and ``statsmodels.datasets``, a loader returns a
Bunch-like object (attributes, also readable as ``city["panel"]``, with
``keys()``) whose ``DESCR`` describes the data.

**The sample city is SIMULATED** (模拟数据): a Zhuhai-like city of 25 streets
and towns in 5 districts, 9 categories, daily counts 2014-2021, with the
reported claims built in and the true effects stored apart (``city.truth``).
It is made by :func:`riskmodel.data.sample_city.generate`, which gives the
same bytes for the same seed (``riskmodel sample``; the checkout's
``data/sample``).

What is installed with the package (``riskmodel/datasets_data/sample_city``,
read with :mod:`importlib.resources`) and what is generated:

- **installed**: the areas, the streets' simulated boundaries
  (``boundaries.geojson``, :attr:`SampleCity.boundaries`), population,
  neighbours, categories, claims and truth tables (``claim_truth``, ``effects``, ``spikes``) as they are, and the
  monthly and weekly counts and the monthly indicators gzip-compressed
  (``counts_monthly.csv.gz``...: 0.6 MB in all instead of 5.3 MB). Each file
  decompresses to the bytes of the file of that name that ``riskmodel sample``
  writes for :data:`SAMPLE_SEED` (``tests/data/test_datasets.py`` checks it
  against ``data/sample``, which ``tests/data/test_sample_city.py``
  regenerates). :func:`pack_sample_city` writes this folder.
- **generated on demand**: the daily counts (``freq="D"``), the grid events
  (``events_grid.csv.gz``), the grid cells, the noise-free expected counts,
  and any other seed: the first call that needs one generates the whole city
  (about 10 s) into :func:`get_data_home` and later calls read it there.

The Portland calls for service (:func:`load_portland_calls`) are real data
that riskmodel does not redistribute: they are read from a folder of the NIJ
files when one is present.
"""

from __future__ import annotations

import functools
import gzip
import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field, fields
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

import pandas as pd

from riskmodel import __version__
from riskmodel.data.boundaries import AreaBoundaries, read_boundaries
from riskmodel.data.loading import load_panel
from riskmodel.data.panel import IncidentPanel
from riskmodel.data.portland import CATEGORY_FILES, load_portland
from riskmodel.data.portland import default_dir as portland_default_dir
from riskmodel.data.sample_city import generate
from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import atomic_dir

SAMPLE_SEED = 20201029
"""The seed of the sample city in the repository (``data/sample``) and in the package."""

COUNTS_FILES = {"D": "counts_daily.csv.gz", "W": "counts_weekly.csv", "M": "counts_monthly.csv"}

PACKAGED_AS_IS = ("areas.csv", "boundaries.geojson", "categories.csv", "claims.csv", "neighbours.csv", "population.csv",
                  "truth/claim_truth.csv", "truth/effects.csv", "truth/spikes.csv")
"""Files of the sample city installed as ``riskmodel sample`` writes them."""
PACKAGED_GZIP = ("counts_monthly.csv", "counts_weekly.csv", "indicators_monthly.csv")
"""Files installed gzip-compressed (``NAME.gz`` decompresses to the bytes of ``NAME``)."""
TRUTH_TABLES = ("claim_truth", "effects", "spikes")
"""The truth tables :func:`load_sample_city` reads (``expected_monthly`` is a file on demand)."""

PORTLAND_ENV = "RISKMODEL_PORTLAND"
"""Environment variable naming the folder of the Portland reference data."""
PORTLAND_FILES = ("Portland_Police_Districts.shp", "Portland_Police_Districts.shx", "Portland_Police_Districts.dbf",
                  *CATEGORY_FILES.values())
"""The files :func:`load_portland_calls` needs in its folder."""

_DATA_PACKAGE = "riskmodel"
_DATA_DIR = ("datasets_data", "sample_city")


def cache_dir() -> Path:
    """Where generated data sets are kept (:func:`get_data_home` without creating it)."""
    if os.environ.get("RISKMODEL_DATA"):
        return Path(os.environ["RISKMODEL_DATA"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "riskmodel"


def get_data_home(data_home: str | os.PathLike[str] | None = None) -> Path:
    """The folder of generated data sets, created if absent (as ``sklearn.datasets.get_data_home``).

    Parameters
    ----------
    data_home : path, optional
        Use this folder. Default: ``$RISKMODEL_DATA``, else
        ``$XDG_CACHE_HOME/riskmodel``, else ``~/.cache/riskmodel``.
    """
    d = Path(data_home).expanduser() if data_home is not None else cache_dir()
    d.mkdir(parents=True, exist_ok=True)
    return d


def _packaged() -> Traversable:
    t = resources.files(_DATA_PACKAGE)
    for part in _DATA_DIR:
        t = t.joinpath(part)
    return t


def _packaged_file(name: str) -> Traversable:
    t = _packaged()
    for part in name.split("/"):
        t = t.joinpath(part)
    return t


def _installed_names() -> list[str]:
    """The files of the sample city installed with the package (names inside ``datasets_data/sample_city``)."""
    return [*PACKAGED_AS_IS, *(n + ".gz" for n in PACKAGED_GZIP)]


def _descr(name: str) -> str:
    """The data dictionary ``datasets_data/descr/NAME.md`` (English and Chinese)."""
    return resources.files(_DATA_PACKAGE).joinpath(_DATA_DIR[0]).joinpath("descr").joinpath(f"{name}.md").read_text(
        encoding="utf-8")


class _BunchLike:
    """``obj["name"]`` and ``keys()`` over a dataclass's fields, as sklearn's ``Bunch``."""

    def keys(self) -> list[str]:
        return [f.name for f in fields(self) if f.repr]  # type: ignore[arg-type]

    def __getitem__(self, key: str) -> object:
        if key not in self.keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())


@dataclass
class SampleCity(_BunchLike):
    """The sample city's tables (see :func:`load_sample_city`).

    Attributes
    ----------
    panel : IncidentPanel
        Counts per street and category at the frequency asked for, with the
        areas hierarchy, population by year and neighbours.
    folder : Path
        Where the files read came from: the installed package's
        ``datasets_data/sample_city``, the generated copy in
        :func:`get_data_home`, or the folder given. Use :meth:`path` for a
        file by its name in ``data/sample``.
    categories : DataFrame
        ``category, name_zh, name_en``, ...
    claims : DataFrame
        The reported claims (read them with :func:`riskmodel.impact.read_claims`).
    indicators : DataFrame
        Monthly index indicators per street (``area_id, period, indicator, value``).
    truth : dict of DataFrame
        The simulation's truth: ``spikes``, ``claim_truth``, ``effects``.
    DESCR : str
        The data dictionary, in English and Chinese (SIMULATED data).
    frame : DataFrame or None
        With ``as_frame=True``: the counts as one typed table (``area_id``,
        ``category``, ``period`` datetime64 period start, ``count`` int64).
    seed : int
        The generator's seed.
    """

    panel: IncidentPanel
    folder: Path
    categories: pd.DataFrame
    claims: pd.DataFrame
    indicators: pd.DataFrame
    truth: dict[str, pd.DataFrame] = field(default_factory=dict)
    DESCR: str = ""
    frame: pd.DataFrame | None = None
    seed: int = field(default=SAMPLE_SEED, repr=False)
    on_demand: bool = field(default=False, repr=False)
    """Whether :meth:`path` may generate the files :attr:`folder` lacks (not for a folder given)."""
    data_home: Path | None = field(default=None, repr=False)

    def path(self, name: str) -> Path:
        """A file of the data set by its name in ``data/sample``, e.g. ``city.path("events_grid.csv.gz")``.

        A file that is not in :attr:`folder` under that name (from the
        package: the daily counts, the events, the grid cells, the
        uncompressed counts...) is taken from the generated copy in
        :func:`get_data_home`, generating it first if needed (about 10 s, once).
        """
        p = self.folder / name
        if p.exists() or not self.on_demand:
            return p
        return sample_city_folder(self.seed, data_home=self.data_home) / name

    @functools.cached_property
    def boundaries(self) -> AreaBoundaries:
        """The streets' and towns' polygons (SIMULATED, Zhuhai-like), in metres (UTM zone 49N).

        Read from ``boundaries.geojson`` (WGS84 lon/lat) and joined to the areas table
        (:func:`riskmodel.data.boundaries.read_boundaries`); ``simulated`` is True, so
        every map says so. Districts: ``city.boundaries.dissolve(city.panel.areas, "district")``.
        """
        return read_boundaries(self.path("boundaries.geojson"), areas=self.panel.hierarchy.table)

    def category_names(self, lang: str = "zh") -> dict[str, str]:
        """``category -> name`` in Chinese (``"zh"``) or English (``"en"``)."""
        col = "name_zh" if lang == "zh" else "name_en"
        return dict(zip(self.categories["category"], self.categories[col], strict=True))


@dataclass
class PortlandCalls(_BunchLike):
    """The Portland calls for service (see :func:`load_portland_calls`).

    Attributes
    ----------
    panel : IncidentPanel
        Counts per police district and category (``burglary``,
        ``vehicle_theft``), zero-filled, with the hierarchy district ->
        precinct -> city; ``panel.meta`` has ``n_events`` and ``n_unmatched``.
    folder : Path
        The folder the files were read from.
    DESCR : str
        What the data are (REAL calls, NIJ challenge), in English and Chinese.
    frame : DataFrame or None
        With ``as_frame=True``: the counts as one typed table.
    """

    panel: IncidentPanel
    folder: Path
    DESCR: str = ""
    frame: pd.DataFrame | None = None


def sample_city_folder(seed: int = SAMPLE_SEED, folder: str | os.PathLike[str] | None = None, *,
                       data_home: str | os.PathLike[str] | None = None) -> Path:
    """The folder of the whole sample city's files (every file of ``data/sample``), generated first if it is not.

    Parameters
    ----------
    seed : int
        The generator's seed.
    folder : path, optional
        A copy to use as it is (refused when it has no ``areas.csv``).
    data_home : path, optional
        Where generated copies are kept (:func:`get_data_home`).
    """
    if folder is not None:
        d = Path(folder)
        if not (d / "areas.csv").exists():
            raise InputError(Problem("not a sample-city folder (no areas.csv)", source=str(d)))
        return d
    d = get_data_home(data_home) / f"sample_city-{seed}-{__version__}"
    if not (d / "areas.csv").exists():
        with atomic_dir(d) as tmp:
            generate(tmp, seed=seed)
    return d


def _check_freq(freq: str) -> str:
    f = str(freq).upper()
    if f not in COUNTS_FILES and f != "Y":
        raise InputError(Problem(f"unknown frequency {freq!r}; valid: {', '.join(COUNTS_FILES)}, Y", column="freq"))
    return f


def load_sample_city(freq: str = "M", *, as_frame: bool = False, seed: int = SAMPLE_SEED,
                     folder: str | os.PathLike[str] | None = None,
                     data_home: str | os.PathLike[str] | None = None) -> SampleCity:
    """The simulated sample city (see the module notes).

    Parameters
    ----------
    freq : {'D', 'W', 'M', 'Y'}
        Frequency of the counts panel. M and W (and Y, the monthly counts
        summed to calendar years, 2014-2021) are read from the installed
        package; D is generated on first use (about 10 s, once).
    as_frame : bool
        Also give the counts as one typed DataFrame (``frame``).
    seed : int
        The generator's seed (the repository's city by default; another seed
        is generated on first use).
    folder : path, optional
        Read this copy (a folder laid out like ``data/sample``) instead; it is
        not generated.
    data_home : path, optional
        Where generated copies are kept (:func:`get_data_home`).

    Returns
    -------
    SampleCity
        Bunch-like: ``panel``, ``categories``, ``claims``, ``indicators``,
        ``truth``, ``DESCR``, ``frame``, ``folder``; ``boundaries`` (the
        streets' simulated polygons) is read on first use.
    """
    f = _check_freq(freq)
    counts_name = COUNTS_FILES.get(f, COUNTS_FILES["M"])
    pkg = _packaged()
    from_package = folder is None and seed == SAMPLE_SEED and counts_name in PACKAGED_GZIP
    lacking = [n for n in _installed_names() if not _packaged_file(n).is_file()] if from_package else []
    if lacking:  # an install without the package data (a build that left them out): generate, and say so
        from_package = False
    with ExitStack() as stack:
        if from_package:
            def get(name: str) -> Path:
                packed = name + ".gz" if name in PACKAGED_GZIP else name
                return stack.enter_context(resources.as_file(_packaged_file(packed)))

            # a zipped install has no folder to show: files it lacks come from the generated copy
            where = pkg if isinstance(pkg, Path) else cache_dir() if data_home is None else Path(data_home)
        else:
            d = sample_city_folder(seed, folder, data_home=data_home)

            def get(name: str) -> Path:
                return d / name

            where = d
        panel = load_panel(get(counts_name), freq=f, areas=get("areas.csv"), population=get("population.csv"),
                           neighbours=get("neighbours.csv"))
        truth = {t: pd.read_csv(get(f"truth/{t}.csv")) for t in TRUTH_TABLES if get(f"truth/{t}.csv").exists()}
        if lacking:
            panel.meta["notes"] = [f"note: riskmodel's installed sample city lacks {', '.join(lacking)}; "
                                   f"generated it into {where} instead (the same bytes)",
                                   *panel.meta.get("notes", [])]
        city = SampleCity(
            panel=panel, folder=where, categories=pd.read_csv(get("categories.csv")),
            claims=pd.read_csv(get("claims.csv")), indicators=pd.read_csv(get("indicators_monthly.csv")), truth=truth,
            DESCR=_descr("sample_city"), frame=panel.counts.copy() if as_frame else None, seed=seed,
            on_demand=folder is None, data_home=None if data_home is None else Path(data_home),
        )
    return city


def portland_folder(folder: str | os.PathLike[str] | None = None) -> Path:
    """The folder of the Portland reference data: ``folder``, else ``$RISKMODEL_PORTLAND``, else the checkout's.

    Raises
    ------
    InputError
        The folder, or a file of it, is absent: the message says which files
        to put where.
    """
    if folder is not None:
        d, how = Path(folder), "the folder given"
    elif os.environ.get(PORTLAND_ENV, "").strip():
        d, how = Path(os.environ[PORTLAND_ENV].strip()), f"${PORTLAND_ENV}"
    else:
        d, how = portland_default_dir(), "shared/reference/portland beside the checkout"
    missing = [n for n in PORTLAND_FILES if not (d / n).is_file()]
    if missing:
        what = "does not exist" if not d.is_dir() else f"lacks {', '.join(missing)}"
        raise InputError(Problem(
            f"the Portland reference data are not installed with riskmodel (real records of the NIJ Real-Time Crime "
            f"Forecasting Challenge, not ours to redistribute), and {d} ({how}) {what}. Put the challenge's files "
            f"({', '.join(PORTLAND_FILES)}, with Portland_Police_Districts.prj) in one folder and give it as "
            f"folder=..., or set {PORTLAND_ENV}=FOLDER, or place it at shared/reference/portland beside the checkout",
            source=str(d)))
    return d


def load_portland_calls(freq: str = "M", *, as_frame: bool = False, folder: str | os.PathLike[str] | None = None,
                        categories: tuple[str, ...] = ("burglary", "vehicle_theft")) -> PortlandCalls:
    """The Portland calls for service per police district (REAL data; read from a local folder).

    Parameters
    ----------
    freq : {'D', 'W', 'M'}
        Frequency of the counts (calls counted by their occurrence date).
    as_frame : bool
        Also give the counts as one typed DataFrame (``frame``).
    folder : path, optional
        The folder of the NIJ files (:data:`PORTLAND_FILES`); default
        ``$RISKMODEL_PORTLAND``, else ``shared/reference/portland`` beside the
        checkout.
    categories : tuple of str
        Of ``burglary`` and ``vehicle_theft``.

    Raises
    ------
    InputError
        The folder or one of its files is absent (:func:`portland_folder`).
    """
    d = portland_folder(folder)
    panel = load_portland(d, freq=freq, categories=categories)
    return PortlandCalls(panel=panel, folder=d, DESCR=_descr("portland"), frame=panel.counts.copy() if as_frame else None)


def pack_sample_city(source: str | os.PathLike[str], out: str | os.PathLike[str]) -> list[Path]:
    """Write the installed part of the sample city from a generated folder (run by a maintainer, not at install).

    ``.venv/bin/python -c "from riskmodel.datasets import pack_sample_city as p;
    p('data/sample', 'src/riskmodel/datasets_data/sample_city')"`` after
    ``riskmodel sample``. :data:`PACKAGED_AS_IS` are copied byte for byte;
    :data:`PACKAGED_GZIP` are gzip-compressed (level 9, no name, time 0, so
    the same input gives the same bytes). Other files in ``out`` are kept.

    Returns
    -------
    list of Path
        The files written.
    """
    src, dst = Path(source), Path(out)
    for name in (*PACKAGED_AS_IS, *PACKAGED_GZIP):
        if not (src / name).is_file():
            raise InputError(Problem(f"not a sample-city folder: no {name}", source=str(src)))
    names = _installed_names()
    with atomic_dir(dst) as tmp:
        for name in PACKAGED_AS_IS:
            (tmp / name).parent.mkdir(parents=True, exist_ok=True)
            (tmp / name).write_bytes((src / name).read_bytes())
        for name in PACKAGED_GZIP:
            (tmp / (name + ".gz")).write_bytes(gzip.compress((src / name).read_bytes(), compresslevel=9, mtime=0))
    return [dst / n for n in names]


__all__ = ["PACKAGED_AS_IS", "PACKAGED_GZIP", "PORTLAND_ENV", "PORTLAND_FILES", "SAMPLE_SEED", "PortlandCalls",
           "SampleCity", "cache_dir", "get_data_home", "load_portland_calls", "load_sample_city", "pack_sample_city",
           "portland_folder", "sample_city_folder"]
