"""Build a composite index from a config: every construction step, recorded.

``build_index(cfg)`` runs, in order and each only when configured:
denominate -> impute -> screen -> treat -> normalise -> weights -> aggregate
-> ranks (with ties), grades, change since the last period. Each stage's
table is kept in :attr:`IndexResult.stages` and what each step did in
:attr:`IndexResult.log`, so a result can be rebuilt with one setting changed
(:func:`rebuild` with a dotted override).

For panels (a ``period`` column), imputation, screening, treatment and
normalisation work within each period unless the step says ``pooled = true``
(pooled normalisation fixes the goalposts across periods so that a change
since the last period reflects the data, not a moved minimum).

Normalisers, weighting methods and aggregators are called through their
registries (:mod:`riskmodel.index.registry`), so a registered method is
built without any change here. The result keeps what the build computed on
the way (:class:`BuildInputs`: the spec with its static weights, the data,
the prepared and normalised values), so the sensitivity analysis of a built
index reuses them instead of building it again.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.data.readers import read_table
from riskmodel.errors import InputError, Problem
from riskmodel.index.ahp import AHPResult
from riskmodel.index.config import (
    AggregateCfg,
    IndexConfig,
    NormaliseCfg,
    TreatCfg,
    parse_config,
)
from riskmodel.index.inputs import IndexData, from_idata, from_long
from riskmodel.index.prepare import denominate, impute, screen
from riskmodel.index.ranks import change_since_last, grades, rank_desc
from riskmodel.index.registry import AGGREGATORS, NORMALISERS, WEIGHTS, context_for, method_options
from riskmodel.index.spec import IndexSpec, effective_weights
from riskmodel.index.treat import treat_column
from riskmodel.index.weights import with_values
from riskmodel.results import Artifact


# --------------------------------------------------------------------------- loading
def load_inputs(cfg: IndexConfig) -> tuple[IndexSpec, IndexData]:
    """Read the spec and the data named in ``cfg.data`` (after ``indicators.drop``)."""
    d = cfg.data
    groups = list(d.groups)
    ic = cfg.steps.impute_cfg()
    if ic and ic.group and ic.group not in groups:
        groups.append(ic.group)
    for alt in cfg.sensitivity.impute:
        if alt.group and alt.group not in groups:
            groups.append(alt.group)
    if d.idata:
        meta, _ = read_table(cfg.path(d.imeta), what="iMeta")
        spec = IndexSpec.from_table(meta, source=str(d.imeta))
        spec = _drop(spec, cfg)
        raw, _ = read_table(cfg.path(d.idata), what="iData")
        data = from_idata(raw, spec, source=str(d.idata), group_columns=groups)
    else:
        sp, _ = read_table(cfg.path(d.spec), what="index spec")
        spec = IndexSpec.from_table(sp, source=str(d.spec))
        spec = _drop(spec, cfg)
        raw, _ = read_table(cfg.path(d.indicators), what="indicators")
        areas = read_table(cfg.path(d.areas), what="areas")[0] if d.areas else None
        data = from_long(raw, spec, source=str(d.indicators), areas=areas, group_columns=groups)
    data = select_period(data, d.period)
    return spec, data


def _drop(spec: IndexSpec, cfg: IndexConfig) -> IndexSpec:
    drop = cfg.indicators.drop
    if not drop:
        return spec
    unknown = [c for c in drop if c not in set(spec.table["code"])]
    if unknown:
        raise InputError(Problem(f"key 'indicators.drop': codes not in the spec: {', '.join(unknown)}"))
    return spec.drop(drop)


def select_period(data: IndexData, period: str) -> IndexData:
    """Keep all periods, the latest, or one given period (a date)."""
    per = data.units["period"]
    if period == "all" or per.isna().all():
        return data
    if period == "latest":
        target = per.max()
    else:
        target = pd.Timestamp(period)
        if not (per == target).any():
            avail = sorted(pd.to_datetime(per.dropna().unique()))
            raise InputError(Problem(
                f"key 'data.period': no data for {period}; periods run {avail[0]:%Y-%m-%d} .. {avail[-1]:%Y-%m-%d}"))
    return data.subset(np.flatnonzero((per == target).to_numpy()))


# --------------------------------------------------------------------------- preparing
@dataclass
class Prepared:
    """Data ready to normalise: units kept, indicator values after treatment."""

    spec: IndexSpec
    data: IndexData
    stages: dict[str, pd.DataFrame] = field(default_factory=dict)
    log: dict[str, Any] = field(default_factory=dict)
    treatment: pd.DataFrame = field(default_factory=pd.DataFrame)


def _stage(data: IndexData) -> pd.DataFrame:
    return pd.concat([data.units[["area_id", "period"]], data.values], axis=1)


def prepare(cfg: IndexConfig, spec: IndexSpec, data: IndexData, *, impute_cfg: Any = "config",
            treat_cfg: Any = "config") -> Prepared:
    """Denominate, impute, screen and treat (each when configured)."""
    steps = cfg.steps
    log: dict[str, Any] = {"units_in": len(data.units), "indicators_in": len(spec.indicators)}
    stages = {"raw": _stage(data)}
    if steps.denominate:
        data, rec = denominate(data, spec)
        log.update(rec)
        stages["denominated"] = _stage(data)
    raw_basis = data
    ic = steps.impute_cfg() if impute_cfg == "config" else impute_cfg
    if ic is not None:
        data, rec = impute(data, ic.method, ic.group)
        log.update(rec)
        stages["imputed"] = _stage(data)
    sc = steps.screen_cfg()
    if sc is not None:
        basis = None
        if sc.basis == "raw":
            basis = raw_basis
        data, rec = screen(data, sc.min_availability, basis, sc.indicator_min_availability)
        log.update(rec)
        if rec["indicators_removed"]:
            spec = spec.drop(rec["indicators_removed"])
        stages["screened"] = _stage(data)
        if len(data.units) == 0:
            raise InputError(Problem(f"screening removed every unit (steps.screen.min_availability = {sc.min_availability})"))
    tc = steps.treat_cfg() if treat_cfg == "config" else treat_cfg
    treatment = pd.DataFrame()
    if tc is not None and tc.method != "none":
        data, treatment = _treat(data, tc)
        log["treated_indicators"] = int((treatment["action"] != "none").sum()) if len(treatment) else 0
        stages["treated"] = _stage(data)
    log["units_out"] = len(data.units)
    return Prepared(spec, data, stages, log, treatment)


def _treat(data: IndexData, tc: TreatCfg) -> tuple[IndexData, pd.DataFrame]:
    vals = data.values.copy()
    blocks = [np.arange(len(vals))] if tc.pooled else data.blocks
    per = data.units["period"]
    recs = []
    arr = vals.to_numpy(float).copy()
    for b in blocks:
        for j, c in enumerate(vals.columns):
            y, rec = treat_column(arr[b, j], c, tc.method, tc.winmax, tc.skew, tc.kurtosis)
            arr[b, j] = y
            row = rec.__dict__.copy()
            if not per.isna().all() and not tc.pooled:
                row["period"] = per.iloc[b[0]]
            recs.append(row)
    out = pd.DataFrame(arr, columns=vals.columns)
    return IndexData(data.units, out, data.denominators, data.source), pd.DataFrame(recs)


def normalised(prep: Prepared, ncfg: NormaliseCfg) -> np.ndarray:
    """Normalise the prepared values (within periods unless pooled) with the registered normaliser ``ncfg.method``."""
    spec = prep.spec
    X = prep.data.values[spec.indicators].to_numpy(float)
    t = spec.table.set_index("code").loc[spec.indicators]
    out = np.empty_like(X)
    blocks = [np.arange(len(X))] if ncfg.pooled else prep.data.blocks
    per = prep.data.units["period"]
    method = NORMALISERS.get(ncfg.method)
    options = ncfg.options()
    directions = t["direction"].to_numpy(float)
    targets = t["target"].to_numpy(float)
    for b in blocks:
        where = "" if per.isna().all() or ncfg.pooled else f"in period {pd.Timestamp(per.iloc[b[0]]):%Y-%m-%d}"
        out[b] = method.target(X[b], directions, **options,
                               **context_for(method, codes=spec.indicators, where=where, targets=targets))
    return out


# --------------------------------------------------------------------------- weights
def level_weights(spec: IndexSpec) -> list[np.ndarray]:
    """Declared weights per level below the top: ``[w(level 1), w(level 2), ...]``."""
    w = spec.weights
    return [w.loc[spec.codes_at(L)].to_numpy(float) for L in range(1, spec.n_levels)]


def memberships(spec: IndexSpec) -> list[np.ndarray]:
    return [spec.membership(L) for L in range(1, spec.n_levels)]


def resolve_static_weights(cfg: IndexConfig, spec: IndexSpec) -> tuple[IndexSpec, list[AHPResult]]:
    """Weights that do not need the data (a static method of the WEIGHTS registry; ``weights.values``
    for a data-driven one), then the ``sum_to`` check."""
    wc = cfg.weights
    method = WEIGHTS.get(wc.method)
    ahp_res: list[AHPResult] = []
    if method.needs.data:
        spec = with_values(cfg, spec)
    else:
        spec, ahp_res = method.target(cfg, spec)
    if wc.sum_to is not None:
        spec.check_weight_sums(wc.sum_to)
    return spec, ahp_res


def aggregators(agg: AggregateCfg, n_steps: int) -> list[tuple[Any, dict[str, Any]]]:
    """``(function, options)`` of the registered aggregator of each of ``n_steps`` aggregation steps."""
    methods = agg.level_methods(n_steps)
    if len(methods) != n_steps:
        raise InputError(Problem(f"key 'steps.aggregate.by_level': {n_steps} aggregation steps need {n_steps} methods, "
                                 f"got {len(methods)}"))
    return [(AGGREGATORS.get(m).target, agg.level_options(m)) for m in methods]


def aggregate_all(
    X: np.ndarray, spec: IndexSpec, agg: AggregateCfg, weights: list[np.ndarray] | None = None,
    data_weights: tuple[str, list[int], dict[str, Any]] | None = None, Xpre: np.ndarray | None = None,
) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Aggregate level by level; optionally compute data-driven weights on the way.

    ``data_weights``: ``(method, levels, options)`` of a data-driven method
    of the WEIGHTS registry, called per parent at those levels (on ``Xpre``,
    the values before normalisation, at level 1; on the scores above).

    Returns (scores per level, weights per level used).
    """
    ws = [w.copy() for w in (weights if weights is not None else level_weights(spec))]
    Ms = memberships(spec)
    steps = aggregators(agg, len(Ms))
    out = [X]
    for L, (M, (fn, opts)) in enumerate(zip(Ms, steps, strict=True), start=1):
        if data_weights and L in data_weights[1]:
            method, _, wopts = data_weights
            weigh = WEIGHTS.get(method).target
            C = Xpre if (L == 1 and Xpre is not None) else out[-1]
            dirs = spec.directions if (L == 1 and Xpre is not None) else np.ones(C.shape[1])
            codes = spec.codes_at(L)
            for q in range(M.shape[1]):
                kids = np.flatnonzero(M[:, q] > 0)
                if len(kids) == 1:
                    ws[L - 1][kids] = 1.0
                    continue
                ws[L - 1][kids] = weigh(C[:, kids], dirs[kids], codes=[codes[k] for k in kids], **wopts)
        out.append(fn(out[-1], ws[L - 1], M, **opts))
    return out, ws


# --------------------------------------------------------------------------- result
@dataclass
class BuildInputs:
    """What a build computed on the way, kept for its sensitivity analysis.

    Attributes
    ----------
    spec : IndexSpec
        The spec with its static weights (before screening): what the build prepared with.
    data : IndexData
        The data as read (after ``indicators.drop`` and ``data.period``).
    prepared : Prepared
        The nominal preparation (imputation, screening, treatment).
    normalised : ndarray (n_units, n_indicators)
        The nominal normalised values.
    """

    spec: IndexSpec
    data: IndexData
    prepared: Prepared
    normalised: np.ndarray


@dataclass
class IndexResult:
    """A built index (the result protocol of :mod:`riskmodel.results`).

    Attributes
    ----------
    scores : DataFrame
        Long: ``area_id, period, level, code, score, rank`` for every level
        (level 1 = normalised indicators; the top's code is the spec's top,
        ``Index`` by convention), plus ``grade`` on the top level when grades
        are configured and ``score_change, rank_change`` for panels.
    weights : DataFrame
        Effective weights of every node (:func:`~riskmodel.index.spec.effective_weights`).
    stages : dict of DataFrame
        The wide data after each construction step.
    log : dict
        What each step did (counts of imputed values, removed units, treated indicators...).
    treatment : DataFrame
        Per indicator (and period): skewness and kurtosis before and after, action.
    ahp : list of AHPResult
    inputs : BuildInputs, optional
        What the build computed on the way (the sensitivity analysis reuses it).
    """

    config: IndexConfig
    spec: IndexSpec
    units: pd.DataFrame
    levels: list[np.ndarray]
    scores: pd.DataFrame
    weights: pd.DataFrame
    stages: dict[str, pd.DataFrame]
    log: dict[str, Any]
    treatment: pd.DataFrame
    ahp: list[AHPResult] = field(default_factory=list)
    inputs: BuildInputs | None = field(default=None, repr=False)
    weight_warnings: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(WARNING_COLUMNS)))

    def warnings(self) -> list[str]:
        """One line per data-driven weight above :data:`DOMINANT_SHARE` of its parent (English)."""
        return [weight_warning_text(r, "en") for r in self.weight_warnings.itertuples()]

    @property
    def index(self) -> pd.DataFrame:
        """The top level only: ``area_id, period, score, rank`` (and grade, changes)."""
        return self.scores.loc[self.scores["code"] == self.spec.top].reset_index(drop=True)

    def summary(self) -> str:
        """What was built, what each step did, AHP consistency, the top 5 and bottom 3 (text)."""
        idx = self.index
        last = idx if idx["period"].isna().all() else idx.loc[idx["period"] == idx["period"].max()]
        last = last.sort_values("rank")
        lines = [
            f"Index '{self.spec.top}': {len(self.spec.indicators)} indicators in {self.spec.n_levels} levels, "
            f"{last['area_id'].nunique()} units" + ("" if idx["period"].isna().all() else f", {idx['period'].nunique()} periods"),
            "steps: " + "; ".join(f"{k} = {v}" for k, v in self.log.items() if not isinstance(v, list | dict)),
        ]
        for a in self.ahp:
            lines.append(a.summary())
        lines.extend(self.warnings())
        lines.append("top 5: " + ", ".join(f"{r.area_id} {r.score:.2f} ({int(r.rank)})" for r in last.head(5).itertuples()))
        lines.append("bottom 3: " + ", ".join(f"{r.area_id} {r.score:.2f} ({int(r.rank)})" for r in last.tail(3).itertuples()))
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """Scores and ranks of every node at every level, long (a copy of :attr:`scores`)."""
        return self.scores.copy()

    def scores_for_output(self) -> pd.DataFrame:
        """The scores table in the CLI contract's column order: ``area_id, level, code, score, rank``,
        then the extras (``period`` as ``YYYY-MM-DD`` for panels, grade, changes)."""
        df = self.scores.copy()
        first = ["area_id", "level", "code", "score", "rank"]
        extra = [c for c in df.columns if c not in first]
        if df["period"].isna().all():
            extra.remove("period")
        else:
            df["period"] = pd.to_datetime(df["period"]).dt.strftime("%Y-%m-%d")
        return df[first + extra]

    def artifacts(self) -> list[Artifact]:
        """The files of a build: ``scores.csv`` and ``weights.csv`` (also logged to a tracking run),
        ``steps.csv`` (what each step did), ``treatment.csv`` (when indicators were treated) and
        ``ahp.csv`` / ``ahp_experts.csv`` (with AHP weights); the last ones are not logged."""
        arts = [
            Artifact("scores.csv", self.scores_for_output()),
            Artifact("weights.csv", self.weights),
            Artifact("steps.csv", pd.DataFrame([{"key": k, "value": str(v)} for k, v in self.log.items()]), log_as=""),
        ]
        if len(self.treatment):
            arts.append(Artifact("treatment.csv", self.treatment, log_as=""))
        if len(self.weight_warnings):
            # logged: the study's appendix shows them beside the index ranks
            arts.append(Artifact("weight_warnings.csv", self.weight_warnings))
        if self.ahp:
            rows, experts = [], []
            for a in self.ahp:
                rv = a.revisit or {}
                revisit = (f"{rv['expert']}: ({rv['row']}, {rv['col']}) = {rv['value']:g}, implied {rv['implied']:.3g}, "
                           f"nearest Saaty value {rv['saaty']:g}") if rv else ""
                for c, w in zip(a.codes, a.weights, strict=True):
                    rows.append({"parent": a.parent, "code": c, "weight": w, "lambda_max": a.lambda_max, "ci": a.ci,
                                 "cr": a.cr, "consistent": a.consistent, "revisit": revisit})
                experts.append(a.experts.assign(parent=a.parent))
            arts.append(Artifact("ahp.csv", pd.DataFrame(rows), log_as=""))
            arts.append(Artifact("ahp_experts.csv", pd.concat(experts, ignore_index=True), log_as=""))
        return arts

    def metrics(self) -> dict[str, float]:
        """Counts, AHP consistency ratios, and each area's latest top-level score and rank.

        Logged per area (``score.AREA``, ``rank.AREA``) so that ``riskmodel compare RUN_A RUN_B``
        of two builds (two weight schemes) shows every area's score and rank difference.
        """
        idx = self.index
        latest = idx.loc[idx["period"] == idx["period"].max()] if idx["period"].notna().any() else idx
        metrics: dict[str, float] = {"units": float(latest["area_id"].nunique()),
                                     "periods": float(idx["period"].nunique()),
                                     "indicators": float(len(self.spec.indicators))}
        for a in self.ahp:
            metrics[f"ahp.cr.{a.parent}"] = a.cr
        for r in latest.itertuples():
            metrics[f"score.{r.area_id}"] = r.score
            metrics[f"rank.{r.area_id}"] = float(r.rank)
        return metrics


def build_index(cfg: IndexConfig, spec: IndexSpec | None = None, data: IndexData | None = None) -> IndexResult:
    """Build the index described by ``cfg`` (inputs read from ``cfg.data`` unless given)."""
    if spec is None or data is None:
        spec, data = load_inputs(cfg)
    spec, ahp_res = resolve_static_weights(cfg, spec)
    static_spec = spec
    prep = prepare(cfg, spec, data)
    spec = prep.spec
    X = normalised(prep, cfg.steps.normalise)
    wc = cfg.weights
    wmethod = WEIGHTS.get(wc.method)
    dw = (wc.method, wc.levels, method_options(wmethod, wc)) if wmethod.needs.data else None
    Xpre = prep.data.values[spec.indicators].to_numpy(float)
    levels, ws = aggregate_all(X, spec, cfg.steps.aggregate, None, dw, Xpre)
    node_w = pd.Series(np.concatenate(ws), index=spec.node_codes())
    spec_used = spec.with_weights(node_w)
    scores = scores_table(prep.data, spec_used, levels, cfg)
    eff = effective_weights(spec_used)
    log = dict(prep.log)
    log["normalise"] = cfg.steps.normalise.label()
    log["aggregate"] = cfg.steps.aggregate.label()
    log["weights"] = wc.method
    warn = dominant_weights(spec, ws, wc.method, Xpre, levels=wc.levels) if dw else None
    nan_top = int(np.isnan(levels[-1]).sum())
    if nan_top:
        log["units_without_index_score"] = nan_top
    stages = dict(prep.stages)
    stages["normalised"] = pd.concat([prep.data.units[["area_id", "period"]],
                                      pd.DataFrame(X, columns=spec.indicators)], axis=1)
    res = IndexResult(cfg, spec_used, prep.data.units, levels, scores, eff, stages, log, prep.treatment, ahp_res,
                      BuildInputs(static_spec, data, prep, X))
    if warn is not None:
        res.weight_warnings = warn
    return res


DOMINANT_SHARE = 0.5
"""A data-driven weight above this share of its parent (among three or more siblings) is warned about:
one indicator then decides the parent's score, often a sparse one whose few non-zero values look
"informative" to entropy or CRITIC."""

WARNING_COLUMNS = ("code", "parent", "level", "weight", "siblings", "method", "zero_share")


def dominant_weights(spec: IndexSpec, ws: list[np.ndarray], method: str, Xpre: np.ndarray | None = None,
                     levels: list[int] | None = None) -> pd.DataFrame:
    """The data-driven weights above :data:`DOMINANT_SHARE` of their parent, among >= 3 siblings.

    Parameters
    ----------
    ws : list of ndarray
        Weights per level (``ws[L - 1]`` for the codes of level L), as :func:`aggregate_all` returns.
    Xpre : ndarray (n_units, n_indicators), optional
        Indicator values before normalisation: gives the share of zeros of a level-1 indicator.
    levels : list of int, optional
        The levels whose weights the method computed (all when None); the others were given.

    Returns
    -------
    DataFrame
        :data:`WARNING_COLUMNS`; ``weight`` is the share of the parent (0-1), ``zero_share`` the
        share of the indicator's values that are 0 (NaN above level 1).
    """
    rows = []
    for L, w in enumerate(ws, start=1):
        if levels is not None and L not in levels:
            continue
        codes = spec.codes_at(L)
        M = spec.membership(L)
        parents = spec.codes_at(L + 1)
        for q in range(M.shape[1]):
            kids = np.flatnonzero(M[:, q] > 0)
            if len(kids) < 3:
                continue
            tot = float(np.sum(w[kids]))
            for k in kids:
                share = float(w[k]) / tot if tot > 0 else np.nan
                if share > DOMINANT_SHARE:
                    zeros = np.nan
                    if L == 1 and Xpre is not None:
                        col = Xpre[:, k]
                        col = col[~np.isnan(col)]
                        zeros = float(np.mean(col == 0)) if col.size else np.nan
                    rows.append({"code": codes[k], "parent": parents[q], "level": L, "weight": share,
                                 "siblings": len(kids), "method": method, "zero_share": zeros})
    return pd.DataFrame(rows, columns=list(WARNING_COLUMNS))


def weight_warning_text(r: Any, lang: str = "en") -> str:  # noqa: ANN401 - a row of weight_warnings
    """One warning line for a row of :attr:`IndexResult.weight_warnings`, in ``lang`` (zh or en)."""
    zeros = getattr(r, "zero_share", np.nan)
    has_zeros = zeros is not None and np.isfinite(zeros) and zeros > 0
    if lang == "zh":
        z = f"（其数值中{zeros:.0%}为0）" if has_zeros else ""
        return (f"注意：{r.method}权重把{r.parent}的{r.weight:.0%}（{r.weight:.2f}）放在一个指标{r.code}上{z}，"
                f"超过{r.parent}下{int(r.siblings)}个指标总权重的一半，该指标几乎单独决定{r.parent}的得分。")
    z = f"; {zeros:.0%} of its values are 0" if has_zeros else ""
    return (f"warning: {r.method} weights put {r.weight:.2f} of '{r.parent}' on one indicator, '{r.code}'{z}: "
            f"more than half the weight of the {int(r.siblings)} indicators under '{r.parent}', so it alone nearly decides that score")


def scores_table(data: IndexData, spec: IndexSpec, levels: list[np.ndarray], cfg: IndexConfig) -> pd.DataFrame:
    """Long table of scores and ranks (within each period) at every level."""
    units = data.units
    blocks = data.blocks
    parts = []
    for L, S in enumerate(levels, start=1):
        R = np.full_like(S, np.nan)
        for b in blocks:
            R[b] = rank_desc(S[b], cfg.ranks.ties, axis=0)
        codes = spec.codes_at(L)
        n, k = S.shape
        parts.append(pd.DataFrame({
            "area_id": np.repeat(units["area_id"].to_numpy(), k),
            "period": np.repeat(units["period"].to_numpy(), k),
            "level": L,
            "code": np.tile(codes, n),
            "score": S.ravel(),
            "rank": R.ravel(),
        }))
    df = pd.concat(parts, ignore_index=True)
    top = df["code"] == spec.top
    if cfg.ranks.grades is not None:
        g = cfg.ranks.grades
        df["grade"] = None
        df.loc[top, "grade"] = grades(df.loc[top, "score"].to_numpy(), g.thresholds, g.labels)
    if not units["period"].isna().all() and units["period"].nunique() > 1:
        df = change_since_last(df)
    df["rank"] = df["rank"].astype("Int64")
    return df


def rebuild(result_or_cfg: IndexResult | IndexConfig, **overrides: Any) -> IndexResult:
    """Rebuild with settings changed, e.g. ``rebuild(res, **{"steps.normalise.method": "zscore"})``."""
    cfg = result_or_cfg.config if isinstance(result_or_cfg, IndexResult) else result_or_cfg
    raw = copy.deepcopy(cfg.model_dump(exclude_none=True))
    for key, val in overrides.items():
        cur = raw
        parts = key.split(".")
        for p in parts[:-1]:
            if not isinstance(cur.get(p), dict):
                cur[p] = {}
            cur = cur[p]
        cur[parts[-1]] = val
    new = parse_config(raw, source="rebuild", base_dir=cfg.base_dir)
    return build_index(new)
