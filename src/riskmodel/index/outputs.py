"""What an index build and its sensitivity analysis publish: tables, metrics, the rank-interval chart.

Shared by ``riskmodel index build | sensitivity`` and the study's ``index``
and ``sensitivity`` steps, so both write the same files.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from riskmodel.data.readers import write_table_atomic
from riskmodel.index.build import IndexResult, build_index, load_inputs
from riskmodel.index.config import IndexConfig
from riskmodel.index.figures import rank_interval_chart
from riskmodel.index.sensitivity import remove_one
from riskmodel.index.uncertainty import Sobol, Uncertainty, rank_uncertainty, sobol
from riskmodel.io_safety import atomic_dir


def scores_for_output(res: IndexResult) -> pd.DataFrame:
    """The scores table in the CLI contract's column order (extras after)."""
    df = res.scores.copy()
    first = ["area_id", "level", "code", "score", "rank"]
    extra = [c for c in df.columns if c not in first]
    if df["period"].isna().all():
        extra.remove("period")
    else:
        df["period"] = pd.to_datetime(df["period"]).dt.strftime("%Y-%m-%d")
    return df[first + extra]


def latest_metrics(res: IndexResult) -> dict[str, float]:
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


def write_build(res: IndexResult, out: Path) -> list[Path]:
    """Write scores.csv, weights.csv, steps.csv, treatment.csv (and ahp.csv) into ``out``."""
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


@dataclass
class SensitivityReport:
    """Monte Carlo rank intervals, Sobol' indices and remove-one changes of one index.

    Attributes
    ----------
    uncertainty : Uncertainty
    sobol : Sobol
    remove_one : DataFrame
    figure : matplotlib Figure
        The rank-interval chart.
    """

    uncertainty: Uncertainty
    sobol: Sobol
    remove_one: pd.DataFrame
    figure: plt.Figure

    @property
    def rank_stats(self) -> pd.DataFrame:
        return self.uncertainty.rank_stats[["area_id", "nominal", "median", "q05", "q95", "mean", "name",
                                            "nominal_score"]]

    def summary(self) -> str:
        return self.uncertainty.summary() + "\n" + self.sobol.summary()

    def metrics(self) -> dict[str, float]:
        unc, sob = self.uncertainty, self.sobol
        width = unc.rank_stats["q95"] - unc.rank_stats["q05"]
        return {
            "mc.replications": unc.n, "mc.failed": unc.n_failed, "mc.seconds": unc.seconds,
            "mc.interval_width_median": float(width.median()), "mc.interval_width_max": float(width.max()),
            "sobol.builds": sob.n_builds, "sobol.failed": sob.n_failed, "sobol.seconds": sob.seconds,
            **{f"sobol.total.{r.factor}": r.total for r in sob.table.itertuples()},
            **{f"sobol.first.{r.factor}": r.first_order for r in sob.table.itertuples()},
        }

    def write(self, out: Path) -> None:
        """rank_stats.csv, sobol.csv, failures.csv, remove_one.csv and rank_intervals.png, whole or not at all."""
        with atomic_dir(out) as tmp:
            write_table_atomic(self.rank_stats, tmp / "rank_stats.csv")
            write_table_atomic(self.sobol.table, tmp / "sobol.csv")
            write_table_atomic(self.uncertainty.failures, tmp / "failures.csv")
            write_table_atomic(self.remove_one, tmp / "remove_one.csv")
            self.figure.savefig(tmp / "rank_intervals.png", dpi=150, bbox_inches="tight")

    def log(self, run) -> None:  # noqa: ANN001 - a tracking RunHandle
        run.log_table(self.rank_stats, "rank_stats.csv")
        run.log_table(self.sobol.table, "sobol.csv")
        run.log_table(self.uncertainty.failures, "failures.csv")
        run.log_table(self.remove_one, "remove_one.csv")
        run.log_figure(self.figure, "rank_intervals.png")
        run.log_metrics(self.metrics())

    def close(self) -> None:
        plt.close(self.figure)


def analyse_sensitivity(cfg: IndexConfig, *, n: int, seed: int, sobol_base: int | None = None,
                        remove_levels: tuple[int, ...] = (1, 2), title: str = "",
                        source: str = "") -> SensitivityReport:
    """Monte Carlo + Sobol' + remove-one of the index ``cfg`` describes."""
    spec, data = load_inputs(cfg)
    unc = rank_uncertainty(cfg, n=n, seed=seed, spec=spec, data=data)
    sob = sobol(cfg, seed=seed, spec=spec, data=data, base=sobol_base)
    res = build_index(cfg, spec, data)
    ro = pd.concat([remove_one(res, L) for L in remove_levels if L < res.spec.n_levels], ignore_index=True)
    fig = rank_interval_chart(unc.rank_stats, title=title, n_replications=unc.n, n_failed=unc.n_failed,
                              period=unc.period, source=source,
                              factors="; ".join(f"{k}: {', '.join(v)}" for k, v in unc.factors.items()))
    return SensitivityReport(unc, sob, ro, fig)


__all__ = ["SensitivityReport", "analyse_sensitivity", "latest_metrics", "scores_for_output", "write_build"]
