"""Reported claims: read them, and compute the observed change as each defines it.

A claims table (``data/sample/claims.csv`` or a user's file of the same shape)
has one reported change per row: ``claim_id, area_id, category, measure,
baseline_start, baseline_end, comparison_start, comparison_end,
reported_change`` and optionally ``reported_baseline, reported_comparison,
period_label, source``, ``intervention`` (programme start, when known),
``controls`` (chosen comparison series, as ``--controls``: ``category=disputes``
or ``area=A03,A07``) and ``donors`` (the synthetic control's donor areas,
comma-separated).

Measures:

* ``relative_change``: total count in the comparison period over the total in
  the baseline period, minus 1 (what "fell 35.4% year on year" means);
* ``daily_mean``: mean count per day in each period; the change is the ratio
  of the means minus 1 ("from 329 a day to about 240").

"Reproduced" means the observed figure, rounded as the reported one is
(half a unit of its last digit), equals the reported figure.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass

import numpy as np
import pandas as pd

from riskmodel.data.panel import IncidentPanel
from riskmodel.data.readers import read_table
from riskmodel.errors import InputError, Problem
from riskmodel.impact.series import ControlSpec, parse_areas, study_series

MEASURES = ("relative_change", "daily_mean")
REQUIRED = (
    "claim_id", "area_id", "category", "measure", "baseline_start", "baseline_end",
    "comparison_start", "comparison_end", "reported_change",
)
OPTIONAL = ("reported_baseline", "reported_comparison", "period_label", "source", "intervention", "controls",
            "donors")


@dataclass(frozen=True)
class Claim:
    """One reported change to test (dates are inclusive period bounds)."""

    claim_id: str
    area_id: str
    category: str
    measure: str
    baseline_start: pd.Timestamp
    baseline_end: pd.Timestamp
    comparison_start: pd.Timestamp
    comparison_end: pd.Timestamp
    reported_change: float | None
    reported_baseline: float | None = None
    reported_comparison: float | None = None
    period_label: str = ""
    source: str = ""
    intervention: pd.Timestamp | None = None
    reported_text: str = ""  # the reported change as written (for its rounding)
    controls: ControlSpec | None = None  # chosen comparison series (None: areas at the same level)
    donors: tuple[str, ...] = ()  # the synthetic control's donor areas (empty: the comparison series)


def _decimals(text: str) -> int:
    t = text.strip().lstrip("+-")
    if "e" in t.lower():
        return 6
    return len(t.split(".", 1)[1]) if "." in t else 0


def read_claims(path: str | os.PathLike[str] | pd.DataFrame) -> list[Claim]:
    """Read and check a claims table; every bad row is named at once.

    Raises
    ------
    InputError
        Missing columns, or rows with unparseable dates or numbers, an unknown
        measure, or a period that ends before it starts.
    """
    if isinstance(path, pd.DataFrame):
        df, name = path.astype(str).where(path.notna(), None), "claims"
    else:
        df, src = read_table(path, what="claims")
        name = src.name
    missing = [c for c in REQUIRED if c not in df.columns]
    if missing:
        raise InputError(Problem(f"missing column(s) {', '.join(missing)}", source=name))
    problems: list[Problem] = []
    claims: list[Claim] = []
    for i, r in enumerate(df.to_dict("records")):
        line = i + 2
        bad: list[str] = []

        def date(col: str, row: dict = r, bad: list[str] = bad) -> pd.Timestamp | None:
            v = row.get(col)
            if v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() == "":
                bad.append(f"{col} is empty")
                return None
            try:
                return pd.Timestamp(str(v).strip())
            except (ValueError, TypeError):
                bad.append(f"{col} {v!r} is not a date (YYYY-MM-DD)")
                return None

        def num(col: str, required: bool, row: dict = r, bad: list[str] = bad) -> float | None:
            v = row.get(col)
            if v is None or str(v).strip() in ("", "nan", "None"):
                if required:
                    bad.append(f"{col} is empty")
                return None
            try:
                return float(str(v).strip().rstrip("%")) / (100 if str(v).strip().endswith("%") else 1)
            except ValueError:
                bad.append(f"{col} {v!r} is not a number")
                return None

        for col in ("claim_id", "area_id", "category"):
            if r.get(col) is None or str(r.get(col)).strip() in ("", "nan", "None"):
                bad.append(f"{col} is empty")
        measure = str(r.get("measure") or "").strip()
        if measure not in MEASURES:
            bad.append(f"measure {measure!r} is unknown (valid: {', '.join(MEASURES)})")
        bs, be, cs, ce = (date(c) for c in ("baseline_start", "baseline_end", "comparison_start", "comparison_end"))
        if bs is not None and be is not None and be < bs:
            bad.append("baseline_end is before baseline_start")
        if cs is not None and ce is not None and ce < cs:
            bad.append("comparison_end is before comparison_start")
        rep = num("reported_change", required=False)
        rb, rc = num("reported_baseline", False), num("reported_comparison", False)
        if rep is None and not (rb and rc is not None):
            bad.append("reported_change is empty (and no reported_baseline/reported_comparison)")
        inter = None
        if str(r.get("intervention") or "").strip() not in ("", "nan", "None"):
            inter = date("intervention")
        ctl: ControlSpec | None = None
        if str(r.get("controls") or "").strip() not in ("", "nan", "None"):
            try:
                ctl = ControlSpec.parse(str(r.get("controls")), option="column controls")
            except InputError as exc:
                bad.append(str(exc.problems[0].message))
        don = ()
        if str(r.get("donors") or "").strip() not in ("", "nan", "None"):
            don = parse_areas(str(r.get("donors")))
        if bad:
            problems.append(Problem(
                f"claim {r.get('claim_id')!r}: " + "; ".join(bad), source=name, rows=[line],
            ))
            continue
        if rep is None:
            rep = rc / rb - 1  # type: ignore[operator]
        claims.append(Claim(
            claim_id=str(r["claim_id"]).strip(), area_id=str(r["area_id"]).strip(),
            category=str(r["category"]).strip(), measure=measure,
            baseline_start=bs, baseline_end=be, comparison_start=cs, comparison_end=ce,  # type: ignore[arg-type]
            reported_change=rep, reported_baseline=rb, reported_comparison=rc,
            period_label=str(r.get("period_label") or ""), source=str(r.get("source") or ""),
            intervention=inter, reported_text=str(r.get("reported_change") or ""),
            controls=ctl, donors=don,
        ))
    if problems:
        raise InputError(problems)
    ids = [c.claim_id for c in claims]
    dup = sorted({i for i in ids if ids.count(i) > 1})
    if dup:
        raise InputError(Problem(f"duplicate claim_id(s): {', '.join(dup)}", source=name, column="claim_id"))
    return claims


@dataclass
class ObservedChange:
    """The change the data show, computed as the claim defines it."""

    claim_id: str
    measure: str
    baseline_value: float      # total (relative_change) or mean per day (daily_mean)
    comparison_value: float
    observed_change: float
    reported_change: float | None
    reproduced: bool | None
    tolerance: float
    baseline_days: int
    comparison_days: int
    baseline_total: int
    comparison_total: int

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def observed_change(panel: IncidentPanel, claim: Claim) -> ObservedChange:
    """Compute the claim's measure on the panel's counts.

    The counts are summed over the areas under ``claim.area_id`` when it has
    none of its own (a district or the city). Periods are inclusive; the
    panel's periods whose start lies in the window are counted (daily data
    give exact windows).

    Raises
    ------
    InputError
        Unknown area or category, or a period with no data.
    """
    ss = study_series(panel, claim.area_id, claim.category, freq=panel.freq, controls=False)
    y = ss.counts
    first, last = y.index.min(), y.index.max()
    out = []
    for lab, s, e in (("baseline", claim.baseline_start, claim.baseline_end),
                      ("comparison", claim.comparison_start, claim.comparison_end)):
        if s < first or e > panel.frequency.last_day(last):
            raise InputError(Problem(
                f"claim {claim.claim_id}: the {lab} period {s.date()}..{e.date()} is outside the data "
                f"({first.date()}..{last.date()})"
            ))
        sel = (y.index >= s) & (y.index <= e)
        if not sel.any():
            raise InputError(Problem(f"claim {claim.claim_id}: no data in the {lab} period {s.date()}..{e.date()}"))
        out.append((int(y[sel].sum()), int((e - s).days) + 1))
    (bt, bd), (ct, cd) = out
    if claim.measure == "daily_mean":
        bv, cv = bt / bd, ct / cd
    else:
        bv, cv = float(bt), float(ct)
    change = cv / bv - 1 if bv > 0 else np.nan  # a zero baseline: build_design refuses it, naming the window
    rep = claim.reported_change
    tol = 0.5 * 10 ** (-_decimals(claim.reported_text)) if claim.reported_text else 0.0005
    reproduced = None if rep is None else bool(abs(change - rep) <= tol + 1e-12)
    if claim.measure == "daily_mean" and claim.reported_baseline is not None and claim.reported_comparison is not None:
        # "329 -> about 240 a day": the means must round to the reported ones
        reproduced = bool(abs(bv - claim.reported_baseline) <= 0.5 and abs(cv - claim.reported_comparison) <= 0.5)
        tol = 0.5
    return ObservedChange(
        claim_id=claim.claim_id, measure=claim.measure, baseline_value=bv, comparison_value=cv,
        observed_change=float(change), reported_change=rep, reproduced=reproduced, tolerance=tol,
        baseline_days=bd, comparison_days=cd, baseline_total=bt, comparison_total=ct,
    )

