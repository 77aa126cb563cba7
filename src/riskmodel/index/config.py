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
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    PrivateAttr,
    ValidationError,
    field_validator,
    model_validator,
)

from riskmodel.errors import ConfigError, Problem, problems_from_validation
from riskmodel.index.aggregate import AGGREGATE_METHODS
from riskmodel.index.ahp import GROUP_METHODS, PRIORITY_METHODS
from riskmodel.index.normalise import NORMALISE_METHODS
from riskmodel.index.prepare import IMPUTE_METHODS
from riskmodel.index.ranks import TIE_METHODS
from riskmodel.index.treat import TREAT_METHODS
from riskmodel.index.weights import WEIGHT_METHODS


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


def _one_of(valid: tuple[str, ...]):  # noqa: ANN202 - pydantic validator factory
    def check(v: str) -> str:
        if v not in valid:
            raise ValueError(f"unknown value {v!r}; valid: {', '.join(valid)}")
        return v

    return check


class DataCfg(Strict):
    idata: str | None = None
    imeta: str | None = None
    indicators: str | None = None
    spec: str | None = None
    areas: str | None = None
    groups: list[str] = []
    period: str = "all"

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


class ImputeCfg(Strict):
    method: str = "group_mean"
    group: str | None = None
    _m = field_validator("method")(_one_of(IMPUTE_METHODS))


class ScreenCfg(Strict):
    min_availability: float = 0.0
    indicator_min_availability: float = 0.0
    basis: str = "current"
    _b = field_validator("basis")(_one_of(("current", "raw")))


class TreatCfg(Strict):
    method: str = "winsorise"
    winmax: int = 5
    skew: float = 2.0
    kurtosis: float = 3.5
    pooled: bool = False
    _m = field_validator("method")(_one_of(TREAT_METHODS))


class NormaliseCfg(Strict):
    method: str = "minmax"
    range: tuple[float, float] = (0.0, 100.0)
    mean_sd: tuple[float, float] = (0.0, 1.0)
    scale: float = 100.0
    cap: bool = True
    pooled: bool = False
    _m = field_validator("method")(_one_of(NORMALISE_METHODS))

    def label(self) -> str:
        if self.method == "minmax":
            return f"minmax[{self.range[0]:g},{self.range[1]:g}]"
        if self.method == "zscore":
            return f"zscore({self.mean_sd[0]:g},{self.mean_sd[1]:g})"
        return self.method


class AggregateCfg(Strict):
    method: str = "arithmetic"
    p: float = 1.0
    by_level: list[str] | None = None
    _m = field_validator("method")(_one_of(AGGREGATE_METHODS))

    @field_validator("by_level")
    @classmethod
    def _bl(cls, v: list[str] | None) -> list[str] | None:
        for x in v or []:
            _one_of(AGGREGATE_METHODS)(x)
        return v

    def label(self) -> str:
        return f"power(p={self.p:g})" if self.method == "power" else self.method


class StepsCfg(Strict):
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


class AHPMatrixCfg(Strict):
    parent: str
    codes: list[str]
    matrix: list[list[float]]
    expert: str = "expert 1"
    weight: float = 1.0


class WeightsCfg(Strict):
    method: str = "meta"
    values: dict[str, float] = {}
    sum_to: float | None = None
    levels: list[int] = [1]
    basis: str = "minmax"
    ahp_method: str = "eigenvector"
    ahp_group: str = "judgements"
    ahp: list[AHPMatrixCfg] = []
    ahp_file: str | None = None
    _m = field_validator("method")(_one_of(WEIGHT_METHODS))
    _a = field_validator("ahp_method")(_one_of(PRIORITY_METHODS))
    _g = field_validator("ahp_group")(_one_of(GROUP_METHODS))
    _b = field_validator("basis")(_one_of(("minmax", "raw")))


class IndicatorsCfg(Strict):
    drop: list[str] = []


class GradesCfg(Strict):
    thresholds: list[float] = [80.0, 65.0, 50.0, 35.0]
    labels: list[str] = ["A 平安", "B 较平安", "C 一般", "D 较不平安", "E 不平安"]


class RanksCfg(Strict):
    ties: str = "min"
    grades: GradesCfg | None = None
    _t = field_validator("ties")(_one_of(TIE_METHODS))


class SensitivityCfg(Strict):
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


class IndexConfig(Strict):
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
        """Resolve a path: absolute, or relative to the working directory, else to base_dir."""
        q = Path(p)
        if q.is_absolute() or q.exists() or not self.base_dir:
            return q
        for b in (Path(self.base_dir), Path(self.base_dir).parent):
            if (b / q).exists():
                return b / q
        return q


def pydantic_problems(err: ValidationError, source: str, where: str = "") -> list[Problem]:
    """Turn pydantic errors into Problems naming the full key (see riskmodel.errors)."""
    return problems_from_validation(err, source, where)


def parse_config(raw: dict[str, Any], source: str = "config", base_dir: str | os.PathLike[str] | None = None) -> IndexConfig:
    """Validate a config dict; ConfigError naming every wrong key."""
    try:
        cfg = IndexConfig(**raw)
    except ValidationError as e:
        raise ConfigError(pydantic_problems(e, source)) from None
    cfg._base_dir = str(base_dir) if base_dir else None
    return cfg


def load_config(path: str | os.PathLike[str]) -> IndexConfig:
    """Read and validate an index config TOML."""
    p = Path(path)
    if not p.exists():
        raise ConfigError(Problem("index config does not exist", source=str(p)))
    try:
        raw = tomllib.loads(p.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ConfigError(Problem(f"not valid TOML: {exc}", source=str(p))) from None
    return parse_config(raw, source=str(p), base_dir=p.resolve().parent)
