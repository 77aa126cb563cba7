"""Where the structural counterfactual's bias comes from: the comparison series' noise.

The structural model regresses the treated street's log counts on the log of
the comparison streets' total (CausalImpact's design). That total is itself a
noisy count, so its coefficient is attenuated towards 0 (errors in variables):
when the city-wide level moves between the pre-period and the evaluation year
(the 2020 shock, the trend) the counterfactual moves by only ``beta`` times as
much, and the effect absorbs ``(1 - beta)`` times the move. In every
simulated city the true coefficient is 1.

For each city this fits the same model as the ``structural`` method (local
level, no seasonal, log counts, comparison total as a regressor in the state)
and reports the smoothed coefficient ``beta``, its z-score against 1, the
log move of the comparison total (evaluation year against the pre-period) and
``(1 - beta) * move``, the part of the move the counterfactual misses and so
the part of the effect's log error the attenuation makes; then the estimate's
log error and its correlation with that part.

Run:  nice python benchmarks/impact/structural_bias.py --cities 200 --simulators sample,light
Writes structural_bias.md.
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from calibration import SIMULATORS, START

from riskmodel.data import IncidentPanel
from riskmodel.impact import StructuralCounterfactual
from riskmodel.impact.series import study_series
from riskmodel.io_safety import atomic_path


def one_city(seed: int, scenario: str, simulator: str) -> dict:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    simulate, treated = SIMULATORS[simulator]
    counts, popt, truth = simulate(seed, scenario)
    ss = study_series(IncidentPanel.from_counts(counts, freq="M", population=popt), treated, "alerts", freq="M")
    P = ss.periods
    s = int(P.searchsorted(START, side="right")) - 1
    e0, end = int(P.searchsorted(pd.Timestamp("2020-01-01"))), int(P.searchsorted(pd.Timestamp("2021-01-01")))
    y = ss.counts.to_numpy(float)[:end]
    x = np.log(np.maximum(ss.controls.sum(axis=1).to_numpy(float)[:end], 0.5))
    mod = UnobservedComponents(np.log(np.maximum(y[:s], 0.5)), level="local level", exog=x[:s, None],
                               mle_regression=False, use_exact_diffuse=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        res = mod.fit(disp=False, maxiter=200)
    beta, beta_se = float(res.smoothed_state[-1, -1]), float(np.sqrt(res.smoothed_state_cov[-1, -1, -1]))
    r = StructuralCounterfactual(trend="level", seasonal="none", season=1, n_sims=500).fit(
        y, s, exog=x[:, None], end=end, eval_start=e0)
    move = float(x[e0:end].mean() - x[:s].mean())
    return {"scenario": scenario, "city": seed, "beta": beta, "beta_z": (beta - 1) / beta_se, "move": move,
            "explained": (1 - beta) * move, "log_error": float(np.log1p(r.estimate) - np.log1p(truth)),
            "error": r.estimate - truth}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cities", type=int, default=100)
    ap.add_argument("--simulators", default="sample,light")
    ap.add_argument("--out", default=str(Path(__file__).parent))
    a = ap.parse_args()
    rows = pd.DataFrame([{"simulator": sim, **one_city(1000 + c, sc, sim)} for sim in a.simulators.split(",")
                         for sc in ("parallel", "drift") for c in range(a.cities)])
    g = rows.groupby(["simulator", "scenario"], sort=False)
    tab = pd.DataFrame({
        "cities": g.size(),
        "beta_mean": g["beta"].mean(),
        "beta_median": g["beta"].median(),
        "beta_z_mean": g["beta_z"].mean(),
        "move_mean": g["move"].mean(),
        "explained_mean": g["explained"].mean(),
        "bias": g["error"].mean(),
        "log_bias": g["log_error"].mean(),
        "corr_error_explained": g.apply(lambda d: np.corrcoef(d["log_error"], d["explained"])[0, 1],
                                        include_groups=False),
    }).reset_index()
    md = ["# impact: bias of the structural counterfactual", "",
          f"`nice .venv/bin/python benchmarks/impact/structural_bias.py --cities {a.cities} --simulators {a.simulators}` "
          "(the first cities of calibration.py's simulator; see the module docstring for the columns). "
          "The true coefficient is 1; `explained` = (1 - beta) x the log move of the comparison total between "
          "the pre-period and 2020, the part of the log error that the attenuated coefficient makes.", "",
          tab.to_markdown(index=False, floatfmt=".3f"), ""]
    with atomic_path(Path(a.out) / "structural_bias.md") as tmp:
        tmp.write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
