"""The data routes, merged: files, projects and containers, records, and the /system/ searches."""

from __future__ import annotations

from runner.api import containers, files, records, system
from runner.api._routes import Routes

data_routes = Routes().merge(files.routes, containers.routes, records.routes, system.routes)
