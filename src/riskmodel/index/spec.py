"""The index framework: indicators, their parents, levels, directions and weights.

An :class:`IndexSpec` is the tree of a composite index. It is read from a
COINr-style ``iMeta`` table (``Level, iCode, Direction, Weight, Parent, Type``
and optionally ``iName, Denominator, Target``) or from riskmodel's own spec
(``indicator, parent, level, direction, weight`` and optionally ``name, name_en,
denominator, target``). Level 1 holds the indicators; each higher level holds
aggregates whose children sit one level below; the single top node (no parent)
is the index itself (its code is ``Index`` by convention).

Every problem with a spec is collected and raised at once as an
:class:`~riskmodel.errors.InputError`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from riskmodel.data.readers import read_table
from riskmodel.errors import InputError, Problem

# column aliases: COINr iMeta name -> riskmodel name
_ALIASES = {
    "icode": "code",
    "indicator": "code",
    "code": "code",
    "iname": "name",
    "name": "name",
    "name_en": "name_en",
    "level": "level",
    "direction": "direction",
    "weight": "weight",
    "parent": "parent",
    "type": "type",
    "denominator": "denominator",
    "target": "target",
    "unit": "unit",
}

SPEC_TYPES = ("Indicator", "Aggregate", "Group", "Denominator", "Other")


def _blank(v: object) -> bool:
    return v is None or (isinstance(v, float) and math.isnan(v)) or str(v).strip() in ("", "nan", "NaN", "None")


@dataclass
class IndexSpec:
    """The tree of a composite index.

    Attributes
    ----------
    table : DataFrame
        One row per node (indicators and aggregates): ``code, name, parent,
        level (int, 1 = indicator), direction (+1/-1), weight (>= 0),
        denominator, target``.
    groups : list of str
        Unit grouping variables declared in the spec (COINr ``Type == Group``).
    denominators : list of str
        Denominator variables declared in the spec (COINr ``Type == Denominator``).
    """

    table: pd.DataFrame
    groups: list[str] = field(default_factory=list)
    denominators: list[str] = field(default_factory=list)
    source: str = "spec"

    # ------------------------------------------------------------------ readers
    @classmethod
    def from_table(cls, df: pd.DataFrame, source: str = "spec") -> IndexSpec:
        """Build and validate a spec from an iMeta or riskmodel spec table.

        Raises
        ------
        InputError
            Missing columns, unknown parents, inconsistent levels, directions
            other than +1/-1, negative or non-numeric weights, duplicate codes,
            or not exactly one top node.
        """
        cols = {c: _ALIASES[c.strip().lower()] for c in df.columns if c.strip().lower() in _ALIASES}
        t = df.rename(columns=cols)[list(dict.fromkeys(cols.values()))].copy()
        problems: list[Problem] = []
        for need in ("code", "parent"):
            if need not in t.columns:
                problems.append(
                    Problem(
                        f"required column is missing (one of: {'iCode, indicator' if need == 'code' else 'Parent, parent'})",
                        source=source,
                        column=need,
                    )
                )
        if problems:
            raise InputError(problems)
        if "type" not in t.columns:
            t["type"] = ""
        t["type"] = t["type"].fillna("").astype(str).str.strip()
        groups = t.loc[t["type"].str.lower() == "group", "code"].astype(str).tolist()
        denoms = t.loc[t["type"].str.lower() == "denominator", "code"].astype(str).tolist()
        keep = ~t["type"].str.lower().isin(["group", "denominator", "other"])
        line = pd.Series(np.arange(len(t)) + 2, index=t.index)
        t = t.loc[keep].copy()
        line = line.loc[keep]
        t["code"] = t["code"].astype(str).str.strip()
        t["parent"] = t["parent"].map(lambda v: "" if _blank(v) else str(v).strip())
        for c, default in (("name", None), ("name_en", None), ("denominator", ""), ("target", np.nan), ("unit", "")):
            if c not in t.columns:
                t[c] = default if default is not None else t["code"]
        t["name"] = t["name"].where(~t["name"].map(_blank), t["code"])
        t["denominator"] = t["denominator"].map(lambda v: "" if _blank(v) else str(v).strip())
        t["target"] = pd.to_numeric(t["target"], errors="coerce")

        dup = t["code"].duplicated(keep=False)
        if dup.any():
            problems.append(
                Problem("duplicate code", source=source, column="code",
                        rows=line[dup].tolist(), values=t.loc[dup, "code"].tolist())
            )
        codes = set(t["code"])
        bad_parent = (t["parent"] != "") & ~t["parent"].isin(codes)
        if bad_parent.any():
            problems.append(
                Problem(
                    "parent does not exist in the spec (codes: " + ", ".join(sorted(codes)[:12])
                    + (" ..." if len(codes) > 12 else "") + ")",
                    source=source, column="parent",
                    rows=line[bad_parent].tolist(), values=t.loc[bad_parent, "parent"].tolist(),
                )
            )
        tops = t.loc[t["parent"] == "", "code"].tolist()
        if len(tops) != 1:
            problems.append(
                Problem(
                    f"the spec must have exactly one top node (no parent); found {len(tops)}: {', '.join(tops) or 'none'}",
                    source=source, column="parent",
                )
            )
        # direction
        if "direction" not in t.columns:
            t["direction"] = 1.0
        d = pd.to_numeric(t["direction"], errors="coerce").fillna(1.0)
        bad = ~d.isin([1.0, -1.0])
        if bad.any():
            problems.append(
                Problem("direction must be +1 (good when high) or -1 (good when low)", source=source,
                        column="direction", rows=line[bad].tolist(), values=t.loc[bad, "direction"].tolist())
            )
        t["direction"] = d.astype(float)
        # weight
        if "weight" not in t.columns:
            t["weight"] = 1.0
        w = pd.to_numeric(t["weight"], errors="coerce")
        bad = w.isna() | (w < 0) | ~np.isfinite(w.fillna(0))
        if bad.any():
            problems.append(
                Problem("weight must be a number >= 0", source=source, column="weight",
                        rows=line[bad].tolist(), values=t.loc[bad, "weight"].tolist())
            )
        t["weight"] = w.fillna(0.0).astype(float)
        if problems:
            raise InputError(problems)
        # levels: given or inferred from the depth
        depth = _depths(t)
        height = max(depth.values())
        inferred = {c: height - dpt + 1 for c, dpt in depth.items()}
        if "level" in t.columns and pd.to_numeric(t["level"], errors="coerce").notna().all():
            lv = pd.to_numeric(t["level"]).astype(int)
            par_lv = dict(zip(t["code"], lv, strict=True))
            bad = [
                i for i, (c, p, L) in enumerate(zip(t["code"], t["parent"], lv, strict=True))
                if p and par_lv[p] != L + 1
            ]
            if bad:
                problems.append(
                    Problem("a node's level must be one below its parent's level", source=source,
                            column="level", rows=[int(line.iloc[i]) for i in bad],
                            values=[t["code"].iloc[i] for i in bad])
                )
            t["level"] = lv
        else:
            t["level"] = t["code"].map(inferred).astype(int)
        leaves = set(t["code"]) - set(t["parent"])
        bad_leaf = t["code"].isin(leaves) & (t["level"] != 1)
        if bad_leaf.any() and not problems:
            problems.append(
                Problem("every branch must reach level 1 (an aggregate has no children)", source=source,
                        column="code", rows=line[bad_leaf].tolist(), values=t.loc[bad_leaf, "code"].tolist())
            )
        if problems:
            raise InputError(problems)
        t = t.sort_values(["level"], kind="stable").reset_index(drop=True)
        cols_out = ["code", "name", "name_en", "parent", "level", "direction", "weight", "denominator", "target", "unit"]
        return cls(table=t[cols_out], groups=groups, denominators=denoms, source=source)

    @classmethod
    def read(cls, path: str) -> IndexSpec:
        """Read a spec (CSV/Parquet, iMeta or riskmodel format)."""
        df, _ = read_table(path, what="index spec")
        return cls.from_table(df, source=str(path))

    # --------------------------------------------------------------- accessors
    @property
    def top(self) -> str:
        return str(self.table.loc[self.table["parent"] == "", "code"].iloc[0])

    @property
    def n_levels(self) -> int:
        return int(self.table["level"].max())

    @property
    def indicators(self) -> list[str]:
        return self.codes_at(1)

    def codes_at(self, level: int) -> list[str]:
        return self.table.loc[self.table["level"] == level, "code"].tolist()

    @property
    def directions(self) -> np.ndarray:
        t = self.table.set_index("code")
        return t.loc[self.indicators, "direction"].to_numpy(float)

    @property
    def weights(self) -> pd.Series:
        """Declared weights of every node (index = code)."""
        return self.table.set_index("code")["weight"]

    def children(self, code: str) -> list[str]:
        return self.table.loc[self.table["parent"] == code, "code"].tolist()

    def parent_index(self, level: int) -> np.ndarray:
        """For each node at ``level`` (< top), the position of its parent among ``codes_at(level+1)``."""
        # plain dicts: a pandas .loc lookup per call made this the slowest part of a sensitivity analysis
        parent = dict(zip(self.table["code"], self.table["parent"], strict=True))
        pos = {c: i for i, c in enumerate(self.codes_at(level + 1))}
        return np.array([pos[parent[c]] for c in self.codes_at(level)], dtype=int)

    def membership(self, level: int) -> np.ndarray:
        """0/1 matrix (n_children at ``level``, n_parents at ``level+1``)."""
        p = self.parent_index(level)
        m = np.zeros((len(p), len(self.codes_at(level + 1))))
        m[np.arange(len(p)), p] = 1.0
        return m

    def node_codes(self) -> list[str]:
        """All codes below the top, level by level (the order of weight vectors)."""
        return [c for L in range(1, self.n_levels) for c in self.codes_at(L)]

    def drop(self, codes: list[str]) -> IndexSpec:
        """A copy without these nodes (and, for an aggregate, its descendants).

        Aggregates left without any child are removed too.
        """
        t = self.table
        gone = set(codes)
        changed = True
        while changed:
            changed = False
            kids = set(t.loc[t["parent"].isin(gone), "code"]) - gone
            if kids:
                gone |= kids
                changed = True
            left = t.loc[~t["code"].isin(gone)]
            empty = set(left.loc[left["level"] > 1, "code"]) - set(left["parent"])
            if empty - gone:
                gone |= empty
                changed = True
        if self.top in gone:
            raise InputError(Problem(f"dropping {', '.join(codes)} would leave an empty index", source=self.source))
        return IndexSpec(t.loc[~t["code"].isin(gone)].reset_index(drop=True), self.groups, self.denominators, self.source)

    def with_weights(self, weights: pd.Series | dict[str, float]) -> IndexSpec:
        """A copy with some nodes' weights replaced (codes not given keep theirs)."""
        t = self.table.copy()
        w = pd.Series(weights, dtype=float)
        unknown = sorted(set(w.index) - set(t["code"]))
        if unknown:
            raise InputError(Problem(f"weights given for codes not in the spec: {', '.join(unknown)}", source=self.source))
        t.loc[t["code"].isin(w.index), "weight"] = t.loc[t["code"].isin(w.index), "code"].map(w).to_numpy()
        return IndexSpec(t, self.groups, self.denominators, self.source)

    def check_weight_sums(self, total: float, tol: float = 1e-6) -> None:
        """Check that the weights within every parent sum to ``total``.

        Raises
        ------
        InputError
            Naming every parent whose children's weights do not sum as declared.
        """
        problems = []
        t = self.table
        for par, grp in t.loc[t["parent"] != ""].groupby("parent", sort=False):
            s = float(grp["weight"].sum())
            if abs(s - total) > tol:
                problems.append(
                    Problem(
                        f"weights of the children of '{par}' ({', '.join(grp['code'])}) sum to {s:.6g}, "
                        f"declared to sum to {total:g}",
                        source=self.source, column="weight",
                    )
                )
        if problems:
            raise InputError(problems)


def _depths(t: pd.DataFrame) -> dict[str, int]:
    parent = dict(zip(t["code"], t["parent"], strict=True))
    out: dict[str, int] = {}
    for c in parent:
        d, cur, seen = 0, c, set()
        while parent.get(cur, ""):
            if cur in seen:
                raise InputError(Problem(f"the spec has a cycle through '{c}'", column="parent"))
            seen.add(cur)
            cur = parent[cur]
            d += 1
        out[c] = d
    return out


def effective_weights(spec: IndexSpec, weights: pd.Series | None = None) -> pd.DataFrame:
    """Effective weight of every node on the index and on each of its ancestors.

    Weights are normalised within each parent, then multiplied down the tree:
    the effective weight of an indicator on the index is the product of its
    normalised weight and those of all its ancestors.

    Returns
    -------
    DataFrame
        ``code, level, parent, weight (declared), within_parent (normalised),
        on_<ancestor level code>...`` with one ``effective`` column (on the
        top node) and ``effective_on_L<k>`` for the ancestor at level k.
    """
    t = spec.table.set_index("code")
    w = (weights if weights is not None else t["weight"]).astype(float)
    par = t["parent"]
    sums = w.groupby(par).sum()
    within = pd.Series(
        [w[c] / sums[par[c]] if par[c] and sums[par[c]] > 0 else 1.0 for c in t.index], index=t.index
    )
    rows = []
    for c in t.index:
        eff, cur = 1.0, c
        per_level: dict[str, float] = {}
        while par[cur]:
            eff *= within[cur]
            cur = par[cur]
            per_level[f"effective_on_L{int(t.loc[cur, 'level'])}"] = eff
        rows.append({"code": c, "level": int(t.loc[c, "level"]), "parent": par[c], "weight": float(w[c]),
                     "within_parent": float(within[c]), "effective": eff, **per_level})
    return pd.DataFrame(rows)
