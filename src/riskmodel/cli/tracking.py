"""``riskmodel compare`` (metric differences between two tracked runs),
``riskmodel tracking cleanup`` (runs left RUNNING by killed processes) and
``riskmodel tracking-server`` (a team MLflow server with authentication)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from riskmodel.cli.guard import sigterm_as_interrupt
from riskmodel.data.readers import write_table_atomic
from riskmodel.errors import InputError, Problem
from riskmodel.server import TeamServer, throwaway_team_server
from riskmodel.server.lockout import LockoutPolicy
from riskmodel.server.team import TeamServerError
from riskmodel.tracking import Tracker
from riskmodel.tracking.cleanup import STALE_AFTER_HOURS, cleanup_runs
from riskmodel.tracking.compare import compare_runs


def register(app: typer.Typer) -> None:
    @app.command("compare")
    def compare(
        run_a: Annotated[str, typer.Argument(help="First MLflow run id (the reference).")],
        run_b: Annotated[str, typer.Argument(help="Second MLflow run id.")],
        out: Annotated[Path | None, typer.Option("--out", help="Also write the table to this CSV.")] = None,
        all_metrics: Annotated[bool, typer.Option("--all", help="Show metrics that did not change too.")] = False,
    ) -> None:
        """Print the metric differences between two runs (and their steps), b - a."""
        t = compare_runs(run_a, run_b)
        shown = t if all_metrics else t[~(t["diff"] == 0)]
        if out is not None:
            write_table_atomic(t, out)
        if shown.empty:
            typer.echo("no metric differs")
            return
        with_pd = shown.assign(rel_diff=shown["rel_diff"].map(lambda v: f"{v:+.1%}" if v == v else ""))
        typer.echo(with_pd.to_string(index=False, float_format=lambda v: f"{v:.4g}"))


    tracking_app = typer.Typer(help="Look after the MLflow store: `riskmodel tracking cleanup`.",
                               no_args_is_help=True)
    app.add_typer(tracking_app, name="tracking")

    @tracking_app.command("cleanup")
    def cleanup(
        experiment: Annotated[str, typer.Option("--experiment", help="MLflow experiment to look in.")] = "riskmodel",
        all_experiments: Annotated[bool, typer.Option("--all-experiments", help="Look in every experiment.")] = False,
        max_age_hours: Annotated[float, typer.Option(
            "--max-age-hours", help="A RUNNING run from another host (or recording no process) is stale after "
                                    "this many hours.")] = STALE_AFTER_HOURS,
        dry_run: Annotated[bool, typer.Option("--dry-run", help="Only list the stale runs.")] = False,
    ) -> None:
        """Mark runs left RUNNING by killed processes KILLED (rule: docs/tracking_server.md, 'Cleanup').

        A RUNNING run is stale when it was started on this host and its process
        is gone, or, from another host or recording no process, when it started
        more than --max-age-hours ago.
        """
        if max_age_hours <= 0:
            raise InputError(Problem(f"--max-age-hours: must be above 0, got {max_age_hours:g}"))
        t = cleanup_runs(Tracker(experiment=experiment), all_experiments=all_experiments,
                         max_age_hours=max_age_hours, dry_run=dry_run)
        where = "every experiment" if all_experiments else f"experiment {experiment!r}"
        if t.empty:
            typer.echo(f"no stale RUNNING run in {where}")
            return
        verb = "would mark" if dry_run else "marked"
        typer.echo(f"{verb} {len(t)} stale run(s) in {where} KILLED:")
        typer.echo(t.assign(start=t["start"].dt.strftime("%Y-%m-%d %H:%M")).to_string(index=False))

    @app.command("tracking-server")
    def tracking_server(
        backend_store_uri: Annotated[str | None, typer.Option(
            "--backend-store-uri", envvar="MLFLOW_BACKEND_STORE_URI", show_envvar=True,
            help="Database for runs, e.g. postgresql://mlflow@db.host:5432/mlflow (password in "
                 "~/.pgpass or PGPASSWORD, or in this variable rather than on the command line).")] = None,
        artifacts: Annotated[str | None, typer.Option(
            "--artifacts", help="Artifact store: a folder, or s3://bucket/prefix (proxied by the server).")] = None,
        auth_db_uri: Annotated[str | None, typer.Option(
            "--auth-db-uri", envvar="RISKMODEL_AUTH_DB_URI", show_envvar=True,
            help="Database for users and permissions (default: sqlite file mlflow_auth.db here).")] = None,
        host: Annotated[str, typer.Option("--host", help="Interface to bind; keep 127.0.0.1 unless a TLS proxy is in front.")] = "127.0.0.1",
        port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 5000,
        workers: Annotated[int, typer.Option("--workers", help="Server worker processes (one serves a research group; with more, see --auth-cache-seconds).")] = 1,
        admin_username: Annotated[str, typer.Option("--admin-username", help="Admin account made on the first start (password: $MLFLOW_AUTH_ADMIN_PASSWORD, 12+ characters).")] = "admin",
        default_permission: Annotated[str, typer.Option("--default-permission", help="What users may do with others' experiments: READ, EDIT, MANAGE or NO_PERMISSIONS.")] = "READ",
        auth_cache_seconds: Annotated[int, typer.Option("--auth-cache-seconds", help="Cache successful password checks this long (0 = off, MLflow's default): logging is about 10x faster; a password changed through the API is seen at once by the worker that handled it, but other workers accept the old one until the cache expires.")] = 60,
        allowed_hosts: Annotated[str | None, typer.Option("--allowed-hosts", help="Host names users reach the server by (behind a proxy), comma-separated.")] = None,
        log: Annotated[Path, typer.Option("--log", help="The server's log file (appended to).")] = Path("mlflow-server.log"),
        throwaway: Annotated[bool, typer.Option("--throwaway", help="Trial: a temporary PostgreSQL and artifact folder, deleted on exit.")] = False,
        max_failures: Annotated[int, typer.Option("--max-failures", help="Wrong passwords allowed per user within --failure-window before the user is locked out (per address: 4 times as many).")] = LockoutPolicy.max_failures,
        failure_window: Annotated[float, typer.Option("--failure-window", help="Seconds over which wrong passwords are counted.")] = LockoutPolicy.window_seconds,
        lockout_seconds: Annotated[float, typer.Option("--lockout-seconds", help="Seconds a locked user or address is answered HTTP 429 (0: no lockout).")] = LockoutPolicy.lockout_seconds,
    ) -> None:
        """Run a team MLflow tracking server with authentication until Ctrl-C or SIGTERM (docs/tracking_server.md)."""
        policy = LockoutPolicy(max_failures=max_failures, window_seconds=failure_window,
                               lockout_seconds=lockout_seconds).checked()
        if throwaway:
            cm = throwaway_team_server(
                admin_password=os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD"), port=port,
                default_permission=default_permission, workers=workers, auth_cache_seconds=auth_cache_seconds,
                lockout=policy,
            )
        else:
            missing = [Problem(f"{opt} is required (or --throwaway for a trial server)")
                       for opt, v in (("--backend-store-uri", backend_store_uri), ("--artifacts", artifacts)) if not v]
            if missing:
                raise InputError(missing)
            assert backend_store_uri is not None and artifacts is not None
            cm = TeamServer(
                backend_store_uri=backend_store_uri, artifacts_destination=artifacts,
                auth_db_uri=auth_db_uri or f"sqlite:///{Path('mlflow_auth.db').resolve()}",
                host=host, port=port, admin_username=admin_username, default_permission=default_permission,
                workers=workers, auth_cache_seconds=auth_cache_seconds, allowed_hosts=allowed_hosts,
                log_path=log, lockout=policy,
            )
        # SIGTERM (kill, systemd) stops like Ctrl-C: the server, PostgreSQL and temp folders go
        try:
            with sigterm_as_interrupt(), cm as server:
                typer.echo(server.summary())
                if throwaway and not os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD"):
                    typer.echo(f"  admin password      {server.admin_password}  (random; this trial only)")
                typer.echo(f"Server log: {server.log_path_}. Ctrl-C or SIGTERM stops it.")
                log_path = server.log_path_
                code = server.wait()
                tail = server.log_tail(10)
        except TeamServerError as exc:  # PostgreSQL or MLflow could not start: say which, no traceback
            typer.echo(f"riskmodel: error: the team server could not start: {exc}", err=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            typer.echo("stopped: the MLflow server" + (", PostgreSQL and the temporary folders are"
                                                        if throwaway else " is") + " gone")
            return
        # the server is meant to run until stopped: its death is a failure, whatever its code
        typer.echo(f"riskmodel: error: the MLflow server died (exit code {code}); the end of its log "
                   f"({log_path}):\n{tail}", err=True)
        raise typer.Exit(1)
