"""Step ``appendix``: the forecast appendix of the study being run.

Rendered from what the earlier steps published, in memory (their run
records: the tables and figures they logged) and the panel the study already
loaded: nothing is read back from MLflow and no input is read again, and it
works with tracking off too. ``riskmodel appendix --run RUN_ID`` renders the
same document from a tracked run afterwards.
"""

from __future__ import annotations

import tomllib

from riskmodel.config import StrictModel
from riskmodel.pipeline.context import StudyContext
from riskmodel.pipeline.steps.base import register_step
from riskmodel.report.appendix import StudyRecord, appendix_tables, render_html, write_pdf
from riskmodel.report.workbook import appendix_workbook, check_formats
from riskmodel.tracking import RunHandle


class AppendixConfig(StrictModel):
    """``[steps.appendix]``: languages, formats (html, pdf, xlsx: the tables as a workbook) and
    small-count suppression (the same in every format)."""

    langs: list[str] = ["zh", "en"]
    formats: list[str] = ["html", "pdf", "xlsx"]
    suppress_below: int | None = None


@register_step("appendix", config=AppendixConfig)
def appendix_step(ctx: StudyContext, cfg: AppendixConfig, run: RunHandle) -> dict:
    """Render the appendix from the earlier steps' published results (in memory)."""
    check_formats(cfg.formats, "[steps.appendix] formats")
    parent = ctx.study_run
    record = StudyRecord(
        run_id=(parent.run_id if parent is not None and parent.run_id else "not tracked"),
        name=ctx.study.name,
        tags=dict(parent.tags) if parent is not None else {},
        config=tomllib.loads(ctx.config_path.read_text(encoding="utf-8")),
        runs={k: v for k, v in ctx.runs.items() if k != "appendix"},
    )
    # the names, hierarchy and history the document shows, logged so that `riskmodel appendix --run`
    # renders the same document without the study's data
    for name, table in appendix_tables(record, ctx.root, ctx.panel).items():
        run.log_table(table, name)
    out = ctx.step_dir("appendix")
    files = []
    for lang in cfg.langs:
        html = (render_html(record, lang=lang, suppress_below=cfg.suppress_below, root=ctx.root, panel=ctx.panel,
                            boundaries=ctx.boundaries)
                if {"html", "pdf"} & set(cfg.formats) else "")
        if "html" in cfg.formats:
            p = out / f"appendix_{lang}.html"
            p.write_text(html, encoding="utf-8")
            files.append(p)
        if "pdf" in cfg.formats:
            p = out / f"appendix_{lang}.pdf"
            write_pdf(html, p)
            files.append(p)
        if "xlsx" in cfg.formats:
            # the document's tables, typed, with the same suppression; the same bytes for the same study
            p = out / f"appendix_{lang}.xlsx"
            p.write_bytes(appendix_workbook(record, lang=lang, suppress_below=cfg.suppress_below, root=ctx.root,
                                            panel=ctx.panel))
            files.append(p)
    for p in files:
        run.log_artifact(p, "appendix")
    run.log_metrics({"appendix_files": len(files)})
    return {"files": [str(p) for p in files]}
