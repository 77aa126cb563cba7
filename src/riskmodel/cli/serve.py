"""``riskmodel serve``: the workbench, a local web application on a study's results.

``riskmodel serve STUDY_DIR`` opens the study's output folder (``riskmodel run``;
or ``--run RUN_ID`` for a tracked run), prints the URL and the start-up time and
serves until Ctrl-C or SIGTERM (exit 0: a stop asked for). It binds 127.0.0.1 by default; any other
``--host`` is refused (exit 2, saying how) unless authentication is configured
(``--users FILE`` or ``$RISKMODEL_WORKBENCH_USERS[_FILE]``: password hashes, no
default passwords, lockout after wrong passwords, as the team tracking server).

The workbench (Flask, pandas, the study service) is imported when the command
runs, not by ``riskmodel serve --help``: like :func:`riskmodel.cli.load_command`,
this module loads it with :func:`importlib.import_module` on purpose (the one
deferred import of riskmodel code here; nothing imports the command line, so it
hides no import cycle).
"""

from __future__ import annotations

import importlib
import socket
import sys
import threading
import time
import webbrowser
from pathlib import Path
from typing import Annotated, Any

import typer

from riskmodel.cli.guard import sigterm_as_interrupt
from riskmodel.errors import InputError, Problem

HELP = "Open a study's results in the browser: index calibration, forecasts, warnings, follow-up, publishing."
"""The first line of the command's help (and of its row in ``riskmodel --help``)."""

LOOPBACK = ("127.0.0.1", "localhost", "::1")


def _check_port(host: str, port: int) -> None:
    if not 0 <= port <= 65535:
        raise InputError(Problem(f"--port must be 0..65535 (0 = any free port), got {port}"))


def register(app: typer.Typer) -> None:
    @app.command("serve", help=HELP + "\n\nBinds 127.0.0.1 unless --host is given with authentication configured "
                 "(--users FILE: lines USER:HASH).")
    def serve(
        study_dir: Annotated[Path | None, typer.Argument(
            help="The study's output folder (written by `riskmodel run`); omit with --run.", show_default=False)] = None,
        port: Annotated[int, typer.Option("--port", help="Port to listen on (0 = any free port).")] = 8765,
        host: Annotated[str, typer.Option("--host", help="Address to bind; any but 127.0.0.1/localhost/::1 needs "
                                          "authentication (--users).")] = "127.0.0.1",
        run: Annotated[str | None, typer.Option("--run", help="Open a tracked MLflow run (RUN_ID) instead of a "
                                                "folder.")] = None,
        db: Annotated[str | None, typer.Option("--db", help="The ledger's database URL (default: sqlite file "
                                               "workbench.sqlite in the study folder; postgresql://USER@HOST/DB "
                                               "with the password in PGPASSWORD or ~/.pgpass).")] = None,
        config: Annotated[Path | None, typer.Option("--config", help="The study's experiment config (default: "
                                                    "found from the study folder).")] = None,
        users: Annotated[Path | None, typer.Option("--users", help="Private file (chmod 600) of lines USER:HASH "
                                                   "(werkzeug password hashes): every request then needs a "
                                                   "password.")] = None,
        no_browser: Annotated[bool, typer.Option("--no-browser", help="Do not open a browser tab.")] = False,
    ) -> None:
        t0 = time.perf_counter()
        if study_dir is None and run is None:
            raise InputError(Problem("give STUDY_DIR (a study's output folder) or --run RUN_ID"))
        if study_dir is not None and run is not None:
            raise InputError(Problem("give STUDY_DIR or --run RUN_ID, not both"))
        if study_dir is not None and not study_dir.is_dir():
            raise InputError(Problem(f"{study_dir}: not a folder (a study's output folder, written by "
                                     "`riskmodel run`)", source=str(study_dir)))
        _check_port(host, port)
        web = importlib.import_module("riskmodel.workbench.app")
        auth = web.BasicAuth.load(users)
        web.refuse_unsafe_host(host, auth)
        sock = _bind(host, port)
        workbench = importlib.import_module("riskmodel.workbench")
        study = workbench.open_study(study_dir, run_id=run, config=config, db=db)
        for note in getattr(study, "notes", []) or []:
            typer.echo(note if str(note).startswith("note:") else f"note: {note}", err=True)
        flask_app = web.create_app(study, study.ledger, auth=auth)
        # once the URL is out: the study's data and rank intervals, in a background thread
        warm_up = getattr(study, "warm_up", None)
        try:
            _serve(flask_app, sock, host, t0, open_browser=not no_browser,
                   on_ready=warm_up if callable(warm_up) else None)
        finally:
            study.close()


def _bind(host: str, port: int) -> socket.socket:
    """A listening socket on (host, port), or InputError naming the port that is taken."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise InputError(Problem(f"--host {host} --port {port}: cannot listen there ({exc.strerror}); "
                                 "choose another --port (0 = any free one)")) from None
    sock.listen(64)
    return sock


def _serve(flask_app: Any, sock: socket.socket, host: str, t0: float, *, open_browser: bool,  # noqa: ANN401
           on_ready: Any = None) -> None:  # noqa: ANN401 - a callable
    from werkzeug.serving import make_server

    port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{port}/"
    server = make_server(host, port, flask_app, threaded=True, fd=sock.fileno())
    typer.echo(f"riskmodel workbench: {url}  (started in {time.perf_counter() - t0:.1f} s; Ctrl-C to stop)")
    sys.stdout.flush()
    if on_ready is not None:
        on_ready()
    if open_browser:
        threading.Thread(target=webbrowser.open, args=(url,), daemon=True).start()
    with sigterm_as_interrupt():
        try:
            server.serve_forever()  # werkzeug's: returns on Ctrl-C (and SIGTERM, made one here)
        finally:
            server.server_close()
            sock.close()
    typer.echo("riskmodel workbench: stopped (everything entered is in the ledger)", err=True)
