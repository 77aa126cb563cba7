"""The Ping'an index (平安指数): composite index construction, weights, uncertainty and sensitivity.

Modules (one job each):

* :mod:`~riskmodel.index.spec` -- the framework tree (iMeta or riskmodel spec), effective weights;
* :mod:`~riskmodel.index.inputs` -- COINr iData and long ``area_id, period, indicator, value`` data;
* :mod:`~riskmodel.index.prepare` -- denominate, impute, screen;
* :mod:`~riskmodel.index.treat` -- skewness/kurtosis rule, winsorisation with ties, log fallback;
* :mod:`~riskmodel.index.registry` -- the registries NORMALISERS, WEIGHTS, AGGREGATORS (and their signatures);
* :mod:`~riskmodel.index.catalogue` -- one ``register`` call per method (docs/contributing/index.md);
* :mod:`~riskmodel.index.normalise` -- minmax, z-score, percentile rank, rank, target, best, ratio;
* :mod:`~riskmodel.index.aggregate` -- arithmetic, geometric, harmonic, power means, Copeland (vectorised);
* :mod:`~riskmodel.index.weights`, :mod:`~riskmodel.index.ahp` -- meta, equal, expert, AHP; entropy, CRITIC, PCA;
* :mod:`~riskmodel.index.ranks` -- ranks with ties, grade bands, change since the last period;
* :mod:`~riskmodel.index.config`, :mod:`~riskmodel.index.build` -- the TOML config and the build;
* :mod:`~riskmodel.index.uncertainty` -- Monte Carlo rank intervals and Sobol' indices;
* :mod:`~riskmodel.index.sensitivity` -- remove-one, "what would it take" swaps, local slopes;
* :mod:`~riskmodel.index.outputs` -- :class:`SensitivityReport` (Monte Carlo + Sobol' + remove-one of a built index);
* :mod:`~riskmodel.index.figures` -- the rank-interval chart;
* :mod:`~riskmodel.index.calibration` -- weight schemes compared (rank shifts, Spearman, bump chart).

The command (``riskmodel index``) and the pipeline steps (``index``,
``sensitivity``) are in :mod:`riskmodel.cli.index` and
:mod:`riskmodel.pipeline.steps.index`.

Quick use::

    from riskmodel.index import load_config, build_index, analyse_sensitivity
    res = build_index(load_config("experiments/asem_coinr.toml"))
    print(res.summary()); res.to_frame(); res.artifacts()
    rep = analyse_sensitivity(res, n=1000, seed=0)   # reuses the build
    print(rep.summary()); rep.conf_int(90)
"""

from riskmodel.index import catalogue as _catalogue  # noqa: F401 - registers every method (first: the config validates against it)
from riskmodel.index.ahp import AHPResult, ahp
from riskmodel.index.build import IndexResult, build_index, rebuild
from riskmodel.index.config import IndexConfig, load_config, parse_config
from riskmodel.index.outputs import SensitivityReport, analyse_sensitivity
from riskmodel.index.registry import AGGREGATORS, NORMALISERS, WEIGHTS
from riskmodel.index.sensitivity import local_sensitivity, remove_one, swap_weights
from riskmodel.index.spec import IndexSpec, effective_weights
from riskmodel.index.uncertainty import rank_uncertainty, sobol
from riskmodel.index.weights import critic_weights, entropy_weights, pca_weights

__all__ = [
    "AGGREGATORS",
    "AHPResult",
    "IndexConfig",
    "IndexResult",
    "IndexSpec",
    "NORMALISERS",
    "SensitivityReport",
    "WEIGHTS",
    "analyse_sensitivity",
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
