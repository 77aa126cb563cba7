"""The area hierarchy: grid cell -> street/town -> district -> city.

An areas table has one row per area with ``area_id``, ``parent_id`` (empty for
the top) and ``level``. :class:`AreaHierarchy` answers the questions the rest
of riskmodel asks: the parent and ancestors of an area, the areas of a level,
the bottom areas under an area, and the summing matrix that maps bottom-level
series to every level (used for hierarchical reconciliation).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem

# Conventional level names, bottom first. Other names are allowed; the order
# of levels is then taken from the tree (depth), not from this list.
LEVELS = ("grid", "area", "district", "city")


class AreaHierarchy:
    """A tree (or forest) of areas.

    Parameters
    ----------
    areas : DataFrame
        Columns ``area_id`` and optionally ``parent_id``, ``level``, ``name``,
        ``name_en``. One row per area.
    """

    def __init__(self, areas: pd.DataFrame):
        a = areas.drop_duplicates("area_id").copy()
        a["area_id"] = a["area_id"].astype(str)
        if "parent_id" not in a.columns:
            a["parent_id"] = None
        parents = [None if pd.isna(v) or str(v).strip() == "" else str(v).strip() for v in a["parent_id"]]
        a["parent_id"] = pd.Series(parents, index=a.index, dtype=object)
        self.parent: dict[str, str | None] = dict(zip(a["area_id"], parents, strict=True))
        # detect cycles once, so every walk below terminates
        for start in self.parent:
            seen = {start}
            node = self.parent[start]
            while node is not None:
                if node in seen:
                    raise InputError(Problem(f"the area hierarchy has a cycle through {node!r}", column="parent_id"))
                if node not in self.parent:
                    raise InputError(
                        Problem(f"parent {node!r} of area {start!r} is not an area", column="parent_id")
                    )
                seen.add(node)
                node = self.parent[node]
        if "level" not in a.columns or a["level"].isna().all():
            depth = {k: len(self.ancestors(k)) for k in self.parent}
            maxd = max(depth.values()) if depth else 0
            a["level"] = [f"level{maxd - depth[k]}" for k in a["area_id"]]
        self.level: dict[str, str] = dict(zip(a["area_id"], a["level"].astype(str), strict=True))
        self.table = a.reset_index(drop=True)
        self.children: dict[str, list[str]] = {k: [] for k in self.parent}
        for k, p in self.parent.items():
            if p is not None:
                self.children[p].append(k)

    @classmethod
    def flat(cls, area_ids: Iterable[str], level: str = "area") -> AreaHierarchy:
        """Each area its own root: what a counts file without an areas file means."""
        ids = sorted(set(map(str, area_ids)))
        return cls(pd.DataFrame({"area_id": ids, "parent_id": [None] * len(ids), "level": level}))

    def ancestors(self, area_id: str) -> list[str]:
        """Parent, grandparent, ... of an area (nearest first)."""
        out = []
        node = self.parent.get(area_id)
        while node is not None:
            out.append(node)
            node = self.parent.get(node)
        return out

    @property
    def levels(self) -> list[str]:
        """Level names from the bottom of the tree to the top."""
        depth: dict[str, list[int]] = {}
        for k in self.parent:
            depth.setdefault(self.level[k], []).append(len(self.ancestors(k)))
        return sorted(depth, key=lambda lv: -np.mean(depth[lv]))

    def areas_at(self, level: str) -> list[str]:
        if level not in set(self.level.values()):
            raise InputError(
                Problem(f"unknown level {level!r}; levels in the areas table: {', '.join(self.levels)}")
            )
        return sorted(k for k, v in self.level.items() if v == level)

    def ancestor_at(self, area_id: str, level: str) -> str | None:
        """The ancestor (or the area itself) at ``level``, None if there is none."""
        if self.level.get(area_id) == level:
            return area_id
        for a in self.ancestors(area_id):
            if self.level[a] == level:
                return a
        return None

    def leaves_under(self, area_id: str) -> list[str]:
        stack, out = [area_id], []
        while stack:
            node = stack.pop()
            kids = self.children.get(node, [])
            if kids:
                stack.extend(kids)
            else:
                out.append(node)
        return sorted(out)

    def summing_matrix(self, bottom: Sequence[str], upper_only: bool = False) -> tuple[np.ndarray, list[str]]:
        """The summing matrix S of the hierarchy above ``bottom``.

        Parameters
        ----------
        bottom : sequence of str
            Bottom-level area ids, in the column order wanted.
        upper_only : bool
            Return only the rows of the areas above the bottom (the
            aggregation matrix; S without its identity block), which is all a
            grid of 10,000 cells needs: the full S would be 10,000 squared.

        Returns
        -------
        S : ndarray, shape (n_all, n_bottom)
            ``S[i, j] = 1`` when bottom area j lies under (or is) area i. Rows
            are ordered top level first, then by id; the last ``n_bottom`` rows
            are the identity.
        ids : list of str
            The area id of each row.
        """
        bottom = [str(b) for b in bottom]
        col = {b: j for j, b in enumerate(bottom)}
        upper: dict[str, set[int]] = {}
        for b in bottom:
            for a in self.ancestors(b):
                upper.setdefault(a, set()).add(col[b])
        uppers = sorted(upper, key=lambda a: (len(self.ancestors(a)), a))
        S = np.zeros((len(uppers) + (0 if upper_only else len(bottom)), len(bottom)))
        for i, a in enumerate(uppers):
            S[i, sorted(upper[a])] = 1.0
        if upper_only:
            return S, uppers
        S[len(uppers) :, :] = np.eye(len(bottom))
        return S, uppers + bottom
