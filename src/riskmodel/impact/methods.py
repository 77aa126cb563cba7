"""The catalogue of claim-evaluation methods: one ``register`` call each.

Each method is an adapter ``method(design, options) -> EffectResult``
(:mod:`riskmodel.impact.adapters`). A method registered here is run by
:func:`riskmodel.impact.evaluate` when asked for (rows of ``effects.csv`` in
registration order), offered by ``riskmodel claim --method`` (through its
``group``) and accepted by ``[steps.claims] methods``, named in verdicts and
charts by its labels, and run by the contract test
(tests/impact/test_registry_contract.py). :mod:`riskmodel.impact.registry`
says what each keyword declares; docs/contributing/impact.md how to add one.
"""

from __future__ import annotations

from riskmodel.impact.registry import EVERY_GROUP, METHODS
from riskmodel.registry import Needs, Option, by_reference

# The methods are named by reference ("module:function", imported on first use): their modules import
# scipy and statsmodels, which listing the methods (`claim --help`, a config's check) must not.
_A = "riskmodel.impact.adapters"

# The EvaluationOptions fields the methods read (several methods share them).
LEVEL = Option("level", float, 0.95, "interval level (a fraction)")
SEED = Option("seed", int, 0, "seed of the simulations")
HARMONICS = Option("harmonics", int, 2, "harmonic pairs of the seasonal")
LOG = Option("log", bool, True, "structural models on log counts")
TREND = Option("trend", str, "auto", "structural trend (auto: level with comparison areas, else trend)",
               choices=("auto", "level", "trend", "smooth"))
SEASONAL = Option("seasonal", str, "auto", "structural seasonal (auto: none with comparison areas, else trig)",
                  choices=("auto", "trig", "dummy", "none"))
N_SIMS = Option("n_sims", int, 1000, "simulated paths of the counterfactual")
PARAM_DRAWS = Option("param_draws", int, 400, "proposals of the variance parameters (0: plug-in)")
FAMILY = Option("family", str, "quasipoisson", "ITS likelihood", choices=("quasipoisson", "negbin", "poisson"))
STRUCTURAL = (TREND, SEASONAL, HARMONICS, LOG, N_SIMS, PARAM_DRAWS, SEED, LEVEL)

# Frequencies: every method takes daily, weekly and monthly data; those that make sense on years
# (a change between windows, a comparison with other series, a segmented regression) take annual data.
ANNUAL = ("D", "W", "M", "Y")
NOT_ANNUAL = ("a structural time-series model separates a local level, a trend and a season from noise; "
              "annual data have no season and 10-30 points are too few to estimate its variances "
              "(the counterfactual's interval would be the prior's): on annual data use did, synthetic or its")

METHODS.register(
    "observed", "riskmodel.impact.outcomes:observed",
    labels={"zh": "观测变化", "en": "observed change"},
    summary="the change as the claim defines it (year on year by default), with a rate-ratio interval "
            "(of a value outcome: the change of its mean)",
    options=(LEVEL,), needs=Needs(freqs=ANNUAL), kind="change", group=EVERY_GROUP, values=True,
)
METHODS.register(
    "rate_ratio", f"{_A}:rate_ratio_effect",
    labels={"zh": "率比", "en": "rate ratio"},
    summary="comparison against baseline period per resident-day: exact, quasi-Poisson and NB intervals",
    options=(LEVEL,), needs=Needs(freqs=ANNUAL), kind="change", group="rate-ratio",
)
METHODS.register(
    "its", f"{_A}:its",
    labels={"zh": "间断时间序列", "en": "interrupted time series"},
    summary="segmented quasi-Poisson / NB regression; placebo-area interval with 8 or more comparison areas",
    options=(FAMILY, HARMONICS, Option("slope_change", bool, False, "ITS with a change of slope"),
             Option("autocorr", str, "auto", "ITS autocorrelation handling", choices=("check", "hac", "auto")),
             Option("its_inference", str, "auto", "ITS interval: regression or placebo areas",
                    choices=("auto", "placebo", "model")), LEVEL),
    needs=Needs(freqs=ANNUAL), kind="effect", group="its", primary=4,
)
METHODS.register(
    "structural", f"{_A}:structural",
    labels={"zh": "结构时间序列反事实预测", "en": "a structural time-series counterfactual"},
    summary="counterfactual forecast of a structural time-series model fitted before the intervention "
            "(CausalImpact design), comparison areas as a regressor",
    options=STRUCTURAL, needs=Needs(seed=True, freq_reason=NOT_ANNUAL), kind="effect", group="structural",
    primary=1,
)
METHODS.register(
    "structural_full", f"{_A}:structural_full",
    labels={"zh": "含干预变量的结构时间序列", "en": "a structural time-series model with an intervention term"},
    summary="structural time-series model on the whole series with a level-shift term",
    options=(TREND, SEASONAL, HARMONICS, LOG, PARAM_DRAWS, SEED, LEVEL), needs=Needs(seed=True, freq_reason=NOT_ANNUAL),
    kind="effect", group="structural", primary=5, requires="full_sample",
)
METHODS.register(
    "ratio_of_ratios", f"{_A}:ratio_of_ratios_effect",
    labels={"zh": "比率之比", "en": "ratio of ratios"},
    summary="the treated area's rate ratio over the comparison areas' one",
    options=(LEVEL,), needs=Needs(comparison=True, freqs=ANNUAL), kind="effect", group="did", primary=6,
)
METHODS.register(
    "did", f"{_A}:did",
    labels={"zh": "双重差分", "en": "difference in differences"},
    summary="Poisson difference in differences with area and period effects",
    options=(LEVEL,), needs=Needs(comparison=True, freqs=ANNUAL), kind="effect", group="did", primary=3,
    values=True,
)
METHODS.register(
    "synthetic", f"{_A}:synthetic",
    labels={"zh": "合成控制", "en": "synthetic control"},
    summary="synthetic control of indexed counts, placebo-area interval",
    options=(Option("synthetic_v", str, "equal", "predictor weighting", choices=("equal", "optimize")), SEED, LEVEL),
    needs=Needs(seed=True, comparison=True, freqs=ANNUAL), kind="effect", group="synthetic", primary=2,
    values=True,
)
METHODS.register(
    "sdid", "riskmodel.impact.sdid:sdid_effect",
    labels={"zh": "合成双重差分", "en": "synthetic difference in differences"},
    summary="synthetic DiD (Arkhangelsky et al. 2021, synthdid's defaults) of indexed counts (values as given): "
            "unit and time weights, placebo standard error (200 replications); ATT in the outcome's units per period",
    options=(SEED, LEVEL), needs=Needs(seed=True, comparison=True, freqs=ANNUAL), kind="effect", group="sdid",
    primary=7, values=True,
)
METHODS.register(
    "staggered", "riskmodel.impact.staggered:staggered_effect",
    labels={"zh": "交错实施的分组-时期效应", "en": "staggered adoption (Callaway and Sant'Anna)"},
    summary="group-time ATTs of areas starting at different dates (--starts), event study with simultaneous "
            "bands, and a check that two-way fixed effects would not be biased; ATT in the outcome's units",
    options=(Option("control_group", str, "notyettreated", "staggered comparison areas",
                    choices=("notyettreated", "nevertreated")),
             Option("base_period", str, "varying", "staggered base period of the pre-period cells",
                    choices=("varying", "universal")), SEED, LEVEL),
    needs=Needs(seed=True, comparison=True, freqs=ANNUAL), kind="effect", group="staggered", primary=8,
    values=True,
)
METHODS.register(
    "placebo_in_time", f"{_A}:placebo_in_time_check",
    labels={"zh": "时间安慰剂检验", "en": "placebo-in-time check"},
    summary="the structural model (or ITS; ITS on annual data) with a fake earlier start date: its interval should cover 0",
    options=(*STRUCTURAL, FAMILY), needs=Needs(seed=True, freqs=ANNUAL), kind="check",
    caution=by_reference(f"{_A}:placebo_caution"),
)
METHODS.register(
    "regression_to_mean", f"{_A}:regression_to_mean_check",
    labels={"zh": "均值回归检验", "en": "regression-to-the-mean check"},
    summary="the change regression to the mean alone predicts for the baseline's deviation",
    options=(LEVEL,), needs=Needs(comparison=True, freqs=ANNUAL), kind="check",
    caution=by_reference(f"{_A}:regression_to_mean_caution"),
)

__all__ = ["METHODS"]
