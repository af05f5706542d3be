"""Every route table of the API, merged: what the daemon (and API tests) mount."""

from __future__ import annotations

from runner.api.apps import app_routes
from runner.api.core.routing import Routes
from runner.api.data.data_routes import data_routes
from runner.api.executables import applets
from runner.api.jobs import job_log_socket, jobs
from runner.api.runner import assets, events, https_login, machine, maintenance, runner_routes


def all_routes() -> Routes:
    """The route table of the whole API."""
    return Routes().merge(jobs.routes, applets.routes, runner_routes.routes, data_routes,
                          job_log_socket.routes, maintenance.routes, events.routes,
                          machine.routes, assets.routes, https_login.routes, app_routes.routes)
