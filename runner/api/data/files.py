"""/file/new, /file-xxxx/{describe, upload, close, download, and the metadata routes}, and the part PUTs
and content GETs behind the URLs that /upload and /download hand out.

Those URLs carry a signature instead of a token (dxpy sends no Authorization header with them) and point
at the host and port the caller used: a job in a container reaches the engine at another address than
the command line does.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

from aiohttp import web

from runner.api.core import checks as check
from runner.api.core.fields import select
from runner.api.core.routing import SERVICES, Access, Call, Routes, once_per_nonce
from runner.api.core.signing import signed_url
from runner.api.data.describers import register
from runner.api.data.metadata import add_metadata_routes
from runner.api.data.objects import (
    ASKED_FIELDS,
    BASE_FIELDS,
    base_view,
    chosen_fields,
    new_object,
    readable_object,
    writable_object,
)
from runner.api.server import SIGNED_QUERY, json_response
from runner.errors import InvalidInput, InvalidState, ResourceNotFound
from runner.store.db import now_ms
from runner.store.files import (
    COPY_CHUNK,
    BlobWriter,
    FileStateError,
    add_part,
    begin_close,
    content_path,
    finish_close,
    list_parts,
)
from runner.store.objects import ObjectNotFound, get_object

routes = Routes()
add_metadata_routes(routes, "file")

FILE_DEFAULTS = (*BASE_FIELDS, "media", "archivalState", "size")
FILE_ASKED = (*ASKED_FIELDS, "parts")
MAX_PART_INDEX = 10000
MAX_PART_BYTES = 5368709120
UPLOAD_URL_MS = 24 * 3600 * 1000
DEFAULT_DOWNLOAD_SECONDS = 24 * 3600
# dxpy caches a URL asked for without `preauthenticated` as if it never expired.
UNAUTHENTICATED_URL_MS = 30 * 24 * 3600 * 1000
DOWNLOAD_URLS = "download_urls"  # Services.extras: (file, name, lifetime, host) -> the answer given
MAX_CACHED_URLS = 10000
MD5_PATTERN = re.compile(r"^[0-9a-fA-F]{32}$")


@routes.static("file", "new", Access.ANY)
async def new_file(call: Call) -> dict[str, Any]:
    """/file/new: an open file in a folder of a project the caller may write."""
    async def create() -> str:
        file = new_object(call, "file", state="open", doc={"media": check.optional_str(call.body, "media") or ""})
        return str(file["id"])

    return await once_per_nonce(call, create)


def _parts(call: Call, file: dict[str, Any]) -> dict[str, Any]:
    if file["state"] == "closed":
        return {index: {**part, "state": "complete"} for index, part in (file.get("parts") or {}).items()}
    return {str(p.index): {"size": p.size, "md5": p.md5, "state": "complete"} for p in list_parts(call.db, file["id"])}


@register("file")
def describe_file(call: Call, file: dict[str, Any], body: Mapping[str, Any]) -> dict[str, Any]:
    """A file's describe, honouring fields / defaultFields (`parts`, `properties`, `details` when asked)."""
    names = chosen_fields(body, FILE_DEFAULTS, FILE_ASKED)
    view = {**base_view(file), "media": file.get("media", ""), "archivalState": "live"}
    if file["state"] == "closed":
        view["size"] = file.get("size", 0)
    if "parts" in names:
        view["parts"] = _parts(call, file)
    return select(view, names)


@routes.on("file", "describe", Access.ANY)
async def describe(call: Call) -> dict[str, Any]:
    """/file-xxxx/describe {project?, fields?, defaultFields?}: `project` chooses which copy is described."""
    file = readable_object(call, call.target, check.optional_str(call.body, "project"))
    return describe_file(call, file, call.body)


def _int(body: Mapping[str, Any], key: str, default: int | None, low: int, high: int) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidInput(f"Expected key {key!r} of input to be an integer from {low} to {high}")
    return value


@routes.on("file", "upload", Access.ANY)
async def upload(call: Call) -> dict[str, Any]:
    """/file-xxxx/upload {index?, md5?, size?}: a signed URL to PUT one part to."""
    file = writable_object(call, call.target)
    if file["state"] != "open":
        raise InvalidState(f"{file['id']} is not in the open state (it is {file['state']}): parts can be "
                           "uploaded only while it is open")
    index = _int(call.body, "index", 1, 1, MAX_PART_INDEX)
    params: dict[str, str] = {}
    md5 = check.optional_str(call.body, "md5")
    if md5 is not None:
        if not MD5_PATTERN.match(md5):
            raise InvalidInput("Expected key 'md5' of input to be 32 hexadecimal digits")
        params["md5"] = md5.lower()
    size = _int(call.body, "size", None, 0, MAX_PART_BYTES)
    if size is not None:
        params["size"] = str(size)
    expires = now_ms() + UPLOAD_URL_MS
    url = signed_url(call.request, call.services, "PUT", f"/runner/upload/{file['id']}/{index}", params, expires)
    return {"url": url, "headers": {}, "expires": expires}


@routes.raw("PUT", "/runner/upload/{file_id}/{index}", Access.SIGNED)
async def put_part(request: web.Request) -> web.StreamResponse:
    """The PUT of one part: its bytes become a blob, checked against the md5 and size declared at /upload."""
    services = request.app[SERVICES]
    query = request[SIGNED_QUERY]
    file_id, index = request.match_info["file_id"], int(request.match_info["index"])
    writer = BlobWriter(services.home)
    try:
        async for chunk in request.content.iter_chunked(COPY_CHUNK):
            writer.write(chunk)
            if writer.blob().size > MAX_PART_BYTES:
                raise InvalidInput(f"a part may not be larger than {MAX_PART_BYTES} bytes")
        blob = writer.blob()
        if "size" in query and int(query["size"]) != blob.size:
            raise InvalidInput(f"part {index} of {file_id} has {blob.size} bytes, not the {query['size']} declared")
        if "md5" in query and query["md5"] != blob.md5:
            raise InvalidInput(f"the MD5 of part {index} of {file_id} is {blob.md5}, not the {query['md5']} declared")
        add_part(services.db, services.home, file_id, index, writer)
    except FileStateError as exc:
        raise InvalidState(str(exc)) from None
    except ObjectNotFound:
        raise ResourceNotFound(f"the file {file_id} does not exist") from None
    finally:
        writer.discard()
    return json_response({})


@routes.on("file", "close", Access.ANY)
async def close(call: Call) -> dict[str, Any]:
    """/file-xxxx/close: open → closing → closed, its parts joined in index order (none: an empty file)."""
    file = writable_object(call, call.target)
    try:
        started = begin_close(call.db, file["id"])
    except FileStateError as exc:
        raise InvalidState(str(exc)) from None
    if started:
        await asyncio.to_thread(finish_close, call.db, call.services.home, file["id"])
        if call.services.engine is not None:
            # Jobs may be waiting on this file (dependsOn, inputs, outputs still closing).
            call.services.engine.wake()
    return {"id": file["id"]}


def _url_name(name: str) -> str:
    """A file name fit for the last segment of a URL path."""
    cleaned = name.replace("/", "_")
    return cleaned if cleaned not in ("", ".", "..") else "download"


@routes.on("file", "download", Access.ANY)
async def download(call: Call) -> dict[str, Any]:
    """/file-xxxx/download {duration?, preauthenticated?, filename?, project?}: a signed URL to GET.

    The same URL comes back for the same file and options while more than half of its lifetime is left
    (dxpy's tests expect it so); only then is a new one signed.
    """
    body = call.body
    file = readable_object(call, call.target, check.optional_str(body, "project"), strict=True)
    if file["state"] != "closed":
        raise InvalidState(f"{file['id']} is {file['state']}: only a closed file can be downloaded")
    duration = _int(body, "duration", DEFAULT_DOWNLOAD_SECONDS, 1, 10 * 365 * 24 * 3600)
    assert duration is not None
    lifetime = duration * 1000 if check.optional_bool(body, "preauthenticated") else UNAUTHENTICATED_URL_MS
    name = _url_name(check.optional_str(body, "filename") or file["name"])
    cache: dict[tuple[str, ...], dict[str, Any]] = call.services.extras.setdefault(DOWNLOAD_URLS, {})
    key = (file["id"], name, str(lifetime), call.request.host)
    now = now_ms()
    cached = cache.get(key)
    if cached is not None and cached["expires"] - now > lifetime // 2:
        return dict(cached)
    if len(cache) >= MAX_CACHED_URLS:
        for stale in [k for k, v in cache.items() if v["expires"] - now <= lifetime // 2]:
            del cache[stale]
        if len(cache) >= MAX_CACHED_URLS:
            cache.clear()
    expires = now + lifetime
    url = signed_url(call.request, call.services, "GET", f"/runner/download/{file['id']}/{name}", {}, expires)
    cache[key] = {"url": url, "headers": {}, "expires": expires}
    return dict(cache[key])


def _disposition(name: str) -> str:
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(name, safe='')}"


@routes.raw("GET", "/runner/download/{file_id}/{name}", Access.SIGNED)
async def get_content(request: web.Request) -> web.StreamResponse:
    """The GET of a download URL: the closed file's blob (byte ranges answered as asked)."""
    services = request.app[SERVICES]
    file_id = request.match_info["file_id"]
    try:
        file = get_object(services.db, file_id)
    except ObjectNotFound:
        raise ResourceNotFound(f"the file {file_id} does not exist") from None
    if file["class"] != "file" or file["state"] != "closed":
        raise InvalidState(f"{file_id} is not a closed file")
    headers = {"Content-Disposition": _disposition(request.match_info["name"]),
               "Content-Type": "application/octet-stream"}
    return web.FileResponse(content_path(services.home, file), headers=headers)
