"""Monte Carlo uncertainty and Sobol' sensitivity of index ranks, vectorised.

What varies (the "factors") in one replication of the full build:

* **weights** of the nodes at ``weights_levels``: each multiplied by an
  independent ``U(1 - x, 1 + x)`` (``weights_noise = x``), or, with
  ``weights_dist = "dirichlet"``, drawn per parent from a Dirichlet around the
  declared (expert) weights with concentration ``c`` (larger = closer);
* **normalisation**, **aggregation**, **imputation** and **treatment**: one of
  the listed alternatives, uniformly (the nominal setting is always one of
  them).

The analysis takes a built index (:class:`~riskmodel.index.build.IndexResult`)
and reuses what the build computed: the nominal scores, the spec with its
weights and, for the nominal imputation/treatment and normalisation, the
prepared and normalised values (:func:`sensitivity_setup`, shared by
:func:`rank_uncertainty` and :func:`sobol`). Everything that does not depend
on the weights (imputation, treatment, normalisation) is computed once per
alternative; the replications are then
grouped by alternative and aggregated in chunks as one array operation
``(chunk, n_units, n_children)``, and ranked with one vectorised call.
A replication whose index scores are not all finite (e.g. a geometric mean
over z-scores, which are negative) is **failed**: counted, reported by
alternative, and left out of the rank statistics -- never silently dropped.

Sobol' first-order and total indices of the mean absolute rank shift
(against the nominal ranks) come from scipy's ``sobol_indices`` (Saltelli
2010 first-order and Jansen total estimators on a Saltelli design of
``N (d + 2)`` builds over a scrambled Sobol' sequence from ``scipy.stats.qmc``,
bootstrap percentile intervals). The estimators are those of
``scipy.stats.sobol_indices`` (checked equal in the tests) but written out, for
two reasons: scipy's bootstrap of a Sobol' result takes no seed (outputs would
not be reproducible), and scipy silently sets an undefined index to 0, where
here a design with any failed build gives NaN indices and says why. SALib
(on PyPI) was not added: it would be a new dependency for the same two
formulas, and its ``analyze`` runs per output rather than on our vectorised
design.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.index.build import (
    IndexResult,
    Prepared,
    aggregators,
    build_index,
    level_weights,
    memberships,
    normalised,
    prepare,
)
from riskmodel.index.config import AggregateCfg, IndexConfig
from riskmodel.index.inputs import IndexData
from riskmodel.index.ranks import rank_desc
from riskmodel.index.registry import WEIGHTS
from riskmodel.index.spec import IndexSpec


@dataclass
class Alternatives:
    """The precomputed inputs of every combination of non-weight choices."""

    labels: list[dict[str, str]]          # one per data variant: impute/treat/normalise labels
    X: list[np.ndarray]                    # normalised matrices (n, k), one per data variant
    aggs: list[AggregateCfg]
    factor_levels: dict[str, list[str]]    # factor name -> labels of its alternatives
    variant_of: dict[tuple[int, ...], int] = field(default_factory=dict)  # (impute, treat, norm) -> X index
    nominal_scores: np.ndarray | None = None  # top-level scores of the nominal build


@dataclass
class Uncertainty:
    """Result of :func:`rank_uncertainty`.

    Attributes
    ----------
    rank_stats : DataFrame
        ``area_id, nominal, median, q05, q95, mean, iqr`` (ranks of the top level
        over the successful replications).
    n, n_failed : int
    failures : DataFrame
        Failed replications by alternative (``normalise, aggregate, ... , n_failed``).
    ranks : ndarray (n_ok, n_units)
        Ranks in every successful replication (int16/int32).
    seconds : float
    """

    rank_stats: pd.DataFrame
    n: int
    n_failed: int
    failures: pd.DataFrame
    ranks: np.ndarray
    seconds: float = 0.0
    factors: dict[str, list[str]] = field(default_factory=dict)
    period: str = ""

    def summary(self) -> str:
        rs = self.rank_stats
        width = (rs["q95"] - rs["q05"])
        lines = [
            f"Monte Carlo: {self.n} replications, {self.n_failed} failed ({self.n_failed / max(self.n, 1):.1%}), "
            f"{self.seconds:.1f} s",
            "factors: " + "; ".join(f"{k}: {', '.join(v)}" for k, v in self.factors.items()),
            f"rank interval (5-95%) width: median {width.median():.1f}, max {width.max():.0f} "
            f"({rs.loc[width.idxmax(), 'area_id']})",
        ]
        if self.n_failed:
            lines.append("failed by alternative:\n" + self.failures.to_string(index=False))
        return "\n".join(lines)


# --------------------------------------------------------------------------- set-up
def alternatives(cfg: IndexConfig, spec: IndexSpec, data: IndexData,
                 nominal: tuple[Prepared, np.ndarray] | None = None) -> tuple[Alternatives, Prepared]:
    """Precompute the normalised data of every (impute, treat, normalise) alternative.

    ``nominal``: the nominal build's prepared and normalised values (made
    from ``spec`` and ``data``), reused for the nominal imputation/treatment
    and normalisation instead of computing them again.
    """
    s = cfg.sensitivity
    nominal_imp = cfg.steps.impute_cfg()
    nominal_tr = cfg.steps.treat_cfg()
    imps = _with_nominal(s.impute, nominal_imp, lambda c: c.method if c else "none")
    trs = _with_nominal(s.treat, nominal_tr, lambda c: c.method if c else "none")
    norms = _with_nominal(s.normalise, cfg.steps.normalise, lambda c: c.label())
    aggs = _with_nominal(s.aggregate, cfg.steps.aggregate, lambda c: c.label())
    labels, Xs, variant_of = [], [], {}
    prep_nominal = None
    for (i, ic), (t, tc) in itertools.product(enumerate(imps), enumerate(trs)):
        reuse = nominal is not None and ic == nominal_imp and tc == nominal_tr
        prep = nominal[0] if reuse else prepare(cfg, spec, data, impute_cfg=ic, treat_cfg=tc)
        if prep_nominal is None:
            prep_nominal = prep
        for k, nc in enumerate(norms):
            variant_of[(i, t, k)] = len(Xs)
            Xs.append(nominal[1] if reuse and nc == cfg.steps.normalise else normalised(prep, nc))
            labels.append({"impute": ic.method if ic else "none", "treat": tc.method if tc else "none",
                           "normalise": nc.label()})
        if len(prep.data.units) != len(prep_nominal.data.units):
            raise InputError(Problem("sensitivity: an imputation/treatment alternative changes the set of units "
                                     "(screening); units must stay the same across alternatives"))
    factor_levels = {
        "impute": [c.method if c else "none" for c in imps],
        "treat": [c.method if c else "none" for c in trs],
        "normalise": [c.label() for c in norms],
        "aggregate": [c.label() for c in aggs],
    }
    return Alternatives(labels, Xs, aggs, factor_levels, variant_of), prep_nominal


def _with_nominal(alts: list, nominal, label):  # noqa: ANN001, ANN202
    """The listed alternatives as given; the nominal choice alone when none are listed.

    The nominal build is not forced into the list: a nominal minmax [0, 100]
    is fine for an arithmetic mean but gives a geometric mean of 0 to every
    area that is last on any indicator, so the user chooses the alternatives.
    """
    if not alts:
        return [nominal]
    out, seen = [], set()
    for a in alts:
        if label(a) not in seen:
            seen.add(label(a))
            out.append(a)
    return out


def weight_nodes(spec: IndexSpec, levels: list[int] | None) -> list[tuple[int, int, str]]:
    """(level, position, code) of the weights that vary (only children excluded)."""
    lv = levels or list(range(1, spec.n_levels))
    bad = [L for L in lv if not 1 <= L < spec.n_levels]
    if bad:
        raise InputError(Problem(f"key 'sensitivity.weights_levels': levels must be 1..{spec.n_levels - 1}, got {bad}"))
    # an only child always has weight 1 within its parent: perturbing it changes nothing
    t = spec.table
    n_children = t["parent"].value_counts()
    only = {c for c, p in zip(t["code"], t["parent"], strict=True) if p != "" and n_children.get(p) == 1}
    return [(L, j, c) for L in lv for j, c in enumerate(spec.codes_at(L)) if c not in only]


# --------------------------------------------------------------------------- engine
class Engine:
    """Evaluates many replications of the build at once.

    ``run(W, variant, agg)`` with ``W`` a list of per-level weight arrays
    ``(B, n_nodes_L)``, ``variant`` and ``agg`` integer arrays ``(B,)`` returns
    the top-level scores ``(B, n_units)``.
    """

    def __init__(self, alts: Alternatives, spec: IndexSpec, chunk: int = 256):
        self.alts = alts
        self.spec = spec
        self.Ms = memberships(spec)
        self.chunk = max(1, int(chunk))
        # the registered aggregator (function, options) of every step, per aggregation alternative
        self.steps = [aggregators(a, len(self.Ms)) for a in alts.aggs]

    def run(self, W: list[np.ndarray], variant: np.ndarray, agg: np.ndarray,
            progress: Callable[[int, int], None] | None = None) -> np.ndarray:
        """Top-level scores (B, n_units); ``progress(done, B)`` after each batch of builds, if given."""
        B = len(variant)
        n = self.alts.X[0].shape[0]
        out = np.empty((B, n))
        done = 0
        for v in np.unique(variant):
            for a in np.unique(agg):
                idx = np.flatnonzero((variant == v) & (agg == a))
                for s in range(0, len(idx), self.chunk):
                    ii = idx[s : s + self.chunk]
                    out[ii] = self._eval(self.alts.X[v], [w[ii] for w in W], self.steps[a])
                    done += len(ii)
                    if progress is not None:
                        progress(done, B)
        return out

    def _eval(self, X: np.ndarray, W: list[np.ndarray], steps: list[tuple[Any, dict[str, Any]]]) -> np.ndarray:
        C = X
        with np.errstate(all="ignore"):
            for w, M, (fn, opts) in zip(W, self.Ms, steps, strict=True):
                C = fn(C, w, M, **opts)
        return C[..., 0]


def sample_weights(spec, nominal: list[np.ndarray], nodes, n: int, rng: np.random.Generator,  # noqa: ANN001
                   noise: float, dist: str, concentration: float) -> list[np.ndarray]:
    """Per-level weight arrays (n, m_L) with the chosen nodes perturbed."""
    W = [np.broadcast_to(w, (n, w.size)).copy() for w in nominal]
    if not nodes:
        return W
    if dist == "uniform":
        for L, j, _ in nodes:
            W[L - 1][:, j] *= rng.uniform(1 - noise, 1 + noise, size=n)
        return W
    by_parent: dict[tuple[int, int], list[int]] = {}
    for L, j, _ in nodes:
        par = int(spec.parent_index(L)[j])
        by_parent.setdefault((L, par), []).append(j)
    for (L, _), js in by_parent.items():
        base = nominal[L - 1][js]
        base = base / base.sum()
        if len(js) == 1:
            continue
        W[L - 1][:, js] = rng.dirichlet(np.maximum(base * concentration, 1e-9), size=n)
    return W


@dataclass
class SensitivitySetup:
    """What Monte Carlo and Sobol' share: the spec whose weights vary, the ranked units, the alternatives.

    Made once per built index by :func:`sensitivity_setup`; neither analysis changes it.
    """

    spec: IndexSpec
    units: pd.DataFrame
    alts: Alternatives
    prep: Prepared


def as_built(index: IndexResult | IndexConfig, spec: IndexSpec | None = None,
             data: IndexData | None = None) -> IndexResult:
    """A built index: ``index`` itself, or the build of a config (from ``spec`` and ``data`` when given)."""
    return index if isinstance(index, IndexResult) else build_index(index, spec, data)


def sensitivity_setup(res: IndexResult) -> SensitivitySetup:
    """Weights and alternatives of a built index; rows restricted to the sensitivity period.

    Every period is prepared and normalised (so pooled normalisation and
    carry-forward imputation see the whole panel); only the rows of
    ``sensitivity.period`` are then ranked. The nominal build's scores are
    the nominal ones; its prepared and normalised values are reused for the
    nominal alternative.
    """
    cfg = res.config
    inp = res.inputs
    if inp is None:  # a result made by hand: build it again
        res = build_index(cfg)
        inp = res.inputs
    assert inp is not None
    if WEIGHTS.get(cfg.weights.method).needs.data:
        # data-driven weights are taken from the nominal build and then perturbed
        alts, prep = alternatives(cfg, res.spec, inp.data)
    else:
        alts, prep = alternatives(cfg, inp.spec, inp.data, nominal=(inp.prepared, inp.normalised))
    spec = prep.spec
    rows = _period_rows(prep.data.units, cfg.sensitivity.period)
    alts.X = [X[rows] for X in alts.X]
    units = prep.data.units.iloc[rows].reset_index(drop=True)
    alts.nominal_scores = res.levels[-1][rows, 0]
    return SensitivitySetup(spec, units, alts, prep)


def _period_rows(units: pd.DataFrame, period: str) -> np.ndarray:
    per = units["period"]
    if per.isna().all() or period == "all":
        if not per.isna().all() and per.nunique() > 1:
            raise InputError(Problem("key 'sensitivity.period': ranks are compared within one period; "
                                     "give 'latest' or a date, not 'all'"))
        return np.arange(len(units))
    target = per.max() if period == "latest" else pd.Timestamp(period)
    rows = np.flatnonzero((per == target).to_numpy())
    if rows.size == 0:
        raise InputError(Problem(f"key 'sensitivity.period': no data for {period}"))
    return rows


def _nominal_ranks(alts: Alternatives) -> tuple[np.ndarray, np.ndarray]:
    s = alts.nominal_scores
    return s, rank_desc(s)


def rank_uncertainty(index: IndexResult | IndexConfig, n: int | None = None, seed: int = 0,
                     spec: IndexSpec | None = None, data: IndexData | None = None, *,
                     setup: SensitivitySetup | None = None,
                     progress: Callable[[int, int], None] | None = None) -> Uncertainty:
    """Monte Carlo rank statistics of the top level (see the module notes).

    Parameters
    ----------
    index : IndexResult or IndexConfig
        The built index (reused), or a config (built first, from ``spec`` and ``data`` when given).
    n : int, optional
        Replications (default ``sensitivity.n``).
    seed : int
        Seed of the draws.
    setup : SensitivitySetup, optional
        :func:`sensitivity_setup` of ``index``, when the caller already has it.
    progress : callable, optional
        ``progress(done, n)`` in builds, as they are computed; it never changes the results.
    """
    import time

    t0 = time.perf_counter()
    cfg = index.config if isinstance(index, IndexResult) else index
    s = cfg.sensitivity
    n = int(n or s.n)
    if n < 1:
        raise InputError(Problem("sensitivity: the number of replications must be >= 1"))
    st = setup or sensitivity_setup(as_built(index, spec, data))
    spec, units, alts = st.spec, st.units, st.alts
    engine = Engine(alts, spec, s.chunk)
    nom_s, nom_r = _nominal_ranks(alts)
    if not np.all(np.isfinite(nom_s)):
        raise InputError(Problem("the nominal build gives non-finite index scores; fix the build before its sensitivity"))
    rng = np.random.default_rng(seed)
    nodes = weight_nodes(spec, s.weights_levels)
    W = sample_weights(spec, level_weights(spec), nodes, n, rng, s.weights_noise, s.weights_dist, s.dirichlet_concentration)
    variant = rng.integers(0, len(alts.X), size=n)
    agg = rng.integers(0, len(alts.aggs), size=n)
    S = engine.run(W, variant, agg, progress)
    ok = np.all(np.isfinite(S), axis=1)
    R = rank_desc(S[ok], axis=1)
    q = np.percentile(R, [5, 50, 95], axis=0) if ok.any() else np.full((3, S.shape[1]), np.nan)
    stats = pd.DataFrame({
        "area_id": units["area_id"].to_numpy(),
        "name": units["name"].to_numpy(),
        "nominal": nom_r.astype(int),
        "median": q[1],
        "q05": q[0],
        "q95": q[2],
        "mean": R.mean(axis=0) if ok.any() else np.nan,
        "nominal_score": nom_s,
    })
    fails = []
    for v in range(len(alts.X)):
        for a in range(len(alts.aggs)):
            m = (variant == v) & (agg == a)
            fails.append({**alts.labels[v], "aggregate": alts.aggs[a].label(), "n": int(m.sum()),
                          "n_failed": int((m & ~ok).sum())})
    failures = pd.DataFrame(fails)
    rdtype = np.int16 if S.shape[1] < 32000 else np.int32
    factors = {k: v for k, v in alts.factor_levels.items() if len(v) > 1}
    if nodes:
        factors["weights"] = [f"{s.weights_dist} {'+-' + format(s.weights_noise, 'g') if s.weights_dist == 'uniform' else 'c=' + format(s.dirichlet_concentration, 'g')} on {len(nodes)} nodes"]
    per = units["period"].iloc[0]
    period = "" if pd.isna(per) else f"{pd.Timestamp(per):%Y-%m}"
    return Uncertainty(stats, n, int((~ok).sum()), failures, R.astype(rdtype), time.perf_counter() - t0, factors, period)


def saltelli_design(n: int, d: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Saltelli's design on a scrambled Sobol' sequence: A, B (d, n) and AB (d, d, n).

    ``AB[i]`` is A with its row i taken from B. ``n`` must be a power of 2.
    """
    if n < 2 or n & (n - 1):
        raise InputError(Problem(f"Sobol' base sample size must be a power of 2, got {n}"))
    # scipy here, not at import: `riskmodel index --help` and the start of every index command stay fast
    from scipy.stats import qmc

    x = qmc.Sobol(d=2 * d, scramble=True, seed=rng).random(n).T
    A, B = x[:d], x[d:]
    AB = np.broadcast_to(A, (d, d, n)).copy()
    AB[np.arange(d), np.arange(d)] = B
    return A, B, AB


def sobol_estimates(
    fA: np.ndarray, fB: np.ndarray, fAB: np.ndarray, rng: np.random.Generator, n_boot: int = 200,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """First-order (Saltelli 2010) and total (Jansen 1999) indices with bootstrap intervals.

    ``S_i = mean(fB (fAB_i - fA)) / V``, ``ST_i = mean((fA - fAB_i)^2) / (2 V)``
    with ``V`` the variance of ``[fA, fB]`` -- the estimators of
    ``scipy.stats.sobol_indices`` (a test checks equality), written out here so
    that the bootstrap (percentile intervals, resampling the base rows) draws
    from the caller's seeded generator: scipy's ``bootstrap()`` of a Sobol'
    result takes no seed.

    Returns
    -------
    (first_order (d,), total (d,), intervals (4, d): first low/high, total low/high)
    """

    def est(a: np.ndarray, b: np.ndarray, ab: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        mean = np.mean(np.concatenate([a, b], axis=-1), axis=-1, keepdims=True)
        a, b, ab = a - mean, b - mean, ab - mean[..., None, :] if ab.ndim > a.ndim else ab - mean
        var = np.var(np.concatenate([a, b], axis=-1), axis=-1)
        with np.errstate(invalid="ignore", divide="ignore"):
            s1 = np.mean(b[..., None, :] * (ab - a[..., None, :]), axis=-1) / var[..., None]
            st = 0.5 * np.mean((a[..., None, :] - ab) ** 2, axis=-1) / var[..., None]
        return s1, st

    n = fA.shape[-1]
    s1, st = est(fA[None], fB[None], fAB[None])
    idx = rng.integers(0, n, size=(n_boot, n))
    b1, bt = est(fA[idx], fB[idx], np.moveaxis(fAB[:, idx], 0, 1))
    a = (1 - confidence) / 2
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN when builds failed: reported by the caller
        q = np.nanquantile(np.stack([b1, bt]), [a, 1 - a], axis=1) if n_boot > 0 else np.full((2, 2, fAB.shape[0]), np.nan)
    return s1[0], st[0], np.stack([q[0, 0], q[1, 0], q[0, 1], q[1, 1]])


@dataclass
class Sobol:
    """Sobol' indices of the mean absolute rank shift.

    ``table``: ``factor, first_order, first_order_low, first_order_high, total,
    total_low, total_high``.
    """

    table: pd.DataFrame
    n_builds: int
    n_failed: int
    output_mean: float
    output_var: float
    seconds: float
    note: str = ""

    def summary(self) -> str:
        t = self.table.sort_values("total", ascending=False)
        lines = [f"Sobol' indices of the mean absolute rank shift ({self.n_builds} builds, {self.n_failed} failed, "
                 f"{self.seconds:.1f} s; output mean {self.output_mean:.2f}, variance {self.output_var:.2f})"]
        if self.note:
            lines.append(self.note)
        lines += [f"  {r.factor:<24s} S1 {r.first_order:6.3f} [{r.first_order_low:6.3f}, {r.first_order_high:6.3f}]  "
                  f"ST {r.total:6.3f} [{r.total_low:6.3f}, {r.total_high:6.3f}]" for r in t.itertuples()]
        return "\n".join(lines)


def sobol(index: IndexResult | IndexConfig, seed: int = 0, spec: IndexSpec | None = None,
          data: IndexData | None = None, base: int | None = None, *,
          setup: SensitivitySetup | None = None, progress: Callable[[int, int], None] | None = None) -> Sobol:
    """Sobol' first-order and total indices with bootstrap intervals (see the module notes).

    Factors: one per varying weight (uniform noise) and one per discrete
    choice with more than one alternative. The design has ``base * (d + 2)``
    builds. ``index``, ``spec``, ``data``, ``setup`` and ``progress`` (in builds) as in
    :func:`rank_uncertainty`.
    """
    import time

    t0 = time.perf_counter()
    cfg = index.config if isinstance(index, IndexResult) else index
    s = cfg.sensitivity
    if s.weights_dist != "uniform":
        raise InputError(Problem("key 'sensitivity.weights_dist': Sobol' indices need independent factors; "
                                 "use 'uniform' noise (Dirichlet draws are not independent per weight)"))
    st = setup or sensitivity_setup(as_built(index, spec, data))
    spec, alts = st.spec, st.alts
    engine = Engine(alts, spec, s.chunk)
    _, nom_r = _nominal_ranks(alts)
    nodes = weight_nodes(spec, s.weights_levels) if s.weights_noise > 0 else []
    discrete = [k for k in ("impute", "treat", "normalise", "aggregate") if len(alts.factor_levels[k]) > 1]
    names = [f"w:{c}" for _, _, c in nodes] + discrete
    d = len(names)
    if d < 2:
        raise InputError(Problem("Sobol' indices need at least 2 factors (weights with noise and/or alternatives)"))
    nominal = level_weights(spec)
    counts = {"failed": 0, "builds": 0}
    ys: list[np.ndarray] = []
    nl = {k: len(alts.factor_levels[k]) for k in discrete}

    def func(x: np.ndarray) -> np.ndarray:
        B = x.shape[1]
        W = [np.broadcast_to(w, (B, w.size)).copy() for w in nominal]
        for f, (L, j, _) in enumerate(nodes):
            W[L - 1][:, j] *= 1 + s.weights_noise * (2 * x[f] - 1)
        idx = {k: np.zeros(B, int) for k in ("impute", "treat", "normalise", "aggregate")}
        for f, k in enumerate(discrete, start=len(nodes)):
            idx[k] = np.minimum((x[f] * nl[k]).astype(int), nl[k] - 1)
        variant = np.array([alts.variant_of[(i, t, m)] for i, t, m in zip(idx["impute"], idx["treat"], idx["normalise"], strict=True)])
        before = counts["builds"]
        S = engine.run(W, variant, idx["aggregate"],
                       None if progress is None else (lambda done, _: progress(before + done, n * (d + 2))))
        ok = np.all(np.isfinite(S), axis=1)
        counts["failed"] += int((~ok).sum())
        counts["builds"] += B
        R = rank_desc(S, axis=1)
        y = np.nanmean(np.abs(R - nom_r[None, :]), axis=1)
        ys.append(y[ok])
        return np.where(ok, y, np.nan)[None, :]

    n = base or s.sobol_base
    rng = np.random.default_rng(seed)
    A, B, AB = saltelli_design(n, d, rng)
    fA, fB = func(A)[0], func(B)[0]
    fAB = func(np.moveaxis(AB, 0, 1).reshape(d, d * n))[0].reshape(d, n)
    fo, to, lo_hi = sobol_estimates(fA, fB, fAB, rng, s.bootstrap, s.confidence)
    table = pd.DataFrame({
        "factor": names,
        "first_order": fo,
        "first_order_low": lo_hi[0],
        "first_order_high": lo_hi[1],
        "total": to,
        "total_low": lo_hi[2],
        "total_high": lo_hi[3],
    })
    note = ""
    if counts["failed"]:
        table.loc[:, table.columns != "factor"] = np.nan
        note = (f"{counts['failed']} of {counts['builds']} builds failed (non-finite index scores), so the indices "
                "are undefined (NaN); remove the alternative that fails (see the Monte Carlo failures table)")
    fy = np.concatenate(ys)
    return Sobol(table, counts["builds"], counts["failed"], float(np.mean(fy)), float(np.var(fy)),
                 time.perf_counter() - t0, note)


__all__ = ["Engine", "SensitivitySetup", "Sobol", "Uncertainty", "as_built", "rank_uncertainty",
           "sensitivity_setup", "sobol"]
