"""The store as the asset catalog a build resolves bundledDepends and assetDepends in (runner.build.bundles)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from runner.build.bundles import AssetRecord, HeldFile
from runner.errors import RunnerError
from runner.store.db import Database
from runner.store.files import content_path
from runner.store.objects import ObjectNotFound, find_objects, folder_exists, get_object


def _record(obj: dict[str, Any]) -> AssetRecord:
    properties = obj.get("properties") or {}
    return AssetRecord(
        record_id=obj["id"], name=str(obj.get("name")), project=str(obj.get("project")),
        folder=str(obj.get("folder")), types=tuple(obj.get("types") or ()), state=str(obj.get("state")),
        properties={str(k): str(v) for k, v in properties.items()}, details=obj.get("details"),
    )


class StoreCatalog:
    """AssetBundle records and closed files of this engine's store."""

    def __init__(self, db: Database, home: Path) -> None:
        self.db, self.home = db, home

    def record(self, record_id: str) -> AssetRecord | None:
        """The record with this ID, or None."""
        try:
            obj = get_object(self.db, record_id)
        except ObjectNotFound:
            return None
        return _record(obj) if obj.get("class") == "record" else None

    def folder_exists(self, project: str, folder: str) -> bool:
        """Whether `project` exists here and has `folder`."""
        try:
            return folder_exists(self.db, project, folder)
        except RunnerError:
            return False

    def assets(self, name: str, project: str | None, folder: str | None) -> list[AssetRecord]:
        """Closed records named `name` (in `project`:`folder` when given), one per record."""
        found = find_objects(self.db, container=project, folder=folder, klass="record", name=name, state="closed")
        unique = {obj["id"]: obj for obj in reversed(found)}
        return [_record(obj) for obj in reversed(list(unique.values()))]

    def file(self, file_id: str) -> HeldFile | None:
        """The closed file with this ID, or None."""
        try:
            obj = get_object(self.db, file_id)
        except ObjectNotFound:
            return None
        if obj.get("class") != "file" or obj.get("state") != "closed" or not isinstance(obj.get("blob"), str):
            return None
        return HeldFile(file_id, str(obj.get("name")), content_path(self.home, obj), str(obj["blob"]))
