"""The data routes, merged: files, projects and containers, records, the /system/ searches and identity."""

from __future__ import annotations

from runner.api.core.routing import Routes
from runner.api.data import containers, files, identity, projects, records, system

data_routes = Routes().merge(files.routes, containers.routes, records.routes, system.routes,
                             projects.routes, identity.routes)
