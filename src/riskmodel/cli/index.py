"""``riskmodel index build | sensitivity | swap``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.common import NoTrackOpt, make_tracker
from riskmodel.data.readers import write_table_atomic
from riskmodel.errors import InputError, Problem
from riskmodel.index.build import build_index
from riskmodel.index.config import IndexConfig, load_config
from riskmodel.index.outputs import (
    analyse_sensitivity,
    latest_metrics,
    scores_for_output,
    write_build,
)
from riskmodel.index.sensitivity import local_sensitivity, swap_weights
from riskmodel.io_safety import atomic_dir

ConfigOpt = Annotated[Path, typer.Option("--config", help="Index config (TOML).")]
DirOpt = Annotated[Path, typer.Option("--out", help="Output folder (written whole or not at all).")]


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="The Ping'an index: composite index build, rank uncertainty and weight sensitivity.",
                      no_args_is_help=True)

    @sub.command("build")
    def build(config: ConfigOpt, out: DirOpt, no_track: NoTrackOpt = False) -> None:
        """Build the index: DIR/scores.csv (area_id, level, code, score, rank) for every level."""
        cfg = load_config(config)
        res = build_index(cfg)
        tracker = make_tracker(no_track)
        with tracker.run("index-build", params=_params(cfg, config)) as run, atomic_dir(out) as tmp:
            write_build(res, tmp)
            idx = res.index
            run.log_table(scores_for_output(res), "scores.csv")
            run.log_table(res.weights, "weights.csv")
            run.log_metrics({"units": idx["area_id"].nunique(), "indicators": len(res.spec.indicators),
                             **{k: v for k, v in res.log.items() if isinstance(v, int | float)},
                             **latest_metrics(res)})
        typer.echo(res.summary())
        typer.echo(f"wrote {out / 'scores.csv'}")

    @sub.command("sensitivity")
    def sensitivity(
        config: ConfigOpt,
        out: DirOpt,
        n: Annotated[int, typer.Option("--n", help="Monte Carlo replications.")] = 1000,
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
        sobol_base: Annotated[int | None, typer.Option("--sobol-base", help="Sobol' base sample (power of 2); builds = base x (factors + 2).")] = None,
        no_track: NoTrackOpt = False,
    ) -> None:
        """Rank intervals (DIR/rank_stats.csv) and Sobol' indices (DIR/sobol.csv) of the index."""
        cfg = load_config(config)
        if n < 1:
            raise InputError(Problem(f"--n must be >= 1, got {n}"))
        tracker = make_tracker(no_track)
        with tracker.run("index-sensitivity", params={**_params(cfg, config), "n": n, "seed": seed}) as run:
            rep = analyse_sensitivity(cfg, n=n, seed=seed, sobol_base=sobol_base)
            rep.write(out)
            rep.log(run)
            rep.close()
        typer.echo(rep.summary())
        typer.echo(f"wrote {out / 'rank_stats.csv'} and {out / 'sobol.csv'}")

    @sub.command("swap")
    def swap(
        config: ConfigOpt,
        out: DirOpt,
        a: Annotated[str, typer.Option("--a", help="First area id.")],
        b: Annotated[str, typer.Option("--b", help="Second area id.")],
        level: Annotated[int, typer.Option("--level", help="Level whose weights may change (1 = indicators).")] = 2,
        no_track: NoTrackOpt = False,
    ) -> None:
        """The smallest weight change at one level that ties two areas (DIR/swap.csv)."""
        cfg = load_config(config)
        res = build_index(cfg)
        sw = swap_weights(res, a, b, level)
        loc = local_sensitivity(res, level)
        tracker = make_tracker(no_track)
        with tracker.run("index-swap", params={**_params(cfg, config), "a": a, "b": b, "level": level}) as run, \
                atomic_dir(out) as tmp:
            write_table_atomic(sw.weights, tmp / "swap.csv")
            write_table_atomic(loc, tmp / "local_sensitivity.csv")
            run.log_metrics({"feasible": float(sw.feasible), "l2_change": sw.l2, "max_abs_change": sw.max_abs})
            run.log_table(sw.weights, "swap.csv")
        typer.echo(sw.summary())

    app.add_typer(sub, name="index")


def _params(cfg: IndexConfig, path: Path) -> dict[str, object]:
    return {
        "config": str(path),
        "normalise": cfg.steps.normalise.label(),
        "aggregate": cfg.steps.aggregate.label(),
        "weights": cfg.weights.method,
        "treat": (cfg.steps.treat_cfg().method if cfg.steps.treat_cfg() else "none"),
        "impute": (cfg.steps.impute_cfg().method if cfg.steps.impute_cfg() else "none"),
    }
