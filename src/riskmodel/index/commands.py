"""``riskmodel index build | sensitivity | swap``."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import pandas as pd
import typer

from riskmodel.cli_common import NoTrackOpt, make_tracker
from riskmodel.errors import InputError, Problem

ConfigOpt = Annotated[Path, typer.Option("--config", help="Index config (TOML).")]
DirOpt = Annotated[Path, typer.Option("--out", help="Output folder (written whole or not at all).")]


def scores_for_output(res) -> pd.DataFrame:  # noqa: ANN001
    """The scores table in the CLI contract's column order (extras after)."""
    df = res.scores.copy()
    first = ["area_id", "level", "code", "score", "rank"]
    extra = [c for c in df.columns if c not in first]
    if df["period"].isna().all():
        extra.remove("period")
    else:
        df["period"] = pd.to_datetime(df["period"]).dt.strftime("%Y-%m-%d")
    return df[first + extra]


def latest_metrics(res) -> dict[str, float]:  # noqa: ANN001
    """Metrics of a build: counts, AHP CRs, and each area's latest top-level score and rank.

    Logged per area (``score.AREA``, ``rank.AREA``) so that ``riskmodel compare RUN_A RUN_B``
    of two builds (two weight schemes) shows every area's score and rank difference.
    """
    idx = res.index
    latest = idx.loc[idx["period"] == idx["period"].max()] if idx["period"].notna().any() else idx
    metrics: dict[str, float] = {"units": float(latest["area_id"].nunique()),
                                 "periods": float(idx["period"].nunique()),
                                 "indicators": float(len(res.spec.indicators))}
    for a in res.ahp:
        metrics[f"ahp.cr.{a.parent}"] = a.cr
    for r in latest.itertuples():
        metrics[f"score.{r.area_id}"] = r.score
        metrics[f"rank.{r.area_id}"] = float(r.rank)
    return metrics


def write_build(res, out: Path) -> list[Path]:  # noqa: ANN001
    """Write scores.csv, weights.csv, steps.csv, treatment.csv (and ahp.csv) into ``out``."""
    from riskmodel.data import write_table_atomic

    files = [out / "scores.csv", out / "weights.csv", out / "steps.csv"]
    write_table_atomic(scores_for_output(res), files[0])
    write_table_atomic(res.weights, files[1])
    write_table_atomic(pd.DataFrame([{"key": k, "value": str(v)} for k, v in res.log.items()]), files[2])
    if len(res.treatment):
        files.append(out / "treatment.csv")
        write_table_atomic(res.treatment, files[-1])
    if res.ahp:
        rows, experts = [], []
        for a in res.ahp:
            rv = a.revisit or {}
            revisit = (f"{rv['expert']}: ({rv['row']}, {rv['col']}) = {rv['value']:g}, implied {rv['implied']:.3g}, "
                       f"nearest Saaty value {rv['saaty']:g}") if rv else ""
            for c, w in zip(a.codes, a.weights, strict=True):
                rows.append({"parent": a.parent, "code": c, "weight": w, "lambda_max": a.lambda_max, "ci": a.ci,
                             "cr": a.cr, "consistent": a.consistent, "revisit": revisit})
            experts.append(a.experts.assign(parent=a.parent))
        files.append(out / "ahp.csv")
        write_table_atomic(pd.DataFrame(rows), files[-1])
        files.append(out / "ahp_experts.csv")
        write_table_atomic(pd.concat(experts, ignore_index=True), files[-1])
    return files


def register(app: typer.Typer) -> None:
    sub = typer.Typer(help="The Ping'an index: composite index build, rank uncertainty and weight sensitivity.",
                      no_args_is_help=True)

    @sub.command("build")
    def build(config: ConfigOpt, out: DirOpt, no_track: NoTrackOpt = False) -> None:
        """Build the index: DIR/scores.csv (area_id, level, code, score, rank) for every level."""
        from riskmodel.index.build import build_index
        from riskmodel.index.config import load_config
        from riskmodel.io_safety import atomic_dir

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
        from riskmodel.index.config import load_config

        cfg = load_config(config)
        if n < 1:
            raise InputError(Problem(f"--n must be >= 1, got {n}"))
        tracker = make_tracker(no_track)
        with tracker.run("index-sensitivity", params={**_params(cfg, config), "n": n, "seed": seed}) as run:
            summary = run_sensitivity(cfg, out, n=n, seed=seed, sobol_base=sobol_base, run=run)
        typer.echo(summary)
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
        from riskmodel.data import write_table_atomic
        from riskmodel.index.build import build_index
        from riskmodel.index.config import load_config
        from riskmodel.index.sensitivity import local_sensitivity, swap_weights
        from riskmodel.io_safety import atomic_dir

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


def _params(cfg, path: Path) -> dict[str, object]:  # noqa: ANN001
    return {
        "config": str(path),
        "normalise": cfg.steps.normalise.label(),
        "aggregate": cfg.steps.aggregate.label(),
        "weights": cfg.weights.method,
        "treat": (cfg.steps.treat_cfg().method if cfg.steps.treat_cfg() else "none"),
        "impute": (cfg.steps.impute_cfg().method if cfg.steps.impute_cfg() else "none"),
    }


def run_sensitivity(cfg, out: Path, *, n: int, seed: int, sobol_base: int | None = None, run=None,  # noqa: ANN001
                    remove_levels: tuple[int, ...] = (1, 2), title: str = "", source: str = "") -> str:
    """Monte Carlo + Sobol' + remove-one; write the tables and the chart into ``out`` (atomically)."""
    from riskmodel.data import write_table_atomic
    from riskmodel.index.build import build_index, load_inputs
    from riskmodel.index.figures import rank_interval_chart
    from riskmodel.index.sensitivity import remove_one
    from riskmodel.index.uncertainty import rank_uncertainty, sobol
    from riskmodel.io_safety import atomic_dir

    spec, data = load_inputs(cfg)
    unc = rank_uncertainty(cfg, n=n, seed=seed, spec=spec, data=data)
    sob = sobol(cfg, seed=seed, spec=spec, data=data, base=sobol_base)
    res = build_index(cfg, spec, data)
    ro = pd.concat([remove_one(res, L) for L in remove_levels if L < res.spec.n_levels], ignore_index=True)
    rank_stats = unc.rank_stats[["area_id", "nominal", "median", "q05", "q95", "mean", "name", "nominal_score"]]
    fig = rank_interval_chart(unc.rank_stats, title=title, n_replications=unc.n, n_failed=unc.n_failed,
                              period=unc.period, source=source,
                              factors="; ".join(f"{k}: {', '.join(v)}" for k, v in unc.factors.items()))
    with atomic_dir(out) as tmp:
        write_table_atomic(rank_stats, tmp / "rank_stats.csv")
        write_table_atomic(sob.table, tmp / "sobol.csv")
        write_table_atomic(unc.failures, tmp / "failures.csv")
        write_table_atomic(ro, tmp / "remove_one.csv")
        fig.savefig(tmp / "rank_intervals.png", dpi=150, bbox_inches="tight")
    if run is not None:
        run.log_table(rank_stats, "rank_stats.csv")
        run.log_table(sob.table, "sobol.csv")
        run.log_table(unc.failures, "failures.csv")
        run.log_table(ro, "remove_one.csv")
        run.log_figure(fig, "rank_intervals.png")
        width = unc.rank_stats["q95"] - unc.rank_stats["q05"]
        run.log_metrics({
            "mc.replications": unc.n, "mc.failed": unc.n_failed, "mc.seconds": unc.seconds,
            "mc.interval_width_median": float(width.median()), "mc.interval_width_max": float(width.max()),
            "sobol.builds": sob.n_builds, "sobol.failed": sob.n_failed, "sobol.seconds": sob.seconds,
            **{f"sobol.total.{r.factor}": r.total for r in sob.table.itertuples()},
            **{f"sobol.first.{r.factor}": r.first_order for r in sob.table.itertuples()},
        })
    import matplotlib.pyplot as plt

    plt.close(fig)
    return unc.summary() + "\n" + sob.summary()
