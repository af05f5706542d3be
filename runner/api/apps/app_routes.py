"""Every route of the apps family, merged."""

from __future__ import annotations

from runner.api.apps import app_runs, apps, versions
from runner.api.core.routing import Routes

routes = Routes().merge(apps.routes, versions.routes, app_runs.routes)
