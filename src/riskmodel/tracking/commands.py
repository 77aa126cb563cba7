"""``riskmodel compare``: metric differences between two tracked runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        run_a: Annotated[str, typer.Argument(help="First MLflow run id (the reference).")],
        run_b: Annotated[str, typer.Argument(help="Second MLflow run id.")],
        out: Annotated[Path | None, typer.Option("--out", help="Also write the table to this CSV.")] = None,
        all_metrics: Annotated[bool, typer.Option("--all", help="Show metrics that did not change too.")] = False,
    ) -> None:
        """Print the metric differences between two runs (and their steps), b - a."""
        from riskmodel.data.readers import write_table_atomic
        from riskmodel.tracking.compare import compare_runs

        t = compare_runs(run_a, run_b)
        shown = t if all_metrics else t[~(t["diff"] == 0)]
        if out is not None:
            write_table_atomic(t, out)
        if shown.empty:
            typer.echo("no metric differs")
            return
        with_pd = shown.assign(rel_diff=shown["rel_diff"].map(lambda v: f"{v:+.1%}" if v == v else ""))
        typer.echo(with_pd.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
