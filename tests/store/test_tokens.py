"""API tokens: only their hashes are stored, job tokens end with their job, the user token is reused."""

from __future__ import annotations

import hashlib
import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.store.db import MIGRATIONS, Database
from runner.store.tokens import (
    TokenInfo,
    issue_job_token,
    issue_user_token,
    lookup_token,
    revoke_job_tokens,
    user_token,
)


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Database]:
    database = Database(tmp_path / "runner.db")
    yield database
    database.close()


def test_a_user_token_is_found_as_a_user_token(db: Database) -> None:
    token = issue_user_token(db)
    assert lookup_token(db, token) == TokenInfo(kind="user", job_id=None, revoked=False)


def test_a_job_token_names_its_job(db: Database) -> None:
    token = issue_job_token(db, "job-1")
    assert lookup_token(db, token) == TokenInfo(kind="job", job_id="job-1", revoked=False)


def test_tokens_are_random_and_long(db: Database) -> None:
    tokens = {issue_job_token(db, "job-1") for _ in range(20)}
    assert len(tokens) == 20
    assert all(len(t) >= 43 for t in tokens)


def test_tokens_are_letters_and_digits_so_a_script_may_pass_one_as_an_argument(db: Database) -> None:
    # A token beginning with "-" is read as an option by argparse (dx-jobutil-add-output auth "$token").
    tokens = [issue_job_token(db, "job-1") for _ in range(300)] + [issue_user_token(db)]
    assert all(t.isascii() and t.isalnum() for t in tokens), [t for t in tokens if not t.isalnum()]


def test_unknown_tokens_are_not_found(db: Database) -> None:
    issue_user_token(db)
    assert lookup_token(db, "not-a-token") is None
    assert lookup_token(db, "") is None
    assert lookup_token(db, "\udcff odd") is None


def test_only_the_sha256_of_a_token_is_stored(db: Database) -> None:
    token = issue_job_token(db, "job-1")
    stored = [row["token"] for row in db.query("SELECT token FROM tokens")]
    assert stored == [hashlib.sha256(token.encode()).hexdigest()]
    assert lookup_token(db, stored[0]) is None  # the hash itself is not a token


def test_revoking_ends_only_that_jobs_tokens(db: Database) -> None:
    first, second = issue_job_token(db, "job-1"), issue_job_token(db, "job-1")
    other, user = issue_job_token(db, "job-2"), issue_user_token(db)
    revoke_job_tokens(db, "job-1")
    assert lookup_token(db, first) == TokenInfo(kind="job", job_id="job-1", revoked=True)
    assert lookup_token(db, second) == TokenInfo(kind="job", job_id="job-1", revoked=True)
    assert lookup_token(db, other) == TokenInfo(kind="job", job_id="job-2", revoked=False)
    assert lookup_token(db, user) == TokenInfo(kind="user", job_id=None, revoked=False)


def test_revoking_again_keeps_the_first_revocation_time(db: Database) -> None:
    issue_job_token(db, "job-1")
    revoke_job_tokens(db, "job-1")
    with db.transaction() as conn:
        conn.execute("UPDATE tokens SET revoked = 5")
    revoke_job_tokens(db, "job-1")
    assert [row["revoked"] for row in db.query("SELECT revoked FROM tokens")] == [5]


def _credentials(home: Path) -> dict[str, str]:
    doc: dict[str, str] = json.loads((home / "credentials").read_text())
    return doc


def test_user_token_writes_credentials_with_mode_0600(db: Database, tmp_path: Path) -> None:
    home = tmp_path / "home"
    token = user_token(db, home)
    assert _credentials(home) == {"auth_token_type": "Bearer", "auth_token": token}
    assert stat.S_IMODE((home / "credentials").stat().st_mode) == 0o600
    assert lookup_token(db, token) == TokenInfo(kind="user", job_id=None, revoked=False)
    assert [p.name for p in home.iterdir()] == ["credentials"]  # no temporary file left behind


@pytest.mark.parametrize("umask", [0o000, 0o277])
def test_user_token_mode_is_exactly_0600_whatever_the_umask(db: Database, tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        user_token(db, tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "credentials").stat().st_mode) == 0o600


def test_user_token_is_reused(db: Database, tmp_path: Path) -> None:
    first = user_token(db, tmp_path)
    assert user_token(db, tmp_path) == first
    assert len(db.query("SELECT * FROM tokens")) == 1


def test_a_token_unknown_to_the_store_is_replaced(db: Database, tmp_path: Path) -> None:
    (tmp_path / "credentials").write_text(json.dumps({"auth_token_type": "Bearer", "auth_token": "stale"}))
    token = user_token(db, tmp_path)
    assert token != "stale"
    assert _credentials(tmp_path)["auth_token"] == token
    assert stat.S_IMODE((tmp_path / "credentials").stat().st_mode) == 0o600


def test_a_job_token_in_the_credentials_file_is_not_reused(db: Database, tmp_path: Path) -> None:
    job_token = issue_job_token(db, "job-1")
    (tmp_path / "credentials").write_text(json.dumps({"auth_token_type": "Bearer", "auth_token": job_token}))
    token = user_token(db, tmp_path)
    assert token != job_token
    assert lookup_token(db, token) == TokenInfo(kind="user", job_id=None, revoked=False)


@pytest.mark.parametrize("content", ["", "not json", "[]", '{"auth_token": 3}'])
def test_a_damaged_credentials_file_is_replaced(db: Database, tmp_path: Path, content: str) -> None:
    (tmp_path / "credentials").write_text(content)
    token = user_token(db, tmp_path)
    assert _credentials(tmp_path)["auth_token"] == token
    assert lookup_token(db, token) is not None


def test_a_store_from_before_the_token_index_keeps_its_tokens_and_revokes_them_by_index(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    conn = sqlite3.connect(path)
    conn.executescript(";\n".join(MIGRATIONS[:5]) + "\nPRAGMA user_version=5;")
    conn.execute("INSERT INTO tokens (token, kind, job, created, revoked) VALUES (?, 'job', 'job-old', 1, NULL)",
                 (hashlib.sha256(b"old-token").hexdigest(),))
    conn.commit()
    conn.close()
    database = Database(path)
    assert lookup_token(database, "old-token") == TokenInfo(kind="job", job_id="job-old", revoked=False)
    revoke_job_tokens(database, "job-old")
    assert lookup_token(database, "old-token") == TokenInfo(kind="job", job_id="job-old", revoked=True)
    # A revocation at each end of a try reads the job's own tokens, not every token the store ever issued.
    plan = database.query("EXPLAIN QUERY PLAN UPDATE tokens SET revoked = 1 WHERE kind = 'job' AND job = ? "
                          "AND revoked IS NULL", ("job-old",))
    assert "USING INDEX tokens_by_job" in " ".join(str(row["detail"]) for row in plan)
    database.close()
