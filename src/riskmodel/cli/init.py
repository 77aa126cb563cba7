"""``riskmodel init``: a study config written from the user's own files (:mod:`riskmodel.pipeline.scaffold`)."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import ColumnsOpt
from riskmodel.data.columns import parse_columns
from riskmodel.data.readers import split_sheet
from riskmodel.data.sql import is_database_url
from riskmodel.errors import ConfigError, InputError, Problem
from riskmodel.io_safety import atomic_path, redacted
from riskmodel.pipeline.scaffold import check_config, default_name, plan_steps, scaffold, survey


def _check_out(out: Path, data: list[str], force: bool) -> None:
    """Refuse an ``--out`` that is not a .toml file, is one of the data, or exists (without ``--force``)."""
    if out.suffix.lower() != ".toml":
        raise InputError(Problem(f"--out: a study config is a .toml file, got {out}", column="--out"))
    for d in data:
        if is_database_url(d):
            continue
        p = split_sheet(d)[0]
        if p.exists() and p.resolve() == out.resolve():
            raise InputError(Problem(f"--out {out} is one of the data", column="--out"))
    if out.is_dir():
        raise InputError(Problem(f"--out {out} is a folder; give the config's file name (e.g. {out}/study.toml)",
                                 column="--out"))
    if out.exists() and not force:
        raise InputError(Problem(f"{out} exists: riskmodel init does not overwrite a config; give --force to "
                                 "replace it, or another --out", column="--out"))


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        data: Annotated[list[str], typer.Argument(
            help="The data: counts, areas, population, neighbours, indicators, claims files (CSV, GBK CSV, Parquet, "
                 "Excel: every sheet, or book.xlsx#SHEET), folders of them, or database URLs "
                 "(postgresql://USER@HOST/DB?table=NAME). Each table's role is recognised by its columns.",
            show_default=False)],
        out: Annotated[Path, typer.Option("--out", help="The study config to write.")] = Path("study.toml"),
        name: Annotated[str | None, typer.Option("--name", help="The study's name (default: the counts' file, "
                                                                  "sheet or table name).")] = None,
        columns: ColumnsOpt = None,
        counts: Annotated[str | None, typer.Option(
            "--counts", help="The table holding the counts, when several look like counts (a file, "
                             "book.xlsx#SHEET or a database URL; added to DATA if not among them).")] = None,
        seed: Annotated[int, typer.Option("--seed", help="The study's seed, 0 to 2**32 - 1.")] = 0,
        force: Annotated[bool, typer.Option("--force", help="Replace an existing config.")] = False,
    ) -> None:
        """Write a study config from your own files or database: recognise the tables, infer the frequency and the levels, choose the steps the data allow.

        Prints what it found and which steps it left out, and why (also written as comments in the
        config). `riskmodel run OUT` then runs the study. Nothing is written when the data do not load.
        """
        if name is not None and not re.fullmatch(r"[\w-]+", name.strip()):
            # the name becomes a folder (outputs/NAME) and part of an MLflow model name
            raise InputError(Problem(f"--name {name!r}: letters, digits, _ and - only (Chinese too)", column="--name"))
        _check_out(out, data, force)
        sv = survey(data, columns=parse_columns(columns), counts=counts)
        for line in sv.notes:
            typer.echo(line, err=True)
        plans = plan_steps(sv)
        name = name.strip() if name else default_name(sv)
        text = scaffold(sv, out, name=name, seed=seed, plans=plans)
        with atomic_path(out) as tmp:
            tmp.write_text(text, encoding="utf-8")
            try:
                check_config(tmp, sv)
            except ConfigError as e:  # the scaffold wrote a config its own loader refuses: a bug, said plainly
                raise RuntimeError(f"riskmodel init wrote a config that does not load: {e}") from e
        p = sv.panel
        typer.echo(f"wrote {out}: study {name}")
        typer.echo(f"  counts      {redacted(sv.counts.source)}: {len(p.series_ids):,} series, {len(p.periods):,} "
                   f"{sv.freq.name} periods ({p.counts['period'].min().date()} to {p.counts['period'].max().date()}, "
                   f"{sv.years:.1f} years)")
        if sv.counts.mapping:
            typer.echo("  columns     " + ", ".join(f"{h} -> {c}" for h, c in sv.counts.mapping.items()))
        for role, t in sv.roles.items():
            if role != "counts":
                typer.echo(f"  {role:<11} {redacted(t.source)}")
        typer.echo(f"  levels      {' < '.join(sv.levels)}")
        typer.echo(f"  categories  {', '.join(p.categories)}")
        for t in sv.tables:
            if t.role is None or t.role == "events" or t.error or t.unused:
                typer.echo(f"  not used    {t.describe()}")
        typer.echo("steps:")
        for s in plans:
            typer.echo(f"  {'on ' if s.on else 'off'} {s.name:<12} {s.why}")
            for n in s.notes:
                typer.echo(f"      {'':<12} {n}")
        typer.echo(f"next: riskmodel run {os.fspath(out)}")
