"""The catalogue of index methods: one ``register`` call per normaliser, weighting method and aggregator.

A method registered here is accepted by the index config (``[steps]
normalise``, ``[weights] method``, ``[steps] aggregate`` and the
``[sensitivity]`` alternatives), used by :func:`~riskmodel.index.build.build_index`
and the sensitivity analysis, named in logs and appendices by its labels, and
run by the contract test (tests/index/test_registry_contract.py). The
targets' signatures are in :mod:`riskmodel.index.registry`;
docs/contributing/index.md says how to add one.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from riskmodel.index import aggregate, normalise, weights
from riskmodel.index.registry import AGGREGATORS, NORMALISERS, WEIGHTS
from riskmodel.registry import Needs, Option

_RANGE = Option("range", tuple, (0.0, 100.0), "the [low, high] the values are mapped to")
_MEAN_SD = Option("mean_sd", tuple, (0.0, 1.0), "the mean and sd of the result")
_SCALE = Option("scale", float, 100.0, "the result is multiplied by this (100: percent)")
_CAP = Option("cap", bool, True, "cap values beyond the target at 1 (times scale)")
_MESSAGES = ("codes", "where")


def _minmax_label(o: Mapping[str, Any]) -> str:
    return f"minmax[{o['range'][0]:g},{o['range'][1]:g}]"


def _zscore_label(o: Mapping[str, Any]) -> str:
    return f"zscore({o['mean_sd'][0]:g},{o['mean_sd'][1]:g})"


# --------------------------------------------------------------------------- normalisers
NORMALISERS.register(
    "minmax", normalise.minmax, labels={"zh": "极差标准化（最小-最大）", "en": "min-max"},
    summary="(x - min) / (max - min) mapped to range", options=(_RANGE,),
    context=_MESSAGES, describe=_minmax_label)
NORMALISERS.register(
    "zscore", normalise.zscore, labels={"zh": "Z 分数标准化", "en": "z-score"},
    summary="mean + sd * (x - mean) / sd(x), sample sd", options=(_MEAN_SD,),
    context=_MESSAGES, describe=_zscore_label)
NORMALISERS.register(
    "prank", normalise.prank, labels={"zh": "百分位秩", "en": "percentile rank"},
    summary="(rank - 1) / (n - 1) times scale, ties averaged", options=(_SCALE,))
NORMALISERS.register(
    "prank_min", normalise.prank_min, labels={"zh": "百分位秩（并列取最小秩）", "en": "percentile rank, ties lowest"},
    summary="(rank - 1) / (n - 1) times scale, a tied group at its lowest rank (COINr's n_prank; scale = 1 for its [0, 1])",
    options=(_SCALE,))
NORMALISERS.register(
    "rank", normalise.rank, labels={"zh": "秩次", "en": "rank"},
    summary="rank, 1 = worst, ties averaged")
NORMALISERS.register(
    "target", normalise.target, labels={"zh": "目标距离法", "en": "distance to target"},
    summary="(x - min) / (target - min), capped at 1, times scale; targets from the spec",
    options=(_SCALE, _CAP), context=(*_MESSAGES, "targets"))
NORMALISERS.register(
    "best", normalise.best, labels={"zh": "领先者距离法", "en": "distance to the leader"},
    summary="(x - min) / (best - min) on [0, 1]", context=_MESSAGES)
NORMALISERS.register(
    "ratio", normalise.ratio, labels={"zh": "领先者比值法", "en": "ratio to the leader"},
    summary="x / max (good when high) or min / x (good when low), times scale; positive data",
    options=(_SCALE,))
NORMALISERS.register(
    "none", normalise.identity, labels={"zh": "不标准化", "en": "none (directions only)"},
    summary="the values times their directions")

# --------------------------------------------------------------------------- weighting methods
# static: fn(cfg, spec) -> (spec, ahp_results); data-driven (Needs(data=True)): fn(x, directions, *, codes, **options)
WEIGHTS.register(
    "meta", weights.meta_weights, labels={"zh": "框架声明权重", "en": "declared weights"},
    summary="the weights of the spec (iMeta), with weights.values over them", options=())
WEIGHTS.register(
    "equal", weights.equal_node_weights, labels={"zh": "等权法", "en": "equal weights"},
    summary="every node weighs the same within its parent")
WEIGHTS.register(
    "expert", weights.expert_weights, labels={"zh": "专家赋权法", "en": "expert weights"},
    summary="the experts' weights in weights.values",
    options=(Option("values", dict, None, "code -> weight"),))
WEIGHTS.register(
    "ahp", weights.ahp_weights, labels={"zh": "层次分析法", "en": "AHP (analytic hierarchy process)"},
    summary="priorities from pairwise comparison matrices, with consistency ratios",
    options=(Option("ahp", list, None, "[[weights.ahp]] tables: parent, codes, matrix, expert, weight"),
             Option("ahp_file", str, None, "long table expert, parent, row, col, value"),
             Option("ahp_method", str, "eigenvector", "priorities", choices=("eigenvector", "geometric")),
             Option("ahp_group", str, "judgements", "several experts", choices=("judgements", "priorities"))))
WEIGHTS.register(
    "entropy", weights.entropy_weights, labels={"zh": "熵权法", "en": "entropy weights"},
    summary="1 - normalised entropy of each child's share, per parent",
    options=(Option("basis", str, "minmax", "minmax (direction-aware [0, 1]) or raw (non-negative counts)",
                    choices=("minmax", "raw")),),
    needs=Needs(data=True))
WEIGHTS.register(
    "critic", weights.critic_weights, labels={"zh": "CRITIC 法", "en": "CRITIC weights"},
    summary="contrast (sd) times conflict (1 - r) on direction-aligned values",
    needs=Needs(data=True))
WEIGHTS.register(
    "pca", weights.pca_weights, labels={"zh": "主成分分析法", "en": "PCA weights"},
    summary="squared loadings of the first principal component",
    needs=Needs(data=True))

# --------------------------------------------------------------------------- aggregators
AGGREGATORS.register(
    "arithmetic", aggregate.arithmetic, labels={"zh": "加权算术平均", "en": "weighted arithmetic mean"},
    summary="sum w x / sum w (compensatory)")
AGGREGATORS.register(
    "geometric", aggregate.geometric, labels={"zh": "加权几何平均", "en": "weighted geometric mean"},
    summary="exp(sum w log x / sum w); zero -> 0, negative -> undefined")
AGGREGATORS.register(
    "harmonic", aggregate.harmonic, labels={"zh": "加权调和平均", "en": "weighted harmonic mean"},
    summary="sum w / sum (w / x); zero -> 0, negative -> undefined")
AGGREGATORS.register(
    "power", aggregate.power, labels={"zh": "加权幂平均", "en": "weighted power mean"},
    summary="(sum w x^p / sum w)^(1/p)", options=(Option("p", float, 1.0, "the power (1, 0, -1: arithmetic, "
                                                                        "geometric, harmonic)"),),
    describe=lambda o: f"power(p={o['p']:g})")
AGGREGATORS.register(
    "copeland", aggregate.copeland, labels={"zh": "Copeland 排序法", "en": "Copeland outranking"},
    summary="pairwise wins - losses by the weight of the children where a unit is higher")
