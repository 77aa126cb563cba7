"""The catalogue of spike detectors: one ``DETECTORS.register`` call per detector.

Each detector is a :class:`~riskmodel.alerts.base.Detector` (``fn(task) ->
DetectorOutput``, see :mod:`riskmodel.alerts.base`). A detector registered
here is offered by ``riskmodel detect --method`` (its options become the
command's flags), accepted by ``[steps.alerts] method`` (its options by
``options = {...}``), run by :func:`riskmodel.alerts.detect`, and checked by
the contract test (tests/alerts/test_registry_contract.py).

Each detector is named by reference (``"module:function"``, imported on first
use), and its options' defaults are written here, not read from the
detectors' modules: those import scipy, which listing the detectors (``detect
--help``, the config's validation) must not. The contract test checks every
declared default and choice against the detector modules' own constants.

Registration extras (see :mod:`riskmodel.alerts.registry`):
``population_option`` names the option that needs a population table;
``bound`` says how ``upperbound`` relates to ``alarm``.
"""

from __future__ import annotations

from riskmodel.alerts.base import DEFAULT_FLOOR, FORECAST_FLOOR
from riskmodel.alerts.registry import DETECTORS
from riskmodel.registry import Needs, Option, by_reference

_FD = "riskmodel.alerts.farrington_detectors"

# ---------------------------------------------------------------- shared declarations
POWERTRANS = ("2/3", "1/2", "none")
"""riskmodel.alerts.farrington.POWERTRANS (the contract test checks they are equal)."""
THRESHOLD_METHODS = ("delta", "nbPlugin", "muan")
"""riskmodel.alerts.farrington.THRESHOLD_METHODS."""
_FARRINGTON_OPTIONS = {
    # name: (type, help, extra Option keywords)
    "b": (int, "years back of reference data", {}),
    "w": (int, "half-width of the reference windows, in periods", {}),
    "reweight": (bool, "down-weight past outbreaks (Anscombe residuals)", {}),
    "weights_threshold": (float, "Anscombe residual above which a reference period is down-weighted", {}),
    "alpha": (float, "one-sided level of the upper bound", {}),
    "trend": (bool, "try a linear time trend", {}),
    "p_threshold_trend": (float, "keep the trend only when its p-value is below this", {}),
    "limit54": (tuple, "CASES,WEEKS: no alarm unless CASES cases in the last WEEKS periods",
                {"parse": by_reference(f"{_FD}:parse_limit54")}),
    "powertrans": (str, "power transformation of the delta-method bound: 2/3, 1/2 or none", {"choices": POWERTRANS}),
    "population_offset": (bool, "model rates: log-population offset (needs --population)", {}),
    "no_periods": (int, "levels of the seasonal factor", {}),
    "past_weeks_not_included": (int, "recent periods left out of the fit (w unless set)", {}),
    "threshold_method": (str, "upper bound: delta (delta method), nbPlugin or muan (NB quantiles)", {"choices": THRESHOLD_METHODS}),
}
PRESETS = {
    # riskmodel.alerts.farrington.PRESETS: the defaults of the Farrington control options per detector
    "farrington": {"b": 5, "w": 3, "reweight": True, "weights_threshold": 2.58, "alpha": 0.05, "trend": True,
                   "p_threshold_trend": 0.05, "limit54": (5, 4), "powertrans": "2/3", "population_offset": False,
                   "no_periods": 1, "past_weeks_not_included": None, "threshold_method": "delta"},
    "farrington-noufaily": {"b": 5, "w": 3, "reweight": True, "weights_threshold": 2.58, "alpha": 0.05,
                            "trend": True, "p_threshold_trend": 1.0, "limit54": (5, 4), "powertrans": "2/3",
                            "population_offset": False, "no_periods": 10, "past_weeks_not_included": 26,
                            "threshold_method": "nbPlugin"},
    "farrington-original": {"b": 5, "w": 3, "reweight": True, "weights_threshold": 1.0, "alpha": 0.05,
                            "trend": True, "p_threshold_trend": 0.05, "limit54": (5, 4), "powertrans": "2/3",
                            "population_offset": False, "no_periods": 1, "past_weeks_not_included": None,
                            "threshold_method": "delta"},
}
assert all(tuple(p) == tuple(_FARRINGTON_OPTIONS) for p in PRESETS.values()), "every control field is an option"
DEFAULT_BASELINE = 7
"""riskmodel.alerts.ears.DEFAULT_BASELINE."""
DEFAULT_C_ARL = 5.0
"""riskmodel.alerts.glrnb.DEFAULT_C_ARL."""
GLR_DEFAULTS = {"c_arl": 6.0, "M": 8}
"""riskmodel.alerts.farrington_detectors.GLR_DEFAULTS."""
WINDOW_DEFAULTS = {"window": 2, "alpha": 0.005}
"""riskmodel.alerts.farrington_detectors.WINDOW_DEFAULTS."""
DEFAULT_MODEL = "nbglm"
"""riskmodel.alerts.forecast_detector.DEFAULT_MODEL."""
DEFAULT_ALPHA = 0.01
"""riskmodel.alerts.forecast_detector.DEFAULT_ALPHA."""


def _farrington_options(preset: str, skip: tuple[str, ...] = ()) -> tuple[Option, ...]:
    """The Farrington control options, with the defaults of ``preset``."""
    ctl = PRESETS[preset]
    return tuple(Option(name, kind, ctl[name], text, **kw)
                 for name, (kind, text, kw) in _FARRINGTON_OPTIONS.items() if name not in skip)


def _farrington_needs(name: str) -> Needs:
    return Needs(freqs=("W", "M"), freq_reason=(
        f"{name} compares a period with the same period of past years and works on weekly or monthly counts; "
        "resample to weekly (--freq W) or monthly (--freq M)"))


# EARS compares a period with the `baseline` periods before it and nothing in it depends on
# the length of a period: R's earsC works on "time points" of any sts (its help: "baseline:
# how many time points to use"); CDC designed it for daily counts. Any frequency is taken.
_EARS_NEEDS = Needs(freqs=("D", "W", "M"), freq_reason="EARS takes daily, weekly or monthly counts")
_EARS_OPTIONS = (
    Option("baseline", int, DEFAULT_BASELINE, "baseline periods (>= 3; days for daily counts)"),
    Option("min_sigma", float, 0.0, "lower bound of the baseline standard deviation"),
    Option("alpha", float, None, "one-sided level of the bound (C1, C2: 0.001; C3: 0.025)"),
)
_C_ARL = "alarm threshold of the GLR statistic"
_FLOOR = Option("floor", float, DEFAULT_FLOOR,
                "expected counts are at least FLOOR x the series' long-run rate (sum + 0.5) / periods "
                "over its reference window; 0: no floor")
_FORECAST_FLOOR = Option("floor", float, FORECAST_FLOOR, _FLOOR.help)
_M = "change points at most this many periods back"
_POP = "population_offset"

# ---------------------------------------------------------------- the detectors
DETECTORS.register(
    "farrington", f"{_FD}:detect_farrington",
    labels={"zh": "Farrington 灵活法（R 默认设置）", "en": "Farrington flexible (R defaults)"},
    summary="R's farringtonFlexible with R's defaults",
    options=_farrington_options("farrington"), needs=_farrington_needs("farrington"),
    population_option=_POP, bound="above",
)
DETECTORS.register(
    "farrington-noufaily", f"{_FD}:detect_farrington_noufaily",
    labels={"zh": "改进 Farrington 法（Noufaily）", "en": "improved Farrington (Noufaily 2013)"},
    summary="Noufaily (2013): 10-level season, NB quantile bound",
    options=_farrington_options("farrington-noufaily"), needs=_farrington_needs("farrington-noufaily"),
    population_option=_POP, bound="above",
)
DETECTORS.register(
    "farrington-original", f"{_FD}:detect_farrington_original",
    labels={"zh": "原始 Farrington 法", "en": "original Farrington (1996)"},
    summary="the original Farrington et al. (1996) algorithm",
    options=_farrington_options("farrington-original"), needs=_farrington_needs("farrington-original"),
    population_option=_POP, bound="above",
)
DETECTORS.register(
    "ears-c1", "riskmodel.alerts.ears:detect_ears_c1",
    labels={"zh": "EARS C1 法", "en": "EARS C1"},
    summary="EARS C1: a period against the 7 periods before it",
    options=_EARS_OPTIONS, needs=_EARS_NEEDS, bound="above",
)
DETECTORS.register(
    "ears-c2", "riskmodel.alerts.ears:detect_ears_c2",
    labels={"zh": "EARS C2 法", "en": "EARS C2"},
    summary="EARS C2: as C1 with a 2-period gap before the period",
    options=_EARS_OPTIONS, needs=_EARS_NEEDS, bound="above",
)
DETECTORS.register(
    "ears-c3", "riskmodel.alerts.ears:detect_ears_c3",
    labels={"zh": "EARS C3 法", "en": "EARS C3"},
    summary="EARS C3: the C2 statistics of the 2 periods before",
    options=_EARS_OPTIONS, needs=_EARS_NEEDS, bound=None,  # its alarm ignores the period's count (ears.py)
)
DETECTORS.register(
    "glrnb", "riskmodel.alerts.glrnb:detect_glrnb",
    labels={"zh": "负二项广义似然比控制图", "en": "negative-binomial GLR chart"},
    summary="NB GLR (or CUSUM) chart on a harmonic baseline",
    options=(
        Option("c_arl", float, DEFAULT_C_ARL, _C_ARL),
        Option("M", int, None, f"{_M} (28 days, 13 weeks, 6 months)", flag="--window"),
        Option("theta", float, None, "known log rate ratio to detect: an NB CUSUM instead of the GLR"),
        Option("alpha_nb", float, None, "NB dispersion of the baseline (default: by moments)"),
        Option("harmonics", int, 1, "pairs of yearly harmonics in the baseline model"),
        Option("trend", bool, False, "a linear trend in the baseline model"),
        _FLOOR,
    ),
    bound="at",
)
DETECTORS.register(
    "farrington-glr", f"{_FD}:detect_farrington_glr",
    labels={"zh": "Farrington 基线的广义似然比控制图", "en": "GLR chart on Farrington's baseline"},
    summary="NB GLR chart on Noufaily-Farrington baselines",
    options=(
        *_farrington_options("farrington-noufaily"),
        Option("c_arl", float, GLR_DEFAULTS["c_arl"], _C_ARL),
        Option("M", int, GLR_DEFAULTS["M"], _M, flag="--window"),
        _FLOOR,
    ),
    needs=_farrington_needs("farrington-glr"), population_option=_POP, bound="at",
)
DETECTORS.register(
    "farrington-window", f"{_FD}:detect_farrington_window",
    labels={"zh": "Farrington 窗口检验", "en": "Farrington window test"},
    summary="NB test of a window sum on Farrington's means",
    options=(
        *_farrington_options("farrington-noufaily", skip=("alpha",)),
        Option("alpha", float, WINDOW_DEFAULTS["alpha"], "level of the NB test of the window sum"),
        Option("window", int, WINDOW_DEFAULTS["window"], "periods summed"),
        _FLOOR,
    ),
    needs=_farrington_needs("farrington-window"), population_option=_POP, bound="above",
)
DETECTORS.register(
    "forecast", "riskmodel.alerts.forecast_detector:detect_forecast",
    labels={"zh": "基于预测的预警", "en": "forecast-based detector"},
    summary="above a forecast model's 1 - alpha quantile",
    options=(
        Option("model", str, DEFAULT_MODEL, "a riskmodel.forecast model, or own (a harmonic Poisson GLM)"),
        Option("alpha", float, DEFAULT_ALPHA, "the bound is the 1 - alpha forecast quantile"),
        Option("refit", int, None, "refit every N periods (28 days, 4 weeks, 1 month)"),
        Option("gap", int, None, "periods between the training data and the periods forecast (7 days, 2 weeks, 0 months)"),
        Option("params", dict, None, "parameters of the forecast model (a JSON object on the command line)",
               flag="--model-params", parse=by_reference("riskmodel.alerts.forecast_detector:parse_params")),
        _FORECAST_FLOOR,
    ),
    bound="above",
)

# ESSENCE (riskmodel.alerts.essence; Rnssp's defaults, which the contract test checks against essence.DEFAULTS)
_ESSENCE = "riskmodel.alerts.essence"
_ESSENCE_BASE = (
    Option("baseline", int, 28, "baseline periods (days for daily counts; a multiple of 7 for the regression)"),
    Option("guard", int, 2, "guard-band periods between the baseline and the period tested"),
    Option("alpha", float, 0.01, "alarm when the p-value is below ALPHA (ESSENCE: 0.01 red, 0.05 yellow)"),
)
_ESSENCE_EWMA = (
    Option("w1", float, 0.4, "smoothing of the EWMA for gradual rises"),
    Option("w2", float, 0.9, "smoothing of the EWMA for sudden rises"),
)
_DAILY = Needs(freqs=("D",), freq_reason="the ESSENCE regression models the day of the week: it takes daily counts "
                                         "(--freq D); essence-ewma takes weekly and monthly counts too")
DETECTORS.register(
    "essence-ewma", f"{_ESSENCE}:detect_essence_ewma",
    labels={"zh": "ESSENCE 指数加权移动平均法", "en": "ESSENCE EWMA"},
    summary="ESSENCE's EWMA (0.4 and 0.9) against a 28-period baseline",
    options=(*_ESSENCE_BASE, *_ESSENCE_EWMA),
    needs=Needs(freqs=("D", "W", "M"), freq_reason="ESSENCE's EWMA takes daily, weekly or monthly counts"),
    bound=None,  # its alarm depends on the days before (essence.py)
)
DETECTORS.register(
    "essence-regression", f"{_ESSENCE}:detect_essence_regression",
    labels={"zh": "ESSENCE 自适应多元回归法", "en": "ESSENCE adaptive regression"},
    summary="ESSENCE's regression on trend and weekday over 28 days",
    options=_ESSENCE_BASE, needs=_DAILY, bound="above",
)
DETECTORS.register(
    "essence", f"{_ESSENCE}:detect_essence_switch",
    labels={"zh": "ESSENCE 回归/EWMA 切换法", "en": "ESSENCE regression/EWMA switch"},
    summary="ESSENCE: regression where adj. R2 >= 0.6, else EWMA",
    options=(*_ESSENCE_BASE, *_ESSENCE_EWMA,
             Option("r2_threshold", float, 0.60, "use the regression where its adjusted R2 is at least this")),
    needs=_DAILY, bound=None,  # EWMA on the days the regression does not explain (essence.py)
)

__all__ = ["DETECTORS"]
