"""Steps ``index`` and ``sensitivity``: the Ping'an index of the study, and how sure its ranks are.

``[steps.index]`` keys:

* ``config`` -- the index config TOML (default ``experiments/pingan_sample.toml``,
  the sample city's monthly Ping'an index);
* ``use_study_data`` -- take the indicators and areas from the study's ``[data]``
  (``indicators``, ``areas``) instead of the index config's own (default true);
* ``schemes`` -- optional weight-calibration study: a list of index configs (paths,
  or tables ``{ name = "...", config = "..." }``; a path's scheme name is its file
  stem), each built like ``config`` (same ``use_study_data``). When given, the step
  also writes ``scheme_ranks.csv`` (``area_id, name, scheme, score, rank`` for the
  latest period), ``scheme_rank_changes.csv`` (per pair of schemes: max and mean
  absolute rank shift, Spearman correlation), ``scheme_weights.csv`` (effective
  weights) and the bump chart ``scheme_ranks.png``, and logs them
  (:mod:`riskmodel.index.calibration`). Empty by default: the step is unchanged.

``[steps.sensitivity]`` keys: ``n`` (Monte Carlo replications, default 1000),
``sobol_base`` (power of 2, default from the index config), ``remove_levels``
(levels for the remove-one table, default [1, 2]). The seed is the study's.

The index step hands its built index to the sensitivity step in memory
(``ctx.results["index"]["result"]``, an :class:`~riskmodel.index.IndexResult`);
the sensitivity analysis reuses that build instead of building it again. Both
publish their results' artifacts (:meth:`~riskmodel.index.IndexResult.artifacts`,
:meth:`~riskmodel.index.SensitivityReport.artifacts`): written to the step's
folder and logged to its run under the same names.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from pydantic import field_validator

from riskmodel.config import StrictModel
from riskmodel.data.readers import read_table
from riskmodel.index.build import IndexResult, build_index
from riskmodel.index.calibration import bump_chart, compare_schemes
from riskmodel.index.config import IndexConfig, load_config
from riskmodel.index.outputs import analyse_sensitivity
from riskmodel.pipeline.context import StudyContext
from riskmodel.pipeline.steps.base import register_step
from riskmodel.results import Artifact
from riskmodel.tracking import RunHandle

PINGAN_TITLE = "平安指数排名不确定性 Ping'an index rank uncertainty"


class SchemeEntry(StrictModel):
    name: str
    config: str


class IndexStepConfig(StrictModel):
    config: str = "experiments/pingan_sample.toml"
    use_study_data: bool = True
    schemes: list[str | SchemeEntry] = []

    @field_validator("schemes")
    @classmethod
    def _unique(cls, v: list) -> list:
        names = [scheme_name(x) for x in v]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"scheme names must be unique; repeated: {', '.join(dup)} "
                             "(give { name = ..., config = ... } tables to name them)")
        if len(v) == 1:
            raise ValueError("give at least two weight schemes to compare (or none)")
        return v


def scheme_name(entry: str | SchemeEntry) -> str:
    """A scheme's name: the table's ``name``, else the config file's stem."""
    return entry.name if isinstance(entry, SchemeEntry) else Path(entry).stem


class SensitivityStepConfig(StrictModel):
    n: int = 1000
    sobol_base: int | None = None
    remove_levels: list[int] = [1, 2]


def index_config(ctx: StudyContext, cfg: IndexStepConfig, path: str | None = None) -> IndexConfig:
    ic = load_config(ctx.path(path or cfg.config))
    if cfg.use_study_data and ctx.data.indicators and ic.data.indicators:
        upd = {"indicators": str(ctx.path(ctx.data.indicators))}
        if ctx.data.areas:
            upd["areas"] = str(ctx.path(ctx.data.areas))
        ic = ic.model_copy(update={"data": ic.data.model_copy(update=upd)})
    if ic.data.spec:
        ic = ic.model_copy(update={"data": ic.data.model_copy(update={"spec": str(ic.path(ic.data.spec) if ic.path(ic.data.spec).exists() else ctx.path(ic.data.spec))})})
    return ic


@register_step("index", config=IndexStepConfig)
def index_step(ctx: StudyContext, cfg: IndexStepConfig, run: RunHandle) -> dict[str, Any]:
    """Build the Ping'an index per street and period; log scores, ranks, grades, weights."""
    ic = index_config(ctx, cfg)
    res = build_index(ic)
    out = ctx.step_dir("index")
    arts = res.artifacts()
    run.publish(arts, out)
    run.log_metrics(res.metrics())
    summary = res.summary()
    run.log_text(summary, "index_summary.txt")
    out_res: dict[str, Any] = {"result": res, "config": ic, "scores": arts[0].content, "summary": summary}
    if cfg.schemes:
        out_res["schemes"] = _compare_schemes(ctx, cfg, run, out)
    return out_res


def _compare_schemes(ctx: StudyContext, cfg: IndexStepConfig, run: RunHandle, out: Path):  # noqa: ANN202
    """Build every weight scheme, compare ranks, write and log the tables and the bump chart."""
    results = {}
    for entry in cfg.schemes:
        path = entry.config if isinstance(entry, SchemeEntry) else entry
        results[scheme_name(entry)] = build_index(index_config(ctx, cfg, path))
    names = None
    first = next(iter(results.values()))
    if first.config.data.areas:
        areas, _ = read_table(first.config.path(first.config.data.areas), what="areas")
        if {"area_id", "name"} <= set(areas.columns):
            names = dict(zip(areas["area_id"].astype(str), areas["name"].astype(str), strict=True))
    cmp = compare_schemes(results, names)
    ranks = cmp.ranks.copy()
    per = "" if cmp.period is None else f"{cmp.period:%Y-%m}"
    if per:
        ranks.insert(1, "period", f"{cmp.period:%Y-%m-%d}")
    fig = bump_chart(cmp.ranks, title="平安指数：权重方案排名比较 Ping'an index ranks by weight scheme",
                     period=per, source=str(first.config.data.indicators or first.config.data.idata))
    arts = [Artifact("scheme_ranks.csv", ranks), Artifact("scheme_rank_changes.csv", cmp.changes),
            Artifact("scheme_weights.csv", cmp.weights), Artifact("scheme_ranks.png", fig)]
    run.publish(arts, out)
    import matplotlib.pyplot as plt  # here, not at the top: a study's start must not import matplotlib
    plt.close(fig)
    metrics = {}
    for r in cmp.changes.itertuples():
        key = re.sub(r"[^A-Za-z0-9_.\-]", "_", f"{r.scheme_a}__{r.scheme_b}")  # MLflow-safe metric name
        metrics[f"schemes.max_shift.{key}"] = r.max_abs_rank_shift
        metrics[f"schemes.mean_shift.{key}"] = r.mean_abs_rank_shift
        metrics[f"schemes.spearman.{key}"] = r.spearman
    run.log_metrics(metrics)
    run.log_text(cmp.summary(), "scheme_summary.txt")
    return cmp


@register_step("sensitivity", config=SensitivityStepConfig)
def sensitivity_step(ctx: StudyContext, cfg: SensitivityStepConfig, run: RunHandle) -> dict[str, Any]:
    """Rank intervals (Monte Carlo), Sobol' indices and remove-one changes of the index."""
    prev = ctx.results.get("index") or {}
    res: IndexResult | None = prev.get("result")
    if res is None:  # the index step did not run in this study: build its index here
        res = build_index(prev.get("config") or index_config(ctx, IndexStepConfig()))
    ic = res.config
    out = ctx.step_dir("sensitivity")
    rep = analyse_sensitivity(res, n=cfg.n, seed=ctx.seed, sobol_base=cfg.sobol_base,
                              remove_levels=tuple(cfg.remove_levels), title=PINGAN_TITLE,
                              source=str(ic.data.indicators or ic.data.idata), progress=ctx.progress)
    arts = rep.artifacts()
    run.publish(arts, out)
    run.log_metrics(rep.metrics())
    rep.close()
    summary = rep.summary()
    run.log_text(summary, "sensitivity_summary.txt")
    return {"result": rep, "rank_stats": rep.rank_stats, "sobol": rep.sobol.table, "summary": summary}
