"""Fixtures of the store tests: a state folder and a real SQLite store in it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.store.db import Database


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A state folder of its own (made by the store when it opens)."""
    return tmp_path / "home"


@pytest.fixture
def db(home: Path) -> Iterator[Database]:
    """The store at `home/runner.db`, closed afterwards."""
    database = Database(home / "runner.db")
    yield database
    database.close()
