"""The data routes, merged: files, projects and containers, records, and the /system/ searches."""

from __future__ import annotations

from runner.api.core.routing import Routes
from runner.api.data import containers, files, records, system

data_routes = Routes().merge(files.routes, containers.routes, records.routes, system.routes)
