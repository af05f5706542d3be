"""Data objects cloned between containers on a job's behalf: a master's input objects into its workspace, and a
master's output objects into the project (or the invoking job's workspace), as on the platform."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from runner.engine._readiness import data_ids
from runner.store.db import Database
from runner.store.job_record import record_of
from runner.store.objects import clone_objects, object_containers


def clone_into(db: Database, ids: list[str], preferred_source: str, destination: str, folder: str = "/") -> None:
    """Clone data objects into `destination`, each from `preferred_source` when it is there, else from its first container."""
    for object_id in dict.fromkeys(ids):
        containers = object_containers(db, object_id)
        if not containers or destination in containers:
            continue
        source = preferred_source if preferred_source in containers else containers[0]
        clone_objects(db, [object_id], source=source, destination=destination, folder=folder, parents=True)


def clone_outputs(db: Database, job: Mapping[str, Any], output: Mapping[str, Any]) -> None:
    """Clone the data objects of a master job's output into its destination (project context or parent workspace)."""
    destination = record_of(job).output_destination or {}
    if destination:
        clone_into(db, data_ids(dict(output)), job["workspace"], destination["container"],
                   destination.get("folder", "/"))
