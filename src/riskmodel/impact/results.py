"""The result object every impact method returns.

An :class:`EffectResult` holds one estimate of a programme's effect as a
*relative* change of the expected count over the comparison (post) period
(``-0.2`` = 20% fewer incidents than without the programme), its interval,
and the model's own coefficient, standard error and p-value where the method
has them. Method-specific detail (pointwise effects, donor weights, tests)
lives in ``tables`` and ``diagnostics``.

It follows the result protocol (:mod:`riskmodel.results`): ``summary()``
(text), ``to_frame()`` (the one-row table, index ``method``), ``conf_int(level)``
and ``artifacts()``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.results import Artifact, level_fraction

#: Columns of ``effects.csv`` (one row per method), in order.
#: ``att``, ``att_lo95``, ``att_hi95``: the effect in the outcome's units (per treated area and period:
#: incidents, or the value's own unit), NaN with the reason in ``att_note`` where a method has none.
EFFECT_COLUMNS = ("method", "estimate", "lo95", "hi95", "coef", "se", "p_value", "note",
                  "att", "att_lo95", "att_hi95", "att_note")


@dataclass
class EffectResult:
    """One method's estimate of an intervention's effect.

    Attributes
    ----------
    method : str
        Method name as written in ``effects.csv`` (e.g. ``"its"``).
    estimate : float
        Relative effect on the expected count over the post period
        (observed / counterfactual - 1); NaN when the method failed.
    lo, hi : float
        Lower and upper bounds of the interval at level ``level``.
    level : float
        Interval level (0.95 by default).
    coef, se : float
        The model's effect coefficient and its standard error, on the scale
        named in ``scale`` (e.g. log rate ratio); NaN when the method has none.
    p_value : float
        Two-sided p-value of "no effect" (or the placebo rank p-value).
    scale : str
        What ``coef`` is (``"log rate ratio"``, ``"counts"``...).
    note : str
        Why a method could not run, or what to watch (e.g. autocorrelation).
    tables : dict of DataFrame
        Method detail: ``"series"`` (period, observed, counterfactual, lo, hi
        and effects), ``"weights"``, ``"coefficients"``...
    diagnostics : dict
        Scalars: overdispersion, autocorrelation test, pre-period fit...
    att, att_lo, att_hi : float
        The effect in the outcome's units: the average over the evaluation
        window of observed minus counterfactual, per treated area and period
        (incidents per period for counts; the value's unit for rates and
        scores), with its interval at ``level``; NaN when the method has none
        (``att_note`` says why).
    att_note : str
        How ``att`` was obtained (the method's own, or derived from the
        relative effect), or why there is none.
    """

    method: str
    estimate: float = np.nan
    lo: float = np.nan
    hi: float = np.nan
    level: float = 0.95
    coef: float = np.nan
    se: float = np.nan
    p_value: float = np.nan
    scale: str = ""
    note: str = ""
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    diagnostics: dict[str, Any] = field(default_factory=dict)
    att: float = np.nan
    att_lo: float = np.nan
    att_hi: float = np.nan
    att_note: str = ""

    @property
    def ok(self) -> bool:
        """True when the method produced an estimate."""
        return bool(np.isfinite(self.estimate))

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """The interval of the relative effect: one row ``method, level, estimate, lo, hi``.

        Parameters
        ----------
        level : float, optional
            Percent (95) or a fraction (0.95); it must be the level the
            method was run at (:attr:`level`): the intervals of these methods
            (placebo areas, simulated paths, exact tails) are not a normal
            approximation that could be rescaled. Default: :attr:`level`.

        Raises
        ------
        InputError
            Another level than the result's (run the method with that level).
        """
        frac = self.level if level is None else level_fraction(level)
        if not np.isclose(frac, self.level):
            raise InputError(Problem(
                f"{self.method} holds its {self.level:.0%} interval only, not {frac:.0%}; "
                f"run it with level={frac:g}"))
        return pd.DataFrame([{"method": self.method, "level": round(self.level * 100.0, 6),
                              "estimate": self.estimate, "lo": self.lo, "hi": self.hi}])

    def covers(self, value: float) -> bool:
        """Whether ``value`` (a relative effect) lies in the interval."""
        return bool(self.lo <= value <= self.hi)

    def row(self) -> dict[str, Any]:
        """One row of ``effects.csv``."""
        return {
            "method": self.method,
            "estimate": self.estimate,
            "lo95": self.lo,
            "hi95": self.hi,
            "coef": self.coef,
            "se": self.se,
            "p_value": self.p_value,
            "note": self.note,
            "att": self.att,
            "att_lo95": self.att_lo,
            "att_hi95": self.att_hi,
            "att_note": self.att_note,
        }

    def to_frame(self) -> pd.DataFrame:
        """A one-row table (index: method): the relative effect in percent with its interval, and the model terms."""
        pct = 100.0
        return pd.DataFrame(
            [
                {
                    "method": self.method,
                    "effect_%": self.estimate * pct,
                    f"lo{int(self.level * 100)}_%": self.lo * pct,
                    f"hi{int(self.level * 100)}_%": self.hi * pct,
                    "coef": self.coef,
                    "se": self.se,
                    "scale": self.scale,
                    "p_value": self.p_value,
                    "note": self.note,
                }
            ]
        ).set_index("method")

    def summary(self) -> str:
        """A text summary: the effect with its interval, the model's coefficient, the note and diagnostics."""
        lv = f"{self.level:.0%}"
        if not self.ok:
            lines = [f"{self.method}: not estimated", f"  {self.note}" if self.note else ""]
            return "\n".join(x for x in lines if x) + "\n"
        lines = [f"{self.method}: effect {self.estimate:+.1%} [{self.lo:+.1%}, {self.hi:+.1%}] ({lv} interval)"]
        terms = []
        if np.isfinite(self.coef):
            terms.append(f"coef {self.coef:.4g}" + (f" ({self.scale})" if self.scale else ""))
        if np.isfinite(self.se):
            terms.append(f"se {self.se:.4g}")
        if np.isfinite(self.p_value):
            terms.append(f"p = {self.p_value:.3g}")
        if terms:
            lines.append("  " + ", ".join(terms))
        if np.isfinite(self.att):
            span = (f" [{self.att_lo:.4g}, {self.att_hi:.4g}]"
                    if np.isfinite(self.att_lo) and np.isfinite(self.att_hi) else "")
            lines.append(f"  effect in the outcome's units: {self.att:+.4g}{span} per treated area and period")
        if self.note:
            lines.append(f"  note: {self.note}")
        scalars = {k: v for k, v in self.diagnostics.items() if isinstance(v, (int, float, str, bool, np.number))}
        if scalars:
            lines.append("  diagnostics: " + ", ".join(
                f"{k} {v:.4g}" if isinstance(v, (float, np.floating)) else f"{k} {v}" for k, v in scalars.items()))
        if self.tables:
            lines.append("  tables: " + ", ".join(self.tables))
        return "\n".join(lines) + "\n"

    def artifacts(self) -> list[Artifact]:
        """``<method>.csv`` (:meth:`to_frame`, one row) and ``<method>_<table>.csv`` per detail table."""
        arts = [Artifact(f"{self.method}.csv", self.to_frame().reset_index())]
        arts += [Artifact(f"{self.method}_{k}.csv", t) for k, t in self.tables.items() if isinstance(t, pd.DataFrame)]
        return arts

    def __repr__(self) -> str:
        if not self.ok:
            return f"EffectResult({self.method}: not estimated: {self.note})"
        return (
            f"EffectResult({self.method}: {self.estimate:+.1%} "
            f"[{self.lo:+.1%}, {self.hi:+.1%}], p={self.p_value:.3g})"
        )

    @classmethod
    def failed(cls, method: str, why: str) -> EffectResult:
        """A row for a method that could not run, saying why."""
        return cls(method=method, note=why)


def effects_table(results: list[EffectResult]) -> pd.DataFrame:
    """Stack results into the ``effects.csv`` table (one row per method)."""
    return pd.DataFrame([r.row() for r in results], columns=list(EFFECT_COLUMNS))
