"""The checks every ``riskmodel`` command gets before it runs.

``riskmodel.cli`` wraps each command's callback so that :func:`check_options`
sees its parsed options first. It is imported by ``riskmodel.cli`` itself, so it
imports nothing heavy (``riskmodel --help`` stays fast): only the errors and
the output safety rules (:mod:`riskmodel.io_safety`).
"""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from riskmodel.errors import InputError, Problem
from riskmodel.io_safety import check_writable, refuse_overwriting_inputs

SEED_MAX = 2**32 - 1
"""The largest seed (NumPy's legacy RandomState, which scikit-learn and statsmodels use, takes 0..2**32-1)."""


def check_seed(value: int | None, option: str = "--seed") -> int | None:
    """``value`` if it is a seed riskmodel can use (0 to 2**32 - 1), else InputError naming ``option``."""
    if value is not None and not (isinstance(value, int) and 0 <= value <= SEED_MAX):
        raise InputError(Problem(
            f"{option} must be a whole number from 0 to {SEED_MAX} (2**32 - 1), got {value}"))
    return value


def is_output(name: str) -> bool:
    """Whether a command's parameter ``name`` is an output path (``out``, ``out_dir``, ``out_...``)."""
    return name == "out" or name.startswith("out_")


def _label(param: Any) -> str:  # noqa: ANN401 - a click parameter (Typer's own copy of click)
    opts = list(getattr(param, "opts", []) or [])
    long = [o for o in opts if o.startswith("--")]
    if long:
        return long[0]
    if opts and opts[0].startswith("-"):
        return opts[0]
    return str(param.name).upper()


def _paths(value: object) -> list[Path] | None:
    """The path(s) in a parameter's value, or None when it holds no path.

    A database URL (an input option's value stays text when it is one:
    :func:`riskmodel.cli.common.input_path`) is not a file: nothing to hash or
    to protect from the outputs, so it is left out.
    """
    if isinstance(value, os.PathLike):
        return [Path(value)]
    if isinstance(value, list | tuple):
        paths = [Path(v) for v in value if isinstance(v, os.PathLike)]
        return paths or None
    return None


def check_options(params: Iterable[Any], values: Mapping[str, Any]) -> dict[str, list[Path]]:
    """Check a command's parsed options before it runs; return its input paths.

    Parameters
    ----------
    params : click parameters of the command (their names and option strings)
    values : the parsed values by parameter name (click's ``ctx.params``)

    Returns
    -------
    dict
        Option -> the input path(s) given to it (every path-valued parameter
        that is not an output), for :func:`riskmodel.io_safety.protecting_inputs`.

    Raises
    ------
    InputError
        A ``seed`` outside 0..2**32-1; an output (:func:`is_output`) that is an
        input file or lies inside an input folder, symlinks and hard links
        included; an output that cannot be written (under a regular file, or
        in a folder without write permission).
    """
    labels = {p.name: _label(p) for p in params}
    outputs: dict[str, list[Path]] = {}
    inputs: dict[str, list[Path]] = {}
    for name, value in values.items():
        label = labels.get(name, f"--{name.replace('_', '-')}")
        if name == "seed" or name.endswith("_seed"):
            check_seed(value, label)
        paths = _paths(value)
        if paths:
            (outputs if is_output(name) else inputs)[label] = paths
    refuse_overwriting_inputs(outputs, inputs)
    for label, paths in outputs.items():
        for p in paths:
            check_writable(p, label)
    return inputs


__all__ = ["SEED_MAX", "check_options", "check_seed", "is_output", "sigterm_as_interrupt"]


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """Within the block, SIGTERM (``kill``, systemd's stop) stops like Ctrl-C: with the cleanup."""

    def handler(signum: int, frame: object) -> None:  # noqa: ARG001
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)
