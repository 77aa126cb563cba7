"""Steps ``validate`` and ``overview``: the study's data, checked and summarised."""

from __future__ import annotations

from riskmodel.config import StrictModel
from riskmodel.data.figures import counts_by_district
from riskmodel.pipeline.context import StudyContext
from riskmodel.pipeline.steps.base import register_step
from riskmodel.plotting import save
from riskmodel.tracking import RunHandle


class ValidateConfig(StrictModel):
    """``[steps.validate]``: no keys needed."""


class OverviewConfig(StrictModel):
    """``[steps.overview]``: the data-summary figure."""

    level: str = "district"
    lang: str = "both"
    source: str = "riskmodel sample city (SIMULATED data)"


@register_step("validate", config=ValidateConfig)
def validate_step(ctx: StudyContext, cfg: ValidateConfig, run: RunHandle) -> dict:
    """Load and validate the study's data; log data summaries."""
    panel = ctx.panel
    c = panel.counts
    fp = run.log_fingerprint("counts_table", c)
    summary = panel.summary().reset_index()
    run.log_table(summary, "data_summary.csv")
    run.log_metrics(
        {
            "n_rows": len(c),
            "n_series": len(panel.series_ids),
            "n_areas": len(panel.area_ids),
            "n_categories": len(panel.categories),
            "n_periods": len(panel.periods),
            "total_count": int(c["count"].sum()),
        }
    )
    az = panel.added_zeros
    run.log_metrics({"added_zeros": az.total, "added_zeros_series": len(az.by_series)})
    if az.total:
        # which series got zeros riskmodel added (absent periods counted as 0)
        run.set_tags({"data.added_zeros": az.note(str(ctx.data.counts))})
        run.log_table(az.by_series.assign(first=lambda d: d["first"].dt.strftime("%Y-%m-%d"),
                                          last=lambda d: d["last"].dt.strftime("%Y-%m-%d")), "added_zeros.csv")
    run.log_params({"freq": panel.freq, "first_period": str(c["period"].min().date()),
                    "last_period": str(c["period"].max().date())})
    summary.to_csv(ctx.step_dir("validate") / "data_summary.csv", index=False, lineterminator="\n")
    if ctx.boundaries is not None:  # bad polygons fail the study here, not at its first map
        run.log_metrics({"n_boundaries": len(ctx.boundaries)})
    return {"fingerprint": fp, "n_series": len(panel.series_ids)}


@register_step("overview", config=OverviewConfig)
def overview_step(ctx: StudyContext, cfg: OverviewConfig, run: RunHandle) -> dict:
    """Counts per district over time (Chinese labels), logged as a figure."""
    t = ctx.categories
    names = None if t is None else {r.category: f"{r.name_zh} {r.category}" for r in t.itertuples()}
    monthly = ctx.panel_at("M")
    fig = counts_by_district(monthly, level=cfg.level, category_names=names, lang=cfg.lang, source=cfg.source)
    run.log_figure(fig, "counts_by_district.png")
    path = ctx.step_dir("overview") / "counts_by_district.png"
    save(fig, str(path))
    by = monthly.aggregate(cfg.level).counts
    table = by.pivot_table(index="period", columns=["area_id", "category"], values="count")
    run.log_table(by.assign(period=by["period"].dt.strftime("%Y-%m-%d")), f"monthly_by_{cfg.level}.csv")
    return {"figure": str(path), "n_lines": table.shape[1]}
