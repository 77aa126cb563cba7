"""Progress bars of the commands: rich, on stderr, only when someone is watching.

The libraries know nothing of bars: their long loops take an optional
``progress(done, total)`` callback (:class:`Progress`), e.g.
:meth:`riskmodel.forecast.Forecaster.cross_validation`,
:func:`riskmodel.alerts.detect`, the execution backends' ``map`` and
:func:`riskmodel.index.outputs.analyse_sensitivity`. A command gets one from
:func:`bar`::

    with bar("backtest", quiet=quiet, unit="fits") as progress:
        res = Forecaster(...).cross_validation(panel, h, progress=progress)

When a bar is shown (:func:`enabled`):

* stderr is a terminal, ``TERM`` is not ``dumb``, and the command was not
  given ``--quiet``; ``RISKMODEL_PROGRESS=1`` forces a bar (even on a pipe:
  the tests use it), ``RISKMODEL_PROGRESS=0`` turns bars off;
* colours follow rich, which honours ``NO_COLOR``.

Otherwise :func:`bar` gives ``None`` (the libraries then run exactly as
without a callback), and nothing is written to stderr. A bar
never changes a result (the callbacks only read counts) and costs nothing
measurable: the bar is redrawn by rich's own thread a few times a second,
and the callback updates it at most every 0.1 s (and at the end).
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Annotated

import typer

Progress = Callable[[int, int], None]
"""``progress(done, total)``: the callback the library functions take."""

ENV = "RISKMODEL_PROGRESS"
"""``1``: always show bars (even when stderr is not a terminal); ``0``: never."""

MIN_INTERVAL = 0.1
"""Seconds between two updates of a bar (the last one is always shown)."""

QuietOpt = Annotated[bool, typer.Option("--quiet", "-q", help="No progress bar (none is shown either when "
                                        "stderr is not a terminal, or with RISKMODEL_PROGRESS=0).")]


def enabled(quiet: bool = False) -> bool:
    """Whether a command shows a bar (see the module notes)."""
    if quiet:
        return False
    forced = os.environ.get(ENV, "").strip()
    if forced in {"0", "1"}:
        return forced == "1"
    if os.environ.get("TERM", "") == "dumb":
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):  # no stderr, or a closed one
        return False


@contextmanager
def bar(label: str, *, quiet: bool = False, unit: str = "",
        describe: Callable[[int, int], str] | None = None) -> Iterator[Progress | None]:
    """A progress bar on stderr for the block, as a ``progress(done, total)`` callback.

    Parameters
    ----------
    label : str
        What runs (``"backtest"``), shown before the bar.
    quiet : bool
        The command's ``--quiet``: no bar.
    unit : str
        What is counted (``"series"``, ``"fits"``), shown after ``done/total``.
    describe : callable, optional
        ``describe(done, total) -> str``: where the work is, shown after the
        label (``"window 2/4, model nbglm"``).

    Yields
    ------
    Progress or None
        The callback to give to the library function; None when no bar is
        shown (:func:`enabled`).
    """
    if not enabled(quiet):
        yield None
        return
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        SpinnerColumn,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )
    from rich.progress import Progress as RichProgress

    console = Console(stderr=True, force_terminal=True if os.environ.get(ENV, "").strip() == "1" else None)
    columns = [SpinnerColumn(), TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
               TextColumn(unit), TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn()]
    # no redirection of stdout/stderr: the commands' own lines must reach them unchanged
    with RichProgress(*columns, console=console, transient=False, redirect_stdout=False,
                      redirect_stderr=False, refresh_per_second=4) as shown:
        task = shown.add_task(label, total=None)
        last = [0.0]

        def update(done: int, total: int) -> None:
            now = time.monotonic()
            if done < total and now - last[0] < MIN_INTERVAL:
                return
            last[0] = now
            text = label if describe is None else f"{label}: {describe(done, total)}"
            shown.update(task, completed=done, total=total, description=text)

        yield update


def backtest_position(models: list[str], windows: int, reference: str = "snaive") -> Callable[[int, int], str]:
    """``describe`` of a backtest's bar: the window and model being fitted.

    Follows :meth:`riskmodel.forecast.Forecaster.cross_validation`'s count:
    chunk x window x model, windows outer, models inner (``models``, then
    the ``reference`` seasonal naive when not among them).
    """
    names = list(dict.fromkeys([*models, reference]))
    per = max(1, int(windows) * len(names))

    def where(done: int, total: int) -> str:
        if done >= total:
            return f"{windows} window(s) x {len(names)} model(s) done"
        r = done % per
        text = f"window {r // len(names) + 1}/{windows}, model {names[r % len(names)]}"
        chunks = total // per
        return text if chunks <= 1 else f"chunk {done // per + 1}/{chunks}, {text}"

    return where
