"""The ``riskmodel`` command.

One module of this package per group of commands (``riskmodel.cli.forecast``
adds ``forecast`` and ``backtest``...), each with a function ``register(app)``
that adds its commands to the Typer app; the commands adapt the libraries'
public API to files and MLflow runs, and take their method choices, option
lists and help texts from the libraries' registries. This module only wires
them, in the order of ``riskmodel --help``, and maps errors to exit codes:
0 success, 2 bad input (a clear message on stderr), 1 internal error (a
short message; the traceback with ``RISKMODEL_DEBUG=1``).
"""

from __future__ import annotations

import os
import sys
import traceback

import typer

from riskmodel.cli import (
    alerts,
    data,
    forecast,
    grid,
    hotspots,
    impact,
    index,
    report,
    run,
    tracking,
)
from riskmodel.errors import InputError

app = typer.Typer(
    name="riskmodel",
    help="Statistical modelling and risk forecasting for municipal safety governance.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


for _module in (data, forecast, alerts, grid, hotspots, index, impact, run, tracking, report):
    _module.register(app)


def main(argv: list[str] | None = None) -> int:
    """Run the command line; return the exit code (also used by tests)."""
    args = sys.argv[1:] if argv is None else argv
    try:
        app(args=args, prog_name="riskmodel", standalone_mode=False)
    except InputError as exc:
        typer.echo(f"riskmodel: error: {exc.render()}", err=True)
        return 2
    except typer.Exit as exc:
        return int(exc.exit_code or 0)
    except typer.Abort:
        typer.echo("riskmodel: aborted", err=True)
        return 1
    except Exception as exc:  # click's usage errors come here too
        # Typer may use click or its own copy of it: match the classes by name
        names = {c.__name__ for c in type(exc).__mro__}
        if names & {"UsageError", "ClickException", "BadParameter", "NoSuchOption"}:
            show = getattr(exc, "show", None)
            if callable(show):
                show()
            else:
                typer.echo(f"riskmodel: error: {exc}", err=True)
            return 2
        if os.environ.get("RISKMODEL_DEBUG"):
            traceback.print_exc()
        typer.echo(
            f"riskmodel: internal error: {type(exc).__name__}: {exc} "
            "(set RISKMODEL_DEBUG=1 for the traceback)",
            err=True,
        )
        return 1
    return 0


def entry() -> None:  # pragma: no cover - console script
    sys.exit(main())


if __name__ == "__main__":  # pragma: no cover
    entry()
