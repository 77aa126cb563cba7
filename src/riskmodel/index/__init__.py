"""The Ping'an index (平安指数): composite index construction, weights, uncertainty and sensitivity.

Modules (one job each):

* :mod:`~riskmodel.index.spec` -- the framework tree (iMeta or riskmodel spec), effective weights;
* :mod:`~riskmodel.index.inputs` -- COINr iData and long ``area_id, period, indicator, value`` data;
* :mod:`~riskmodel.index.prepare` -- denominate, impute, screen;
* :mod:`~riskmodel.index.treat` -- skewness/kurtosis rule, winsorisation with ties, log fallback;
* :mod:`~riskmodel.index.normalise` -- minmax, z-score, percentile rank, rank, target, best, ratio;
* :mod:`~riskmodel.index.aggregate` -- arithmetic, geometric, harmonic, power means, Copeland (vectorised);
* :mod:`~riskmodel.index.weights`, :mod:`~riskmodel.index.ahp` -- entropy, CRITIC, PCA; AHP;
* :mod:`~riskmodel.index.ranks` -- ranks with ties, grade bands, change since the last period;
* :mod:`~riskmodel.index.config`, :mod:`~riskmodel.index.build` -- the TOML config and the build;
* :mod:`~riskmodel.index.uncertainty` -- Monte Carlo rank intervals and Sobol' indices;
* :mod:`~riskmodel.index.sensitivity` -- remove-one, "what would it take" swaps, local slopes;
* :mod:`~riskmodel.index.figures` -- the rank-interval chart;
* :mod:`~riskmodel.index.calibration` -- weight schemes compared (rank shifts, Spearman, bump chart);
* :mod:`~riskmodel.index.commands`, :mod:`~riskmodel.index.steps` -- CLI and pipeline steps.

Quick use::

    from riskmodel.index import load_config, build_index, rank_uncertainty
    res = build_index(load_config("experiments/asem_coinr.toml"))
    print(res.summary())
"""

from riskmodel.index.ahp import AHPResult, ahp
from riskmodel.index.build import IndexResult, build_index, rebuild
from riskmodel.index.config import IndexConfig, load_config, parse_config
from riskmodel.index.sensitivity import local_sensitivity, remove_one, swap_weights
from riskmodel.index.spec import IndexSpec, effective_weights
from riskmodel.index.uncertainty import rank_uncertainty, sobol
from riskmodel.index.weights import critic_weights, entropy_weights, pca_weights

__all__ = [
    "AHPResult",
    "IndexConfig",
    "IndexResult",
    "IndexSpec",
    "ahp",
    "build_index",
    "critic_weights",
    "effective_weights",
    "entropy_weights",
    "load_config",
    "local_sensitivity",
    "parse_config",
    "pca_weights",
    "rank_uncertainty",
    "rebuild",
    "remove_one",
    "sobol",
    "swap_weights",
]
