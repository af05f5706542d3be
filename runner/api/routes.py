"""Every route table of the API, merged: what the daemon (and API tests) mount."""

from __future__ import annotations

from runner.api import applets, events, job_log_socket, jobs, maintenance, runner_routes
from runner.api._routes import Routes
from runner.api.data_routes import data_routes


def all_routes() -> Routes:
    """The route table of the whole API."""
    return Routes().merge(jobs.routes, applets.routes, runner_routes.routes, data_routes,
                          job_log_socket.routes, maintenance.routes, events.routes)
