"""API tokens: the user's token (kept in `$RUNNER_HOME/credentials`) and one token per job try.

Only the SHA-256 of a token is stored, so a copy of the database does not hand out working tokens.
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
import string
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from runner.home_files import CREDENTIALS
from runner.store.db import Database, now_ms

TokenKind = Literal["user", "job"]
# Letters and digits only, as the platform's tokens: scripts pass tokens as arguments, and one that began with "-"
# (as a URL-safe token may) would be read as an option (`dx-jobutil-add-output auth "$token"` fails).
TOKEN_ALPHABET = string.ascii_letters + string.digits
TOKEN_LENGTH = 43  # about 256 bits



@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What a token is: a user's, or a job's (with its job ID and whether the job has ended)."""

    kind: TokenKind
    job_id: str | None
    revoked: bool


def _digest(token: str) -> str:
    # surrogatepass: a header can decode to any string, and an odd one must miss, not raise.
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def _issue(db: Database, kind: TokenKind, job_id: str | None) -> str:
    token = "".join(secrets.choice(TOKEN_ALPHABET) for _ in range(TOKEN_LENGTH))
    with db.transaction() as conn:
        conn.execute("INSERT INTO tokens (token, kind, job, created, revoked) VALUES (?, ?, ?, ?, NULL)",
                     (_digest(token), kind, job_id, now_ms()))
    return token


def issue_user_token(db: Database) -> str:
    """A new user token."""
    return _issue(db, "user", None)


def issue_job_token(db: Database, job_id: str) -> str:
    """A new token for code running inside `job_id`; valid until `revoke_job_tokens`."""
    return _issue(db, "job", job_id)


def lookup_token(db: Database, token: str) -> TokenInfo | None:
    """What `token` is, or None if it was never issued."""
    rows = db.query("SELECT kind, job, revoked FROM tokens WHERE token = ?", (_digest(token),))
    if not rows:
        return None
    row = rows[0]
    kind: TokenKind = "job" if row["kind"] == "job" else "user"
    return TokenInfo(kind=kind, job_id=row["job"], revoked=row["revoked"] is not None)


def revoke_job_tokens(db: Database, job_id: str) -> None:
    """End every token of `job_id` (its code may no longer call the API); the first revocation time stays."""
    with db.transaction() as conn:
        conn.execute("UPDATE tokens SET revoked = ? WHERE kind = 'job' AND job = ? AND revoked IS NULL",
                     (now_ms(), job_id))


def _read_credentials(path: Path) -> str | None:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    token = doc.get("auth_token") if isinstance(doc, dict) else None
    return token if isinstance(token, str) and token else None


def _write_private(path: Path, text: str) -> None:
    """Write `text` to `path` atomically, readable by the owner only from the first byte on."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            os.fchmod(out.fileno(), 0o600)  # the umask may only narrow the mode; make it exact
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def user_token(db: Database, home: Path) -> str:
    """The user token in `home/credentials`, issued and written (mode 0600) when missing or unknown."""
    path = home / CREDENTIALS
    token = _read_credentials(path)
    if token is not None:
        info = lookup_token(db, token)
        if info is not None and info.kind == "user" and not info.revoked:
            return token
    token = issue_user_token(db)
    home.mkdir(parents=True, exist_ok=True)
    _write_private(path, json.dumps({"auth_token_type": "Bearer", "auth_token": token}) + "\n")
    return token
