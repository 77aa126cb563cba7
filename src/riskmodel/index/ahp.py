"""The analytic hierarchy process (AHP): priorities and consistency from pairwise comparisons.

An expert compares the children of one parent pairwise on Saaty's 1-9 scale:
``A[i, j]`` says how much more important child i is than child j, with
``A[j, i] = 1 / A[i, j]`` and ones on the diagonal.

* **Priorities**: the principal right eigenvector of A (Saaty), or the
  normalised row geometric means (Crawford & Williams); both equal for a
  consistent matrix and for any 3 x 3 matrix.
* **Consistency**: ``CI = (lambda_max - n) / (n - 1)``, ``CR = CI / RI(n)``
  with Saaty's random index table :data:`RANDOM_INDEX`; CR < 0.1 is
  acceptable. For the geometric-mean priorities lambda_max is estimated as
  ``mean((A w)_i / w_i)``, which equals the eigenvalue for the eigenvector.
* **The judgement to revisit** when CR >= 0.1: the entry with the largest
  ``|log(A[i, j] w_j / w_i)|`` (the comparison furthest from what the other
  judgements imply), with the implied value ``w_i / w_j`` and the nearest
  Saaty-scale value.
* **Several experts**: aggregation of individual judgements (AIJ; weighted
  element-wise geometric mean of the matrices, which stays reciprocal) or of
  individual priorities (AIP; weighted geometric mean of the priority
  vectors, renormalised) (Forman & Peniwati 1998).

numpy's dense eigen-solver is used for the eigenvector (matrices are tiny).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem

# Saaty's random consistency index by matrix order (Saaty 1980, n = 1..15).
RANDOM_INDEX = {
    1: 0.0, 2: 0.0, 3: 0.58, 4: 0.90, 5: 1.12, 6: 1.24, 7: 1.32, 8: 1.41,
    9: 1.45, 10: 1.49, 11: 1.51, 12: 1.48, 13: 1.56, 14: 1.57, 15: 1.59,
}
SAATY_SCALE = np.array([1 / 9, 1 / 8, 1 / 7, 1 / 6, 1 / 5, 1 / 4, 1 / 3, 1 / 2, 1, 2, 3, 4, 5, 6, 7, 8, 9])
PRIORITY_METHODS = ("eigenvector", "geometric")
GROUP_METHODS = ("judgements", "priorities")
CR_LIMIT = 0.1


def check_pairwise(A: np.ndarray, codes: list[str] | None = None, where: str = "pairwise matrix", tol: float = 0.01) -> np.ndarray:
    """Check that A is square, positive, with unit diagonal and reciprocal.

    Reciprocity is checked as ``|A[i,j] * A[j,i] - 1| <= tol`` so that 0.333 for
    1/3 passes. Every offending cell is named.

    Raises
    ------
    InputError
    """
    try:
        A = np.asarray(A, dtype=float)
    except (TypeError, ValueError):
        raise InputError(Problem(f"{where}: entries must be numbers")) from None
    if A.ndim != 2 or A.shape[0] != A.shape[1] or A.shape[0] < 2:
        raise InputError(Problem(f"{where}: must be a square matrix of order >= 2, got shape {A.shape}"))
    n = A.shape[0]
    if codes is not None and len(codes) != n:
        raise InputError(Problem(f"{where}: {n} x {n} matrix for {len(codes)} codes ({', '.join(codes)})"))
    names = codes or [str(i + 1) for i in range(n)]
    problems = []
    bad = [(i, j) for i in range(n) for j in range(n) if not (np.isfinite(A[i, j]) and A[i, j] > 0)]
    if bad:
        problems.append(Problem(f"{where}: entries must be positive numbers; not at "
                                + ", ".join(f"({names[i]}, {names[j]}) = {A[i, j]:g}" for i, j in bad[:6])))
    else:
        diag = [i for i in range(n) if abs(A[i, i] - 1) > tol]
        if diag:
            problems.append(Problem(f"{where}: the diagonal must be 1; not at "
                                    + ", ".join(f"{names[i]} = {A[i, i]:g}" for i in diag)))
        rec = [(i, j) for i in range(n) for j in range(i + 1, n) if abs(A[i, j] * A[j, i] - 1) > tol]
        if rec:
            problems.append(Problem(
                f"{where}: not reciprocal (A[j,i] must be 1/A[i,j]); not at "
                + ", ".join(f"({names[i]}, {names[j]}) = {A[i, j]:g} but ({names[j]}, {names[i]}) = {A[j, i]:g}" for i, j in rec[:6])
            ))
    if problems:
        raise InputError(problems)
    return A


def priorities(A: np.ndarray, method: str = "eigenvector") -> np.ndarray:
    """Priority vector (sums to 1) of a pairwise matrix."""
    if method not in PRIORITY_METHODS:
        raise InputError(Problem(f"unknown AHP priority method {method!r}; valid: {', '.join(PRIORITY_METHODS)}"))
    A = np.asarray(A, float)
    if method == "geometric":
        g = np.exp(np.mean(np.log(A), axis=1))
        return g / g.sum()
    vals, vecs = np.linalg.eig(A)
    k = int(np.argmax(vals.real))
    v = np.abs(vecs[:, k].real)
    return v / v.sum()


def lambda_max(A: np.ndarray, w: np.ndarray) -> float:
    """``mean((A w)_i / w_i)``: the principal eigenvalue when w is the eigenvector."""
    return float(np.mean((np.asarray(A) @ w) / w))


def consistency(A: np.ndarray, w: np.ndarray | None = None) -> tuple[float, float, float]:
    """(lambda_max, CI, CR) of a pairwise matrix (CR = 0 for n <= 2)."""
    A = np.asarray(A, float)
    n = A.shape[0]
    w = priorities(A) if w is None else w
    lam = lambda_max(A, w)
    ci = (lam - n) / (n - 1) if n > 1 else 0.0
    ri = RANDOM_INDEX.get(n)
    if ri is None:
        raise InputError(Problem(f"AHP: no random index for a {n} x {n} matrix (Saaty's table goes to 15)"))
    cr = ci / ri if ri > 0 else 0.0
    return lam, ci, cr


def most_inconsistent(A: np.ndarray, w: np.ndarray) -> tuple[int, int, float]:
    """(i, j, implied w_i / w_j) of the judgement furthest from the priorities."""
    A = np.asarray(A, float)
    eps = np.abs(np.log(A * w[None, :] / w[:, None]))
    upper = np.triu(np.ones_like(eps, dtype=bool), 1)
    i, j = np.unravel_index(int(np.argmax(np.where(upper, eps, -1.0))), eps.shape)
    return int(i), int(j), float(w[i] / w[j])


def nearest_saaty(x: float) -> float:
    """The value of Saaty's scale (1/9 .. 9) nearest to x on a log scale."""
    return float(SAATY_SCALE[np.argmin(np.abs(np.log(SAATY_SCALE) - np.log(x)))])


@dataclass
class AHPResult:
    """Priorities and consistency for one parent (one or several experts)."""

    parent: str
    codes: list[str]
    weights: np.ndarray
    lambda_max: float
    ci: float
    cr: float
    method: str
    group_method: str
    experts: pd.DataFrame = field(default_factory=pd.DataFrame)
    revisit: dict[str, object] | None = None

    @property
    def consistent(self) -> bool:
        return self.cr < CR_LIMIT

    def summary(self) -> str:
        lines = [f"AHP for '{self.parent}' ({self.method}, {len(self.experts) or 1} expert(s), aggregation of {self.group_method})"]
        lines += [f"  {c:<24s} {w:.4f}" for c, w in zip(self.codes, self.weights, strict=True)]
        lines.append(f"  lambda_max = {self.lambda_max:.4f}, CI = {self.ci:.4f}, CR = {self.cr:.4f} "
                     f"({'acceptable' if self.consistent else 'NOT acceptable: CR >= 0.1'})")
        if self.revisit:
            r = self.revisit
            lines.append(f"  revisit {r['expert']}'s judgement ({r['row']}, {r['col']}) = {r['value']:g}: the others imply "
                         f"{r['implied']:.3g} (nearest on Saaty's scale: {r['saaty']:g})")
        return "\n".join(lines)


def ahp(
    matrices: list[np.ndarray] | np.ndarray,
    codes: list[str],
    parent: str = "",
    method: str = "eigenvector",
    group: str = "judgements",
    expert_names: list[str] | None = None,
    expert_weights: list[float] | None = None,
) -> AHPResult:
    """AHP priorities for the children ``codes`` of ``parent`` from one or several experts.

    Parameters
    ----------
    matrices : array (n, n) or list of them
        One pairwise matrix per expert, rows and columns in the order of ``codes``.
    method : {"eigenvector", "geometric"}
    group : {"judgements", "priorities"}
        AIJ or AIP (see the module notes); irrelevant for one expert.
    expert_weights : list of float, optional
        Relative weights of the experts (default equal).

    Returns
    -------
    AHPResult
        With per-expert CRs in ``experts`` and, when the (group) CR >= 0.1,
        the judgement to revisit.
    """
    if group not in GROUP_METHODS:
        raise InputError(Problem(f"unknown AHP group aggregation {group!r}; valid: {', '.join(GROUP_METHODS)}"))
    mats = [matrices] if isinstance(matrices, np.ndarray) and np.ndim(matrices) == 2 else list(matrices)
    names = expert_names or [f"expert {i + 1}" for i in range(len(mats))]
    mats = [check_pairwise(A, codes, where=f"AHP matrix of {names[i]} for '{parent}'") for i, A in enumerate(mats)]
    ew = np.ones(len(mats)) if expert_weights is None else np.asarray(expert_weights, float)
    if ew.shape != (len(mats),) or np.any(ew < 0) or ew.sum() <= 0:
        raise InputError(Problem(f"AHP for '{parent}': expert weights must be {len(mats)} numbers >= 0, not all 0"))
    ew = ew / ew.sum()
    rows = []
    per_w = []
    for nm, A in zip(names, mats, strict=True):
        w = priorities(A, method)
        lam, ci, cr = consistency(A, w)
        per_w.append(w)
        rows.append({"expert": nm, "lambda_max": lam, "ci": ci, "cr": cr, **{c: x for c, x in zip(codes, w, strict=True)}})
    experts = pd.DataFrame(rows)
    if group == "judgements" or len(mats) == 1:
        G = np.exp(np.tensordot(ew, np.log(np.stack(mats)), axes=1))
        w = priorities(G, method)
        lam, ci, cr = consistency(G, w)
    else:
        g = np.exp(ew @ np.log(np.stack(per_w)))
        w = g / g.sum()
        G = np.exp(np.tensordot(ew, np.log(np.stack(mats)), axes=1))
        lam, ci, cr = consistency(G, w)
    res = AHPResult(parent, list(codes), w, lam, ci, cr, method, group, experts)
    if cr >= CR_LIMIT:
        # the expert with the worst CR, and their judgement furthest from their own priorities
        k = int(np.argmax(experts["cr"].to_numpy()))
        i, j, implied = most_inconsistent(mats[k], per_w[k])
        res.revisit = {"expert": names[k], "row": codes[i], "col": codes[j], "value": float(mats[k][i, j]),
                       "implied": implied, "saaty": nearest_saaty(implied), "expert_cr": float(experts["cr"].iloc[k])}
    return res
