"""Signed, expiring URLs for part uploads and downloads, which dxpy requests with no Authorization header.

The secret is kept in `services.extras["url_secret"]`, and in `home/url-secret` (mode 0600) so that URLs
handed out before an engine restart (dxpy caches a download URL) still work after it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import time
from collections.abc import Mapping
from urllib.parse import quote, urlencode

from aiohttp import web

from runner.api.core.routing import Services
from runner.errors import InvalidAuthentication

SECRET_KEY = "url_secret"
SECRET_FILE = "url-secret"
SECRET_BYTES = 32


def url_secret(services: Services) -> bytes:
    """The secret that signs URLs: the one in `services.extras`, else the saved one, else a new one (saved)."""
    secret = services.extras.get(SECRET_KEY)
    if isinstance(secret, bytes) and secret:
        return secret
    path = services.home / SECRET_FILE
    try:
        secret = path.read_bytes()
    except OSError:
        secret = b""
    if len(secret) != SECRET_BYTES:
        secret = secrets.token_bytes(SECRET_BYTES)
        services.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "wb") as out:
            out.write(secret)
    services.extras[SECRET_KEY] = secret
    return secret


def _signature(secret: bytes, method: str, path: str, params: Mapping[str, str]) -> str:
    message = "\n".join([method, path, *(f"{k}={params[k]}" for k in sorted(params))])
    return hmac.new(secret, message.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()


def signed_url(request: web.Request, services: Services, method: str, path: str, params: Mapping[str, str],
               expires_ms: int) -> str:
    """An absolute URL at the host the caller used, with `params`, its expiry and a signature in its query.

    `path` is signed as the server will see it (decoded), and percent-encoded in the URL.
    """
    query = {**params, "expires": str(expires_ms)}
    query["signature"] = _signature(url_secret(services), method, path, query)
    return f"http://{request.host}{quote(path, safe='/')}?{urlencode(query)}"


def check_signed(request: web.Request, services: Services) -> dict[str, str]:
    """The signed query parameters of `request`; InvalidAuthentication for a bad or expired signature."""
    query = {k: v for k, v in request.query.items() if k != "signature"}
    given = request.query.get("signature", "")
    wanted = _signature(url_secret(services), request.method, request.path, query)
    if not hmac.compare_digest(given.encode("utf-8", "surrogatepass"), wanted.encode()):
        raise InvalidAuthentication("the URL's signature does not match: ask for a new URL")
    try:
        expires = int(query.get("expires", ""))
    except ValueError:
        raise InvalidAuthentication("the URL has no valid expiry") from None
    if expires < time.time() * 1000:
        raise InvalidAuthentication("the URL has expired: ask for a new URL")
    return query
