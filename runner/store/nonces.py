"""Request nonces: a retried `/job/new`, `/file/new` or `/applet-xxxx/run` returns the first answer.

dxpy sends a nonce with each creating call and retries on 5xx and lost connections, so a request
may arrive twice; the second must not create a second object.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from runner.errors import InvalidInput
from runner.store.db import Database, dumps

MAX_NONCE_BYTES = 128


def _nonce(body: Mapping[str, Any]) -> str | None:
    if "nonce" not in body:
        return None
    nonce = body["nonce"]
    if not isinstance(nonce, str):
        raise InvalidInput("nonce must be a string")
    if len(nonce.encode("utf-8", "surrogatepass")) > MAX_NONCE_BYTES:
        raise InvalidInput("A nonce may not exceed 128 bytes")
    return nonce


def request_hash(body: Mapping[str, Any]) -> str:
    """The SHA-256 of the canonical JSON of a request body, leaving out its nonce."""
    rest = {k: v for k, v in body.items() if k != "nonce"}
    return hashlib.sha256(dumps(rest).encode("ascii")).hexdigest()


def check_nonce(db: Database, route: str, body: Mapping[str, Any]) -> dict[str, Any] | None:
    """The result recorded for this request's nonce, or None if the nonce is new or absent.

    Raises InvalidInput for a malformed nonce, or one already used with a different request.
    """
    nonce = _nonce(body)
    if nonce is None:
        return None
    rows = db.query("SELECT request_hash, result FROM nonces WHERE route = ? AND nonce = ?", (route, nonce))
    if not rows:
        return None
    if rows[0]["request_hash"] != request_hash(body):
        raise InvalidInput("nonce was reused in a request but other inputs had changed, "
                           "signifying a new and different request")
    result: dict[str, Any] = json.loads(rows[0]["result"])
    return result


def record_nonce(db: Database, route: str, body: Mapping[str, Any], result: Mapping[str, Any]) -> None:
    """Remember `result` as the answer to this request's nonce (nothing without a nonce)."""
    nonce = _nonce(body)
    if nonce is None:
        return
    # OR IGNORE: when two copies of a request race, the first answer recorded is the one kept.
    with db.transaction() as conn:
        conn.execute("INSERT OR IGNORE INTO nonces (route, nonce, request_hash, result) VALUES (?, ?, ?, ?)",
                     (route, nonce, request_hash(body), dumps(dict(result))))
