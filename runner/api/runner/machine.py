"""Routes about the user's own machine, for the TUI: a source folder's applet ID now, and the host's capacity.

`/runner/sourceId` tells a client whether a folder's applet is built, or changed since it was, by content: the
ID the folder would build to now (`runner.build.source_id`, no image made) beside the applets the engine holds of
that name. `/runner/host` is the capacity the scheduler fits jobs into, so a client can say which jobs are capped
to the host and how much room is free.
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from runner.api.core.routing import Access, Call, Routes
from runner.api.data.objects import container_arg
from runner.api.executables.asset_catalog import StoreCatalog
from runner.build.source_id import source_applet_id
from runner.config import current_settings
from runner.errors import InvalidInput, SpecError
from runner.store.objects import find_objects

routes = Routes()


def _folder_arg(call: Call) -> Path:
    folder = call.body.get("folder")
    if not isinstance(folder, str) or not folder or "\0" in folder or not Path(folder).is_absolute():
        raise InvalidInput("`folder` must be the absolute path of an applet source folder",
                           {"field": "folder", "expected": "an absolute path"})
    path = Path(folder)
    if not path.is_dir():
        why = "does not exist" if not path.exists() else "is not a folder"
        raise InvalidInput(f"`folder` {folder} {why}; expected an applet source folder",
                           {"field": "folder", "expected": "an existing folder"})
    return path


@routes.static("runner", "sourceId", Access.USER)
async def source_id(call: Call) -> dict[str, Any]:
    """The applet ID `folder` would build to now, or the problems a build would refuse it for (the user only).

    `built`: the engine holds that very applet in `project` (default: the default project); `latest`: the newest
    applet it holds there under the folder's applet name (another ID than `id` means the source changed since).
    """
    folder = _folder_arg(call)
    project = container_arg(call, default=call.services.default_project)
    answer: dict[str, Any] = {"folder": str(folder), "id": None, "name": None, "problems": [], "warnings": [],
                              "built": False, "latest": None}
    try:
        legacy = current_settings(call.services.home).legacy_release
        found = await asyncio.to_thread(source_applet_id, folder, call.services.home / "tmp",
                                        StoreCatalog(call.db, call.services.home), legacy)
    except SpecError as exc:
        return {**answer, "problems": [str(p) for p in exc.problems] or [str(exc)]}
    except OSError as exc:
        return {**answer, "problems": [f"{exc.filename or folder}: cannot be read: {exc.strerror or exc}"]}
    held = [o["id"] for o in find_objects(call.db, container=project, klass="applet", name=found.dxapp.name)]
    return {**answer, "id": found.applet_id, "name": found.dxapp.name, "warnings": list(found.warnings),
            "built": found.applet_id in held, "latest": held[-1] if held else None}


@routes.static("runner", "host", Access.USER)
async def host(call: Call) -> dict[str, Any]:
    """The capacity jobs are fitted into: CPU cores, memory and GPUs, the desktop's reserve, max_parallel.

    `cpus`, `memoryBytes` and `gpus` are the whole host (as before); `available` is what jobs may take (the host
    less the reserve); `cpuIds` and `gpuIds` are what the scheduler hands out. The user only.
    """
    engine = call.services.engine
    capacity = engine.capacity
    scheduled = await asyncio.to_thread(engine.scheduled_host)
    usable = scheduled.capacity
    return {"cpus": _number(capacity.cores), "memoryBytes": capacity.memory_bytes, "gpus": capacity.gpus,
            "cpuIds": list(scheduled.cpu_ids), "gpuIds": list(scheduled.gpu_ids),
            "nvidiaDriver": scheduled.nvidia_driver,
            "reserve": {"cpus": _number(scheduled.reserve.cores), "memoryBytes": scheduled.reserve.memory_bytes},
            "available": {"cpus": _number(usable.cores), "memoryBytes": usable.memory_bytes, "gpus": usable.gpus},
            "maxParallel": scheduled.max_parallel}


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else value
