"""Staggered adoption: the group-time ATT estimator of Callaway and Sant'Anna (2021).

Programmes start in different areas at different times. Each area belongs to
the *cohort* ``g`` of the first period it is treated in (areas never treated
in the panel form no cohort). For every cohort ``g`` and period ``t`` the
estimator compares the change of the cohort's mean outcome between a base
period and ``t`` with the same change among comparison areas:

``ATT(g, t) = mean_{G=g}(Y_t - Y_b) - mean_{C}(Y_t - Y_b)``

(the unconditional estimator, no covariates), the conventions of the
authors' R package ``did`` (``att_gt`` / ``aggte``, version 2.x):

* **Comparison group** ``C``: ``"notyettreated"`` (default here; ``did``'s
  default is ``"nevertreated"``): areas never treated plus those first
  treated after ``max(t, b) + anticipation`` (other than ``g``);
  ``"nevertreated"``: areas never treated in the panel only.
* **Base period** ``b``: ``"varying"`` (``did``'s default): for post periods
  ``t >= g`` the last period before treatment (``g - 1 - anticipation``),
  for pre-periods ``t < g`` the period before ``t`` (so pre-period cells are
  period-on-period placebo changes, and the panel's first period has no
  cell); ``"universal"``: always ``g - 1 - anticipation`` (that cell is 0 by
  construction and kept, with no variance, as in ``did``).
* **Influence functions** per area (``n`` areas): ``psi_i = n (G_i (dY_i -
  mean_G) / N_G - C_i (dY_i - mean_C) / N_C)``, so that the analytical
  standard error is ``sqrt(mean(psi^2) / n)``.
* **Aggregations** (``did``'s ``aggte``), cohorts weighted by their share of
  areas ``p_g``, with the extra term in the influence function for the
  estimated weights: ``simple`` (post cells weighted by ``p_g``), ``group``
  (each cohort's mean over its post periods, then weighted by ``p_g``),
  ``dynamic`` (event time ``e = t - g``, ``min_e..max_e``; the overall
  figure is the mean over ``e >= 0``), ``calendar`` (each period's post
  cells, then the mean over periods).
* **Multiplier bootstrap** (``did``'s ``mboot``): each draw multiplies the
  influence functions by i.i.d. weights with mean 0 and variance 1 per
  cluster (the area by default, so inference is clustered at the area
  level; a coarser cluster per area may be given): Rademacher weights
  (+-1, the default, as ``did`` draws them through ``BMisc``'s
  ``multiplier_bootstrap``) or Mammen's two-point weights. The bootstrap standard error is the
  interquartile range of the draws over that of the normal; the
  *simultaneous* band uses the ``level`` quantile of the draws' largest
  absolute t-statistic (sup-t) over the table's rows, times that standard
  error. Draws come from a seeded generator: same inputs and seed, same
  numbers (not R's numbers: R's random stream differs).
* **Pre-trend test**: the Wald test of all pre-period cells being zero,
  with the analytical covariance (``did``'s "P-value for pre-test").

Balanced panels only: a panel with a missing (area, period) or a missing
outcome is refused, naming the areas (drop them or fill the gaps first).

Two-way fixed effects check (:meth:`StaggeredResult.twfe_check`): the TWFE
coefficient of ``Y_it = a_i + l_t + beta D_it``, the weights it puts on the
treated cells (de Chaisemartin and D'Haultfoeuille 2020, AER, Theorem 1:
``beta`` is a weighted sum of the cells' effects whose weights may be
negative), their robustness ratio ``sigma_fe``, and a test of TWFE against
the heterogeneity-robust simple ATT (the two estimators' influence
functions give the difference's standard error).

Why hand-written: the registry's ``csdid``, ``differences`` and
``diff-diff`` would each be a new dependency for one estimator whose
unconditional form is a few array operations; this module follows the
paper and the ``did`` package's conventions and is checked against the
``did`` package's published ``mpdta`` example (benchmarks/impact/staggered_results.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import chi2, norm
from scipy.stats import t as student_t

from riskmodel.errors import InputError, Problem
from riskmodel.impact.design import EvaluationOptions, StudyDesign
from riskmodel.impact.results import EffectResult
from riskmodel.results import Artifact, level_fraction

CONTROL_GROUPS = ("notyettreated", "nevertreated")
BASE_PERIODS = ("varying", "universal")
AGGREGATIONS = ("simple", "group", "dynamic", "calendar")
MULTIPLIERS = ("rademacher", "mammen")
#: Variance at or below this counts as none (``did``'s ``sqrt(eps) * 10`` on the SE).
_TINY = np.sqrt(np.finfo(float).eps) * 10
_IQR_NORMAL = norm.ppf(0.75) - norm.ppf(0.25)
_CHUNK = 250  # bootstrap draws per block (bounds memory at 250 x clusters)


# ------------------------------------------------------------------ the panel
@dataclass(frozen=True)
class _Panel:
    units: np.ndarray          # (n,) area labels
    periods: np.ndarray        # (T,) period labels, sorted
    Y: np.ndarray              # (n, T) outcomes
    cohort: np.ndarray         # (n,) position of the first treated period; inf = never
    notes: tuple[str, ...]


def _source(what: str) -> str:
    return what or "staggered panel"


def _balanced_panel(
    data: pd.DataFrame, starts: Mapping[Any, Any] | pd.Series, *,
    unit: str, time: str, outcome: str, what: str,
) -> _Panel:
    """Check and reshape the long table into an (areas x periods) matrix and cohorts."""
    src = _source(what)
    for col in (unit, time, outcome):
        if col not in data.columns:
            raise InputError(Problem(f"no column {col!r} (columns: {', '.join(map(str, data.columns))})",
                                     source=src, column=col))
    df = data[[unit, time, outcome]]
    dup = df.duplicated([unit, time], keep=False).to_numpy()
    if dup.any():
        raise InputError(Problem.at_rows(
            f"more than one row per ({unit}, {time}); one outcome per area and period is needed",
            index=np.flatnonzero(dup), source=src, column=time))
    y = pd.to_numeric(df[outcome], errors="coerce")
    bad = y.isna().to_numpy() | ~np.isfinite(y.to_numpy(dtype=float, na_value=np.nan))
    if bad.any():
        raise InputError(Problem.at_rows(
            "the outcome must be a finite number in every row (balanced panels only); "
            "drop the areas or fill the values first", index=np.flatnonzero(bad), source=src,
            column=outcome, values=df[outcome].to_numpy()[bad][:10]))
    wide = pd.DataFrame({"u": df[unit].to_numpy(), "t": df[time].to_numpy(), "y": y.to_numpy(float)})
    wide = wide.pivot(index="u", columns="t", values="y").sort_index(axis=1)
    if wide.isna().any().any():
        holes = wide.index[wide.isna().any(axis=1)]
        shown = ", ".join(map(str, holes[:10])) + (" ..." if len(holes) > 10 else "")
        raise InputError(Problem(
            f"unbalanced panel: {len(holes)} area(s) lack one or more of the {wide.shape[1]} periods "
            f"({shown}); the staggered estimator needs every area in every period (drop those areas "
            f"or fill the gaps first)", source=src, column=time))
    periods = wide.columns.to_numpy()
    units = wide.index.to_numpy()
    if len(periods) < 2:
        raise InputError(Problem("at least two periods are needed", source=src, column=time))
    st = pd.Series(starts) if not isinstance(starts, pd.Series) else starts
    dup_st = st.index.duplicated(keep=False)
    if dup_st.any():
        clash = st[dup_st].groupby(level=0).nunique(dropna=False)
        clash = clash[clash > 1]
        if len(clash):
            raise InputError(Problem(
                f"{len(clash)} area(s) have more than one start date "
                f"({', '.join(map(str, clash.index[:10]))}); give one start per area", source="start dates"))
        st = st[~st.index.duplicated(keep="first")]
    extra = sorted(set(st.index) - set(units), key=str)
    notes: list[str] = []
    if extra:
        notes.append(f"{len(extra)} area(s) with a start date are not in the panel and were ignored "
                     f"({', '.join(map(str, extra[:5]))}{' ...' if len(extra) > 5 else ''})")
    start_of = st.reindex(units)
    cohort = np.full(len(units), np.inf)
    has = start_of.notna().to_numpy()
    if has.any():
        try:
            pos = np.searchsorted(periods, start_of[has].to_numpy(), side="left")
        except TypeError as exc:
            raise InputError(Problem(
                f"start dates cannot be compared with the panel's periods ({exc}); give them "
                f"in the same form as column {time!r}", source=src, column=time)) from None
        cohort[has] = pos.astype(float)
    after = np.isfinite(cohort) & (cohort >= len(periods))
    if after.any():
        notes.append(f"{int(after.sum())} area(s) start after the last period "
                     f"({periods[-1]}) and count as never treated")
        cohort[after] = np.inf
    first = cohort == 0
    keep = ~first
    if first.any():
        notes.append(f"{int(first.sum())} area(s) already treated in the first period "
                     f"({periods[0]}) were dropped: they have no pre-treatment period")
    Y = wide.to_numpy(float)[keep]
    units, cohort = units[keep], cohort[keep]
    if not np.isfinite(cohort).any():
        raise InputError(Problem("no area starts the programme within the panel's periods",
                                 source=src, column=time))
    return _Panel(units=units, periods=periods, Y=Y, cohort=cohort, notes=tuple(notes))


# ------------------------------------------------------------- the bootstrap
def _multipliers(rng: np.random.Generator, size: tuple[int, int], kind: str) -> np.ndarray:
    """I.i.d. multiplier weights with mean 0 and variance 1."""
    if kind == "rademacher":
        return rng.choice(np.array([-1.0, 1.0]), size=size)
    s5 = np.sqrt(5.0)  # Mammen's two-point distribution (also matches the third moment 1)
    lo, hi = (1.0 - s5) / 2.0, (1.0 + s5) / 2.0
    return np.where(rng.random(size) < (s5 + 1.0) / (2.0 * s5), lo, hi)


@dataclass(frozen=True)
class _Bootstrap:
    clusters: np.ndarray       # (n,) cluster codes 0..nc-1
    n_boot: int
    seed: int
    kind: str

    def draws(self, psi: np.ndarray) -> np.ndarray:
        """``sqrt(nc) * mean_c(V_bc * sum_{i in c} psi_i)``, shape (n_boot, k); the same V for every call."""
        nc = int(self.clusters.max()) + 1
        S = np.zeros((nc, psi.shape[1]))
        np.add.at(S, self.clusters, psi)
        rng = np.random.default_rng(self.seed)
        out = []
        for start in range(0, self.n_boot, _CHUNK):
            V = _multipliers(rng, (min(_CHUNK, self.n_boot - start), nc), self.kind)
            out.append(V @ S / np.sqrt(nc))
        return np.vstack(out)

    def se_and_crit(self, psi: np.ndarray, level: float) -> tuple[np.ndarray, float]:
        """Bootstrap standard errors (IQR / normal IQR) and the sup-t critical value at ``level``."""
        n = psi.shape[0]
        nc = int(self.clusters.max()) + 1
        b = self.draws(psi)
        q = np.quantile(b, [0.25, 0.75], axis=0, method="inverted_cdf")
        sig = (q[1] - q[0]) / _IQR_NORMAL
        se = sig * np.sqrt(nc) / n
        ok = np.isfinite(sig) & (se > _TINY)
        se = np.where(ok, se, np.nan)
        if not ok.any():
            return se, float(norm.ppf(0.5 + level / 2.0))
        t = np.abs(b[:, ok] / sig[ok]).max(axis=1)
        crit = float(np.quantile(t, level, method="inverted_cdf"))
        # did's rule: never narrower than the pointwise interval
        return se, max(crit, float(norm.ppf(0.5 + level / 2.0)))


def _wif(keep: np.ndarray, pg: np.ndarray, cell_group: np.ndarray, unit_group: np.ndarray) -> np.ndarray:
    """Influence of the estimated cohort shares on a ``p_g``-weighted average (``did``'s ``wif``), (n, len(keep))."""
    p = pg[keep]
    sp = p.sum()
    centred = (unit_group[:, None] == cell_group[keep][None, :]).astype(float) - p[None, :]
    return centred / sp - np.outer(centred.sum(axis=1), p / sp ** 2)


# ------------------------------------------------------------------ results
@dataclass
class StaggeredAggregate:
    """One aggregation of the group-time effects (``did``'s ``aggte``).

    Attributes
    ----------
    kind : str
        ``"simple"``, ``"group"``, ``"dynamic"`` or ``"calendar"``.
    table : DataFrame
        One row per cohort / event time / period (empty for ``simple``):
        ``group`` | ``event_time`` | ``period``, ``att``, ``se`` (analytical),
        ``se_boot``, ``lo``, ``hi`` (pointwise at ``level``, analytical SE),
        ``band_lo``, ``band_hi`` (simultaneous, bootstrap sup-t).
    att, se, se_boot : float
        The overall figure (outcome units) and its standard errors.
    crit : float
        Sup-t critical value of the table's band.
    level : float
        Level of the intervals and band (fraction).
    influence : ndarray, shape (n,)
        Influence function of the overall figure per area.
    """

    kind: str
    table: pd.DataFrame
    att: float
    se: float
    se_boot: float
    crit: float
    level: float
    influence: np.ndarray = field(repr=False)

    def summary(self) -> str:
        """Text summary: the overall figure and the table with its simultaneous band."""
        z = norm.ppf(0.5 + self.level / 2.0)
        lines = [f"Aggregation: {self.kind}",
                 f"  overall ATT {self.att: .4f}  se {self.se:.4f} (bootstrap {self.se_boot:.4f})  "
                 f"{self.level:.0%} CI [{self.att - z * self.se: .4f}, {self.att + z * self.se: .4f}]"]
        if len(self.table):
            lines.append(f"  simultaneous {self.level:.0%} band: critical value {self.crit:.3f}")
            lines.append(self.table.to_string(index=False, float_format=lambda v: f"{v: .4f}"))
        return "\n".join(lines)

    def to_frame(self) -> pd.DataFrame:
        """The table (a copy)."""
        return self.table.copy()


@dataclass
class StaggeredResult:
    """Group-time average treatment effects and their inference.

    Attributes
    ----------
    table : DataFrame
        One row per (cohort, period) cell: ``group`` and ``period`` (labels of
        the panel's periods; ``group`` is the cohort's first treated period),
        ``event_time`` (periods since the start, ``t - g``), ``base_period``,
        ``post`` (``t >= g``), ``att`` (outcome units), ``se`` (analytical),
        ``se_boot``, ``lo``/``hi`` (pointwise), ``band_lo``/``band_hi``
        (simultaneous over all cells), ``n_treated``, ``n_control``,
        ``treated_mean`` (the cohort's observed mean outcome in ``period``).
    influence : ndarray, shape (n, k)
        Influence functions of the cells (areas x cells, rows of ``table``).
    control_group, base_period : str
        The options used.
    level : float
        Level of the intervals (fraction).
    crit : float
        Sup-t critical value of the cells' band.
    pretest_stat, pretest_p : float
        Wald statistic and p-value of "all pre-period cells are zero" (NaN
        when there are none).
    notes : list of str
        What was decided for the user (areas dropped, late starters...).
    """

    table: pd.DataFrame
    influence: np.ndarray = field(repr=False)
    control_group: str
    base_period: str
    anticipation: int
    level: float
    crit: float
    pretest_stat: float
    pretest_p: float
    notes: list[str]
    _panel: _Panel = field(repr=False)
    _boot: _Bootstrap = field(repr=False)
    _memo: dict = field(default_factory=dict, repr=False)  # aggregations and TWFE checks already computed

    # ---- protocol
    @property
    def n_units(self) -> int:
        """Number of areas used."""
        return int(self._panel.Y.shape[0])

    def to_frame(self) -> pd.DataFrame:
        """The long table of group-time ATTs (a copy), with standard errors, intervals and band."""
        return self.table.drop(columns=["_g", "_t"])

    def conf_int(self, level: float | None = None) -> pd.DataFrame:
        """Pointwise normal intervals of the cells from the analytical standard errors.

        Parameters
        ----------
        level : float, optional
            Percent (95) or fraction (0.95); default the result's level.

        Returns
        -------
        DataFrame
            ``group, period, att, lo, hi`` (simultaneous bands are in
            :meth:`to_frame`, at the fitted level only).
        """
        frac = self.level if level is None else level_fraction(level)
        z = norm.ppf(0.5 + frac / 2.0)
        out = self.table[["group", "period", "att"]].copy()
        out["lo"] = self.table["att"] - z * self.table["se"]
        out["hi"] = self.table["att"] + z * self.table["se"]
        return out

    def summary(self) -> str:
        """Text summary: cells with their simultaneous band, the pre-trend test, the event study and TWFE check."""
        lines = ["Staggered adoption: Callaway and Sant'Anna (2021) group-time ATT",
                 f"  areas {self.n_units}, periods {len(self._panel.periods)}, cohorts "
                 f"{int(np.isfinite(np.unique(self._panel.cohort)).sum())}; control group "
                 f"{self.control_group}, base period {self.base_period}, anticipation {self.anticipation}",
                 f"  standard errors: analytical (influence functions) and multiplier bootstrap "
                 f"({self._boot.n_boot} {self._boot.kind} draws, seed {self._boot.seed}, clustered by "
                 f"{'area' if int(self._boot.clusters.max()) + 1 == self.n_units else 'the given clusters'})",
                 f"  simultaneous {self.level:.0%} band over the cells: critical value {self.crit:.3f}"]
        cols = ["group", "period", "att", "se", "se_boot", "band_lo", "band_hi"]
        if len(self.table) <= 60:
            lines.append(self.table[cols].to_string(index=False, float_format=lambda v: f"{v: .4f}"))
        else:
            lines.append(f"  {len(self.table)} group-time cells: see to_frame()")
        if np.isfinite(self.pretest_p):
            lines.append(f"  pre-trend Wald test (pre-period cells = 0): chi2 {self.pretest_stat:.3f}, "
                         f"p = {self.pretest_p:.5f}")
        lines.append(self.aggregate("dynamic").summary())
        lines.append(self.aggregate("group").summary())
        lines.append(self.twfe_check().summary())
        lines.extend(f"  note: {n}" for n in self.notes)
        return "\n".join(lines)

    def artifacts(self) -> list[Artifact]:
        """Tables to write: ``staggered_attgt.csv`` and ``staggered_event_study.csv``."""
        return [Artifact("staggered_attgt.csv", self.to_frame()),
                Artifact("staggered_event_study.csv", self.aggregate("dynamic").to_frame())]

    def effect_result(self, method: str = "staggered") -> EffectResult:
        """The simple ATT as one row of ``effects.csv``.

        ``coef``/``se`` are the simple ATT and its analytical standard error
        in the outcome's units (``scale`` says so); ``estimate``/``lo``/``hi``
        are the relative effect ``ATT / (treated mean - ATT)`` over the
        treated post-period cells (weighted as the simple ATT), its interval
        mapped from the ATT's normal interval with the treated areas'
        observed mean held fixed. ``tables`` holds the group-time cells
        (``"attgt"``) and the event study (``"event_study"``).
        """
        agg = self.aggregate("simple")
        post = self.table[self.table["post"]]
        pg = np.array([(self._panel.cohort == g).mean() for g in post["_g"]])
        m = float(np.dot(pg, post["treated_mean"]) / pg.sum())
        z = norm.ppf(0.5 + self.level / 2.0)

        def rel(a: float) -> float:
            return a / (m - a) if m - a > 0 else np.nan

        tw = self.twfe_check()
        note = "TWFE would be biased here (see the TWFE check)" if tw.biased else ""
        return EffectResult(
            method=method, estimate=rel(agg.att), lo=rel(agg.att - z * agg.se), hi=rel(agg.att + z * agg.se),
            level=self.level, coef=agg.att, se=agg.se, p_value=float(2 * norm.sf(abs(agg.att) / agg.se)),
            scale="outcome units (simple ATT)", note=note,
            tables={"attgt": self.to_frame(), "event_study": self.aggregate("dynamic").to_frame()},
            diagnostics={"pretest_p": self.pretest_p, "twfe_beta": tw.beta, "twfe_biased": tw.biased,
                         "control_group": self.control_group, "base_period": self.base_period})

    # ---- aggregation
    def aggregate(self, kind: str = "dynamic", *, min_e: float = -np.inf, max_e: float = np.inf,
                  level: float | None = None) -> StaggeredAggregate:
        """Aggregate the cells as ``did``'s ``aggte`` does.

        Parameters
        ----------
        kind : {"simple", "group", "dynamic", "calendar"}
            ``dynamic`` is the event study.
        min_e, max_e : float
            Event times kept (``dynamic``); ``max_e`` also caps the post
            periods of ``simple`` and ``group`` (periods since the start).
        level : float, optional
            Interval and band level; default the result's.

        Returns
        -------
        StaggeredAggregate
        """
        key = ("aggregate", kind, float(min_e), float(max_e), level)
        if key not in self._memo:  # the same arguments give the same numbers (seeded draws): computed once
            self._memo[key] = self._aggregate(kind, min_e=min_e, max_e=max_e, level=level)
        return self._memo[key]

    def _aggregate(self, kind: str, *, min_e: float, max_e: float, level: float | None) -> StaggeredAggregate:
        if kind not in AGGREGATIONS:
            raise InputError(Problem(f"unknown aggregation {kind!r}; choose one of {', '.join(AGGREGATIONS)}"))
        frac = self.level if level is None else level_fraction(level)
        tab = self.table
        att = tab["att"].to_numpy(float)
        psi = self.influence
        cg = tab["_g"].to_numpy(float)
        ev = tab["event_time"].to_numpy(float)
        ct = tab["_t"].to_numpy(float)
        ucoh = self._panel.cohort
        groups = np.unique(cg)
        pgroup = np.array([(ucoh == g).mean() for g in groups])
        pg = pgroup[np.searchsorted(groups, cg)]
        post = (ev >= 0) & (ev <= max_e)
        if kind in ("simple", "group") and not post.any():
            raise InputError(Problem(f"no post-period cell with event time up to max_e={max_e}"))
        z = norm.ppf(0.5 + frac / 2.0)

        def combine(idx: np.ndarray, w: np.ndarray, with_wif: bool) -> tuple[float, np.ndarray]:
            val = float(att[idx] @ w)
            inf = psi[:, idx] @ w
            if with_wif:
                inf = inf + _wif(idx, pg, cg, ucoh) @ att[idx]
            return val, inf

        rows: list[tuple[Any, float, np.ndarray]] = []
        label = ""
        if kind == "simple":
            keep = np.flatnonzero(post)
            overall, oinf = combine(keep, pg[keep] / pg[keep].sum(), True)
        elif kind == "group":
            label = "group"
            vals, infs = [], []
            for g in groups:
                idx = np.flatnonzero((cg == g) & post)
                if not len(idx):
                    raise InputError(Problem(f"cohort {self._label(g)} has no post-period cell up to "
                                             f"max_e={max_e}"))
                v, inf = combine(idx, np.full(len(idx), 1.0 / len(idx)), False)
                rows.append((self._label(g), v, inf))
                vals.append(v)
                infs.append(inf)
            V, Ig = np.array(vals), np.column_stack(infs)
            w = pgroup / pgroup.sum()
            overall = float(V @ w)
            # the wif of did's group aggregation is over cohorts, not cells
            p, sp = pgroup, pgroup.sum()
            centred = (ucoh[:, None] == groups[None, :]).astype(float) - p[None, :]
            wif = centred / sp - np.outer(centred.sum(axis=1), p / sp ** 2)
            oinf = Ig @ w + wif @ V
        elif kind == "dynamic":
            label = "event_time"
            es = np.unique(ev)
            es = es[(es >= min_e) & (es <= max_e)]
            if not len(es):
                raise InputError(Problem(f"no event time between min_e={min_e} and max_e={max_e}"))
            for e in es:
                idx = np.flatnonzero(ev == e)
                v, inf = combine(idx, pg[idx] / pg[idx].sum(), True)
                rows.append((int(e), v, inf))
            pos = [r for r in rows if r[0] >= 0]
            if pos:
                overall = float(np.mean([r[1] for r in pos]))
                oinf = np.mean([r[2] for r in pos], axis=0)
            else:
                overall, oinf = np.nan, np.zeros(psi.shape[0])
        else:
            label = "period"
            for t in np.unique(ct[ev >= 0]):
                idx = np.flatnonzero((ct == t) & (ev >= 0))
                v, inf = combine(idx, pg[idx] / pg[idx].sum(), True)
                rows.append((self._panel.periods[int(t)], v, inf))
            overall = float(np.mean([r[1] for r in rows]))
            oinf = np.mean([r[2] for r in rows], axis=0)
        n = psi.shape[0]
        ose = float(np.sqrt(np.mean(oinf ** 2) / n))
        ose_b, _ = self._boot.se_and_crit(oinf[:, None], frac)
        if rows:
            Ir = np.column_stack([r[2] for r in rows])
            est = np.array([r[1] for r in rows])
            se = np.sqrt(np.mean(Ir ** 2, axis=0) / n)
            se = np.where(se > _TINY, se, np.nan)
            se_b, crit = self._boot.se_and_crit(Ir, frac)
            table = pd.DataFrame({label: [r[0] for r in rows], "att": est, "se": se, "se_boot": se_b,
                                  "lo": est - z * se, "hi": est + z * se,
                                  "band_lo": est - crit * se_b, "band_hi": est + crit * se_b})
        else:
            crit = float(z)
            table = pd.DataFrame(columns=["att", "se", "se_boot", "lo", "hi", "band_lo", "band_hi"])
        return StaggeredAggregate(kind=kind, table=table, att=overall, se=ose, se_boot=float(ose_b[0]),
                                  crit=crit, level=frac, influence=oinf)

    def _label(self, pos: float) -> Any:
        return self._panel.periods[int(pos)]

    # ---- TWFE
    def twfe_check(self, *, alpha: float = 0.05) -> TWFECheck:
        """Two-way fixed effects beside the group-time estimator: its weights and whether it is biased here.

        Parameters
        ----------
        alpha : float
            Size of the tests (TWFE minus the simple ATT; equal post-period cells).

        Returns
        -------
        TWFECheck
        """
        key = ("twfe", alpha)
        if key not in self._memo:
            self._memo[key] = _twfe_check(self, alpha)
        return self._memo[key]


@dataclass
class TWFECheck:
    """Two-way fixed effects regression ``Y_it = a_i + l_t + beta D_it`` and its weights.

    Attributes
    ----------
    beta, se : float
        TWFE coefficient and its area-clustered standard error (from its
        influence function, no small-sample factor).
    simple_att, diff, diff_se, diff_p : float
        The group-time estimator's simple ATT, ``beta - simple_att``, its
        standard error and two-sided p-value.
    weights : DataFrame
        Per treated (cohort, period) cell: ``group, period, event_time,
        weight`` (de Chaisemartin and D'Haultfoeuille's weights: ``beta`` =
        sum of weight x cell effect under parallel trends; they sum to 1).
    n_negative, negative_sum : int, float
        Treated cells with a negative weight, and those weights' sum.
    sigma_fe : float
        dCDH's ratio ``|beta| / sd(weights)``: the smallest standard
        deviation of the cells' effects under which ``beta`` could have the
        wrong sign while every cell's effect has the other (small = fragile).
    heterogeneity_p : float
        Wald test p-value that all post-period cells have one effect.
    bacon : DataFrame
        Goodman-Bacon's decomposition of ``beta`` into 2x2 comparisons
        (:func:`bacon_decomposition`).
    forbidden_share : float
        Its weight on the "forbidden" comparisons (later- against
        earlier-treated areas, whose controls are already treated).
    biased : bool
        TWFE is not to be used here: it differs from the simple ATT
        (``diff_p < alpha / 2``), or it has negative weights and the
        effects are heterogeneous (``heterogeneity_p < alpha / 2``); the
        two tests share ``alpha`` (Bonferroni), so one constant effect is
        flagged in about ``alpha`` of samples.
    """

    beta: float
    se: float
    simple_att: float
    diff: float
    diff_se: float
    diff_p: float
    weights: pd.DataFrame
    n_negative: int
    negative_sum: float
    sigma_fe: float
    heterogeneity_p: float
    alpha: float
    biased: bool
    bacon: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    forbidden_share: float = np.nan

    def summary(self) -> str:
        """Text: the TWFE coefficient, its weights and the verdict."""
        head = (f"Two-way fixed effects check: beta {self.beta: .4f} (se {self.se:.4f}) vs simple ATT "
                f"{self.simple_att: .4f}; difference {self.diff: .4f} (se {self.diff_se:.4f}, p = {self.diff_p:.4f})")
        w = (f"  TWFE weights on {len(self.weights)} treated cells: {self.n_negative} negative "
             f"(sum {self.negative_sum: .4f}); sigma_fe {self.sigma_fe:.4f}; equal-effects test p = "
             f"{self.heterogeneity_p:.4f}; Goodman-Bacon weight on later-vs-earlier (forbidden) comparisons "
             f"{self.forbidden_share:.1%}")
        if self.biased and np.isfinite(self.diff_p) and self.diff_p < self.alpha / 2:
            verdict = (f"  TWFE is biased here: it differs from the heterogeneity-robust simple ATT by "
                       f"{self.diff:.4f} (p = {self.diff_p:.4f}); effects differ across cohorts/periods with "
                       "staggered timing and TWFE weights them arbitrarily. Use the group-time aggregations.")
        elif self.biased:
            verdict = ("  TWFE would be biased here: the effects differ across cohorts/periods (equal-effects "
                       f"p = {self.heterogeneity_p:.4f}) and TWFE puts negative weight on some of them; its "
                       f"gap to the simple ATT ({self.diff:.4f}) is not significant in this sample, but it "
                       "is no estimate to rely on. Use the group-time aggregations.")
        elif np.isfinite(self.diff_p) and self.diff_p < self.alpha / 2:
            verdict = ("  One start date (no staggered timing): TWFE is the difference in differences of post- "
                       "on pre-period means, with no negative weight; it differs from the simple ATT by the "
                       "base period (all pre-periods against the last one), not by a bias of TWFE.")
        else:
            verdict = (f"  TWFE agrees with the group-time estimator at the {self.alpha:.0%} level "
                       "(no significant heterogeneity with negative weights).")
        return "\n".join([head, w, verdict])

    def to_frame(self) -> pd.DataFrame:
        """The per-cell weights (a copy)."""
        return self.weights.copy()


def _twfe_check(res: StaggeredResult, alpha: float) -> TWFECheck:
    P = res._panel
    n, T = P.Y.shape
    D = (np.arange(T)[None, :] >= P.cohort[:, None]).astype(float)
    # balanced panel: the within transformation of two-way FE is the double demeaning
    Dd = D - D.mean(1, keepdims=True) - D.mean(0, keepdims=True) + D.mean()
    Yd = P.Y - P.Y.mean(1, keepdims=True) - P.Y.mean(0, keepdims=True) + P.Y.mean()
    sdd = float((Dd ** 2).sum())
    beta = float((Dd * Yd).sum() / sdd)
    e = Yd - beta * Dd
    psi_tw = n * (Dd * e).sum(axis=1) / sdd
    se = float(np.sqrt(np.mean(psi_tw ** 2) / n))
    simple = res.aggregate("simple")
    dpsi = psi_tw - simple.influence
    diff = beta - simple.att
    dse = float(np.sqrt(np.mean(dpsi ** 2) / n))
    dp = float(2 * norm.sf(abs(diff) / dse)) if dse > 0 else np.nan
    # dCDH weights: the TWFE treatment residual on treated observations, normalised
    treated = D == 1
    w_obs = np.where(treated, Dd, 0.0) / Dd[treated].sum()
    cells = []
    for g in np.unique(P.cohort[np.isfinite(P.cohort)]):
        rows = P.cohort == g
        for t in range(int(g), T):
            cells.append((P.periods[int(g)], P.periods[t], t - int(g), float(w_obs[rows, t].sum()),
                          int(rows.sum())))
    W = pd.DataFrame(cells, columns=["group", "period", "event_time", "weight", "n_areas"])
    N1 = treated.sum()
    wcell = W["weight"].to_numpy() * N1 / W["n_areas"].to_numpy()  # per-observation weight x N1
    share = W["n_areas"].to_numpy() / N1
    sd_w = float(np.sqrt((share * (wcell - 1.0) ** 2).sum()))
    sigma_fe = abs(beta) / sd_w if sd_w > 0 else np.inf
    neg = W["weight"] < -1e-12
    # equal-effects Wald test over post cells
    tab = res.table
    post = np.flatnonzero(tab["post"].to_numpy() & tab["se"].notna().to_numpy())
    het_p = np.nan
    if len(post) > 1:
        a = tab["att"].to_numpy()[post]
        V = res.influence[:, post].T @ res.influence[:, post] / n / n
        C = np.eye(len(post))[1:] - np.eye(len(post))[:-1]
        d = C @ a
        S = C @ V @ C.T
        try:
            stat = float(d @ np.linalg.solve(S, d))
            het_p = float(chi2.sf(stat, len(d)))
        except np.linalg.LinAlgError:
            het_p = np.nan
    # two tests, each at alpha / 2 (Bonferroni), so that a homogeneous effect is flagged in ~alpha of samples;
    # one cohort (no staggered timing): TWFE is the DiD of post means on pre means, with no comparison of
    # later- with earlier-treated areas and no negative weight, so not biased (it may differ from the simple
    # ATT by the base period alone: all pre-periods against the last one)
    staggered = len(np.unique(P.cohort[np.isfinite(P.cohort)])) > 1
    biased = staggered and bool((np.isfinite(dp) and dp < alpha / 2)
                                or (neg.any() and np.isfinite(het_p) and het_p < alpha / 2))
    bacon = bacon_decomposition(res)
    forbidden = float(bacon.loc[bacon["kind"] == "later vs earlier", "weight"].sum())
    return TWFECheck(beta=beta, se=se, simple_att=simple.att, diff=diff, diff_se=dse, diff_p=dp,
                     weights=W.drop(columns="n_areas"), n_negative=int(neg.sum()),
                     negative_sum=float(W.loc[neg, "weight"].sum()), sigma_fe=float(sigma_fe),
                     heterogeneity_p=het_p, alpha=alpha, biased=biased, bacon=bacon, forbidden_share=forbidden)


# ------------------------------------------------------------------ estimator
def staggered_did(
    data: pd.DataFrame,
    starts: Mapping[Any, Any] | pd.Series,
    *,
    unit: str = "area_id",
    time: str = "period",
    outcome: str = "value",
    control_group: str = "notyettreated",
    base_period: str = "varying",
    anticipation: int = 0,
    n_boot: int = 999,
    seed: int = 0,
    multiplier: str = "rademacher",
    clusters: Mapping[Any, Any] | pd.Series | None = None,
    level: float = 0.95,
    what: str = "",
) -> StaggeredResult:
    """Callaway and Sant'Anna (2021) group-time ATTs on a balanced panel.

    Parameters
    ----------
    data : DataFrame
        Long table, one row per (area, period): columns ``unit``, ``time``
        (sortable period labels: years, ``pd.Period``, dates) and ``outcome``
        (numbers in any unit: counts, rates, scores). Not modified.
    starts : mapping or Series
        Area -> first period of the programme there (same type as ``time``;
        a start between two periods counts from the next period). Areas
        absent or with a missing start are never treated; a start after the
        last period counts as never treated and one at or before the first
        period drops the area (both said in ``notes``).
    unit, time, outcome : str
        Column names.
    control_group : {"notyettreated", "nevertreated"}
        Comparison areas for each cell (see the module docstring).
    base_period : {"varying", "universal"}
        Base period of the pre-period cells.
    anticipation : int
        Periods before the start in which effects may already show (the base
        period moves back by as many).
    n_boot : int
        Multiplier-bootstrap draws (999).
    seed : int
        Seed of the draws.
    multiplier : {"rademacher", "mammen"}
        Bootstrap weights (``did``'s are Rademacher).
    clusters : mapping or Series, optional
        Area -> cluster (e.g. district of a street) for clustered inference;
        default: each area its own cluster.
    level : float
        Interval and band level, percent or fraction (0.95).
    what : str
        Name of the input in messages.

    Returns
    -------
    StaggeredResult

    Raises
    ------
    InputError
        Unknown option, missing column, duplicate or missing (area, period),
        non-numeric outcome, no treated area.
    """
    if control_group not in CONTROL_GROUPS:
        raise InputError(Problem(f"control_group must be one of {', '.join(CONTROL_GROUPS)}, got {control_group!r}"))
    if base_period not in BASE_PERIODS:
        raise InputError(Problem(f"base_period must be one of {', '.join(BASE_PERIODS)}, got {base_period!r}"))
    if multiplier not in MULTIPLIERS:
        raise InputError(Problem(f"multiplier must be one of {', '.join(MULTIPLIERS)}, got {multiplier!r}"))
    if int(n_boot) < 2:
        raise InputError(Problem(f"n_boot must be at least 2, got {n_boot}"))
    if int(anticipation) < 0:
        raise InputError(Problem(f"anticipation must be 0 or more periods, got {anticipation}"))
    frac = level_fraction(level)
    P = _balanced_panel(data, starts, unit=unit, time=time, outcome=outcome, what=what)
    Y, coh = P.Y, P.cohort
    n, T = Y.shape
    notes = list(P.notes)
    never = ~np.isfinite(coh)
    if control_group == "nevertreated" and not never.any():
        raise InputError(Problem("control_group 'nevertreated' needs areas never treated in the panel; "
                                 "there are none (use 'notyettreated')", source=_source(what)))
    recs: list[dict[str, Any]] = []
    infs: list[np.ndarray] = []
    tfirst = 1 if base_period == "varying" else 0
    for g in np.unique(coh[np.isfinite(coh)]):
        gi = int(g)
        pret_g = gi - 1 - int(anticipation)
        if pret_g < 0:
            notes.append(f"cohort {P.periods[gi]} has no pre-treatment period (anticipation "
                         f"{anticipation}) and was left out")
            continue
        G = coh == g
        for t in range(tfirst, T):
            post = t >= gi
            b = pret_g if (post or base_period == "universal") else t - 1
            rec = {"_g": gi, "_t": t, "group": P.periods[gi], "period": P.periods[t],
                   "event_time": t - gi, "base_period": P.periods[b], "post": post}
            if control_group == "nevertreated":
                C = never
            else:
                C = never | ((coh > max(t, b) + int(anticipation)) & (coh != g))
            rec["n_treated"], rec["n_control"] = int(G.sum()), int(C.sum())
            rec["treated_mean"] = float(Y[G, t].mean())
            if b == t:  # universal base: the normalised cell
                recs.append({**rec, "att": 0.0})
                infs.append(np.zeros(n))
                continue
            if not C.any():
                notes.append(f"cell ({P.periods[gi]}, {P.periods[t]}) has no comparison area and was left out")
                continue
            dY = Y[:, t] - Y[:, b]
            mG, mC = dY[G].mean(), dY[C].mean()
            psi = n * (G * (dY - mG) / G.sum() - C * (dY - mC) / C.sum())
            recs.append({**rec, "att": float(mG - mC)})
            infs.append(psi)
    if not recs:
        raise InputError(Problem("no group-time cell could be estimated (no comparison areas)",
                                 source=_source(what)))
    table = pd.DataFrame(recs)
    psi_all = np.column_stack(infs)
    se = np.sqrt(np.mean(psi_all ** 2, axis=0) / n)
    se = np.where(se > _TINY, se, np.nan)
    if clusters is None:
        codes = np.arange(n)
    else:
        cl = pd.Series(clusters) if not isinstance(clusters, pd.Series) else clusters
        cl = cl[~cl.index.duplicated(keep="first")].reindex(P.units)
        if cl.isna().any():
            missing = P.units[cl.isna().to_numpy()]
            raise InputError(Problem(f"{len(missing)} area(s) have no cluster "
                                     f"({', '.join(map(str, missing[:10]))})", source=_source(what)))
        codes = pd.factorize(cl)[0]
    boot = _Bootstrap(clusters=codes, n_boot=int(n_boot), seed=int(seed), kind=multiplier)
    se_b, crit = boot.se_and_crit(psi_all, frac)
    z = norm.ppf(0.5 + frac / 2.0)
    att = table["att"].to_numpy(float)
    table["se"], table["se_boot"] = se, se_b
    table["lo"], table["hi"] = att - z * se, att + z * se
    table["band_lo"], table["band_hi"] = att - crit * se_b, att + crit * se_b
    # Wald pre-test on the pre-period cells with a variance
    pre = np.flatnonzero(~table["post"].to_numpy() & np.isfinite(se))
    stat = pval = np.nan
    if len(pre):
        V = psi_all[:, pre].T @ psi_all[:, pre] / n
        try:
            if np.linalg.cond(V) < 1 / np.finfo(float).eps:
                a = att[pre]
                stat = float(n * a @ np.linalg.solve(V, a))
                pval = float(chi2.sf(stat, len(pre)))
        except np.linalg.LinAlgError:
            pass
    cols = ["group", "period", "event_time", "base_period", "post", "att", "se", "se_boot", "lo", "hi",
            "band_lo", "band_hi", "n_treated", "n_control", "treated_mean", "_g", "_t"]
    return StaggeredResult(table=table[cols], influence=psi_all, control_group=control_group,
                           base_period=base_period, anticipation=int(anticipation), level=frac, crit=crit,
                           pretest_stat=stat, pretest_p=pval, notes=notes, _panel=P, _boot=boot)


# ------------------------------------------------------------------ the registered method
def _design_panel(d: StudyDesign, opt: EvaluationOptions) -> tuple[pd.DataFrame, dict[Any, Any], list[str]]:
    """The design's areas x periods (treated area first, then the comparison areas) and the start of each."""
    P = d.periods
    w = pd.concat([d.series.counts.rename(d.area_id), d.controls], axis=1).iloc[: d.end].astype(float)
    w = w.loc[:, ~w.columns.duplicated()]
    notes: list[str] = []
    if opt.starts:
        starts = {str(k): pd.Timestamp(v) for k, v in opt.starts.items() if v is not None and pd.notna(v)}
        known = [a for a in starts if a in w.columns]
        if not known:
            raise InputError(Problem(
                f"the start dates (--starts) name none of the areas compared here ({d.area_id} and its "
                f"{w.shape[1] - 1} comparison areas: {', '.join(map(str, list(w.columns)[:8]))}"
                f"{' ...' if w.shape[1] > 8 else ''}); give the start dates of areas at the level of --area",
                column="area_id"))
        # a start inside a period counts from that period (the period containing the date)
        pos = {a: int(P.searchsorted(t, side="right")) - 1 for a, t in starts.items() if a in w.columns}
        st = {a: P[max(p, 0)] for a, p in pos.items()}
        return w, st, notes
    # one treated area from the intervention: ramp-up periods before the evaluation window left out
    s, e0 = d.start, d.eval_start
    if e0 > s:
        w = w.drop(index=P[s:e0])
        notes.append(f"{e0 - s} ramp-up period(s) between the intervention and the evaluation window left out")
    return w, {d.area_id: P[e0]}, notes


def _placebo_att(Y: np.ndarray, T0: int, treated: int) -> np.ndarray:
    """Simple ATTs of each never-treated area as if it had been treated at ``T0`` (the treated area dropped).

    With one cohort of one area the group-time estimator is ``mean_t (dY_it - mean_C dY_t)`` over the
    post periods ``t`` with the base period ``T0 - 1``; each comparison area in turn takes that place.
    """
    keep = np.flatnonzero(np.arange(Y.shape[0]) != treated)
    Z = Y[keep]
    dY = Z[:, T0:] - Z[:, [T0 - 1]]
    n = len(keep)
    others = (dY.sum(axis=0, keepdims=True) - dY) / (n - 1)
    return (dY - others).mean(axis=1)


def staggered_effect(d: StudyDesign, opt: EvaluationOptions) -> EffectResult:
    """``--method staggered``: Callaway and Sant'Anna's group-time ATTs of the areas' programme starts.

    The areas are the claim's area and its comparison areas; each starts at
    its date in ``options.starts`` (``--starts``; absent: never treated), or,
    without start dates, the claim's area alone starts at the evaluation
    window (ramp-up periods left out; then it is a DiD of one area against
    the comparison areas). Counts are indexed to each area's mean before the
    first start (so that areas of different size share trends in shape, as
    the synthetic control's and synthetic DiD's adapters do); values that are
    not counts are analysed as given. The effect in the outcome's units
    (``att``) is the simple ATT (indexed ATTs times each cohort's mean
    pre-period count for counts); the relative effect is ATT / (treated mean
    - ATT). With one treated area the influence-function standard error
    ignores the treated area's own noise, so the interval is from placebo
    areas (each comparison area as if treated). ``tables``: ``attgt``
    (group-time cells), ``event_study`` (dynamic aggregation with the
    simultaneous band), ``twfe_weights``; the TWFE check is in the
    diagnostics and, when TWFE would be biased, in the note.
    """
    w, starts, notes = _design_panel(d, opt)
    values = d.outcome == "value"
    P = w.index
    first = min(starts.values())
    T0 = int(P.searchsorted(first, side="left"))
    if T0 < 1:
        raise InputError(Problem(f"the first start ({pd.Timestamp(first).date()}) is at the first period of the "
                                 "data: the staggered estimator needs a period before it", column="start"))
    scale = pd.Series(1.0, index=w.columns)
    if not values:
        m = w.iloc[:T0].mean()
        empty = [a for a in w.columns if not m[a] > 0]
        if empty:
            notes.append(f"left out (no incidents before the first start): {', '.join(map(str, empty))}")
            w = w.drop(columns=empty)
            starts = {a: t for a, t in starts.items() if a not in empty}
            if not starts:
                return EffectResult.failed("staggered", "no treated area has incidents before the first start")
        scale = m[w.columns]
        w = w / scale
        notes.append("counts indexed to each area's mean before the first start")
    long = w.rename_axis(index="period", columns="area_id").stack().rename("value").reset_index()
    res = staggered_did(long, pd.Series(starts), unit="area_id", time="period", outcome="value",
                        control_group=opt.control_group, base_period=opt.base_period, seed=opt.seed,
                        level=opt.level, what="staggered panel")
    r = res.effect_result("staggered")
    agg = res.aggregate("simple")
    z = float(norm.ppf(0.5 + opt.level / 2.0))
    # back to the outcome's units: each post cell's indexed ATT times its cohort's mean scale
    post = res.table[res.table["post"]]
    coh, units = res._panel.cohort, res._panel.units
    pg = np.array([(coh == g).mean() for g in post["_g"]])
    kc = np.array([float(scale[units[coh == g]].mean()) for g in post["_g"]])
    k = float(np.dot(pg, kc) / pg.sum())  # the simple ATT's weighted scale (1 for values)
    m_post = float(np.dot(pg, post["treated_mean"]) / pg.sum())  # treated post mean, as the simple ATT weighs

    def rel(a: float) -> float:
        return a / (m_post - a) if m_post - a > 0 else np.nan

    a_lo, a_hi, a_se = agg.att - z * agg.se, agg.att + z * agg.se, agg.se
    n_treated = int(np.isfinite(coh).sum())
    if n_treated == 1 and not opt.starts:
        t_idx = int(np.flatnonzero(np.isfinite(coh))[0])
        pl = _placebo_att(res._panel.Y, int(coh[t_idx]), t_idx)
        pl = pl[np.isfinite(pl)]
        if len(pl) >= 3:
            q = float(student_t.ppf(0.5 + opt.level / 2.0, len(pl)))
            a_se = float(np.sqrt(np.mean(pl ** 2) * (1.0 + 1.0 / len(pl))))
            a_lo, a_hi = agg.att - q * a_se, agg.att + q * a_se
            r.p_value = float((1 + np.sum(np.abs(pl) >= abs(agg.att))) / (1 + len(pl)))
            notes.append(f"one treated area: interval from {len(pl)} placebo areas (each comparison area as if "
                         "treated), not the influence functions (which ignore the treated area's own noise)")
        else:
            notes.append("one treated area with fewer than 3 placebo areas: the influence-function interval "
                         "ignores the treated area's own noise and is too narrow")
    elif (post["n_treated"] < 2).any():
        notes.append("some cohorts have a single area: the influence-function standard errors ignore that "
                     "area's own noise, so the intervals are too narrow")
    r.lo, r.hi = rel(a_lo), rel(a_hi)
    r.coef, r.se = agg.att * k, a_se * k
    r.att, r.att_lo, r.att_hi = agg.att * k, a_lo * k, a_hi * k
    unit = "the outcome's units" if values else "incidents"
    r.att_note = (f"simple ATT of Callaway and Sant'Anna, {unit} per treated area and period"
                  + ("" if values else f" (indexed ATT x the treated cohorts' mean pre-period count {k:.4g})"))
    r.scale = f"{unit} per treated area and period (simple ATT)"
    tw = res.twfe_check()
    r.tables["twfe_weights"] = tw.to_frame()
    r.tables["twfe_check"] = pd.DataFrame([{
        "twfe_beta": tw.beta * k, "twfe_se": tw.se * k, "simple_att": tw.simple_att * k, "diff": tw.diff * k,
        "diff_p": tw.diff_p, "n_cells": len(tw.weights), "n_negative_weights": tw.n_negative,
        "negative_weight_sum": tw.negative_sum, "sigma_fe": tw.sigma_fe, "heterogeneity_p": tw.heterogeneity_p,
        "forbidden_share": tw.forbidden_share, "biased": tw.biased}])
    r.tables["bacon"] = tw.bacon.assign(estimate=tw.bacon["estimate"] * k)
    r.diagnostics.update({
        "n_treated_areas": n_treated, "n_areas": res.n_units, "twfe_beta": tw.beta * k, "twfe_biased": tw.biased,
        "twfe_negative_weights": tw.n_negative, "twfe_forbidden_share": tw.forbidden_share, "outcome_scale": k,
    })
    if tw.biased:
        notes.append(f"TWFE would be biased here (two-way fixed effects {tw.beta * k:+.4g} against the simple ATT "
                     f"{agg.att * k:+.4g}; {tw.n_negative} treated cells with negative TWFE weight, "
                     f"{tw.forbidden_share:.0%} of its weight on later-vs-earlier comparisons): do not use TWFE")
    r.note = "; ".join([*notes, *res.notes])
    return r



def _period_text(v: Any) -> str:  # noqa: ANN401 - a period label of any type
    """A period label as text: a date without its midnight (``2004-01-01``), anything else as ``str``."""
    if isinstance(v, (pd.Timestamp, np.datetime64)):
        t = pd.Timestamp(v)
        return str(t.date()) if t == t.normalize() else str(t)
    return str(v)


def bacon_decomposition(res: StaggeredResult) -> pd.DataFrame:
    """Goodman-Bacon (2021) decomposition of the TWFE coefficient into its 2x2 DiD comparisons.

    With staggered timing (a balanced panel, treatment staying on), the TWFE
    coefficient is a weighted average of every 2x2 difference in differences
    between two timing groups (cohorts, and the never treated): a cohort
    against the never treated; an earlier cohort against a later one before
    the later starts; and a later cohort against an earlier one *after* the
    earlier started -- the "forbidden" comparison, whose control is already
    treated, so that changes of the earlier cohort's effect enter the
    estimate with the wrong sign. Weights are the paper's equation (10): they
    grow with the groups' sizes and the variance of the treatment dummy in the
    pair, and sum to 1; ``sum(weight * estimate)`` is the TWFE coefficient
    (checked in the tests).

    Parameters
    ----------
    res : StaggeredResult
        The staggered fit (its panel).

    Returns
    -------
    DataFrame
        One row per comparison: ``kind`` (``"vs never treated"``,
        ``"earlier vs later"``, ``"later vs earlier"``: forbidden), ``treated``
        and ``control`` (cohorts' first treated periods; ``"never"``),
        ``estimate`` (outcome units), ``weight``.
    """
    P = res._panel
    Y, coh = P.Y, P.cohort
    n, T = Y.shape
    D = (np.arange(T)[None, :] >= coh[:, None]).astype(float)
    Dd = D - D.mean(1, keepdims=True) - D.mean(0, keepdims=True) + D.mean()
    VD = float((Dd ** 2).sum() / (n * T))
    groups = [int(g) for g in np.unique(coh[np.isfinite(coh)])]
    share = {g: float((coh == g).mean()) for g in groups}
    nU = float((~np.isfinite(coh)).mean())
    Dbar = {g: (T - g) / T for g in groups}
    ybar = {g: Y[coh == g].mean(axis=0) for g in groups}

    def did(tr: np.ndarray, ct: np.ndarray, pre: slice, post: slice) -> float:
        return float((tr[post].mean() - tr[pre].mean()) - (ct[post].mean() - ct[pre].mean()))

    rows = []
    if nU > 0:
        yU = Y[~np.isfinite(coh)].mean(axis=0)
        for k in groups:
            nkU = share[k] / (share[k] + nU)
            w = (share[k] + nU) ** 2 * nkU * (1 - nkU) * Dbar[k] * (1 - Dbar[k]) / VD
            rows.append(("vs never treated", P.periods[k], "never", did(ybar[k], yU, slice(0, k), slice(k, T)), w))
    for a, k in enumerate(groups):
        for ell in groups[a + 1:]:  # k starts before ell
            nkl = share[k] / (share[k] + share[ell])
            dk, dl = Dbar[k], Dbar[ell]
            w_early = (((share[k] + share[ell]) * (1 - dl)) ** 2 * nkl * (1 - nkl)
                       * ((dk - dl) / (1 - dl)) * ((1 - dk) / (1 - dl)) / VD)
            w_late = (((share[k] + share[ell]) * dk) ** 2 * nkl * (1 - nkl) * (dl / dk) * ((dk - dl) / dk) / VD)
            rows.append(("earlier vs later", P.periods[k], P.periods[ell],
                         did(ybar[k][:ell], ybar[ell][:ell], slice(0, k), slice(k, ell)), w_early))
            rows.append(("later vs earlier", P.periods[ell], P.periods[k],
                         did(ybar[ell][k:], ybar[k][k:], slice(0, ell - k), slice(ell - k, T - k)), w_late))
    out = pd.DataFrame(rows, columns=["kind", "treated", "control", "estimate", "weight"])
    for col in ("treated", "control"):  # one type per column: period labels as text ("2004-01-01", "never")
        out[col] = [_period_text(v) for v in out[col]]
    return out
