"""The index registries: normalisers, weighting methods and aggregators.

The methods are declared in :mod:`riskmodel.index.catalogue`, one
``register(...)`` call each; this module holds the (initially empty)
registries and the few helpers that read them, so that the config, the build
and the sensitivity analysis can dispatch through them without importing the
catalogue. Each registry's option name is the config key that names a method.

Signatures of a registered target
---------------------------------
:data:`NORMALISERS` -- ``fn(x, directions, **options) -> y``
    ``x`` is an array ``(n_units, n_indicators)`` of indicator values (NaN =
    missing) and ``directions`` an array ``(n_indicators,)`` of +1 (good
    when high) or -1 (good when low). ``y`` has the shape of ``x``, NaN where
    ``x`` is NaN, higher always better. ``options`` are the method's declared
    :class:`~riskmodel.registry.Option` values read from
    ``[steps] normalise = {...}`` (or a sensitivity alternative), plus the
    context keywords named in ``register(..., context=(...))``: ``codes``
    (indicator codes, for messages), ``where`` (e.g. ``"in period
    2021-12-01"``, for messages) and ``targets`` (the spec's ``target``
    column, in the indicators' units).
:data:`AGGREGATORS` -- ``fn(C, w, M, **options) -> S``
    Vectorised: ``C`` child scores ``(..., n_units, n_children)`` (leading
    axes = Monte Carlo replications), ``w`` child weights ``(...,
    n_children)``, ``M`` the 0/1 membership matrix ``(n_children,
    n_parents)``; ``S`` parent scores ``(..., n_units, n_parents)``. Weights are
    renormalised within each parent over the children that are not missing.
    ``options``: the declared options from ``[steps] aggregate = {...}``.
:data:`WEIGHTS` -- two kinds, told apart by ``Needs(data=...)``:
    * data-driven (``Needs(data=True)``): ``fn(x, directions, *, codes,
      **options) -> w`` with ``x`` the children of ONE parent ``(n_units,
      n_children)`` (raw, treated values at level 1; scores above), returning
      non-negative weights ``(n_children,)`` summing to 1. Called per parent
      at the levels ``weights.levels``; ``options`` are the declared options
      read from ``[weights]``.
    * static: ``fn(cfg, spec) -> (spec, ahp_results)`` with ``cfg`` the
      :class:`~riskmodel.index.config.IndexConfig` and ``spec`` the framework
      (:class:`~riskmodel.index.spec.IndexSpec`); returns the spec with its
      weights set (and AHP results, else ``[]``). ``weights.values`` are the
      method's to apply (:func:`riskmodel.index.weights.with_values`).

A spec's ``extra["describe"]`` (optional) turns the options into the short
label used in logs and sensitivity tables (``minmax[0,100]``); without it the
label is the method's name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from riskmodel.registry import MethodSpec, Registry

NORMALISERS: Registry[Callable[..., Any]] = Registry("normaliser", "steps.normalise.method")
"""Every normalisation method by name (``[steps] normalise = { method = ... }``)."""

WEIGHTS: Registry[Callable[..., Any]] = Registry("weighting method", "weights.method")
"""Every weighting method by name (``[weights] method = ...``)."""

AGGREGATORS: Registry[Callable[..., Any]] = Registry("aggregator", "steps.aggregate.method")
"""Every aggregation method by name (``[steps] aggregate = { method = ... }`` and ``by_level``)."""

CONTEXT_KEYS = ("codes", "where", "targets")
"""Context keywords a normaliser may ask for with ``register(..., context=(...))``."""


def method_options(spec: MethodSpec[Any], table: Any) -> dict[str, Any]:  # noqa: ANN401 - a config table
    """The options ``spec`` declares, read from a config table (field, extra key or the option's default).

    Parameters
    ----------
    spec : MethodSpec
        The chosen method.
    table : pydantic model or mapping
        The config table naming the method (``NormaliseCfg``, ``AggregateCfg``,
        ``WeightsCfg``); keys it does not have take the option's default.
    """
    if isinstance(table, Mapping):
        given: Mapping[str, Any] = table
    else:
        given = {**dict(table), **(getattr(table, "model_extra", None) or {})}
    out = {}
    for o in spec.options:
        v = given.get(o.name, o.default)
        out[o.name] = tuple(v) if isinstance(v, list) else v
    return out


def describe(registry: Registry[Any], name: str, options: Mapping[str, Any]) -> str:
    """A method's short label with its options (``minmax[0,100]``, ``power(p=2)``), else its name."""
    fmt = registry.get(name).extra.get("describe")
    return fmt(options) if fmt else name


def context_for(spec: MethodSpec[Any], **context: Any) -> dict[str, Any]:
    """The context keywords (codes, where, targets) a normaliser asked for."""
    wanted = spec.extra.get("context", ())
    return {k: v for k, v in context.items() if k in wanted}


__all__ = ["AGGREGATORS", "CONTEXT_KEYS", "NORMALISERS", "WEIGHTS", "context_for", "describe", "method_options"]
