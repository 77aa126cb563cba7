"""One shape for every method family: a registry of named methods.

Each analysis package keeps one :class:`Registry` per method family
(forecast models, spike detectors, impact methods, index normalisers /
weights / aggregators, hotspot rankers) in a module of its own,
``riskmodel.<package>.registry``, where one :meth:`Registry.register` call
declares a method::

    DETECTORS.register(
        "ears-c1", "riskmodel.alerts.ears:detect_ears_c1",
        labels={"zh": "EARS C1", "en": "EARS C1"},
        summary="EARS C1: today against the 7 days before (daily counts)",
        options=(Option("baseline", int, 7, "baseline days"), ...),
        needs=Needs(freqs=("D",)),
    )

Everything a user meets about a method comes from that call: the command
line's choices and help (:meth:`Registry.choices_help`, the typer options of
:mod:`riskmodel.cli.common`), the study config's validation
(:meth:`Registry.check`), the names in verdicts and appendices
(:meth:`Registry.label`), and the family's contract test, which runs every
registered method (``tests/<package>/test_registry_contract.py``). Adding a
method is one new module plus one ``register`` call (CONTRIBUTING.md).

A target may be named instead of imported: ``"riskmodel.alerts.ears:detect_ears_c1"``
(``module:attribute``) is imported the first time the method is used
(:attr:`MethodSpec.target`), so that listing the methods, checking a choice and
printing ``--help`` import none of the methods' libraries (scipy, scikit-learn...:
``riskmodel --help`` and the start of every command stay under a second,
tests/cli/test_startup.py). Such a method's options are declared in the call,
and the family's contract test checks them against the target's own parameters.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from riskmodel.errors import InputError, Problem

T = TypeVar("T")

LANGS = ("zh", "en")
"""Languages every label is given in."""

FREQ_NAMES = {"D": "daily", "W": "weekly", "M": "monthly", "Y": "annual"}


@dataclass(frozen=True)
class Option:
    """One option of a method, as the command line and configs show it.

    Parameters
    ----------
    name : str
        The keyword the method receives.
    type : type
        ``int``, ``float``, ``bool``, ``str`` (what the command line parses;
        ``parse`` overrides it).
    default : object
        The method's default (shown in help; ``None``: the method decides).
    help : str
        One line for ``--help``.
    choices : tuple of str, optional
        Valid values (refused otherwise, listing them).
    flag : str, optional
        The command-line flag (default ``--`` + name with ``-`` for ``_``).
        Several methods may share a flag and map it to keys of their own.
    parse : callable, optional
        Command-line text -> value (e.g. ``"5,4"`` -> ``(5, 4)``); raises
        :class:`~riskmodel.errors.InputError` on bad text.
    """

    name: str
    type: type = str
    default: Any = None
    help: str = ""
    choices: tuple[str, ...] | None = None
    flag: str | None = None
    parse: Callable[[str], Any] | None = None

    @property
    def cli(self) -> str:
        return self.flag or "--" + self.name.replace("_", "-")

    def check(self, value: Any, method: str = "") -> Any:  # noqa: ANN401 - any option value
        """The value, checked against ``choices``."""
        if self.choices is not None and value is not None and value not in self.choices:
            who = f" of {method}" if method else ""
            raise InputError(Problem(
                f"unknown value {value!r} for {self.cli}{who}; valid: {', '.join(self.choices)}", column=self.cli))
        return value


@dataclass(frozen=True)
class Needs:
    """What a method needs of the data and the run.

    Attributes
    ----------
    freqs : tuple of str
        The frequencies it accepts (``D``, ``W``, ``M``; ``Y`` for annual).
    freq_reason : str
        Why other frequencies are refused, and what to do instead (shown in
        the refusal).
    seed : bool
        It draws random numbers and gets the run's seed.
    comparison : bool
        It needs comparison areas (or control series).
    data : bool
        It is data-driven (computed from the data rather than given).
    """

    freqs: tuple[str, ...] = ("D", "W", "M")
    freq_reason: str = ""
    seed: bool = False
    comparison: bool = False
    data: bool = False


def resolve(ref: str) -> Any:  # noqa: ANN401 - whatever the reference names
    """The object a ``"package.module:attribute"`` reference names (the module imported now).

    Raises
    ------
    ValueError
        ``ref`` is not of the form ``module:attribute`` (a programming error).
    """
    module, sep, attr = ref.partition(":")
    if not sep or not module or not attr:
        raise ValueError(f"a method's target reference must be 'package.module:attribute', got {ref!r}")
    obj: Any = importlib.import_module(module)
    for part in attr.split("."):
        obj = getattr(obj, part)
    return obj


def by_reference(ref: str) -> Callable[..., Any]:
    """A function that calls the function ``ref`` (``"package.module:function"``) names, imported on the
    first call: for an :class:`Option`'s ``parse`` that lives in a method's (heavy) module."""
    module, sep, attr = ref.partition(":")  # checked now, imported on the first call
    if not sep or not module or not attr:
        raise ValueError(f"a function reference must be 'package.module:function', got {ref!r}")

    def call(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - whatever the function returns
        return resolve(ref)(*args, **kwargs)

    call.__name__ = call.__qualname__ = attr
    call.__doc__ = f"{ref}, imported on the first call."
    return call


def lazy_exports(package: str, refs: Mapping[str, str]) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """A package's ``__getattr__`` and ``__dir__`` (PEP 562) for names imported on first use.

    ``refs`` maps a public name to the module that defines it
    (``{"Forecaster": "riskmodel.forecast.forecaster"}``): ``package.Forecaster``
    imports that module the first time it is read, so that importing the
    package (which every submodule's import does) costs nothing until a name
    is used. The package lists the same imports under ``if TYPE_CHECKING:``,
    so that type checkers and import-linter see them.
    """

    def __getattr__(name: str) -> Any:  # noqa: ANN401, N807 - whatever the name is
        module = refs.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        setattr(importlib.import_module(package), name, value)  # the next read is a plain attribute
        return value

    def __dir__() -> list[str]:  # noqa: N807
        return sorted({*vars(importlib.import_module(package)), *refs})

    return __getattr__, __dir__


@dataclass(frozen=True)
class MethodSpec(Generic[T]):
    """A registered method: what ``register`` declared.

    ``ref`` is the target as declared: the object itself, or a
    ``"package.module:attribute"`` reference that :attr:`target` imports on
    first use (:func:`resolve`).
    """

    name: str
    ref: T | str
    labels: Mapping[str, str]
    summary: str = ""
    options: tuple[Option, ...] = ()
    needs: Needs = field(default_factory=Needs)
    extra: Mapping[str, Any] = field(default_factory=dict)

    @property
    def target(self) -> T:
        """The method (class or function): imported now when it was declared by reference."""
        if not isinstance(self.ref, str):
            return self.ref
        cache = self.__dict__.get("_resolved")
        if cache is None:
            cache = resolve(self.ref)
            object.__setattr__(self, "_resolved", cache)  # frozen: the cache is not part of the declaration
        return cache

    @property
    def lazy(self) -> bool:
        """Whether the target was declared by reference (and so its options in the ``register`` call)."""
        return isinstance(self.ref, str)

    def label(self, lang: str = "en") -> str:
        """The method's name in ``lang`` (``zh`` or ``en``)."""
        return self.labels.get(lang) or self.labels.get("en") or self.name

    def option(self, name: str) -> Option | None:
        return next((o for o in self.options if o.name == name), None)

    @property
    def option_names(self) -> tuple[str, ...]:
        return tuple(o.name for o in self.options)


class Registry(Generic[T]):
    """The methods of one family, in registration order.

    Parameters
    ----------
    family : str
        What a method of the family is, for messages (``"forecast model"``).
    option : str
        The command-line option or config key that names a method
        (``"--model"``), for messages.
    """

    def __init__(self, family: str, option: str):
        self.family = family
        self.option = option
        self._specs: dict[str, MethodSpec[T]] = {}

    # ------------------------------------------------------------ declaring
    def register(
        self,
        name: str,
        target: T | str,
        *,
        labels: Mapping[str, str],
        summary: str = "",
        options: Sequence[Option] = (),
        needs: Needs | None = None,
        **extra: Any,
    ) -> MethodSpec[T]:
        """Declare a method (see the module notes); returns its spec.

        ``target`` is the method, or a ``"package.module:attribute"`` reference to
        it, imported on first use (:attr:`MethodSpec.target`).

        Raises
        ------
        ValueError
            A name registered twice, a label missing in a language, or two
            options of the method with one name (a programming error, not
            a user's).
        """
        if name in self._specs:
            raise ValueError(f"{self.family} {name!r} is registered twice")
        missing = [lang for lang in LANGS if not labels.get(lang)]
        if missing:
            raise ValueError(f"{self.family} {name!r}: labels need {', '.join(missing)}")
        if isinstance(target, str) and (":" not in target or target.startswith(":") or target.endswith(":")):
            raise ValueError(f"{self.family} {name!r}: a target reference is 'package.module:attribute', "
                             f"got {target!r}")
        names = [o.name for o in options]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.family} {name!r}: an option is declared twice")
        spec = MethodSpec(name, target, dict(labels), summary, tuple(options), needs or Needs(), dict(extra))
        self._specs[name] = spec
        return spec

    # ------------------------------------------------------------ reading
    def __contains__(self, name: object) -> bool:
        return name in self._specs

    def __iter__(self) -> Iterator[str]:
        return iter(self._specs)

    def __len__(self) -> int:
        return len(self._specs)

    def __getitem__(self, name: str) -> MethodSpec[T]:
        return self.get(name)

    def names(self) -> tuple[str, ...]:
        """Method names in registration order (the order of every listing)."""
        return tuple(self._specs)

    def specs(self) -> tuple[MethodSpec[T], ...]:
        return tuple(self._specs.values())

    def get(self, name: str, *, option: str | None = None) -> MethodSpec[T]:
        """The spec of ``name``; an :class:`InputError` listing the valid names otherwise."""
        spec = self._specs.get(name)
        if spec is None:
            raise InputError(self.unknown(name, option))
        return spec

    def unknown(self, name: object, option: str | None = None) -> Problem:
        """The problem "unknown value X for OPTION; valid: ..."."""
        opt = option or self.option
        return Problem(f"unknown value {name!r} for {opt}; valid: {', '.join(self._specs)}", column=opt)

    def check(self, name: str, *, freq: str | None = None, option: str | None = None) -> MethodSpec[T]:
        """The spec of ``name``, refusing an unknown name or data at a frequency it does not take."""
        spec = self.get(name, option=option)
        if freq is not None and freq not in spec.needs.freqs:
            what = FREQ_NAMES.get(freq, freq)
            reason = spec.needs.freq_reason or (
                f"it takes {', '.join(FREQ_NAMES.get(f, f) for f in spec.needs.freqs)} data")
            raise InputError(Problem(f"{self.family} {name!r} refuses {what} data: {reason}",
                                     column=option or self.option))
        return spec

    def label(self, name: str, lang: str = "en") -> str:
        """A method's name in ``lang``; an unregistered name is returned as given."""
        spec = self._specs.get(name)
        return spec.label(lang) if spec is not None else name

    def labels(self, lang: str = "en") -> dict[str, str]:
        return {n: s.label(lang) for n, s in self._specs.items()}

    def choices_help(self, last: str = "or") -> str:
        """``"a, b or c"``: the valid names for a help text."""
        names = list(self._specs)
        if len(names) < 2:
            return "".join(names)
        return f"{', '.join(names[:-1])} {last} {names[-1]}"

    def options(self) -> dict[str, list[tuple[str, Option]]]:
        """Every option flag of the family: flag -> [(method, option), ...]."""
        out: dict[str, list[tuple[str, Option]]] = {}
        for spec in self._specs.values():
            for o in spec.options:
                out.setdefault(o.cli, []).append((spec.name, o))
        return out

    def check_options(self, name: str, options: Mapping[str, Any], *, where: str = "option") -> dict[str, Any]:
        """Refuse options the method does not declare (naming the valid ones); check choices."""
        spec = self.get(name)
        valid = spec.option_names
        bad = [k for k in options if k not in valid]
        if bad:
            raise InputError(Problem(
                f"unknown {where}(s) {', '.join(bad)} for {self.family} {name!r}; "
                f"valid: {', '.join(valid) if valid else 'none'}"))
        return {k: spec.option(k).check(v, name) for k, v in options.items()}  # type: ignore[union-attr]

    def __repr__(self) -> str:
        return f"Registry({self.family!r}: {', '.join(self._specs)})"


__all__ = ["LANGS", "MethodSpec", "Needs", "Option", "Registry", "by_reference", "lazy_exports", "resolve"]
