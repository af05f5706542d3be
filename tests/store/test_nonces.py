"""Nonces: a repeated request gets the first answer; a reused nonce with other inputs is refused."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from runner.errors import InvalidInput
from runner.store.db import Database
from runner.store.nonces import check_nonce, record_nonce

ROUTE = "/job/new"


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "runner.db")
    yield database
    database.close()


def _body(**extra: Any) -> dict[str, Any]:
    return {"function": "main", "input": {"a": 1, "b": [1, 2]}, "nonce": "n-1", **extra}


def test_a_new_nonce_has_no_answer(db: Database) -> None:
    assert check_nonce(db, ROUTE, _body()) is None


def test_a_repeated_request_gets_the_recorded_answer(db: Database) -> None:
    record_nonce(db, ROUTE, _body(), {"id": "job-1"})
    assert check_nonce(db, ROUTE, _body()) == {"id": "job-1"}


def test_key_order_does_not_make_a_request_different(db: Database) -> None:
    record_nonce(db, ROUTE, {"nonce": "n", "a": 1, "b": {"x": 1, "y": 2}}, {"id": "job-1"})
    assert check_nonce(db, ROUTE, {"b": {"y": 2, "x": 1}, "a": 1, "nonce": "n"}) == {"id": "job-1"}


def test_a_reused_nonce_with_other_inputs_is_refused(db: Database) -> None:
    record_nonce(db, ROUTE, _body(), {"id": "job-1"})
    with pytest.raises(InvalidInput) as info:
        check_nonce(db, ROUTE, _body(name="other"))
    assert info.value.message == ("nonce was reused in a request but other inputs had changed, "
                                  "signifying a new and different request")


def test_nonces_are_per_route(db: Database) -> None:
    record_nonce(db, ROUTE, _body(), {"id": "job-1"})
    assert check_nonce(db, "/file/new", {"name": "x", "nonce": "n-1"}) is None


def test_the_first_recorded_answer_is_kept(db: Database) -> None:
    record_nonce(db, ROUTE, _body(), {"id": "job-1"})
    record_nonce(db, ROUTE, _body(), {"id": "job-2"})
    assert check_nonce(db, ROUTE, _body()) == {"id": "job-1"}


def test_without_a_nonce_nothing_is_checked_or_recorded(db: Database) -> None:
    body = {"function": "main", "input": {}}
    assert check_nonce(db, ROUTE, body) is None
    record_nonce(db, ROUTE, body, {"id": "job-1"})
    assert db.query("SELECT * FROM nonces") == []


@pytest.mark.parametrize("nonce", [3, None, ["a"], {"a": 1}, True])
def test_a_nonce_that_is_not_a_string_is_refused(db: Database, nonce: object) -> None:
    with pytest.raises(InvalidInput) as info:
        check_nonce(db, ROUTE, {"nonce": nonce})
    assert info.value.message == "nonce must be a string"
    with pytest.raises(InvalidInput):
        record_nonce(db, ROUTE, {"nonce": nonce}, {"id": "job-1"})


def test_a_nonce_of_128_bytes_is_accepted_and_129_refused(db: Database) -> None:
    assert check_nonce(db, ROUTE, {"nonce": "x" * 128}) is None
    with pytest.raises(InvalidInput) as info:
        check_nonce(db, ROUTE, {"nonce": "x" * 129})
    assert info.value.message == "A nonce may not exceed 128 bytes"


def test_the_limit_counts_utf8_bytes_not_characters(db: Database) -> None:
    with pytest.raises(InvalidInput, match="128 bytes"):
        check_nonce(db, ROUTE, {"nonce": "é" * 65})  # 65 characters, 130 bytes
    assert check_nonce(db, ROUTE, {"nonce": "é" * 64}) is None
