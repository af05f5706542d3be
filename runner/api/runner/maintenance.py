"""`POST /runner/fsck {"repair": bool}`: the store checked against blobs/ and the job folders (store.fsck)."""

from __future__ import annotations

import asyncio
from typing import Any

from runner.api.core import checks as check
from runner.api.core.routing import Access, Call, Routes
from runner.config import current_settings
from runner.errors import InvalidInput
from runner.store.fsck import run_fsck

routes = Routes()
KNOWN_KEYS = frozenset({"repair"})


@routes.static("runner", "fsck", Access.USER)
async def fsck(call: Call) -> dict[str, Any]:
    """Each problem (kind, object, path, problem, repair, repaired), what was checked, whether it is clean."""
    unknown = sorted(set(call.body) - KNOWN_KEYS)
    if unknown:
        raise InvalidInput(f"unknown key {unknown[0]!r} of input: /runner/fsck takes only 'repair' "
                           "(a boolean)")
    repair = check.optional_bool(call.body, "repair")
    ttl = current_settings(call.services.home).open_file_ttl_hours
    report = await asyncio.to_thread(run_fsck, call.db, call.services.home, repair=repair, ttl_hours=ttl)
    return report.document()
