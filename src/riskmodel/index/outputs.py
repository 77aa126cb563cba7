"""What an index build and its sensitivity analysis publish: tables, metrics, the rank-interval chart.

Both are results (:mod:`riskmodel.results`): :class:`~riskmodel.index.build.IndexResult`
and :class:`SensitivityReport` have ``summary()``, ``to_frame()`` and
``artifacts()`` (the report also ``conf_int(level)``), so ``riskmodel index
build | sensitivity`` and the study's ``index`` and ``sensitivity`` steps
write and log the same files with :func:`riskmodel.results.write_artifacts`
and ``run.log_artifacts``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from riskmodel.index.build import IndexResult
from riskmodel.index.config import IndexConfig
from riskmodel.index.figures import rank_interval_chart
from riskmodel.index.sensitivity import remove_one
from riskmodel.index.uncertainty import (
    Sobol,
    Uncertainty,
    as_built,
    rank_uncertainty,
    sensitivity_setup,
    sobol,
)
from riskmodel.results import Artifact, level_fraction, write_artifacts

if TYPE_CHECKING:
    from matplotlib.figure import Figure


def scores_for_output(res: IndexResult) -> pd.DataFrame:
    """The scores table in the CLI contract's column order (:meth:`IndexResult.scores_for_output`)."""
    return res.scores_for_output()


def latest_metrics(res: IndexResult) -> dict[str, float]:
    """Metrics of a build (:meth:`IndexResult.metrics`): counts, AHP CRs, each area's latest score and rank."""
    return res.metrics()


def write_build(res: IndexResult, out: str | os.PathLike[str]) -> list[Path]:
    """Write the build's artifacts (scores.csv, weights.csv, steps.csv, treatment.csv, ahp*.csv) into ``out``."""
    return write_artifacts(res.artifacts(), out)


@dataclass
class SensitivityReport:
    """Monte Carlo rank intervals, Sobol' indices and remove-one changes of one built index.

    A result (:mod:`riskmodel.results`): :meth:`summary` (text),
    :meth:`to_frame` (the rank statistics), :meth:`conf_int` (rank intervals)
    and :meth:`artifacts` (``rank_stats.csv``, ``sobol.csv``,
    ``failures.csv``, ``remove_one.csv``, ``rank_intervals.png``).

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
    figure: Figure

    @property
    def rank_stats(self) -> pd.DataFrame:
        """Per area: nominal rank, median, 5% and 95% quantiles and mean of the Monte Carlo ranks."""
        return self.uncertainty.rank_stats[["area_id", "nominal", "median", "q05", "q95", "mean", "name",
                                            "nominal_score"]]

    def summary(self) -> str:
        return self.uncertainty.summary() + "\n" + self.sobol.summary()

    def to_frame(self) -> pd.DataFrame:
        """The rank statistics (one row per area), as in ``rank_stats.csv``."""
        return self.rank_stats.copy()

    def conf_int(self, level: float = 90) -> pd.DataFrame:
        """Rank intervals: the central ``level`` % of the Monte Carlo ranks of each area.

        ``level`` 90 gives the ``q05``/``q95`` columns of :attr:`rank_stats`
        (the same percentiles of the same replications). Columns ``area_id,
        name, nominal, lower, upper, level`` (ranks: 1 = best).
        """
        frac = level_fraction(level)
        rs = self.uncertainty.rank_stats
        R = self.uncertainty.ranks
        if len(R):
            lo, hi = np.percentile(R, [50 * (1 - frac), 50 * (1 + frac)], axis=0)
        else:
            lo = hi = np.full(len(rs), np.nan)
        return pd.DataFrame({"area_id": rs["area_id"].to_numpy(), "name": rs["name"].to_numpy(),
                             "nominal": rs["nominal"].to_numpy(), "lower": lo, "upper": hi,
                             "level": 100 * frac})

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

    def artifacts(self) -> list[Artifact]:
        """rank_stats.csv, sobol.csv, failures.csv, remove_one.csv and rank_intervals.png (150 dpi, tight)."""
        return [
            Artifact("rank_stats.csv", self.rank_stats),
            Artifact("sobol.csv", self.sobol.table),
            Artifact("failures.csv", self.uncertainty.failures),
            Artifact("remove_one.csv", self.remove_one),
            Artifact("rank_intervals.png", self.figure, savefig={"dpi": 150, "bbox_inches": "tight"}),
        ]

    def close(self) -> None:
        """Close the figure (after it was written and logged)."""
        import matplotlib.pyplot as plt  # here, not at import: `riskmodel index` starts faster

        plt.close(self.figure)


def analyse_sensitivity(index: IndexResult | IndexConfig, *, n: int, seed: int, sobol_base: int | None = None,
                        remove_levels: tuple[int, ...] = (1, 2), title: str = "",
                        source: str = "", progress: Callable[[int, int], None] | None = None) -> SensitivityReport:
    """Monte Carlo + Sobol' + remove-one of a built index.

    Parameters
    ----------
    index : IndexResult or IndexConfig
        The built index, whose nominal build (spec, prepared and normalised
        data, scores) all three reuse; a config is built first.
    n : int
        Monte Carlo replications.
    seed : int
        Seed of the Monte Carlo draws and (separately) of the Sobol' design.
    sobol_base : int, optional
        Sobol' base sample (a power of 2; default ``sensitivity.sobol_base``).
    remove_levels : tuple of int
        Levels of the remove-one table (levels beyond the spec's are skipped).
    title, source : str
        Of the rank-interval chart.
    progress : callable, optional
        ``progress(done, total)`` in builds: the Monte Carlo's ``n``, then
        (the total growing to ``n`` + the design's builds) Sobol''s; it never
        changes the results.
    """
    res = as_built(index)
    setup = sensitivity_setup(res)
    unc = rank_uncertainty(res, n=n, seed=seed, setup=setup, progress=progress)
    sob = sobol(res, seed=seed, base=sobol_base, setup=setup,
                progress=None if progress is None else (lambda done, total: progress(n + done, n + total)))
    ro = pd.concat([remove_one(res, L) for L in remove_levels if L < res.spec.n_levels], ignore_index=True)
    fig = rank_interval_chart(unc.rank_stats, title=title, n_replications=unc.n, n_failed=unc.n_failed,
                              period=unc.period, source=source,
                              factors="; ".join(f"{k}: {', '.join(v)}" for k, v in unc.factors.items()))
    return SensitivityReport(unc, sob, ro, fig)


__all__ = ["SensitivityReport", "analyse_sensitivity", "latest_metrics", "scores_for_output", "write_build"]
