"""Weight calibration: build the same index under several expert weight schemes and compare ranks.

An expert committee that must choose weights (equal, AHP of several experts,
entropy, CRITIC ...) needs to see how far the streets' ranks move between the
candidate schemes. :func:`compare_schemes` builds every scheme (each a full
index config) and returns

* ``ranks`` -- long: ``area_id, name, scheme, score, rank`` for the latest
  period (or the only one), ranks 1 = best, ties as the scheme's config says;
* ``changes`` -- one row per unordered pair of schemes (in the order given):
  ``scheme_a, scheme_b, max_abs_rank_shift, mean_abs_rank_shift, spearman,
  n_areas`` where the shift is ``|rank_a - rank_b|`` per area (in rank
  places) and ``spearman`` is Spearman's rank correlation of the two schemes'
  scores (scipy; ties get average ranks);
* ``weights`` -- long: ``scheme, code, level, weight, effective``: the
  effective weight of every node under every scheme.

:func:`bump_chart` draws the ranks by scheme (one line per area, Chinese
names when a CJK font is installed).
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import combinations

import numpy as np
import pandas as pd

from riskmodel.errors import InputError, Problem
from riskmodel.index.build import IndexResult
from riskmodel.index.figures import _cjk


@dataclass
class SchemeComparison:
    """Ranks, pairwise rank changes and weights of several weight schemes (see the module notes)."""

    ranks: pd.DataFrame
    changes: pd.DataFrame
    weights: pd.DataFrame
    period: pd.Timestamp | None

    def summary(self) -> str:
        per = f", period {self.period:%Y-%m}" if self.period is not None else ""
        schemes = list(dict.fromkeys(self.ranks["scheme"]))
        lines = [f"{len(schemes)} weight schemes compared on {self.ranks['area_id'].nunique()} areas{per}: "
                 + ", ".join(schemes)]
        for r in self.changes.itertuples():
            lines.append(f"  {r.scheme_a} vs {r.scheme_b}: max |rank shift| {r.max_abs_rank_shift:g}, "
                         f"mean {r.mean_abs_rank_shift:.2f}, Spearman {r.spearman:.3f}")
        return "\n".join(lines)


def latest_top(res: IndexResult, period: pd.Timestamp | None = None) -> pd.DataFrame:
    """The top level's ``area_id, score, rank`` for ``period`` (default the latest)."""
    idx = res.index
    if idx["period"].isna().all():
        return idx[["area_id", "score", "rank"]].reset_index(drop=True)
    per = idx["period"].max() if period is None else period
    out = idx.loc[idx["period"] == per, ["area_id", "score", "rank"]]
    if out.empty:
        raise InputError(Problem(f"no index scores for period {pd.Timestamp(per):%Y-%m-%d}"))
    return out.reset_index(drop=True)


def rank_changes(ranks: pd.DataFrame, schemes: list[str] | None = None) -> pd.DataFrame:
    """Pairwise rank shifts and Spearman correlations between schemes.

    Parameters
    ----------
    ranks : DataFrame
        Long ``area_id, scheme, score, rank`` (one row per area and scheme).
    schemes : list of str, optional
        Order of the schemes (default: order of first appearance).

    Returns
    -------
    DataFrame
        ``scheme_a, scheme_b, max_abs_rank_shift, mean_abs_rank_shift, spearman, n_areas``,
        one row per unordered pair, over the areas ranked by both schemes.
    """
    from scipy.stats import spearmanr

    schemes = schemes or list(dict.fromkeys(ranks["scheme"]))
    R = ranks.pivot(index="area_id", columns="scheme", values="rank").astype(float)
    S = ranks.pivot(index="area_id", columns="scheme", values="score").astype(float)
    rows = []
    for a, b in combinations(schemes, 2):
        ok = R[a].notna() & R[b].notna() & S[a].notna() & S[b].notna()
        shift = (R.loc[ok, a] - R.loc[ok, b]).abs()
        if ok.sum() >= 2 and S.loc[ok, a].nunique() > 1 and S.loc[ok, b].nunique() > 1:
            rho = float(spearmanr(S.loc[ok, a], S.loc[ok, b]).statistic)
        else:  # Spearman is undefined for a constant score
            rho = float("nan")
        rows.append({"scheme_a": a, "scheme_b": b,
                     "max_abs_rank_shift": float(shift.max()) if len(shift) else float("nan"),
                     "mean_abs_rank_shift": float(shift.mean()) if len(shift) else float("nan"),
                     "spearman": rho, "n_areas": int(ok.sum())})
    return pd.DataFrame(rows, columns=["scheme_a", "scheme_b", "max_abs_rank_shift", "mean_abs_rank_shift",
                                       "spearman", "n_areas"])


def compare_schemes(results: dict[str, IndexResult], names: dict[str, str] | None = None) -> SchemeComparison:
    """Compare built indices, one per weight scheme, on their common latest period.

    Parameters
    ----------
    results : dict scheme name -> IndexResult
        At least two schemes, built on the same areas.
    names : dict area_id -> display name, optional
        Added as a ``name`` column (the area's Chinese name for the chart).
    """
    if len(results) < 2:
        raise InputError(Problem(f"key 'schemes': give at least two weight schemes to compare, got {len(results)}"))
    periods = []
    for res in results.values():
        p = res.index["period"]
        periods.append(None if p.isna().all() else p.max())
    per = None
    if all(p is not None for p in periods):
        per = min(periods)  # the latest period that every scheme has
    elif any(p is not None for p in periods):
        raise InputError(Problem("key 'schemes': some schemes are panels (with periods) and some are not"))
    parts, wparts = [], []
    for name, res in results.items():
        t = latest_top(res, per)
        t.insert(1, "scheme", name)
        parts.append(t)
        w = res.weights[["code", "level", "weight", "effective"]].copy()
        w.insert(0, "scheme", name)
        wparts.append(w)
    ranks = pd.concat(parts, ignore_index=True)
    areas = [set(p["area_id"]) for p in parts]
    if any(a != areas[0] for a in areas[1:]):
        diff = sorted(set.union(*areas) - set.intersection(*areas))
        raise InputError(Problem(f"key 'schemes': the schemes rank different areas ({len(diff)} not in every scheme: "
                                 f"{', '.join(diff[:8])})", values=diff[:8]))
    ranks["rank"] = ranks["rank"].astype("Int64")
    if names:
        ranks.insert(1, "name", ranks["area_id"].map(names).fillna(ranks["area_id"]))
    changes = rank_changes(ranks, list(results))
    return SchemeComparison(ranks, changes, pd.concat(wparts, ignore_index=True), per)


def bump_chart(ranks: pd.DataFrame, *, title: str = "", period: str = "", source: str = ""):  # noqa: ANN201
    """Ranks by scheme: one line per area across the schemes (1 = best at the top).

    Parameters
    ----------
    ranks : DataFrame
        ``area_id, scheme, rank`` and optionally ``name``, as in :attr:`SchemeComparison.ranks`.
    """
    import matplotlib.pyplot as plt  # here, not at import: `riskmodel index` starts faster

    cjk = _cjk()
    schemes = list(dict.fromkeys(ranks["scheme"]))
    R = ranks.pivot(index="area_id", columns="scheme", values="rank").astype(float)[schemes]
    R = R.sort_values(schemes[0])
    label = {}
    for r in ranks.drop_duplicates("area_id").itertuples(index=False):
        nm = getattr(r, "name", None)
        label[r.area_id] = f"{nm} {r.area_id}" if cjk and isinstance(nm, str) and nm != r.area_id else str(r.area_id)
    n, k = R.shape
    fig, ax = plt.subplots(figsize=(2.0 + 1.6 * k, max(3.5, 0.28 * n + 1.5)))
    x = np.arange(k)
    cmap = plt.get_cmap("tab20")
    for i, (a, row) in enumerate(R.iterrows()):
        y = row.to_numpy(float)
        ax.plot(x, y, "-o", color=cmap(i % 20), lw=1.4, ms=4, alpha=0.85)
        ax.text(-0.08, y[0], label[a], ha="right", va="center", fontsize=7)
        ax.text(k - 1 + 0.08, y[-1], label[a], ha="left", va="center", fontsize=7)
    ax.set_xticks(x)
    ax.set_xticklabels(schemes, fontsize=8, rotation=15)
    ax.set_xlim(-0.9 if not cjk else -1.3, k - 1 + (0.9 if not cjk else 1.3))
    ax.set_ylim(n + 0.5, 0.5)
    ax.set_yticks(range(1, n + 1, max(1, n // 12)))
    ax.set_ylabel("排名 rank (1 = 最平安 safest)" if cjk else "rank (1 = best)")
    head = title or ("权重方案排名比较 Ranks by weight scheme" if cjk else "Ranks by weight scheme")
    ax.set_title(head, fontsize=10)
    ax.grid(axis="x", alpha=0.3)
    note = [s for s in (f"period {period}" if period else "", f"source: {source}" if source else "") if s]
    if note:
        fig.text(0.01, 0.005, "; ".join(note), fontsize=6.5, ha="left", va="bottom")
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig
