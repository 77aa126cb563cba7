"""riskmodel against COINr on the builds of COINr's adjustments vignette (ASEM data).

COINr's own outputs are in ``benchmarks/index/coinr_adjustments/`` (made by
``coinr_adjustments.R`` with COINr 1.1.14, R 4.2.2); riskmodel builds the same
four variants from ``experiments/asem_coinr*.toml`` on the ASEM data of
``../shared/reference/asem/``. Printed: one Markdown row per build with the
largest differences over every aggregate (8 pillars, 2 sub-indices, Index) and
every country.

Ranks are compared twice: as each tool computes them (``rank(-x, ties.method =
"min")`` in COINr, ``[ranks] ties = "min"`` in riskmodel), and with scores
equal to within 1e-12 (relative) counted as ties on both sides. The second
shows whether a rank difference is more than floating-point noise: where
scores are equal in exact arithmetic (percentile ranks are multiples of 1/50,
so pillar means of them often tie), each tool's last digit decides its
ranking, and the two tools sum in different orders (R accumulates in 80-bit
long double).

Run: ``.venv/bin/python benchmarks/index/coinr_adjustments.py`` from the checkout's root.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

from riskmodel.index.build import build_index, rebuild
from riskmodel.index.config import load_config

ROOT = Path(__file__).resolve().parents[2]
COINR = ROOT / "benchmarks" / "index" / "coinr_adjustments"
BUILDS = {  # COINr's name in the vignette -> riskmodel's experiment
    "Nominal": "asem_coinr",
    "Prank": "asem_coinr_prank",
    "NoLPIFor": "asem_coinr_drop",
    "Screen90": "asem_coinr_screen90",
}
TIE_TOL = 1e-12


def tolerant_min_ranks(scores: np.ndarray, tol: float = TIE_TOL) -> np.ndarray:
    """Ranks from the highest (1), scores within ``tol`` (relative, at least absolute) tied at the lowest rank.

    Consecutive sorted scores closer than ``tol * max(1, |score|)`` form one tie group; NaN stays NaN.
    Written here (not ``scipy.stats.rankdata``) because rankdata has no tolerance.
    """
    s = np.asarray(scores, float)
    out = np.full(s.shape, np.nan)
    ok = np.flatnonzero(~np.isnan(s))
    order = ok[np.argsort(-s[ok], kind="stable")]
    rank = 0
    for pos, i in enumerate(order):
        if pos == 0 or s[order[pos - 1]] - s[i] > tol * max(1.0, abs(s[i])):
            rank = pos + 1
        out[i] = rank
    return out


def compare(build: str, **overrides: object) -> dict[str, object]:
    """Build ``build`` with riskmodel (settings ``overrides`` changed) and compare its aggregates with COINr's."""
    cfg = load_config(ROOT / "experiments" / f"{BUILDS[build]}.toml")
    res = rebuild(cfg, **overrides) if overrides else build_index(cfg)
    ours = res.scores.loc[res.scores["level"] > 1].rename(columns={"area_id": "uCode", "code": "iCode"})
    ref = pd.read_csv(COINR / "scores.csv")
    ref = ref.loc[ref["build"] == build]
    j = ref.merge(ours[["uCode", "iCode", "score", "rank"]], on=["uCode", "iCode"], how="outer", indicator=True)
    missing = int((j["_merge"] != "both").sum())
    j = j.loc[j["_merge"] == "both"].copy()
    j["tol_ref"] = j.groupby("iCode")["Score"].transform(lambda x: tolerant_min_ranks(x.to_numpy()))
    j["tol_ours"] = j.groupby("iCode")["score"].transform(lambda x: tolerant_min_ranks(x.to_numpy()))
    top = j["iCode"] == "Index"
    rank_d = (j["rank"].astype(float) - j["Rank"]).abs()
    return {
        "build": build,
        "units": int(j["uCode"].nunique()),
        "unmatched": missing,
        "max_score_diff": float((j["score"] - j["Score"]).abs().max()),
        "max_rank_diff_index": int(rank_d[top].max()),
        "max_rank_diff_all": int(rank_d.max()),
        "n_rank_diff_all": int((rank_d > 0).sum()),
        "n_scores": len(j),
        "max_rank_diff_tolerant": int((j["tol_ours"] - j["tol_ref"]).abs().max()),
    }


def main() -> int:
    rows = [compare(b) for b in BUILDS]
    # for contrast: riskmodel's "prank" (ties averaged) in place of "prank_min" (COINr's n_prank)
    contrast = compare("Prank", **{"steps.normalise.method": "prank"})
    contrast["build"] = "Prank, ties averaged (riskmodel's prank)"
    print("| build (COINr's name) | riskmodel config | countries | max abs rank diff, Index | "
          "max abs rank diff, all 11 aggregates (count / scores) | same, ties to 1e-12 | max abs score diff |")
    print("|---|---|---|---|---|---|---|")
    for r in [*rows, contrast]:
        config = f"experiments/{BUILDS[str(r['build'])]}.toml" if r["build"] in BUILDS else \
            "asem_coinr_prank.toml with method = \"prank\""
        print(f"| {r['build']} | {config} | {r['units']} | {r['max_rank_diff_index']} | "
              f"{r['max_rank_diff_all']} ({r['n_rank_diff_all']} / {r['n_scores']}) | {r['max_rank_diff_tolerant']} | "
              f"{r['max_score_diff']:.1e} |")
    return 0 if all(r["unmatched"] == 0 for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
