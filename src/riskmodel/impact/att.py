"""The effect in the outcome's units (``att`` of ``effects.csv``) for every method.

Every impact method reports a *relative* effect ``r = observed / counterfactual - 1``
over the evaluation window. Where a method has an effect in the outcome's
units of its own (synthetic DiD, the staggered estimator: their ``att``), it
is kept. For the other effect methods it follows from the relative effect and
the treated area's observed mean per period over the evaluation window
``O``: the counterfactual mean is ``O / (1 + r)``, so the average effect per
period is ``O - O / (1 + r) = O r / (1 + r)`` (incidents per period for
counts; the value's own unit for rates and scores). The map is increasing in
``r`` (for ``r > -1``), so the relative interval maps to the ATT's. For the
observed change and the rate ratio (changes between windows, not effects
against a counterfactual) and the checks, ``att`` is NaN and ``att_note``
says why.
"""

from __future__ import annotations

import numpy as np

from riskmodel.impact.design import StudyDesign
from riskmodel.impact.results import EffectResult

#: ``att_note`` of a change (observed, rate ratio) and of a check.
NO_ATT = {
    "change": "a change between two windows, not an effect against a counterfactual: no ATT",
    "check": "a check of the other methods, not an effect of the programme: no ATT",
}


def _per_period(obs: float, r: float) -> float:
    return obs * r / (1.0 + r) if np.isfinite(r) and r > -1.0 else np.nan


def fill_att(result: EffectResult, design: StudyDesign, kind: str) -> EffectResult:
    """Fill ``att``, ``att_lo``, ``att_hi`` and ``att_note`` of a method's result, in place.

    Parameters
    ----------
    result : EffectResult
        A method's result (its ``att`` kept when finite).
    design : StudyDesign
        The design it ran on (the treated area's observed values over the
        evaluation window ``[eval_start, end)``).
    kind : {'change', 'effect', 'check'}
        The method's registered kind.

    Returns
    -------
    EffectResult
        ``result``.
    """
    if np.isfinite(result.att):
        if not result.att_note:
            result.att_note = "the method's own ATT (outcome units per treated area and period)"
        return result
    if kind in NO_ATT:
        result.att_note = NO_ATT[kind]
        return result
    if not result.ok:
        result.att_note = "not estimated"
        return result
    y = np.asarray(design.y, float)[design.eval_start:design.end]
    if not len(y) or not np.isfinite(y).all():
        result.att_note = "no observed values in the evaluation window"
        return result
    obs = float(y.mean())
    result.att = _per_period(obs, result.estimate)
    result.att_lo, result.att_hi = _per_period(obs, result.lo), _per_period(obs, result.hi)
    unit = "incidents" if design.outcome == "count" else "outcome units"
    result.att_note = (f"from the relative effect r and the treated area's observed mean O = {obs:.4g} per period over "
                       f"the evaluation window: O r / (1 + r), {unit} per period")
    if not np.isfinite(result.att):
        result.att_note = "the relative effect is -100% or less: no ATT"
    return result


__all__ = ["NO_ATT", "fill_att"]
