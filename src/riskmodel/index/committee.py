"""An expert committee's weights: several experts' pairwise judgements per group, and what they do.

* :func:`committee_weights` -- for every group (a parent and its children) with
  judgements: each expert's own AHP priorities and consistency ratio, and the
  committee's priorities by aggregation of individual judgements (AIJ,
  element-wise geometric mean of the matrices) or of individual priorities
  (AIP, geometric mean of the priority vectors), both from
  :func:`riskmodel.index.ahp.ahp` (which also names the judgement to revisit
  when a CR is 0.1 or more); then the effective weights (within-parent
  weights multiplied down the tree, :func:`riskmodel.index.spec.effective_weights`).
* :class:`Reweigher` -- a built index re-aggregated under other weights
  without building it again: normalisation does not depend on static weights,
  so only the aggregation (a few matrix products) is redone. Ranks and grades
  are those :func:`~riskmodel.index.build.build_index` gives for the same weights.
* :func:`expert_rankings` -- the ranks under each expert's weights beside the
  committee's (shift in rank places), with the pairwise summary of
  :func:`riskmodel.index.calibration.rank_changes` (max and mean shift, Spearman).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.index.ahp import GROUP_METHODS, PRIORITY_METHODS, AHPResult, ahp
from riskmodel.index.build import IndexResult, aggregators, memberships
from riskmodel.index.calibration import rank_changes
from riskmodel.index.ranks import grades, rank_desc
from riskmodel.index.registry import WEIGHTS
from riskmodel.index.spec import IndexSpec, effective_weights

COMMITTEE = "committee"
CONSISTENCY_COLUMNS = ["expert", "parent", "n", "lambda_max", "ci", "cr", "consistent", "revisit_row", "revisit_col",
                       "revisit_value", "revisit_implied", "revisit_saaty"]


def judgement_matrix(cells: pd.DataFrame, codes: list[str], where: str = "judgements") -> np.ndarray:
    """The full pairwise matrix (rows and columns in the order of ``codes``) from ``row, col, value`` cells.

    The upper triangle (or any one of each pair) is enough: the rest follows by reciprocity;
    the diagonal is 1. An unjudged pair or a code outside ``codes`` is an InputError.
    """
    k = len(codes)
    pos = {c: i for i, c in enumerate(codes)}
    A = np.full((k, k), np.nan)
    np.fill_diagonal(A, 1.0)
    for r in cells.itertuples():
        i, j = pos.get(str(r.row)), pos.get(str(r.col))
        if i is None or j is None:
            bad = r.row if i is None else r.col
            raise InputError(Problem(f"{where}: {bad!r} is not one of {', '.join(codes)}"))
        if i == j:
            continue
        A[i, j] = float(r.value)
        if np.isnan(A[j, i]):
            A[j, i] = 1.0 / float(r.value)
    if np.isnan(A).any():
        i, j = np.argwhere(np.isnan(A))[0]
        raise InputError(Problem(f"{where}: no judgement for ({codes[i]}, {codes[j]})"))
    return A


@dataclass
class CommitteeResult:
    """The committee's weights and each expert's (see :func:`committee_weights`).

    Attributes
    ----------
    weights : dict code -> float
        The committee's within-parent weights (each judged group sums to 1).
    by_parent : dict parent -> AHPResult
        The group's AHP result (committee priorities, CR, the judgement to revisit, each expert's CR).
    experts : DataFrame
        ``expert, parent, code, weight``: each expert's own within-parent weights.
    consistency : DataFrame
        :data:`CONSISTENCY_COLUMNS`, one row per expert and group, plus the committee's row
        (``expert = "committee"``, CR of the aggregated matrix) per group; ``revisit_*`` filled
        where the CR is 0.1 or more (for the committee row: the judgement of the least consistent expert).
    effective : DataFrame
        ``code, level, parent, within_parent, effective``: the committee's weights down the tree
        (groups without judgements keep the spec's weights). Empty without a spec.
    """

    weights: dict[str, float]
    by_parent: dict[str, AHPResult]
    experts: pd.DataFrame
    consistency: pd.DataFrame
    effective: pd.DataFrame = field(default_factory=pd.DataFrame)
    group: str = "judgements"
    method: str = "eigenvector"

    @property
    def expert_names(self) -> list[str]:
        return list(dict.fromkeys(self.experts["expert"]))

    def expert_weights(self, expert: str) -> dict[str, float]:
        """One expert's within-parent weights (the groups they judged)."""
        e = self.experts.loc[self.experts["expert"] == expert]
        if e.empty:
            raise InputError(Problem(f"no judgements of expert {expert!r}; experts: {', '.join(self.expert_names)}"))
        return dict(zip(e["code"], e["weight"].astype(float), strict=True))

    @property
    def label(self) -> str:
        """``AIJ`` (aggregation of individual judgements) or ``AIP`` (of individual priorities)."""
        return "AIJ" if self.group == "judgements" else "AIP"

    def summary(self) -> str:
        return "\n".join(r.summary() for r in self.by_parent.values())


def committee_weights(judgements: pd.DataFrame, spec: IndexSpec | None = None, *, group: str = "judgements",
                      method: str = "eigenvector", expert_weights: Mapping[str, float] | None = None) -> CommitteeResult:
    """The committee's and each expert's weights from pairwise judgements.

    Parameters
    ----------
    judgements : DataFrame
        Long ``expert, parent, row, col, value`` (the format of
        :func:`riskmodel.index.weights.read_ahp_file`; one of each pair is enough).
    spec : IndexSpec, optional
        The index: every judged parent must be in it and judged on exactly its children
        (in the spec's order); gives the effective weights.
    group : {"judgements", "priorities"}
        AIJ or AIP.
    method : {"eigenvector", "geometric"}
        Priorities of one matrix.
    expert_weights : mapping expert -> weight, optional
        Relative weights of the experts (default equal).

    Returns
    -------
    CommitteeResult
    """
    if group not in GROUP_METHODS:
        raise InputError(Problem(f"unknown committee aggregation {group!r}; valid: {', '.join(GROUP_METHODS)}"))
    if method not in PRIORITY_METHODS:
        raise InputError(Problem(f"unknown AHP priority method {method!r}; valid: {', '.join(PRIORITY_METHODS)}"))
    need = {"expert", "parent", "row", "col", "value"}
    if not need <= set(judgements.columns):
        raise InputError(Problem(f"judgements need columns {', '.join(sorted(need))}"))
    if judgements.empty:
        raise InputError(Problem("no judgements yet: each expert enters a pairwise matrix per group first"))
    df = judgements.assign(expert=judgements["expert"].astype(str), parent=judgements["parent"].astype(str),
                           row=judgements["row"].astype(str), col=judgements["col"].astype(str))
    by_parent: dict[str, AHPResult] = {}
    weights: dict[str, float] = {}
    erows: list[dict] = []
    crows: list[dict] = []
    for parent, g in df.groupby("parent", sort=False):
        if spec is not None:
            if parent not in set(spec.table["code"]):
                raise InputError(Problem(f"judgements for {parent!r}, which is not in the index"))
            codes = spec.children(parent)
        else:
            codes = list(dict.fromkeys([*g["row"], *g["col"]]))
        names = list(dict.fromkeys(g["expert"]))
        mats = [judgement_matrix(g.loc[g["expert"] == e], codes, where=f"{e}'s judgements for {parent!r}") for e in names]
        ew = None if expert_weights is None else [float(expert_weights.get(e, 1.0)) for e in names]
        res = ahp(mats, codes, parent, method, group, names, ew)
        by_parent[parent] = res
        weights.update({c: float(w) for c, w in zip(codes, res.weights, strict=True)})
        for k, e in enumerate(names):
            one = res.experts.iloc[k]
            erows.extend({"expert": e, "parent": parent, "code": c, "weight": float(one[c])} for c in codes)
            rv: dict = {}
            if one["cr"] >= 0.1:
                one_res = ahp(mats[k], codes, parent, method, "judgements", [e])
                rv = one_res.revisit or {}
            crows.append(_consistency_row(e, parent, len(codes), float(one["lambda_max"]), float(one["ci"]),
                                          float(one["cr"]), rv))
        crows.append(_consistency_row(COMMITTEE, parent, len(codes), res.lambda_max, res.ci, res.cr, res.revisit or {}))
    eff = pd.DataFrame()
    if spec is not None:
        e = effective_weights(spec.with_weights(weights))
        eff = e[["code", "level", "parent", "within_parent", "effective"]]
    return CommitteeResult(weights, by_parent, pd.DataFrame(erows, columns=["expert", "parent", "code", "weight"]),
                           pd.DataFrame(crows, columns=CONSISTENCY_COLUMNS), eff, group, method)


def _consistency_row(expert: str, parent: str, n: int, lam: float, ci: float, cr: float, rv: Mapping) -> dict:
    return {"expert": expert, "parent": parent, "n": n, "lambda_max": lam, "ci": ci, "cr": cr, "consistent": cr < 0.1,
            "revisit_row": rv.get("row"), "revisit_col": rv.get("col"), "revisit_value": rv.get("value"),
            "revisit_implied": rv.get("implied"), "revisit_saaty": rv.get("saaty")}


class Reweigher:
    """A built index re-aggregated under other weights, for one period (see the module notes).

    Parameters
    ----------
    res : IndexResult
        A built index with static weights (data-driven weights are refused: they depend on the data,
        and a weight change there means a new build).
    period : Timestamp, optional
        The period ranked (default the latest; all rows for a cross-section).

    Notes
    -----
    The build's level-1 values (normalised indicators, after imputation, screening and treatment)
    are kept; :meth:`scores` applies the registered aggregator of each level with the given
    weights, so ranks, ties and grades equal those of ``build_index`` with the same weights.
    """

    def __init__(self, res: IndexResult, period: pd.Timestamp | None = None):
        cfg = res.config
        if WEIGHTS.get(cfg.weights.method).needs.data:
            raise InputError(Problem(f"the index's weights are data-driven ({cfg.weights.method}): a change of "
                                     "weights needs a new build, not a re-aggregation"))
        self.result = res
        self.spec = res.spec
        per = res.units["period"]
        if per.isna().all():
            rows = np.arange(len(per))
            self.period = None
        else:
            self.period = pd.Timestamp(per.max() if period is None else period)
            rows = np.flatnonzero((per == self.period).to_numpy())
            if rows.size == 0:
                raise InputError(Problem(f"no index scores for period {self.period:%Y-%m-%d}"))
        self.rows = rows
        self.area_ids = res.units["area_id"].to_numpy()[rows].astype(str)
        self.X = np.ascontiguousarray(res.levels[0][rows])
        self.Ms = memberships(self.spec)
        self.steps = aggregators(cfg.steps.aggregate, len(self.Ms))
        self.codes = [self.spec.codes_at(L) for L in range(1, self.spec.n_levels)]
        self.known = {c for cs in self.codes for c in cs}
        self.nominal = {c: float(w) for c, w in self.spec.weights.items() if c in self.known}
        self.ties = cfg.ranks.ties
        self.grades = cfg.ranks.grades

    def vectors(self, weights: Mapping[str, float] | None = None) -> list[np.ndarray]:
        """Weights per level (``[w(level 1), ...]``): the nominal ones with ``weights`` over them."""
        w = dict(self.nominal)
        if weights:
            unknown = sorted(set(weights) - self.known)
            if unknown:
                raise InputError(Problem(f"unknown indicator(s) {', '.join(unknown)}; codes: {', '.join(sorted(self.known))}"))
            for c, x in weights.items():
                x = float(x)
                if not np.isfinite(x) or x < 0:
                    raise InputError(Problem(f"weight of {c} must be a number >= 0, got {x!r}"))
                w[c] = x
        return [np.array([w[c] for c in cs], float) for cs in self.codes]

    def levels(self, weights: Mapping[str, float] | None = None) -> list[np.ndarray]:
        """Scores at every level (``[X, level 2, ..., top]``), each (n_areas, n_codes)."""
        out = [self.X]
        with np.errstate(all="ignore"):
            for w, M, (fn, opts) in zip(self.vectors(weights), self.Ms, self.steps, strict=True):
                out.append(fn(out[-1], w, M, **opts))
        return out

    def scores(self, weights: Mapping[str, float] | None = None) -> np.ndarray:
        """Top-level scores (n_areas,) under ``weights``."""
        return self.levels(weights)[-1][:, 0]

    def table(self, weights: Mapping[str, float] | None = None) -> pd.DataFrame:
        """``area_id, score, rank, grade`` under ``weights`` (grade None when the index has no grades)."""
        s = self.scores(weights)
        r = rank_desc(s, self.ties)
        g = grades(s, self.grades.thresholds, self.grades.labels) if self.grades is not None else np.full(len(s), None)
        out = pd.DataFrame({"area_id": self.area_ids, "score": s, "rank": r, "grade": g})
        out["rank"] = out["rank"].astype("Int64")
        return out


def expert_rankings(rw: Reweigher, committee: CommitteeResult, names: Mapping[str, str] | None = None,
                    base: Mapping[str, float] | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """What each expert's weights would do to the ranking, beside the committee's.

    Each expert's weights replace the groups they judged (the other weights: ``base`` over the
    index's own). Returns

    * ``ranks`` -- long ``area_id, name, scheme, score, rank, rank_committee, shift`` (scheme = an
      expert or ``"committee"``; shift = rank_committee - rank, positive = the expert ranks the
      area higher than the committee);
    * ``changes`` -- :func:`~riskmodel.index.calibration.rank_changes` of every pair of schemes.
    """
    base = dict(base or {})
    schemes = {COMMITTEE: {**base, **committee.weights}}
    for e in committee.expert_names:
        schemes[e] = {**base, **committee.weights, **committee.expert_weights(e)}
    parts = []
    for name, w in schemes.items():
        t = rw.table(w)[["area_id", "score", "rank"]]
        t.insert(1, "scheme", name)
        parts.append(t)
    ranks = pd.concat(parts, ignore_index=True)
    ref = ranks.loc[ranks["scheme"] == COMMITTEE].set_index("area_id")["rank"]
    ranks["rank_committee"] = ranks["area_id"].map(ref).astype("Int64")
    ranks["shift"] = (ranks["rank_committee"] - ranks["rank"]).astype("Int64")
    ranks.insert(1, "name", ranks["area_id"].map(dict(names or {})).fillna(ranks["area_id"]))
    return ranks, rank_changes(ranks, list(schemes))


__all__ = ["COMMITTEE", "CommitteeResult", "Reweigher", "committee_weights", "expert_rankings", "judgement_matrix"]
