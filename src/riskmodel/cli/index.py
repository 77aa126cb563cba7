"""``riskmodel index build | sensitivity | swap | methods``.

Each command publishes a result's artifacts (:mod:`riskmodel.results`): the
files are written with :func:`~riskmodel.results.write_artifacts` (whole or not
at all) and the same list is logged to the tracking run.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import FormatOpt, NoTrackOpt, check_format, make_tracker
from riskmodel.cli.progress import QuietOpt, bar
from riskmodel.errors import InputError, Problem
from riskmodel.index.build import IndexResult, build_index
from riskmodel.index.config import IndexConfig, load_config
from riskmodel.index.outputs import analyse_sensitivity
from riskmodel.index.registry import AGGREGATORS, NORMALISERS, WEIGHTS
from riskmodel.index.sensitivity import local_sensitivity, swap_weights
from riskmodel.io_safety import is_database_url, refuse_overwriting_inputs
from riskmodel.registry import LANGS
from riskmodel.results import Artifact, with_format

ConfigOpt = Annotated[Path, typer.Option("--config", help="Index config (TOML).")]
DirOpt = Annotated[Path, typer.Option("--out", help="Output folder (written whole or not at all).")]


def _methods_help() -> str:
    """The registered methods, for the help text (generated from the registries)."""
    return "  ".join(f"{r.option}: {r.choices_help()}." for r in (NORMALISERS, WEIGHTS, AGGREGATORS))


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="The Ping'an index: composite index build, rank uncertainty and weight sensitivity.  "
                           "Config keys " + _methods_help() + "  (riskmodel index methods lists them.)",
                      no_args_is_help=True)

    @sub.command("build")
    def build(config: ConfigOpt, out: DirOpt, no_track: NoTrackOpt = False, fmt: FormatOpt = None) -> None:
        """Build the index: DIR/scores.csv (area_id, level, code, score, rank) for every level."""
        check_format(fmt)
        cfg = load_config(config)
        _refuse_overwriting_data(cfg, out)
        res = build_index(cfg)
        tracker = make_tracker(no_track)
        with tracker.run("index-build", params=_params(cfg, config)) as run:
            arts = res.artifacts()
            idx = res.index
            run.log_metrics({"units": idx["area_id"].nunique(), "indicators": len(res.spec.indicators),
                             **{k: v for k, v in res.log.items() if isinstance(v, int | float)},
                             **res.metrics()})
            run.publish(with_format(arts, fmt), out)
        typer.echo(res.summary())
        _warn(res)
        typer.echo(f"wrote {out / ('scores.' + (fmt or 'csv'))}")

    @sub.command("sensitivity")
    def sensitivity(
        config: ConfigOpt,
        out: DirOpt,
        n: Annotated[int, typer.Option("--n", help="Monte Carlo replications.")] = 1000,
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
        sobol_base: Annotated[int | None, typer.Option("--sobol-base", help="Sobol' base sample (power of 2); builds = base x (factors + 2).")] = None,
        no_track: NoTrackOpt = False,
        quiet: QuietOpt = False,
        fmt: FormatOpt = None,
    ) -> None:
        """Rank intervals (DIR/rank_stats.csv) and Sobol' indices (DIR/sobol.csv) of the index."""
        check_format(fmt)
        cfg = load_config(config)
        _refuse_overwriting_data(cfg, out)
        if n < 1:
            raise InputError(Problem(f"--n must be >= 1, got {n}"))
        tracker = make_tracker(no_track)
        with tracker.run("index-sensitivity", params={**_params(cfg, config), "n": n, "seed": seed}) as run:
            res = build_index(cfg)
            _warn(res)
            with bar("index sensitivity", quiet=quiet, unit="builds") as progress:
                rep = analyse_sensitivity(res, n=n, seed=seed, sobol_base=sobol_base, progress=progress)
            arts = rep.artifacts()
            run.publish(with_format(arts, fmt), out)
            run.log_metrics(rep.metrics())
            rep.close()
        typer.echo(rep.summary())
        ext = fmt or "csv"
        typer.echo(f"wrote {out / ('rank_stats.' + ext)} and {out / ('sobol.' + ext)}")

    @sub.command("swap")
    def swap(
        config: ConfigOpt,
        out: DirOpt,
        a: Annotated[str, typer.Option("--a", help="First area id.")],
        b: Annotated[str, typer.Option("--b", help="Second area id.")],
        level: Annotated[int, typer.Option("--level", help="Level whose weights may change (1 = indicators).")] = 2,
        no_track: NoTrackOpt = False,
        fmt: FormatOpt = None,
    ) -> None:
        """The smallest weight change at one level that ties two areas (DIR/swap.csv)."""
        check_format(fmt)
        cfg = load_config(config)
        _refuse_overwriting_data(cfg, out)
        res = build_index(cfg)
        _warn(res)
        sw = swap_weights(res, a, b, level)
        loc = local_sensitivity(res, level)
        tracker = make_tracker(no_track)
        with tracker.run("index-swap", params={**_params(cfg, config), "a": a, "b": b, "level": level}) as run:
            arts = [Artifact("swap.csv", sw.weights), Artifact("local_sensitivity.csv", loc, log_as="")]
            run.log_metrics({"feasible": float(sw.feasible), "l2_change": sw.l2, "max_abs_change": sw.max_abs})
            run.publish(with_format(arts, fmt), out)
        typer.echo(sw.summary())

    @sub.command("methods")
    def methods(lang: Annotated[str, typer.Option("--lang", help="Labels in zh or en.")] = "en") -> None:
        """The normalisers, weighting methods and aggregators an index config may name, with their options."""
        if lang not in LANGS:
            raise InputError(Problem(f"unknown value {lang!r} for --lang; valid: {', '.join(LANGS)}", column="--lang"))
        for reg in (NORMALISERS, WEIGHTS, AGGREGATORS):
            typer.echo(f"{reg.option} ({reg.family}s):")
            for spec in reg.specs():
                opts = ", ".join(f"{o.name}={o.default!r}" if o.default is not None else o.name for o in spec.options)
                kind = " [data-driven]" if spec.needs.data else ""
                typer.echo(f"  {spec.name:<11s} {spec.label(lang)}{kind}: {spec.summary}" + (f" ({opts})" if opts else ""))

    app.add_typer(sub, name="index")


def _warn(res: IndexResult) -> None:
    """The build's warnings (a data-driven weight that dominates its parent) on stderr."""
    for line in res.warnings():
        typer.echo(f"riskmodel: {line}", err=True)


def _params(cfg: IndexConfig, path: Path) -> dict[str, object]:
    return {
        "config": str(path),
        "normalise": cfg.steps.normalise.label(),
        "aggregate": cfg.steps.aggregate.label(),
        "weights": cfg.weights.method,
        "treat": (cfg.steps.treat_cfg().method if cfg.steps.treat_cfg() else "none"),
        "impute": (cfg.steps.impute_cfg().method if cfg.steps.impute_cfg() else "none"),
    }


def _refuse_overwriting_data(cfg: IndexConfig, out: Path) -> None:
    """Refuse an --out that is, or holds, a data file the config names (the guard sees only --config)."""
    d = cfg.data
    keys = {f"data.{k}": cfg.path(v) for k in ("idata", "imeta", "indicators", "spec", "areas")
            if (v := getattr(d, k)) and not is_database_url(v)}
    refuse_overwriting_inputs({"--out": out}, keys)
