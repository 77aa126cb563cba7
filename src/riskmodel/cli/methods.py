"""Command-line options generated from a method registry.

A command that runs one method of a family (``riskmodel detect --method
glrnb``) offers every option any method of the family declares
(:class:`riskmodel.registry.Option`), one flag each; methods that declare
the same flag (``--alpha``) share it. :func:`with_method_options` adds those
flags to a Typer command and hands the command the values given, as
``method_options`` (flag name -> value, unset flags left out);
:func:`route` turns them into the chosen method's keyword arguments,
refusing a flag the method does not take and naming the methods that do;
:func:`route_each` does it for a command that runs several chosen methods
at once (``riskmodel hotspots --ranker kde --ranker history``), giving a
flag to every chosen method that takes it.
Adding a method with a new option to the registry adds the flag; nothing
here or in the command changes.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Mapping, Sequence
from typing import Annotated, Any

import typer

from riskmodel.errors import InputError, Problem
from riskmodel.registry import Option, Registry

PARAM = "method_options"
"""The keyword argument a decorated command receives the method options in."""


def _param_name(flag: str) -> str:
    return "opt_" + flag.split("/")[0].lstrip("-").replace("-", "_")


def _shown(value: Any) -> str:  # noqa: ANN401 - any option default
    """A default as the command line takes it (``(5, 4)`` -> ``5,4``)."""
    if isinstance(value, tuple | list):
        return ",".join(map(str, value))
    return str(value)


def _defaults(uses: list[tuple[str, Option]]) -> str:
    """`` (default X)`` when the methods agree, per method when they differ, nothing when none is declared."""
    given = [(m, _shown(o.default)) for m, o in uses if o.default is not None]
    if not given:
        return ""
    values = list(dict.fromkeys(v for _, v in given))
    if len(values) == 1 and len(given) == len(uses):
        return f" (default {values[0]})"
    per = "; ".join(f"{', '.join(m for m, v in given if v == value)}: {value}" for value in values)
    return f" (default {per})"


def _help(uses: list[tuple[str, Option]]) -> str:
    texts = list(dict.fromkeys(o.help for _, o in uses))
    if len(texts) == 1:
        methods = ", ".join(m for m, _ in uses)
        return f"{texts[0]}{_defaults(uses)} [{methods}]"
    parts = []
    for text in texts:
        group = [(m, o) for m, o in uses if o.help == text]
        parts.append(f"{', '.join(m for m, _ in group)}: {text}{_defaults(group)}")
    return "; ".join(parts)


def option_parameters(registry: Registry[Any], exclude: tuple[str, ...] = ()) -> list[inspect.Parameter]:
    """One keyword parameter per option flag of the registry (default None: not given)."""
    params = []
    for flag, uses in registry.options().items():
        if flag in exclude:
            continue
        types = {o.type for _, o in uses if o.parse is None}
        if len(types) > 1:
            raise TypeError(f"{registry.family} option {flag} has several types: {types}")
        kind = str if any(o.parse is not None for _, o in uses) else (types.pop() if types else str)
        decl = flag if "/" in flag or kind is not bool else f"{flag}/--no-{flag[2:]}"
        ann = Annotated[kind | None, typer.Option(decl, help=_help(uses), show_default=False)]
        params.append(inspect.Parameter(_param_name(flag), inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=ann))
    return params


def with_method_options(registry: Registry[Any], exclude: tuple[str, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorator: add the registry's option flags to a command; it receives them as ``method_options``.

    The command must take a keyword argument ``method_options`` (a dict of
    flag -> value of the flags that were given).
    """

    def deco(fn: Callable[..., Any]) -> Callable[..., Any]:
        extra = option_parameters(registry, exclude)
        names = {p.name: flag for p, flag in zip(extra, [f for f in registry.options() if f not in exclude],
                                                  strict=True)}
        sig = inspect.signature(fn, eval_str=True)  # the command's own annotations, evaluated
        own = [p for p in sig.parameters.values() if p.name != PARAM]

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - whatever the command returns
            given = {names[k]: kwargs.pop(k) for k in list(kwargs) if k in names}
            kwargs[PARAM] = {f: v for f, v in given.items() if v is not None}
            return fn(*args, **kwargs)

        # keyword-only parameters must follow the command's own (positional-or-keyword) ones
        own_kw = [p.replace(kind=inspect.Parameter.KEYWORD_ONLY) for p in own]
        wrapper.__signature__ = sig.replace(parameters=[*own_kw, *extra])  # type: ignore[attr-defined]
        return wrapper

    return deco


def route(registry: Registry[Any], method: str, given: Mapping[str, Any]) -> dict[str, Any]:
    """The chosen method's keyword arguments from the flags given (see the module notes).

    Raises
    ------
    InputError
        A flag the method does not take (naming the methods that take it),
        text its parser refuses, or a value not among an option's choices.
    """
    spec = registry.get(method)
    by_flag = registry.options()
    out: dict[str, Any] = {}
    wrong = []
    for flag, value in given.items():
        mine = [o for m, o in by_flag.get(flag, []) if m == method]
        if not mine:
            takers = [m for m, _ in by_flag.get(flag, [])]
            wrong.append((flag, takers))
            continue
        opt = mine[0]
        v = opt.parse(value) if opt.parse is not None and isinstance(value, str) else value
        out[opt.name] = opt.check(v, method)
    if wrong:
        raise InputError([
            Problem(f"option {flag} applies to {', '.join(takers)}, not to {spec.name}", column=flag)
            for flag, takers in wrong
        ])
    return out


def route_each(registry: Registry[Any], methods: Sequence[str], given: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each chosen method's keyword arguments, for a command that runs several methods at once.

    A flag goes to every chosen method that declares it (``--lookback`` to
    both ``kde`` and ``history``); each method's share is checked by
    :func:`route`.

    Returns
    -------
    dict
        Method -> its keyword arguments, for every method of ``methods``
        (repeated names once, in the order given).

    Raises
    ------
    InputError
        An unknown method, a flag none of the chosen methods takes (naming
        the methods that do), text its parser refuses, or a value not among
        an option's choices.
    """
    chosen = list(dict.fromkeys(methods))
    for m in chosen:
        registry.get(m)
    by_flag = registry.options()
    wrong = []
    for flag in given:
        takers = [m for m, _ in by_flag.get(flag, [])]
        if not set(takers) & set(chosen):
            wrong.append((flag, takers))
    if wrong:
        raise InputError([
            Problem(f"option {flag} applies to {', '.join(takers) or 'no ' + registry.family}, "
                    f"not to {', '.join(chosen)}", column=flag)
            for flag, takers in wrong
        ])
    return {m: route(registry, m, {f: v for f, v in given.items() if m in {t for t, _ in by_flag[f]}})
            for m in chosen}


__all__ = ["PARAM", "option_parameters", "route", "route_each", "with_method_options"]
