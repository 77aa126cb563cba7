"""Step ``appendix``: the forecast appendix of the study being run."""

from __future__ import annotations

import tempfile

from riskmodel.config import StrictModel
from riskmodel.pipeline.context import StudyContext
from riskmodel.pipeline.steps.base import register_step
from riskmodel.report.appendix import load_study, render_html, write_pdf
from riskmodel.tracking import RunHandle


class AppendixConfig(StrictModel):
    """``[steps.appendix]``: languages, formats and small-count suppression."""

    langs: list[str] = ["zh", "en"]
    formats: list[str] = ["html", "pdf"]
    suppress_below: int | None = None


@register_step("appendix", config=AppendixConfig)
def appendix_step(ctx: StudyContext, cfg: AppendixConfig, run: RunHandle) -> dict:
    """Render the appendix from what the earlier steps logged to MLflow."""
    parent = ctx.tracker._stack[0] if ctx.tracker._stack else None  # noqa: SLF001 - the study run
    if parent is None or not parent.enabled:
        run.set_tags({"appendix.skipped": "tracking is off (--no-track): the appendix is rendered from tracked runs"})
        return {"files": []}
    out = ctx.step_dir("appendix")
    files = []
    with tempfile.TemporaryDirectory() as d:
        arts = load_study(parent.run_id, d, tracking_uri=ctx.tracker.uri)
        for lang in cfg.langs:
            html = render_html(arts, lang=lang, suppress_below=cfg.suppress_below, root=ctx.root)
            if "html" in cfg.formats:
                p = out / f"appendix_{lang}.html"
                p.write_text(html, encoding="utf-8")
                files.append(p)
            if "pdf" in cfg.formats:
                p = out / f"appendix_{lang}.pdf"
                write_pdf(html, p)
                files.append(p)
    for p in files:
        run.log_artifact(p, "appendix")
    run.log_metrics({"appendix_files": len(files)})
    return {"files": [str(p) for p in files]}
