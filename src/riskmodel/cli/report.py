"""``riskmodel appendix``: the forecast appendix of a tracked study run (HTML, PDF, and its tables in ``.xlsx``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.report.workbook import write_appendix


def register(app: typer.Typer) -> None:
    @app.command("appendix")
    def appendix(
        run: Annotated[str, typer.Option("--run", help="MLflow run id of a study (riskmodel run), or of one of its steps.")],
        out: Annotated[Path, typer.Option("--out", help="Output folder (written whole or not at all).")],
        fmt: Annotated[str, typer.Option("--format", help="Comma-separated: html, pdf, xlsx (the tables as an Excel workbook, a sheet per section).")] = "html,pdf,xlsx",
        lang: Annotated[str, typer.Option("--lang", help="zh (default) or en.")] = "zh",
        suppress_below: Annotated[
            int | None, typer.Option("--suppress-below", help="Show counts below N as '<N' (for publication).")
        ] = None,
        root: Annotated[
            Path | None, typer.Option("--root", help="Folder the study's [data] paths are relative to, when the run "
                                                     "did not log the appendix's tables (default: the current folder).")
        ] = None,
    ) -> None:
        """Render the forecast appendix (HTML, PDF and its tables as an Excel workbook; Chinese or English) from a tracked study run."""
        formats = tuple(f.strip().lower() for f in fmt.split(",") if f.strip())
        notes: list[str] = []
        files = write_appendix(run, out, formats=formats, lang=lang, suppress_below=suppress_below, root=root,
                               notes=notes)
        for n in notes:
            typer.echo(f"riskmodel: {n}", err=True)
        for f in files:
            typer.echo(f"wrote {f} ({f.stat().st_size / 1024:.0f} KiB)")
