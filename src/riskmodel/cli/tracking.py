"""``riskmodel compare`` (metric differences between two tracked runs) and
``riskmodel tracking-server`` (a team MLflow server with authentication)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from riskmodel.data.readers import write_table_atomic
from riskmodel.errors import InputError, Problem
from riskmodel.server import TeamServer, throwaway_team_server
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
    ) -> None:
        """Run a team MLflow tracking server with authentication until Ctrl-C (docs/tracking_server.md)."""
        if throwaway:
            cm = throwaway_team_server(
                admin_password=os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD"), port=port,
                default_permission=default_permission, workers=workers, auth_cache_seconds=auth_cache_seconds,
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
                log_path=log,
            )
        with cm as server:
            typer.echo(server.summary())
            if throwaway and not os.environ.get("MLFLOW_AUTH_ADMIN_PASSWORD"):
                typer.echo(f"  admin password      {server.admin_password}  (random; this trial only)")
            typer.echo(f"Server log: {server.log_path_}. Ctrl-C stops it.")
            try:
                code = server.wait()
            except KeyboardInterrupt:
                typer.echo("stopping ...")
                return
        if code != 0:
            raise typer.Exit(1)
