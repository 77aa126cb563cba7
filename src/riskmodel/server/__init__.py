"""A team MLflow tracking server (``riskmodel tracking-server``): PostgreSQL
backend store, proxied artifacts, password authentication.

An adapter of its own, apart from the tracking client (:mod:`riskmodel.tracking`):
the client logs runs to whatever server ``MLFLOW_TRACKING_URI`` names; this
package starts and manages such a server. See :mod:`riskmodel.server.team`
and docs/tracking_server.md.
"""

from riskmodel.server.team import LocalPostgres, TeamServer, throwaway_team_server

__all__ = ["LocalPostgres", "TeamServer", "throwaway_team_server"]
