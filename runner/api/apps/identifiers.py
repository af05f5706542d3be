"""The app version an identifier names (the identifiers themselves: runner.spec.app_identifiers).

The server hands an app route's object as the path gave it (`app-bwa`, `app-bwa/1.0.0`, `app-<id>`).
"""

from __future__ import annotations

from typing import Any

from runner.errors import ResourceNotFound
from runner.spec.app_identifiers import NAME_PATTERN, VERSION_PATTERN, AppIdentifier, parse_identifier
from runner.store.apps import AppNotFound, find_app, get_app
from runner.store.db import Database

__all__ = ["NAME_PATTERN", "VERSION_PATTERN", "AppIdentifier", "parse_identifier", "resolve"]


def resolve(db: Database, text: str) -> dict[str, Any]:
    """The app version an identifier names; ResourceNotFound when none does."""
    ident = parse_identifier(text)
    try:
        if ident.app_id is not None:
            return get_app(db, ident.app_id)
        assert ident.name is not None
        return find_app(db, ident.name, ident.alias)
    except AppNotFound as exc:
        raise ResourceNotFound(str(exc)) from None
