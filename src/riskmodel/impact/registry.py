"""The registry of claim-evaluation (impact) methods, ``--method``.

The methods are declared in :mod:`riskmodel.impact.methods`, one
``METHODS.register(...)`` call each; this module holds the (initially
empty) registry and what is derived from it, so that the evaluation, the
verdict, the chart, the command line and the pipeline step can read it
without importing the catalogue.

A spec's target is ``method(design, options) -> EffectResult``
(:class:`~riskmodel.impact.design.StudyDesign`,
:class:`~riskmodel.impact.design.EvaluationOptions`). Besides ``labels``
(the verdict's and the chart's method names), ``summary``, ``options`` (the
:class:`~riskmodel.impact.design.EvaluationOptions` fields the method reads)
and ``needs`` (``Needs(comparison=True)``: it needs comparison areas at the
treated area's level; without them the evaluation writes the row "no
comparison areas at the same level" instead of calling it), a ``register``
call declares these keywords (kept in ``spec.extra``):

``kind``
    ``"change"`` (the change before/after, no counterfactual: observed,
    rate ratio), ``"effect"`` (an estimate of the programme effect against a
    counterfactual) or ``"check"`` (a guard of the others: placebo in time,
    regression to the mean).
``group``
    The ``--method`` choice that runs it besides ``all`` (several methods
    may share one; :data:`EVERY_GROUP`: every choice runs it; None: only
    ``all``).
``primary``
    Its rank as the verdict's programme effect: the effect of the verdict
    is that of the method with the lowest rank that produced an estimate
    (None: never the verdict's effect).
``requires``
    An :class:`~riskmodel.impact.design.EvaluationOptions` flag the method
    runs only with (``"full_sample"``); None: it runs whenever asked for.
``caution``
    For a check: ``caution(result) -> (english, chinese) | None``, the
    sentence the verdict adds when the check fails.
``values``
    True when the method takes outcomes that are not counts (a table with
    a ``value`` column: rates, scores; :mod:`riskmodel.impact.outcomes`);
    absent or False: a count model, refused on such outcomes with what to
    use instead.

Rows of ``effects.csv`` follow the registration order.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from riskmodel.errors import InputError, Problem
from riskmodel.impact.design import EvaluationOptions, StudyDesign
from riskmodel.impact.results import EffectResult
from riskmodel.registry import MethodSpec, Registry

ImpactMethod = Callable[[StudyDesign, EvaluationOptions], EffectResult]
"""What a registered impact method is: ``method(design, options) -> EffectResult``."""

METHODS: Registry[ImpactMethod] = Registry("impact method", "--method")
"""Every claim-evaluation method by name, in the order of ``effects.csv``."""

ALL = "all"
"""The ``--method`` choice that runs every registered method."""

EVERY_GROUP = "*"
"""A method's ``group`` when every ``--method`` choice runs it (the observed change)."""

KINDS = ("change", "effect", "check")
"""Valid values of a method's ``kind``."""

NO_COMPARISON = "no comparison areas at the same level"
"""The note of a method with ``Needs(comparison=True)`` when there are no comparison areas."""


def kind(name: str) -> str:
    """A registered method's kind: ``change``, ``effect`` or ``check``."""
    return str(METHODS.get(name).extra.get("kind", "effect"))


def method_groups() -> dict[str, tuple[str, ...]]:
    """The ``--method`` choices and the methods each runs, in registration order.

    ``all`` first (every method), then each ``group`` in the order its first
    method was registered; a method of :data:`EVERY_GROUP` is in every choice.
    """
    specs = METHODS.specs()
    every = [s.name for s in specs if s.extra.get("group") == EVERY_GROUP]
    out: dict[str, tuple[str, ...]] = {ALL: METHODS.names()}
    for s in specs:
        g = s.extra.get("group")
        if g is None or g == EVERY_GROUP or g in out:
            continue
        out[g] = tuple(t.name for t in specs if t.name in every or t.extra.get("group") == g)
    return out


def expand_choices(text: str | Iterable[str], option: str = "--method") -> list[str]:
    """Method names of ``--method`` choices (``"structural,did"``), in registration order.

    Raises
    ------
    InputError
        An unknown choice, listing the valid ones.
    """
    groups = method_groups()
    given = [x.strip() for x in (text.split(",") if isinstance(text, str) else text) if x.strip()]
    wanted: set[str] = set()
    for g in given:
        if g not in groups:
            raise InputError(Problem(f"unknown value {g!r} for {option}; valid: {', '.join(groups)}"))
        wanted.update(groups[g])
    return [n for n in METHODS.names() if n in wanted]


def choices_help() -> str:
    """The ``--method`` help: each choice with the methods it runs."""
    parts = []
    for g, names in method_groups().items():
        shown = [_with_requirement(METHODS[n]) for n in names]
        parts.append(f"{g} ({', '.join(shown)})" if g != ALL else f"{g} (every method)")
    return "; ".join(parts) + ". Comma-separated allowed."


def _with_requirement(spec: MethodSpec[Any]) -> str:
    req = spec.extra.get("requires")
    return f"{spec.name} with --{req.replace('_', '-')}" if req else spec.name


def primary_order() -> tuple[str, ...]:
    """Methods that can give the verdict's programme effect, best first."""
    ranked = [(s.extra["primary"], i, s.name) for i, s in enumerate(METHODS.specs())
              if s.extra.get("primary") is not None]
    return tuple(n for _, _, n in sorted(ranked))


def runs_with(spec: MethodSpec[Any], options: EvaluationOptions) -> bool:
    """Whether a method asked for runs with these options (``requires`` set)."""
    req = spec.extra.get("requires")
    return req is None or bool(getattr(options, req))


def check_names(methods: Iterable[str]) -> tuple[str, ...]:
    """The method names, checked (an :class:`InputError` lists the valid ones)."""
    names = tuple(methods)
    unknown = [m for m in names if m not in METHODS]
    if unknown:
        raise InputError(Problem(f"unknown method(s) {', '.join(unknown)}; valid: {', '.join(METHODS)}"))
    return names


__all__ = [
    "ALL",
    "EVERY_GROUP",
    "KINDS",
    "METHODS",
    "NO_COMPARISON",
    "ImpactMethod",
    "check_names",
    "choices_help",
    "expand_choices",
    "kind",
    "method_groups",
    "primary_order",
    "runs_with",
]
