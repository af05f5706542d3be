"""One-time login codes and the browser sessions they open, per origin, in the engine's memory.

A login code is good for one use within `LOGIN_TTL_S`; the session it opens lasts while requests keep coming,
and ends after `idle_s` without one (the platform's 15 minutes by default). An engine restart ends them all:
a new `runner open` logs in again.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass

from runner.https.hosts import Origin

LOGIN_TTL_S = 120.0


@dataclass(slots=True)
class _Entry:
    origin: Origin
    last_used: float


def _secret() -> str:
    return secrets.token_hex(32)  # letters and digits only, as every token of the runner


class Sessions:
    """Login codes and sessions; `clock` is monotonic seconds (injected by tests)."""

    def __init__(self, idle_s: float, clock: Callable[[], float] = time.monotonic,
                 login_ttl_s: float = LOGIN_TTL_S) -> None:
        self.idle_s, self.clock, self.login_ttl_s = idle_s, clock, login_ttl_s
        self._codes: dict[str, _Entry] = {}
        self._sessions: dict[str, _Entry] = {}

    def mint(self, origin: Origin) -> str:
        """A new login code for `origin`."""
        self._prune()
        code = _secret()
        self._codes[code] = _Entry(origin, self.clock())
        return code

    def redeem(self, code: str, origin: Origin) -> str | None:
        """The ID of a new session for `origin` when `code` is a live code of it (then used up), else None."""
        self._prune()
        entry = self._codes.get(code)
        if entry is None or entry.origin != origin:
            return None
        del self._codes[code]
        session = _secret()
        self._sessions[session] = _Entry(origin, self.clock())
        return session

    def touch(self, session: str, origin: Origin) -> bool:
        """Whether `session` is live for `origin`; a live one counts this request as activity."""
        entry = self._sessions.get(session)
        now = self.clock()
        if entry is None or entry.origin != origin:
            return False
        if now - entry.last_used > self.idle_s:
            del self._sessions[session]
            return False
        entry.last_used = now
        return True

    def _prune(self) -> None:
        now = self.clock()
        for code in [c for c, e in self._codes.items() if now - e.last_used > self.login_ttl_s]:
            del self._codes[code]
        for session in [s for s, e in self._sessions.items() if now - e.last_used > self.idle_s]:
            del self._sessions[session]
