"""``riskmodel claim``: evaluate one reported change from the command line."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from riskmodel.cli.common import (
    INPUT_TYPE,
    AlignDatesOpt,
    ColumnsOpt,
    FormatOpt,
    NoTrackOpt,
    check_format,
    choice,
    make_tracker,
)
from riskmodel.cli.methods import route_each, with_method_options
from riskmodel.cli.progress import QuietOpt, bar
from riskmodel.data.columns import parse_columns
from riskmodel.data.loading import load_panel
from riskmodel.data.panel import period_start
from riskmodel.data.readers import read_table
from riskmodel.errors import InputError, Problem
from riskmodel.impact import EvaluationOptions, evaluate, expand_choices
from riskmodel.impact.outcomes import evaluate_values, is_value_table, read_values, supports_values
from riskmodel.impact.registry import ALL, METHODS, choices_help
from riskmodel.impact.rollout import event_study_chart, read_starts
from riskmodel.impact.series import ControlSpec, parse_areas
from riskmodel.io_safety import is_database_url, redacted
from riskmodel.results import Artifact, with_format


def _bound(part: str, end: bool) -> pd.Timestamp:
    """One end of a window: a year (``1995``), a month (``1995-03``) or a date; an end runs to its last day."""
    p = part.strip()
    if re.fullmatch(r"\d{4}", p):
        return pd.Timestamp(f"{p}-12-31") if end else pd.Timestamp(f"{p}-01-01")
    if re.fullmatch(r"\d{4}-\d{1,2}", p):
        s = pd.Timestamp(f"{p}-01")
        return s + pd.offsets.MonthEnd(0) if end else s
    if not re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", p):
        raise ValueError(p)
    return pd.Timestamp(p)


def parse_period(text: str, option: str = "--period") -> tuple[pd.Timestamp, pd.Timestamp]:
    """A window of days, inclusive: ``2020`` (a year), ``2020-03`` (a month) or ``START:END`` / ``START..END``.

    Each end of ``START:END`` is a year, a month or a date; a year or month
    at the end runs to its last day (``1995:2005`` is 1995-01-01..2005-12-31,
    ``1983-02:1984-12`` is 1983-02-01..1984-12-31).
    """
    t = text.strip()
    try:
        parts = re.split(r"\.\.|:|/", t)
        if len(parts) == 1:
            return _bound(t, False), _bound(t, True)
        if len(parts) == 2:
            s, e = _bound(parts[0], False), _bound(parts[1], True)
            if e < s:
                raise InputError(Problem(f"{option} {text!r} ends ({e.date()}) before it starts ({s.date()})"))
            return s, e
    except (ValueError, TypeError):
        pass
    raise InputError(Problem(
        f"cannot read {option} {text!r}; give a year (2020), a month (2020-03) or START:END, each end a year, "
        "a month or a date (1995:2005, 1983-02:1984-12, 2020-01-01:2020-06-30)"
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

OWN_FLAGS = ("--seed", "--log", "--seasonal")
"""Method options the command declares itself (with its own defaults); the registry gives the others."""


def _value_table(path: Path | str, columns: dict[str, str] | None) -> tuple[pd.DataFrame, str] | None:
    """The outcome table and its name when it holds values (a ``value`` column, no ``count``), else None.

    A local CSV's header is read alone first, so that a counts file is read once (by the loader).
    """
    mapped = {k: v for k, v in (columns or {}).items() if v in ("area_id", "category", "period", "value")}
    p = Path(str(path))
    if not is_database_url(path) and p.suffix.lower() == ".csv" and p.is_file():
        try:
            head = list(pd.read_csv(p, nrows=0, encoding="utf-8-sig").columns)
        except (UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError):
            head = None
        if head is not None and not is_value_table([mapped.get(c, c) for c in head]):
            return None
    df, src = read_table(path, what="counts or values")
    df = df.rename(columns=mapped) if mapped else df
    return (df, src.name) if is_value_table(df.columns) else None


def register(app: typer.Typer) -> None:
    @app.command("claim")
    @with_method_options(METHODS, exclude=OWN_FLAGS)
    def claim(
        counts: Annotated[Path, typer.Option("--counts", **INPUT_TYPE, help="Counts file (area_id, category, period, count), or a table of values that are not counts (area_id, category, period, value: rates, per-capita figures, scores; analysed as given by the methods that take them).")],
        area: Annotated[str, typer.Option("--area", help="Treated area id (a district or city: sum of its areas).")],
        category: Annotated[str, typer.Option("--category", help="Incident category (of a table of values: the outcome's name).")],
        out: Annotated[Path, typer.Option("--out", help="Output folder: effects.csv, verdict.txt, series.csv, chart.png.")],
        intervention: Annotated[str | None, typer.Option("--intervention", help="Programme start date (YYYY-MM-DD). With --starts, default: the start of --area there, else the earliest start.")] = None,
        starts: Annotated[Path | None, typer.Option("--starts", **INPUT_TYPE, help="Staggered adoption (--method staggered): each area's programme start, columns area_id, start (a date; empty or 'never': never treated).")] = None,
        reported: Annotated[float | None, typer.Option("--reported", help="Reported relative change, e.g. -0.354.")] = None,
        period: Annotated[str | None, typer.Option("--period", help="Comparison period: 2020, 2020-03 or START:END, each end a year, month or date (1995:2005). Default: from the intervention to the end of the data.")] = None,
        baseline: Annotated[str | None, typer.Option("--baseline", help="Baseline period, as --period (default: the comparison period one year earlier; a comparison longer than a year is compared with the same months the fewest whole years earlier that clear it). It must end before the comparison period starts: overlapping or touching windows are refused.")] = None,
        controls: Annotated[list[str] | None, typer.Option("--controls", help="Comparison series instead of the areas at the treated area's level: 'category=NAME[,NAME]' (the treated area's counts of categories the programme did not touch) and/or 'area=ID[,ID]' (those areas' counts of the treated category); terms joined by ';' or the option repeated, e.g. --controls category=disputes --controls area=A03,A07. Used by did, ratio_of_ratios, its (covariate), structural (regressor), synthetic (without --donors) and the regression-to-the-mean check.")] = None,
        donors: Annotated[str | None, typer.Option("--donors", help="Donor areas of the synthetic control, comma-separated (their counts of the treated category); default: the comparison series.")] = None,
        method: Annotated[str, typer.Option("--method", help=METHOD_HELP)] = "all",
        full_sample: Annotated[bool, typer.Option("--full-sample", help="Also fit the full-sample structural model with an intervention term.")] = False,
        log: Annotated[bool, typer.Option("--log", help="Structural models on log counts.")] = False,
        seasonal: Annotated[str, typer.Option("--seasonal", help="Structural seasonal: auto (none when comparison areas are a regressor, else trig), trig, dummy or none.")] = "auto",
        exog: Annotated[Path | None, typer.Option("--exog", **INPUT_TYPE, help="Regressors: long file period, name, value.")] = None,
        areas: Annotated[Path | None, typer.Option("--areas", **INPUT_TYPE, help="Areas file (hierarchy; comparison areas are those at the treated area's level).")] = None,
        population: Annotated[Path | None, typer.Option("--population", **INPUT_TYPE, help="Population file (area_id, year, population) for exposure.")] = None,
        freq: Annotated[str | None, typer.Option("--freq", help="Analysis frequency: M, W or Y (daily data are summed). Default: Y for annual data, else M.")] = None,
        seed: Annotated[int, typer.Option("--seed", help="Seed of the simulations.")] = 0,
        align_dates: AlignDatesOpt = False,
        columns: ColumnsOpt = None,
        no_track: NoTrackOpt = False,
        quiet: QuietOpt = False,
        fmt: FormatOpt = None,
        method_options: dict | None = None,
    ) -> None:
        """Evaluate a reported change: observed change, programme effect by several methods, verdict."""
        check_format(fmt)
        choice(seasonal, ["auto", "trig", "dummy", "none"], "--seasonal")
        if freq is not None:
            freq = freq.upper()
            choice(freq, ["M", "W", "Y"], "--freq")
        wanted = expand_choices(method, "--method")
        given = route_each(METHODS, wanted, method_options or {}) if method_options else {}
        extra = {k: v for kw in given.values() for k, v in kw.items()}
        start_of = read_starts(starts) if starts is not None else None
        if start_of is not None and "staggered" not in wanted:
            raise InputError(Problem("--starts (each area's start date) is read by --method staggered only; "
                                     f"add staggered to --method (now {method!r})", column="--starts"))
        if intervention is None:
            if start_of is None:
                raise InputError(Problem("--intervention is needed (the programme start date, YYYY-MM-DD), or "
                                         "--starts with --method staggered", column="--intervention"))
            dated = {a: t for a, t in start_of.items() if t is not None}
            t_int = dated.get(area, min(dated.values()))
        else:
            try:
                t_int = pd.Timestamp(intervention)
            except (ValueError, TypeError):
                raise InputError(Problem(f"--intervention {intervention!r} is not a date (YYYY-MM-DD)")) from None
        comparison = parse_period(period) if period else None
        base = parse_period(baseline, "--baseline") if baseline else None
        spec = ControlSpec.parse(";".join(controls or []))
        donor_ids = parse_areas(donors)
        if align_dates and freq is None:
            raise InputError(Problem("--align-dates needs --freq (the periods to count each row in)",
                                     column="--align-dates"))
        values = _value_table(counts, parse_columns(columns))
        if values is not None:  # an outcome that is not a count: analysed as given, by the methods that take it
            vals, name = values
            for flag, given_ in (("--areas", areas), ("--population", population), ("--exog", exog),
                                 ("--donors", donors), ("--align-dates", align_dates or None)):
                if given_:
                    raise InputError(Problem(f"{flag} applies to counts; {name} holds values (a 'value' column), "
                                             "analysed as given", column=flag))
            vp = read_values(vals, freq=freq, source=name)
            freq = vp.freq
            if method.strip() == ALL:
                skipped = [n for n in wanted if not supports_values(n)]
                wanted = [n for n in wanted if supports_values(n)]
                typer.echo(f"note: {name} holds values, not counts: the count models are left out "
                           f"({', '.join(skipped)}); running {', '.join(wanted)}", err=True)
            panel = None
        else:
            panel = load_panel(counts, areas=areas, population=population,
                               freq=freq if align_dates else None, align=align_dates, columns=parse_columns(columns))
            for line in panel.notes(redacted(counts) if is_database_url(counts) else Path(counts).name):
                typer.echo(line, err=True)
            if freq is None:
                freq = "Y" if panel.freq == "Y" else "M"
            if panel.freq == "M" and freq == "W":
                raise InputError(Problem("--freq W needs daily or weekly counts; these are monthly"))
        ex = read_exog(exog, freq) if exog else None
        # staggered adoption alone: its own check of each cohort's pre-period replaces the design's minimum
        min_pre = 1 if start_of is not None and set(wanted) <= {"observed", "staggered"} else None
        opt = EvaluationOptions(freq=freq, log=log, seasonal=seasonal, full_sample=full_sample, seed=seed,
                                starts=start_of, min_pre=min_pre, **extra)
        tracker = make_tracker(no_track)
        params = {"counts": str(counts), "area": area, "category": category, "intervention": str(t_int.date()),
                  "reported": reported, "period": period, "baseline": baseline, "method": method,
                  "full_sample": full_sample, "log": log, "seasonal": seasonal, "freq": freq, "seed": seed,
                  "controls": ";".join(controls or []), "donors": ",".join(donor_ids),
                  "starts": str(starts) if starts is not None else None,
                  "outcome": "count" if panel is not None else "value", **extra}
        with tracker.run("claim", params=params) as run:
            with bar("claim", quiet=quiet, unit="methods") as progress:
                if panel is None:
                    ev = evaluate_values(vp, area, category, intervention=t_int, comparison=comparison,
                                         baseline=base, reported=reported, methods=wanted, options=opt,
                                         controls=spec, progress=progress)
                else:
                    ev = evaluate(panel, area, category, intervention=t_int, comparison=comparison, baseline=base,
                                  reported=reported, methods=wanted, options=opt, exog=ex, controls=spec,
                                  donors=donor_ids, progress=progress)
            eff = ev.to_frame()
            arts = ev.artifacts("en")  # effects.csv, verdict.txt, series.csv, chart.png
            for r in ev.results:  # the staggered estimator's tables: group-time cells, event study, TWFE check
                if r.method == "staggered" and r.ok:
                    arts += [a for a in r.artifacts() if a.name != "staggered.csv"]
                    arts.append(Artifact("staggered_event_study.png", event_study_chart(
                        r.tables["event_study"],
                        title=f"{category}: {len(r.tables['attgt']['group'].unique())} start date(s)",
                        unit="share of each area's mean count before the first start" if panel is not None
                        else f"{category}, value", level=opt.level), savefig={"dpi": 120}))
            arts = with_format(arts, fmt)
            try:
                run.publish(arts, out)
            finally:
                import matplotlib.pyplot as plt  # only to close the chart: not at import, for a fast start

                for a in arts:
                    if a.kind == "figure":
                        plt.close(a.content)
            run.log_metrics({f"{m}.{k}": v for m, k, v in _metric_items(eff)}
                            | {"observed_change": ev.observed.observed_change})
        ok = eff[eff["estimate"].notna()]
        (bs, be), (cs, ce) = ev.baseline, ev.comparison
        typer.echo(f"claim: {area} {category}, intervention {t_int.date()}; comparison {cs.date()}..{ce.date()} "
                   f"against baseline {bs.date()}..{be.date()}; {len(ok)} of {len(eff)} methods ran")
        if ev.comparison_en:
            typer.echo(f"compared with: {ev.comparison_en}")
        for line in ev.effect_lines():
            typer.echo(line)
        checks = ev.check_lines()
        if checks:
            typer.echo("checks (not effects of the programme):")
            for line in checks:
                typer.echo(line)
        for r in ev.results:
            if r.method == "staggered" and r.ok and r.diagnostics.get("twfe_biased"):
                typer.echo(f"warning: two-way fixed effects would be biased here: TWFE gives "
                           f"{r.diagnostics['twfe_beta']:+.4g} against the staggered simple ATT {r.att:+.4g} "
                           f"({r.diagnostics['twfe_negative_weights']} treated cells with negative TWFE weight, "
                           f"{r.diagnostics['twfe_forbidden_share']:.0%} of its weight on later-vs-earlier "
                           "comparisons whose controls are already treated); "
                           "do not use a TWFE regression (see staggered_twfe_check.csv)", err=True)
        typer.echo(ev.verdict.en)
        typer.echo(f"written: {out / ('effects.' + (fmt or 'csv'))}, {out / 'verdict.txt'}")


def _metric_items(eff: pd.DataFrame) -> list[tuple[str, str, float]]:
    out = []
    for row in eff.itertuples(index=False):
        for k in ("estimate", "lo95", "hi95"):
            v = getattr(row, k)
            if pd.notna(v):
                out.append((row.method, k, float(v)))
    return out
