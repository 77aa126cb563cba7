"""riskmodel's structural intervention model against the textbooks' published fits.

Three checks of ``riskmodel.impact.structural`` (STAMP / SsfPack conventions:
regression and intervention coefficients as states with exact diffuse
initial conditions, Harvey's trigonometric seasonal, variances by maximum
likelihood under the diffuse likelihood):

1. The Nile's annual flow, 1871-1970 (``statsmodels.datasets.nile``), local
   level model: Durbin & Koopman (2012, ch. 2) give the ML variances
   sigma2_eps = 15099, sigma2_eta = 1469.1.
2. The Nile with a level shift from 1899 (the first Aswan dam) as an
   intervention: no published coefficient was found for this exact model
   (see nile_results.md); the ML level variance is 0, where the model is a
   constant level plus a step, and then the smoothed coefficient, its root
   mean square error and the irregular variance have closed forms (the
   difference of the two means, its OLS standard error, and the residual sum
   of squares over n - 2, the diffuse likelihood being the restricted one).
   Beside it, the same model with the coefficient as an ML parameter
   (statsmodels ``UnobservedComponents(mle_regression=True)``), the
   convention this issue asks riskmodel not to use.
3. UK car drivers killed or seriously injured, monthly 1969-1984 (R's
   ``datasets::Seatbelts``, the national monthly casualty series with a law
   change), in logs: the basic structural model (local level, stochastic
   trigonometric seasonal) and then with the log petrol price and the seat
   belt law (a step from February 1983) as regressors; Durbin & Koopman
   (2012, 8.2) give the variances of the first and the coefficients and
   their root mean square errors of the second. Beside it, statsmodels'
   ``UnobservedComponents`` with the full trigonometric seasonal
   (``freq_seasonal`` with 6 harmonics), whose two states at frequency pi
   keep it diffuse to the end.

Also the claim-level ``StructuralIntervention`` on the Nile (counts scale, no
seasonal): with ``param_draws=0`` its coefficient and standard error are the
STAMP figures of check 2; with the default ``param_draws=400`` they are
integrated over the variances' posterior.

Data: the Nile ships with statsmodels. structural_seatbelts.csv was written
by R 4.2.2 from its datasets package::

    Rscript -e 'd <- data.frame(month=format(seq(as.Date("1969-01-01"), by="month", length.out=192), "%Y-%m"),
      drivers=as.numeric(Seatbelts[,"drivers"]), PetrolPrice=as.numeric(Seatbelts[,"PetrolPrice"]),
      law=as.integer(Seatbelts[,"law"])); write.csv(d, "structural_seatbelts.csv", row.names=FALSE, quote=FALSE)'

Run:  .venv/bin/python benchmarks/impact/nile.py     (about 30 s; writes nile_results.md)
"""

from __future__ import annotations

import argparse
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.impact import StructuralIntervention
from riskmodel.impact.structural import fit_structural, structural_model
from riskmodel.io_safety import atomic_path

HERE = Path(__file__).resolve().parent

#: Durbin & Koopman (2012), ch. 2: the Nile's local level model
DK_NILE = {"sigma2.irregular": 15099.0, "sigma2.level": 1469.1}
#: Durbin & Koopman (2012), 8.2: log UK drivers KSI, basic structural model (variances) and with
#: the log petrol price and the seat belt law (coefficient, root mean square error)
DK_BSM = {"sigma2.irregular": 0.00341598, "sigma2.level": 0.000935852, "sigma2.seasonal": 5.01096e-7}
DK_BSM_X = {"petrol": (-0.29140, 0.09832), "law": (-0.23773, 0.04632)}


def nile() -> tuple[np.ndarray, np.ndarray]:
    """The Nile's annual flow (10^8 m^3) and its years."""
    from statsmodels.datasets import nile as ds

    d = ds.load_pandas().data
    return d["volume"].to_numpy(float), d["year"].to_numpy(int)


def seatbelts() -> pd.DataFrame:
    """R's Seatbelts: month, drivers (KSI), PetrolPrice, law (0/1)."""
    return pd.read_csv(HERE / "structural_seatbelts.csv")


def _uc(y: np.ndarray, **kw: object) -> object:
    from statsmodels.tsa.statespace.structural import UnobservedComponents

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return UnobservedComponents(y, level="local level", use_exact_diffuse=True, **kw).fit(disp=False)


def local_level_rows(y: np.ndarray) -> list[dict]:
    from scipy.optimize import minimize

    f = fit_structural(y)
    sm = _uc(y)
    mod = structural_model(y)
    # the exact maximum, by a slow, tight simplex search in the log variances
    nm = minimize(lambda u: -mod.loglike(np.exp(u)), np.log([15000.0, 1500.0]), method="Nelder-Mead",
                  options={"xatol": 1e-12, "fatol": 1e-14, "maxiter": 20000})
    exact = np.exp(nm.x)
    col = "statsmodels UnobservedComponents, default fit"
    rows = [
        {"model": "Nile, local level", "quantity": name, "published (DK 2012)": DK_NILE[name],
         "riskmodel": f.params[name], "exact maximum (Nelder-Mead, tol 1e-12)": float(e), col: float(v)}
        for name, e, v in zip(("sigma2.irregular", "sigma2.level"), exact, sm.params, strict=True)
    ]
    rows.append({"model": "Nile, local level", "quantity": "diffuse log-likelihood",
                 "published (DK 2012)": float(mod.loglike(np.array([DK_NILE["sigma2.irregular"], DK_NILE["sigma2.level"]]))),
                 "riskmodel": f.loglik, "exact maximum (Nelder-Mead, tol 1e-12)": -nm.fun, col: float(sm.llf)})
    return rows


def intervention_rows(y: np.ndarray, years: np.ndarray) -> tuple[list[dict], dict]:
    step = (years >= 1899).astype(float)
    f = fit_structural(y, exog=pd.DataFrame({"dam_1899": step}))
    a, b = y[step == 0], y[step == 1]
    rss = float(((a - a.mean()) ** 2).sum() + ((b - b.mean()) ** 2).sum())
    s2 = rss / (len(y) - 2)
    closed = {"coef": b.mean() - a.mean(), "rmse": np.sqrt(s2 * (1 / len(a) + 1 / len(b))),
              "sigma2.irregular": s2, "sigma2.level": 0.0}
    ml = _uc(y, exog=step[:, None], mle_regression=True)
    ml_vals = {"coef": float(ml.params[-1]), "rmse": float(ml.bse[-1]),
               "sigma2.irregular": float(ml.params[0]), "sigma2.level": float(ml.params[1])}
    c = f.coefficients.loc["dam_1899"]
    ours = {"coef": c["coef"], "rmse": c["rmse"], "sigma2.irregular": f.params["sigma2.irregular"],
            "sigma2.level": f.params["sigma2.level"]}
    rows = [{"model": "Nile, local level + step 1899", "quantity": q, "closed form at the ML level variance 0": closed[q],
             "riskmodel (coefficient a diffuse state)": ours[q],
             "coefficient an ML parameter (statsmodels mle_regression=True)": ml_vals[q]} for q in closed]
    rows.append({"model": "Nile, local level + step 1899", "quantity": "t-value",
                 "closed form at the ML level variance 0": closed["coef"] / closed["rmse"],
                 "riskmodel (coefficient a diffuse state)": c["t"],
                 "coefficient an ML parameter (statsmodels mle_regression=True)": ml_vals["coef"] / ml_vals["rmse"]})
    # the claim-level model on the same data (counts scale, no seasonal)
    start = int(np.searchsorted(years, 1899))
    plug = StructuralIntervention(trend="level", seasonal="none", log=False, param_draws=0).fit(y, start)
    post = StructuralIntervention(trend="level", seasonal="none", log=False, seed=0).fit(y, start)
    claim = {"plug-in (param_draws=0)": (plug.coef, plug.se, plug.diagnostics["t_ml"]),
             "integrated over the variances (param_draws=400)": (post.coef, post.se, np.nan),
             "profile": f}
    return rows, claim


def fixed_level_rows(y: np.ndarray, years: np.ndarray, levels: tuple[float, ...] = (0.0, 100.0, 300.0, 1000.0)) -> list[dict]:
    """The step's coefficient with the level variance held at given values (irregular variance at its ML)."""
    from scipy.optimize import minimize_scalar

    step = (years >= 1899).astype(float)[:, None]
    mod = structural_model(y, exog=step)
    rows = []
    for s2_eta in levels:
        opt = minimize_scalar(lambda le, s=s2_eta: -mod.loglike(np.array([np.exp(le), s])),
                              bounds=(np.log(1e3), np.log(1e5)), method="bounded", options={"xatol": 1e-9})
        res = mod.smooth(np.array([np.exp(opt.x), s2_eta]), cov_type="none")
        rows.append({"sigma2.level held at": s2_eta, "sigma2.irregular (ML given it)": float(np.exp(opt.x)),
                     "coef": float(res.smoothed_state[-1, -1]),
                     "rmse": float(np.sqrt(res.smoothed_state_cov[-1, -1, -1])), "diffuse log-likelihood": -opt.fun})
    return rows


def seatbelt_rows() -> tuple[list[dict], list[dict]]:
    d = seatbelts()
    ly = np.log(d["drivers"].to_numpy(float))
    bsm = fit_structural(ly, seasonal="trig", season=12)
    mod = structural_model(ly, seasonal="trig", season=12)
    ll_pub = float(mod.loglike(np.array([DK_BSM[k] for k in mod.param_names])))
    sm = _uc(ly, freq_seasonal=[{"period": 12, "harmonics": 6}])
    var_rows = [{"model": "log drivers KSI, BSM", "quantity": k, "published (DK 2012, 8.2)": DK_BSM[k],
                 "riskmodel": bsm.params[k], "relative difference": bsm.params[k] / DK_BSM[k] - 1,
                 "statsmodels UnobservedComponents, freq_seasonal 6 harmonics, default fit": float(v)}
                for k, v in zip(("sigma2.irregular", "sigma2.level", "sigma2.seasonal"), sm.params, strict=True)]
    var_rows.append({"model": "log drivers KSI, BSM", "quantity": "diffuse log-likelihood",
                     "published (DK 2012, 8.2)": ll_pub, "riskmodel": bsm.loglik, "relative difference": np.nan,
                     "statsmodels UnobservedComponents, freq_seasonal 6 harmonics, default fit": float(sm.llf)})
    var_rows.append({"model": "log drivers KSI, BSM", "quantity": "diffuse periods",
                     "published (DK 2012, 8.2)": np.nan, "riskmodel": bsm.nobs_diffuse, "relative difference": np.nan,
                     "statsmodels UnobservedComponents, freq_seasonal 6 harmonics, default fit": float(sm.nobs_diffuse)})
    X = pd.DataFrame({"petrol": np.log(d["PetrolPrice"].to_numpy(float)), "law": d["law"].astype(float)})
    fx = fit_structural(ly, exog=X, seasonal="trig", season=12)
    coef_rows = []
    for k, (pc, pr) in DK_BSM_X.items():
        c = fx.coefficients.loc[k]
        coef_rows.append({"regressor": k, "published coef": pc, "riskmodel coef": c["coef"],
                          "published rmse": pr, "riskmodel rmse": c["rmse"], "riskmodel t": c["t"]})
    for k, v in fx.params.items():
        coef_rows.append({"regressor": f"({k})", "riskmodel coef": v})
    return var_rows, coef_rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=str(HERE))
    a = ap.parse_args()
    y, years = nile()
    ll = pd.DataFrame(local_level_rows(y))
    iv_rows, claim = intervention_rows(y, years)
    iv = pd.DataFrame(iv_rows)
    var_rows, coef_rows = seatbelt_rows()
    cl = pd.DataFrame([{"StructuralIntervention (claim-level)": k, "coef": v[0], "se": v[1], "t": v[2]}
                       for k, v in claim.items() if k != "profile"])
    md = [
        "# impact: the structural intervention model against the textbooks",
        "",
        "`.venv/bin/python benchmarks/impact/nile.py` (the module docstring says what each check is and where "
        "the data come from). riskmodel's model: `riskmodel.impact.structural.fit_structural` (statsmodels' "
        "Kalman filter and smoother, exact diffuse initialisation, regression and intervention coefficients "
        "as states, Harvey's trigonometric seasonal).",
        "",
        "## 1. Nile, local level model",
        "",
        ll.to_markdown(index=False, floatfmt=".6g"),
        "",
        "Durbin & Koopman print 15099 and 1469.1; the exact maximum of the diffuse likelihood is at 15098.5 "
        "and 1469.18, so 1469.1 is it cut to one decimal (rounded: 1469.2). The likelihood is flat there "
        "(the row 'diffuse log-likelihood', published column: the likelihood at the published values). "
        "statsmodels' own `UnobservedComponents` with its default optimiser stops 31 and 16 away.",
        "",
        "## 2. Nile, local level with a level shift from 1899",
        "",
        iv.to_markdown(index=False, floatfmt=".6g"),
        "",
        "No published coefficient, standard error and variances were found for this model (searched: "
        "Durbin & Koopman 2012, Commandeur & Koopman 2007 (whose intervention chapter uses the UK drivers, "
        "check 3), the SAS UCM and SSM examples that fit exactly this model (their output tables were not "
        "retrievable), KFAS, rucm and statsmodels examples). The check is the closed form: the ML level "
        "variance is 0 (the level does not move once the step is in), where the smoothed coefficient is the "
        "difference of the two periods' means and its root mean square error the OLS standard error, with "
        "the irregular variance the residual sum of squares over n - 2 (the diffuse likelihood is the "
        "restricted one: the two diffuse states cost two degrees of freedom). riskmodel matches it to the "
        "printed digits. With the coefficient an ML parameter instead, the irregular variance is RSS / 99 "
        "and the standard error comes from the Hessian. A coefficient near -270 goes with a positive level "
        "variance, at a lower likelihood:",
        "",
        pd.DataFrame(fixed_level_rows(y, years)).to_markdown(index=False, floatfmt=".6g"),
        "",
        cl.to_markdown(index=False, floatfmt=".6g"),
        "",
        "The claim-level `StructuralIntervention` (here on the counts scale, no seasonal, a local level) "
        "reports STAMP's figures with `param_draws=0` (and always in `diagnostics['coef_ml']`, "
        "`['se_ml']`, `['t_ml']` and its `coefficients` table); by default its coefficient and standard "
        "error are integrated over the variances' posterior, which widens the standard error where the ML "
        "level variance is 0.",
        "",
        "## 3. UK car drivers killed or seriously injured (log), with the seat belt law",
        "",
        pd.DataFrame(var_rows).to_markdown(index=False, floatfmt=".6g"),
        "",
        "The published values are Durbin & Koopman's (2012, 8.2), as quoted by an independent reproduction "
        "found with the code search (the book itself was not at hand). riskmodel's likelihood at its "
        "estimates is at least the likelihood at the published values (the row 'diffuse log-likelihood', "
        "published column: the likelihood at the published variances). statsmodels' `UnobservedComponents` "
        "with the full trigonometric seasonal (6 harmonics) has the same likelihood and, at the same variances, "
        "the same coefficients (checked to 1e-8), but it carries two states at frequency pi, one of them never "
        "observed and so diffuse to the end: its results count all 192 periods as the diffuse start (riskmodel's "
        "model: 12), which riskmodel uses to blank diffuse-start predictions; its default optimiser also stops "
        "earlier (its variances above). With 5 harmonics it would lack the pi term.",
        "",
        pd.DataFrame(coef_rows).to_markdown(index=False, floatfmt=".6g"),
        "",
    ]
    with atomic_path(Path(a.out) / "nile_results.md") as tmp:
        tmp.write_text("\n".join(md), encoding="utf-8")
    print("\n".join(md))


if __name__ == "__main__":
    main()
