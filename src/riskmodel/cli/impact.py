"""``riskmodel claim``: evaluate one reported change from the command line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import matplotlib.pyplot as plt
import pandas as pd
import typer

from riskmodel.cli.common import NoTrackOpt, choice, make_tracker
from riskmodel.data.loading import load_panel
from riskmodel.data.panel import period_start
from riskmodel.data.readers import read_table
from riskmodel.errors import InputError, Problem
from riskmodel.impact import EvaluationOptions, evaluate, expand_choices
from riskmodel.impact.registry import choices_help


def parse_period(text: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """``2020`` (a year), ``2020-03`` (a month) or ``START:END`` / ``START..END`` (dates, inclusive)."""
    t = text.strip()
    try:
        if re.fullmatch(r"\d{4}", t):
            return pd.Timestamp(f"{t}-01-01"), pd.Timestamp(f"{t}-12-31")
        if re.fullmatch(r"\d{4}-\d{1,2}", t):
            s = pd.Timestamp(f"{t}-01")
            return s, s + pd.offsets.MonthEnd(0)
        parts = re.split(r"\.\.|:|/", t)
        if len(parts) == 2:
            s, e = pd.Timestamp(parts[0]), pd.Timestamp(parts[1])
            if e < s:
                raise ValueError
            return s, e
    except (ValueError, TypeError):
        pass
    raise InputError(Problem(
        f"cannot read --period {text!r}; give a year (2020), a month (2020-03) or START:END dates"
    ))


def read_exog(path: Path, freq: str) -> pd.DataFrame:
    """Read a long regressor file (``period, name, value``) into periods x names at ``freq``."""
    df, src = read_table(path, what="exogenous regressors")
    missing = [c for c in ("period", "name", "value") if c not in df.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}; expected period, name, value",
                                 source=src.name))
    problems = []
    per = pd.to_datetime(df["period"], errors="coerce")
    bad = per.isna()
    if bad.any():
        rows = list(bad[bad].index[:5] + 2)
        problems.append(Problem("not a date", source=src.name, column="period", rows=rows,
                                values=list(df.loc[bad, "period"][:5]), n_rows=int(bad.sum())))
    val = pd.to_numeric(df["value"], errors="coerce")
    badv = val.isna()
    if badv.any():
        rows = list(badv[badv].index[:5] + 2)
        problems.append(Problem("not a number", source=src.name, column="value", rows=rows,
                                values=list(df.loc[badv, "value"][:5]), n_rows=int(badv.sum())))
    if problems:
        raise InputError(problems)
    long = pd.DataFrame({"period": period_start(per, freq).to_numpy(), "name": df["name"].astype(str), "value": val})
    return long.pivot_table(index="period", columns="name", values="value", aggfunc="mean").sort_index()


METHOD_HELP = "Methods to run: " + choices_help()
"""``--method`` help, from the impact registry's groups (a choice is checked against the registry when run)."""


def register(app: typer.Typer) -> None:
    @app.command("claim")
    def claim(
        counts: Annotated[Path, typer.Option("--counts", help="Counts file (area_id, category, period, count).")],
        area: Annotated[str, typer.Option("--area", help="Treated area id (a district or city: sum of its areas).")],
        category: Annotated[str, typer.Option("--category", help="Incident category.")],
        intervention: Annotated[str, typer.Option("--intervention", help="Programme start date (YYYY-MM-DD).")],
        out: Annotated[Path, typer.Option("--out", help="Output folder: effects.csv, verdict.txt, series.csv, chart.png.")],
        reported: Annotated[float | None, typer.Option("--reported", help="Reported relative change, e.g. -0.354.")] = None,
        period: Annotated[str | None, typer.Option("--period", help="Comparison period: 2020, 2020-03 or START:END (baseline: one year earlier).")] = None,
        method: Annotated[str, typer.Option("--method", help=METHOD_HELP)] = "all",
        full_sample: Annotated[bool, typer.Option("--full-sample", help="Also fit the full-sample structural model with an intervention term.")] = False,
        log: Annotated[bool, typer.Option("--log", help="Structural models on log counts.")] = False,
        seasonal: Annotated[str, typer.Option("--seasonal", help="Structural seasonal: auto (none when comparison areas are a regressor, else trig), trig, dummy or none.")] = "auto",
        exog: Annotated[Path | None, typer.Option("--exog", help="Regressors: long file period, name, value.")] = None,
        areas: Annotated[Path | None, typer.Option("--areas", help="Areas file (hierarchy; comparison areas are those at the treated area's level).")] = None,
        population: Annotated[Path | None, typer.Option("--population", help="Population file (area_id, year, population) for exposure.")] = None,
        freq: Annotated[str, typer.Option("--freq", help="Analysis frequency: M or W (daily data are summed).")] = "M",
        seed: Annotated[int, typer.Option("--seed", help="Seed of the simulations.")] = 0,
        no_track: NoTrackOpt = False,
    ) -> None:
        """Evaluate a reported change: observed change, programme effect by several methods, verdict."""
        choice(seasonal, ["auto", "trig", "dummy", "none"], "--seasonal")
        choice(freq, ["M", "W"], "--freq")
        wanted = expand_choices(method, "--method")
        try:
            t_int = pd.Timestamp(intervention)
        except (ValueError, TypeError):
            raise InputError(Problem(f"--intervention {intervention!r} is not a date (YYYY-MM-DD)")) from None
        comparison = parse_period(period) if period else None
        panel = load_panel(counts, areas=areas, population=population)
        if panel.freq == "M" and freq == "W":
            raise InputError(Problem("--freq W needs daily or weekly counts; these are monthly"))
        ex = read_exog(exog, freq) if exog else None
        opt = EvaluationOptions(freq=freq, log=log, seasonal=seasonal, full_sample=full_sample, seed=seed)
        tracker = make_tracker(no_track)
        params = {"counts": str(counts), "area": area, "category": category, "intervention": str(t_int.date()),
                  "reported": reported, "period": period, "method": method, "full_sample": full_sample,
                  "log": log, "seasonal": seasonal, "freq": freq, "seed": seed}
        with tracker.run("claim", params=params) as run:
            ev = evaluate(panel, area, category, intervention=t_int, comparison=comparison, reported=reported,
                          methods=wanted, options=opt, exog=ex)
            eff = ev.to_frame()
            arts = ev.artifacts("en")  # effects.csv, verdict.txt, series.csv, chart.png
            try:
                run.publish(arts, out)
            finally:
                for a in arts:
                    if a.kind == "figure":
                        plt.close(a.content)
            run.log_metrics({f"{m}.{k}": v for m, k, v in _metric_items(eff)}
                            | {"observed_change": ev.observed.observed_change})
        ok = eff[eff["estimate"].notna()]
        typer.echo(f"claim: {area} {category}, intervention {t_int.date()}; {len(ok)} of {len(eff)} methods ran")
        for row in eff.itertuples(index=False):
            if pd.notna(row.estimate):
                typer.echo(f"  {row.method:<20} {row.estimate:+8.1%}  [{row.lo95:+.1%}, {row.hi95:+.1%}]")
            else:
                typer.echo(f"  {row.method:<20} not run: {row.note}")
        typer.echo(ev.verdict.en)
        typer.echo(f"written: {out / 'effects.csv'}, {out / 'verdict.txt'}")


def _metric_items(eff: pd.DataFrame) -> list[tuple[str, str, float]]:
    out = []
    for row in eff.itertuples(index=False):
        for k in ("estimate", "lo95", "hi95"):
            v = getattr(row, k)
            if pd.notna(v):
                out.append((row.method, k, float(v)))
    return out
