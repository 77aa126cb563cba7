"""The ``riskmodel`` command.

One module of this package per group of commands (``riskmodel.cli.forecast``
adds ``forecast`` and ``backtest``...), each with a function ``register(app)``
that adds its commands to a Typer app; the commands adapt the libraries'
public API to files and MLflow runs, and take their method choices, option
lists and help texts from the libraries' registries. This module only wires
them, in the order of ``riskmodel --help`` (:data:`COMMANDS`), checks every
command's options before it runs (:func:`riskmodel.cli.guard.check_options`:
seeds, and outputs that would overwrite an input or cannot be written), and
maps errors to exit codes: 0 success, 2 bad input (a clear message on stderr),
1 internal error (a short message; the traceback with ``RISKMODEL_DEBUG=1``),
130 interrupted (Ctrl-C; one line saying what was left: files are written
whole or not at all, so nothing is half-written).

A command's module is imported when that command runs (or shows its own
help): ``riskmodel --help`` lists :data:`COMMANDS` without importing any
library (scikit-learn, statsmodels, MLflow..., not even pandas: about 0.3 s,
benchmarks/data/startup_results.md; tests/cli/test_startup.py checks what a
command's start imports). This is
the one deliberate deferred import of riskmodel code; nothing imports the
command line, so it cannot hide an import cycle, and
``tests/test_cli_pipeline.py`` checks that the listing matches the commands.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import os
import signal
import sys
import threading
import traceback
from collections.abc import Iterator
from typing import Any

try:
    import click
    import typer
    from typer.core import TyperGroup

    from riskmodel.cli.guard import check_options
    from riskmodel.errors import InputError
    from riskmodel.io_safety import protecting_inputs, written_files
except KeyboardInterrupt:  # Ctrl-C while the command line starts (these imports take most of it)
    sys.stderr.write("riskmodel: interrupted; nothing was written\n")
    raise SystemExit(130) from None

COMMANDS: dict[str, tuple[str, str]] = {
    "sample": ("data", "Regenerate the simulated sample city (areas, counts, indicators, claims, truth)."),
    "validate": ("data", "Check input files and report every problem at once (exit 2 if any)."),
    "forecast": ("forecast", "Forecast every series h periods ahead with intervals."),
    "backtest": ("forecast", "Rolling-origin backtest: DIR/forecasts.csv, DIR/metrics.csv and DIR/coverage.csv."),
    "detect": ("alerts", "Flag spikes in every series with a detector (--method), at the frequencies it takes "
                         "(D daily, W weekly, M monthly); a detector's options are the flags marked with its name."),
    "grid": ("grid", "Count events per square grid cell, each cell nested in its street."),
    "hotspots": ("hotspots", "Rank grid squares by riskmodel's forecast, a kernel density and naive counts; "
                             "score PAI and PEI*."),
    "claim": ("impact", "Evaluate a reported change: observed change, programme effect by several methods, verdict."),
    "init": ("init", "Write a study config from your own files or database: recognise the tables, infer the frequency and the levels, choose the steps the data allow."),  # noqa: E501
    "run": ("run", "Run a study end to end: every step the config names, tracked in MLflow."),
    "compare": ("tracking", "Print the metric differences between two runs (and their steps), b - a."),
    "tracking": ("tracking", "Look after the MLflow store: `riskmodel tracking cleanup`."),
    "tracking-server": ("tracking", "Run a team MLflow tracking server with authentication until Ctrl-C or SIGTERM "
                                    "(docs/tracking_server.md)."),
    "appendix": ("report", "Render the forecast appendix (HTML, PDF and its tables as an Excel workbook; Chinese or "
                           "English) from a tracked study run."),
    "index": ("index", "The Ping'an index: composite index build, rank uncertainty and weight sensitivity."),
    "serve": ("serve", "Open a study's results in the browser: index calibration, forecasts, warnings, follow-up, publishing."),  # noqa: E501
}
"""Command name -> (module of riskmodel.cli that registers it, the first line of its help)."""

INTERRUPTED = 130
"""The exit code after Ctrl-C (128 + SIGINT, as shells report it)."""


@functools.cache
def load_command(name: str) -> click.Command:
    """The click command ``name``, built by its module's ``register`` (imported now)."""
    module = importlib.import_module(f"riskmodel.cli.{COMMANDS[name][0]}")
    sub = typer.Typer(add_completion=False, pretty_exceptions_enable=False, rich_markup_mode=None)
    module.register(sub)
    return _checked(typer.main.get_group(sub).commands[name])


def _checked(cmd: click.Command) -> click.Command:
    """``cmd`` (and its subcommands) with :func:`check_options` run before its callback,
    and its input paths protected from being replaced while it runs."""
    for sub in getattr(cmd, "commands", {}).values():
        _checked(sub)
    callback = cmd.callback
    if callback is None:
        return cmd
    params = list(cmd.params)

    @functools.wraps(callback)
    def checked(*args: Any, **kwargs: Any) -> Any:  # noqa: ANN401 - the command's own return value
        inputs = check_options(params, kwargs)
        with protecting_inputs(inputs):
            return callback(*args, **kwargs)

    cmd.callback = checked
    return cmd


class _Commands(TyperGroup):
    """The top-level group: commands listed from :data:`COMMANDS`, loaded when used."""

    def list_commands(self, ctx: click.Context) -> list[str]:  # noqa: ARG002 - click's signature
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:  # noqa: ARG002
        return load_command(cmd_name) if cmd_name in COMMANDS else None

    def format_commands(self, ctx: click.Context, formatter: Any) -> None:  # noqa: ANN401, ARG002
        rows = [(name, help_) for name, (_, help_) in COMMANDS.items()]
        with formatter.section("Commands"):
            formatter.write_dl(rows)

app = typer.Typer(
    name="riskmodel",
    help="Statistical modelling and risk forecasting for municipal safety governance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    cls=_Commands,
)


@app.callback()
def _riskmodel() -> None:
    """Statistical modelling and risk forecasting for municipal safety governance."""


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (also used by tests).

    0 success, 1 internal error, 2 bad input or usage, 130 interrupted (Ctrl-C);
    any other code a command exits with is returned as it is.
    """
    args = sys.argv[1:] if argv is None else argv
    before = len(written_files())
    try:
        code = _run(args)
    except KeyboardInterrupt:
        code = INTERRUPTED
    if code == INTERRUPTED:
        _say_interrupted(written_files()[before:])
    return code


def _say_interrupted(written: list[Any]) -> None:
    """One line on stderr after Ctrl-C: what was left (files are put in place whole or not at all)."""
    if not written:
        typer.echo("riskmodel: interrupted; nothing was written", err=True)
    else:
        typer.echo(f"riskmodel: interrupted; {len(written)} file(s) had been written whole before it "
                   f"(the last: {written[-1]}); nothing is half-written", err=True)


def _caused_by(exc: BaseException, kind: type[BaseException]) -> BaseException | None:
    """The first exception of type ``kind`` in the chain that led to ``exc``, if any."""
    seen, cause = {id(exc)}, exc.__cause__ or exc.__context__
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, kind):
            return cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return None


@contextlib.contextmanager
def _noting_ctrl_c() -> Iterator[list[int]]:
    """Within the block, Ctrl-C raises KeyboardInterrupt as usual and is also noted (the list gets the
    signal number), so that an interrupt a library swallowed is still known: pandas' C parser turns a
    KeyboardInterrupt raised in its read() into "ParserError: Calling read(nbytes) on source failed".
    Only in the main thread with Python's own handler in place (else nothing changes)."""
    seen: list[int] = []
    if threading.current_thread() is not threading.main_thread() \
            or signal.getsignal(signal.SIGINT) is not signal.default_int_handler:
        yield seen
        return

    def handler(signum: int, frame: Any) -> None:  # noqa: ANN401 - a frame object
        seen.append(signum)
        signal.default_int_handler(signum, frame)

    signal.signal(signal.SIGINT, handler)
    try:
        yield seen
    finally:
        signal.signal(signal.SIGINT, signal.default_int_handler)


def _run(args: list[str]) -> int:
    with _noting_ctrl_c() as ctrl_c:
        try:
            # not standalone: click returns the code of an Exit (130 after Ctrl-C) instead of calling sys.exit
            rv = app(args=args, prog_name="riskmodel", standalone_mode=False)
        except KeyboardInterrupt:
            raise
        except Exception as exc:
            if ctrl_c or _caused_by(exc, KeyboardInterrupt) is not None:
                # raised while a Ctrl-C was being handled (a clean-up that failed, an error wrapping it or
                # swallowing it): the user's interrupt is the story, not the consequence
                return INTERRUPTED
            return _failed(exc)
    # a command returns None; an Exit returns its code
    if isinstance(rv, int) and not isinstance(rv, bool):
        return rv
    return 0


def _failed(exc: Exception) -> int:
    """The exit code (and the line on stderr) for an exception that ended a command (not after Ctrl-C)."""
    if isinstance(exc, InputError):
        typer.echo(f"riskmodel: error: {exc.render()}", err=True)
        return 2
    if isinstance(exc, typer.Exit):
        return int(exc.exit_code if exc.exit_code is not None else 0)
    # Typer may use click or its own copy of it: match the classes by name
    names = {c.__name__ for c in type(exc).__mro__}
    if names & {"UsageError", "ClickException", "BadParameter", "NoSuchOption"}:  # click's usage errors
        show = getattr(exc, "show", None)
        if callable(show):
            show()
        else:
            typer.echo(f"riskmodel: error: {exc}", err=True)
        return 2
    if isinstance(exc, typer.Abort) or "Abort" in names:  # Typer's or click's: an EOFError (a truncated gzip file)
        eof = _caused_by(exc, EOFError)
        if eof is not None:
            return _internal_error(eof)
        typer.echo("riskmodel: aborted", err=True)
        return 1
    return _internal_error(exc)


def _internal_error(exc: BaseException) -> int:
    if os.environ.get("RISKMODEL_DEBUG"):
        traceback.print_exception(exc)
    typer.echo(
        f"riskmodel: internal error: {type(exc).__name__}: {exc} "
        "(set RISKMODEL_DEBUG=1 for the traceback)",
        err=True,
    )
    return 1


def entry() -> None:  # pragma: no cover - console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
