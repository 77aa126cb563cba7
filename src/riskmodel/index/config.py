"""The index config (TOML): data, construction steps, weights, ranks, sensitivity.

Shape (every key optional except the data)::

    [data]
    idata = "iData.csv"            # COINr iData, with imeta; or:
    imeta = "iMeta.csv"
    indicators = "long.csv"        # area_id, period, indicator, value
    spec = "spec.csv"              # indicator, parent, level, direction, weight
    areas = "areas.csv"            # optional: names and group columns (e.g. parent_id)
    period = "latest"              # panels: "all" (default), "latest" or a date

    [steps]
    denominate = true
    impute = { method = "group_mean", group = "EurAsia_group" }
    screen = { min_availability = 0.9 }
    treat = { method = "winsorise", winmax = 5, skew = 2.0, kurtosis = 3.5 }
    normalise = { method = "minmax", range = [0, 100] }
    aggregate = { method = "arithmetic" }

    [weights]
    method = "meta"                # equal, expert, ahp, entropy, critic, pca
    [indicators]
    drop = []
    [ranks]
    ties = "min"
    [sensitivity]
    weights_noise = 0.25
    normalise = ["minmax", "zscore"]
    aggregate = ["arithmetic", "geometric"]

Unknown keys and unknown method names are refused with the key's full name
and the valid values (:func:`load_config`).

Method names (normalisers, weighting methods, aggregators) are validated
against the registries of :mod:`riskmodel.index.registry`; a table naming a
method also takes the options that method declares.
"""

from __future__ import annotations

import math
import os
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
from pydantic import ConfigDict, PrivateAttr, field_validator, model_validator

from riskmodel.config import StrictModel, parse, read_toml, registry_choice
from riskmodel.index.ahp import GROUP_METHODS, PRIORITY_METHODS
from riskmodel.index.prepare import IMPUTE_METHODS
from riskmodel.index.ranks import TIE_METHODS
from riskmodel.index.registry import AGGREGATORS, NORMALISERS, WEIGHTS, describe, method_options
from riskmodel.index.treat import TREAT_METHODS
from riskmodel.io_safety import is_database_url
from riskmodel.registry import Registry


def _one_of(valid: tuple[str, ...]):  # noqa: ANN202 - pydantic validator factory
    def check(v: str) -> str:
        if v not in valid:
            raise ValueError(f"unknown value {v!r}; valid: {', '.join(valid)}")
        return v

    return check


def _typed(value: Any, kind: type, key: str) -> Any:  # noqa: ANN401 - a TOML value
    """A declared option's TOML value checked against its type (an int is a float; a list a tuple)."""
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind is float and number:
        return float(value)
    if kind is tuple and isinstance(value, list | tuple):
        return tuple(value)
    ok = {float: False, tuple: False, int: number and isinstance(value, int), bool: isinstance(value, bool),
          str: isinstance(value, str)}.get(kind, True)
    if not ok:
        raise ValueError(f"option '{key}' must be {getattr(kind, '__name__', kind)}, got {value!r}")
    return value


def _period_choice(v: str) -> str:
    """``all``, ``latest`` or a date in 1900-2199 (a pydantic validator: ValueError otherwise)."""
    if v in ("all", "latest"):
        return v
    try:
        t = pd.Timestamp(v)
    except (ValueError, TypeError, OverflowError):
        t = pd.NaT
    if pd.isna(t) or not 1900 <= t.year <= 2199:
        raise ValueError(f"must be 'all', 'latest' or a date (YYYY-MM-DD in 1900-2199), got {v!r}")
    return v


class MethodTable(StrictModel):
    """A config table that names a method of a registry (``method = "..."``).

    Besides its fields it accepts the options the chosen method declares in
    its ``register(...)`` call (so a new method's new option needs no field
    here); any other key is refused, naming the valid ones.
    """

    model_config = ConfigDict(extra="allow", arbitrary_types_allowed=True)
    _registry: ClassVar[Registry[Any]]

    @model_validator(mode="after")
    def _declared_options(self) -> MethodTable:
        extra = self.model_extra or {}
        if not extra:
            return self
        spec = self._registry.get(self.method)  # type: ignore[attr-defined]
        bad = [k for k in extra if spec.option(k) is None]
        if bad:
            valid = ", ".join(dict.fromkeys([*type(self).model_fields, *spec.option_names]))
            raise ValueError(f"unknown key(s) {', '.join(bad)}; valid with {self._registry.family} {spec.name!r}: {valid}")
        for k, v in extra.items():
            o = spec.option(k)
            setattr(self, k, o.check(_typed(v, o.type, k), spec.name))  # type: ignore[union-attr]
        return self

    def options(self) -> dict[str, Any]:
        """The chosen method's options (given, or the declared defaults)."""
        return method_options(self._registry.get(self.method), self)  # type: ignore[attr-defined]

    def label(self) -> str:
        """The method with its options, as logs and sensitivity tables show it (``minmax[0,100]``)."""
        return describe(self._registry, self.method, self.options())  # type: ignore[attr-defined]


class DataCfg(StrictModel):
    idata: str | None = None
    imeta: str | None = None
    indicators: str | None = None
    spec: str | None = None
    areas: str | None = None
    groups: list[str] = []
    period: str = "all"

    _p = field_validator("period")(_period_choice)

    @model_validator(mode="after")
    def _pairs(self) -> DataCfg:
        if self.idata and self.indicators:
            raise ValueError("give either idata + imeta or indicators + spec, not both")
        if self.idata and not self.imeta:
            raise ValueError("idata needs imeta (the indicator metadata)")
        if self.indicators and not self.spec:
            raise ValueError("indicators needs spec (indicator, parent, level, direction, weight)")
        if not (self.idata or self.indicators):
            raise ValueError("give idata + imeta or indicators + spec")
        return self


class ImputeCfg(StrictModel):
    method: str = "group_mean"
    group: str | None = None
    _m = field_validator("method")(_one_of(IMPUTE_METHODS))


class ScreenCfg(StrictModel):
    min_availability: float = 0.0
    indicator_min_availability: float = 0.0
    basis: str = "current"
    _b = field_validator("basis")(_one_of(("current", "raw")))


class TreatCfg(StrictModel):
    method: str = "winsorise"
    winmax: int = 5
    skew: float = 2.0
    kurtosis: float = 3.5
    pooled: bool = False
    _m = field_validator("method")(_one_of(TREAT_METHODS))


class NormaliseCfg(MethodTable):
    """``[steps] normalise``: a method of :data:`~riskmodel.index.registry.NORMALISERS` and its options."""

    _registry = NORMALISERS
    method: str = "minmax"
    range: tuple[float, float] = (0.0, 100.0)
    mean_sd: tuple[float, float] = (0.0, 1.0)
    scale: float = 100.0
    cap: bool = True
    pooled: bool = False
    _m = field_validator("method")(registry_choice(NORMALISERS))

    @field_validator("range")
    @classmethod
    def _range(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(math.isfinite(x) for x in v) or not v[0] < v[1]:
            raise ValueError(f"must be [low, high] with finite low < high, got [{v[0]:g}, {v[1]:g}] "
                             "(every unit would get the same score)" if v[0] == v[1] else
                             f"must be [low, high] with finite low < high, got [{v[0]:g}, {v[1]:g}]")
        return v

    @field_validator("mean_sd")
    @classmethod
    def _mean_sd(cls, v: tuple[float, float]) -> tuple[float, float]:
        if not all(math.isfinite(x) for x in v) or not v[1] > 0:
            raise ValueError(f"must be [mean, sd] with finite values and sd > 0, got [{v[0]:g}, {v[1]:g}]")
        return v

    @field_validator("scale")
    @classmethod
    def _scale(cls, v: float) -> float:
        if not (math.isfinite(v) and v > 0):
            raise ValueError(f"must be a finite number > 0, got {v:g}")
        return v


class AggregateCfg(MethodTable):
    """``[steps] aggregate``: a method of :data:`~riskmodel.index.registry.AGGREGATORS` (or one per level)."""

    _registry = AGGREGATORS
    method: str = "arithmetic"
    p: float = 1.0
    by_level: list[str] | None = None
    _m = field_validator("method")(registry_choice(AGGREGATORS))

    @field_validator("by_level")
    @classmethod
    def _bl(cls, v: list[str] | None) -> list[str] | None:
        for x in v or []:
            registry_choice(AGGREGATORS)(x)
        return v

    def level_methods(self, n_steps: int) -> list[str]:
        """The method of each of ``n_steps`` aggregation steps (``by_level``, else ``method`` throughout)."""
        return self.by_level or [self.method] * n_steps

    def level_options(self, name: str) -> dict[str, Any]:
        """The options of aggregator ``name`` read from this table (``p`` for ``power``)."""
        return method_options(AGGREGATORS.get(name), self)


class StepsCfg(StrictModel):
    denominate: bool = False
    impute: ImputeCfg | bool = False
    screen: ScreenCfg | bool = False
    treat: TreatCfg | bool = False
    normalise: NormaliseCfg = NormaliseCfg()
    aggregate: AggregateCfg = AggregateCfg()

    def impute_cfg(self) -> ImputeCfg | None:
        return ImputeCfg() if self.impute is True else (self.impute or None)

    def screen_cfg(self) -> ScreenCfg | None:
        return ScreenCfg() if self.screen is True else (self.screen or None)

    def treat_cfg(self) -> TreatCfg | None:
        return TreatCfg() if self.treat is True else (self.treat or None)


class AHPMatrixCfg(StrictModel):
    parent: str
    codes: list[str]
    matrix: list[list[float]]
    expert: str = "expert 1"
    weight: float = 1.0


class WeightsCfg(MethodTable):
    """``[weights]``: a method of :data:`~riskmodel.index.registry.WEIGHTS` and its options.

    ``values`` (code -> weight) and ``sum_to`` apply to every method;
    ``levels`` are the levels whose weights a data-driven method computes.
    """

    _registry = WEIGHTS
    method: str = "meta"
    values: dict[str, float] = {}
    sum_to: float | None = None
    levels: list[int] = [1]
    basis: str = "minmax"
    ahp_method: str = "eigenvector"
    ahp_group: str = "judgements"
    ahp: list[AHPMatrixCfg] = []
    ahp_file: str | None = None
    _m = field_validator("method")(registry_choice(WEIGHTS))
    _a = field_validator("ahp_method")(_one_of(PRIORITY_METHODS))
    _g = field_validator("ahp_group")(_one_of(GROUP_METHODS))
    _b = field_validator("basis")(_one_of(("minmax", "raw")))


class IndicatorsCfg(StrictModel):
    drop: list[str] = []


class GradesCfg(StrictModel):
    thresholds: list[float] = [80.0, 65.0, 50.0, 35.0]
    labels: list[str] = ["A 平安", "B 较平安", "C 一般", "D 较不平安", "E 不平安"]


class RanksCfg(StrictModel):
    ties: str = "min"
    grades: GradesCfg | None = None
    _t = field_validator("ties")(_one_of(TIE_METHODS))


class SensitivityCfg(StrictModel):
    n: int = 1000
    weights_noise: float = 0.25
    weights_dist: str = "uniform"
    dirichlet_concentration: float = 50.0
    weights_levels: list[int] | None = None
    normalise: list[str | NormaliseCfg] = []
    aggregate: list[str | AggregateCfg] = []
    impute: list[str | ImputeCfg] = []
    treat: list[str | TreatCfg] = []
    sobol_base: int = 256
    sobol_weights: str = "levels"
    bootstrap: int = 200
    confidence: float = 0.95
    period: str = "latest"
    chunk: int = 256
    _p = field_validator("period")(_period_choice)
    _d = field_validator("weights_dist")(_one_of(("uniform", "dirichlet")))
    _sw = field_validator("sobol_weights")(_one_of(("levels", "each")))

    @field_validator("normalise")
    @classmethod
    def _n(cls, v: list) -> list:
        return [NormaliseCfg(method=x) if isinstance(x, str) else x for x in v]

    @field_validator("aggregate")
    @classmethod
    def _a(cls, v: list) -> list:
        return [AggregateCfg(method=x) if isinstance(x, str) else x for x in v]

    @field_validator("impute")
    @classmethod
    def _i(cls, v: list) -> list:
        return [ImputeCfg(method=x) if isinstance(x, str) else x for x in v]

    @field_validator("treat")
    @classmethod
    def _t(cls, v: list) -> list:
        return [TreatCfg(method=x) if isinstance(x, str) else x for x in v]

    @field_validator("sobol_base")
    @classmethod
    def _pow2(cls, v: int) -> int:
        if v < 8 or v & (v - 1):
            raise ValueError("must be a power of 2 and >= 8 (Sobol' sequences)")
        return v


class IndexConfig(StrictModel):
    data: DataCfg
    steps: StepsCfg = StepsCfg()
    weights: WeightsCfg = WeightsCfg()
    indicators: IndicatorsCfg = IndicatorsCfg()
    ranks: RanksCfg = RanksCfg()
    sensitivity: SensitivityCfg = SensitivityCfg()
    # where relative paths are resolved (set by the loader, not a config key)
    _base_dir: str | None = PrivateAttr(default=None)

    @property
    def base_dir(self) -> str | None:
        return self._base_dir

    def path(self, p: str) -> Path:
        """Resolve a path: absolute, or relative to the working directory, else to base_dir.

        A database URL (:func:`riskmodel.io_safety.is_database_url`) is returned as it is."""
        if is_database_url(p):
            return p  # type: ignore[return-value] # text: Path() would fold its '//'
        q = Path(p)
        if q.is_absolute() or q.exists() or not self.base_dir:
            return q
        for b in (Path(self.base_dir), Path(self.base_dir).parent):
            if (b / q).exists():
                return b / q
        return q


def parse_config(raw: dict[str, Any], source: str = "config", base_dir: str | os.PathLike[str] | None = None) -> IndexConfig:
    """Validate a config dict; ConfigError naming every wrong key."""
    cfg = parse(IndexConfig, raw, source)
    cfg._base_dir = str(base_dir) if base_dir else None
    return cfg


def load_config(path: str | os.PathLike[str]) -> IndexConfig:
    """Read and validate an index config TOML."""
    p = Path(path)
    return parse_config(read_toml(p, what="index config"), source=str(p), base_dir=p.resolve().parent)
