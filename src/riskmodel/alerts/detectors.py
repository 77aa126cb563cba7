"""The catalogue of spike detectors: one ``DETECTORS.register`` call per detector.

Each detector is a :class:`~riskmodel.alerts.base.Detector` (``fn(task) ->
DetectorOutput``, see :mod:`riskmodel.alerts.base`). A detector registered
here is offered by ``riskmodel detect --method`` (its options become the
command's flags), accepted by ``[steps.alerts] method`` (its options by
``options = {...}``), run by :func:`riskmodel.alerts.detect`, and checked by
the contract test (tests/alerts/test_registry_contract.py).

Registration extras (see :mod:`riskmodel.alerts.registry`):
``population_option`` names the option that needs a population table;
``bound`` says how ``upperbound`` relates to ``alarm``.
"""

from __future__ import annotations

from riskmodel.alerts.base import DEFAULT_FLOOR, FORECAST_FLOOR
from riskmodel.alerts.ears import (
    DEFAULT_BASELINE,
    detect_ears_c1,
    detect_ears_c2,
    detect_ears_c3,
)
from riskmodel.alerts.farrington import POWERTRANS, PRESETS, THRESHOLD_METHODS
from riskmodel.alerts.farrington_detectors import (
    CONTROL_OPTIONS,
    GLR_DEFAULTS,
    WINDOW_DEFAULTS,
    detect_farrington,
    detect_farrington_glr,
    detect_farrington_noufaily,
    detect_farrington_original,
    detect_farrington_window,
    parse_limit54,
)
from riskmodel.alerts.forecast_detector import (
    DEFAULT_ALPHA,
    DEFAULT_MODEL,
    detect_forecast,
    parse_params,
)
from riskmodel.alerts.glrnb import DEFAULT_C_ARL, detect_glrnb
from riskmodel.alerts.registry import DETECTORS
from riskmodel.registry import Needs, Option

# ---------------------------------------------------------------- shared declarations
_FARRINGTON_OPTIONS = {
    # name: (type, help, extra Option keywords)
    "b": (int, "years back of reference data", {}),
    "w": (int, "half-width of the reference windows, in periods", {}),
    "reweight": (bool, "down-weight past outbreaks (Anscombe residuals)", {}),
    "weights_threshold": (float, "Anscombe residual above which a reference period is down-weighted", {}),
    "alpha": (float, "one-sided level of the upper bound", {}),
    "trend": (bool, "try a linear time trend", {}),
    "p_threshold_trend": (float, "keep the trend only when its p-value is below this", {}),
    "limit54": (tuple, "CASES,WEEKS: no alarm unless CASES cases in the last WEEKS periods", {"parse": parse_limit54}),
    "powertrans": (str, "power transformation of the delta-method bound: 2/3, 1/2 or none", {"choices": POWERTRANS}),
    "population_offset": (bool, "model rates: log-population offset (needs --population)", {}),
    "no_periods": (int, "levels of the seasonal factor", {}),
    "past_weeks_not_included": (int, "recent periods left out of the fit (w unless set)", {}),
    "threshold_method": (str, "upper bound: delta (delta method), nbPlugin or muan (NB quantiles)", {"choices": THRESHOLD_METHODS}),
}
assert tuple(_FARRINGTON_OPTIONS) == CONTROL_OPTIONS, "every Farrington control field is an option"


def _farrington_options(preset: str, skip: tuple[str, ...] = ()) -> tuple[Option, ...]:
    """The Farrington control options, with the defaults of ``preset``."""
    ctl = PRESETS[preset]
    return tuple(Option(name, kind, getattr(ctl, name), text, **kw)
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
    "farrington", detect_farrington,
    labels={"zh": "Farrington 灵活法（R 默认设置）", "en": "Farrington flexible (R defaults)"},
    summary="R's farringtonFlexible with R's defaults",
    options=_farrington_options("farrington"), needs=_farrington_needs("farrington"),
    population_option=_POP, bound="above",
)
DETECTORS.register(
    "farrington-noufaily", detect_farrington_noufaily,
    labels={"zh": "改进 Farrington 法（Noufaily）", "en": "improved Farrington (Noufaily 2013)"},
    summary="Noufaily (2013): 10-level season, NB quantile bound",
    options=_farrington_options("farrington-noufaily"), needs=_farrington_needs("farrington-noufaily"),
    population_option=_POP, bound="above",
)
DETECTORS.register(
    "farrington-original", detect_farrington_original,
    labels={"zh": "原始 Farrington 法", "en": "original Farrington (1996)"},
    summary="the original Farrington et al. (1996) algorithm",
    options=_farrington_options("farrington-original"), needs=_farrington_needs("farrington-original"),
    population_option=_POP, bound="above",
)
DETECTORS.register(
    "ears-c1", detect_ears_c1,
    labels={"zh": "EARS C1 法", "en": "EARS C1"},
    summary="EARS C1: a period against the 7 periods before it",
    options=_EARS_OPTIONS, needs=_EARS_NEEDS, bound="above",
)
DETECTORS.register(
    "ears-c2", detect_ears_c2,
    labels={"zh": "EARS C2 法", "en": "EARS C2"},
    summary="EARS C2: as C1 with a 2-period gap before the period",
    options=_EARS_OPTIONS, needs=_EARS_NEEDS, bound="above",
)
DETECTORS.register(
    "ears-c3", detect_ears_c3,
    labels={"zh": "EARS C3 法", "en": "EARS C3"},
    summary="EARS C3: the C2 statistics of the 2 periods before",
    options=_EARS_OPTIONS, needs=_EARS_NEEDS, bound=None,  # its alarm ignores the period's count (ears.py)
)
DETECTORS.register(
    "glrnb", detect_glrnb,
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
    "farrington-glr", detect_farrington_glr,
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
    "farrington-window", detect_farrington_window,
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
    "forecast", detect_forecast,
    labels={"zh": "基于预测的预警", "en": "forecast-based detector"},
    summary="above a forecast model's 1 - alpha quantile",
    options=(
        Option("model", str, DEFAULT_MODEL, "a riskmodel.forecast model, or own (a harmonic Poisson GLM)"),
        Option("alpha", float, DEFAULT_ALPHA, "the bound is the 1 - alpha forecast quantile"),
        Option("refit", int, None, "refit every N periods (28 days, 4 weeks, 1 month)"),
        Option("gap", int, None, "periods between the training data and the periods forecast (7 days, 2 weeks, 0 months)"),
        Option("params", dict, None, "parameters of the forecast model (a JSON object on the command line)",
               flag="--model-params", parse=parse_params),
        _FORECAST_FLOOR,
    ),
    bound="above",
)

__all__ = ["DETECTORS"]
