"""What the engine makes of anything a job can leave in its work/ folder: no link followed, no hang."""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path

import pytest

from runner.engine.job_files import (
    MAX_DEPTH,
    MAX_DOCUMENT_BYTES,
    JobFileError,
    job_folder,
    prepare_try,
    read_document,
    work_folder,
    write_json,
)
from runner.engine.logs import JobLog, read_entries


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    """A job folder with its work/, as before a container is created."""
    path = job_folder(tmp_path / "home", "job-1")
    prepare_try(path, {"x": 1})
    return path


@pytest.fixture
def canary(tmp_path: Path) -> Path:
    """A host file outside the job folder that a job would like to read or overwrite."""
    path = tmp_path / "outside" / "secret.json"
    path.parent.mkdir()
    path.write_text('{"stolen": true}\n')
    return path


def nested(depth: int) -> str:
    """A JSON object whose arrays and objects nest `depth` levels."""
    return '{"a": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def refusal(folder: Path, name: str = "output.json") -> str:
    with pytest.raises(JobFileError) as raised:
        read_document(folder, name)
    return str(raised.value)


def test_a_regular_document_is_read_and_a_missing_one_is_none(folder: Path) -> None:
    (work_folder(folder) / "output.json").write_text('{"n": 1, "deep": ' + nested(MAX_DEPTH - 1) + "}")
    document = read_document(folder, "output.json")
    assert document is not None and document["n"] == 1
    assert read_document(folder, "error.json") is None


def test_a_link_to_a_host_file_is_refused_and_the_file_is_untouched(folder: Path, canary: Path) -> None:
    before = canary.stat()
    (work_folder(folder) / "output.json").symlink_to(canary)
    assert refusal(folder) == ("the output.json the job left cannot be used: it is a symbolic link "
                               "(the engine follows no link in the job folder)")
    after = canary.stat()  # not read yet: the engine did not even open it
    assert (after.st_mtime_ns, after.st_atime_ns) == (before.st_mtime_ns, before.st_atime_ns)
    assert canary.read_text() == '{"stolen": true}\n'



def test_a_fifo_is_refused_without_waiting_for_a_writer(folder: Path) -> None:
    os.mkfifo(work_folder(folder) / "error.json")
    assert refusal(folder, "error.json").endswith("it is a FIFO, not a regular file")


def test_a_directory_and_a_socket_are_refused(folder: Path) -> None:
    (work_folder(folder) / "output.json").mkdir()
    assert refusal(folder).endswith("it is a directory, not a regular file")
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(str(work_folder(folder) / "error.json"))
        assert "socket" in refusal(folder, "error.json")


def test_a_document_over_the_size_limit_is_refused_before_it_is_read(folder: Path) -> None:
    with open(work_folder(folder) / "output.json", "wb") as sparse:
        sparse.truncate(MAX_DOCUMENT_BYTES + 1)
    assert refusal(folder).endswith(f"it is {MAX_DOCUMENT_BYTES + 1} bytes, more than the limit of "
                                    f"{MAX_DOCUMENT_BYTES} bytes")


@pytest.mark.parametrize("depth", [MAX_DEPTH + 1, 900, 100_000])
def test_a_document_nested_too_deeply_is_refused(folder: Path, depth: int) -> None:
    (work_folder(folder) / "output.json").write_text(nested(depth))
    assert refusal(folder).endswith(f"it is nested deeper than {MAX_DEPTH} levels")


@pytest.mark.parametrize(("content", "why"), [
    (b"\xff\xfe{}", "it is not UTF-8 text"),
    (b'{"a": NaN}', "it is not valid JSON (NaN is not a JSON value)"),
    (b'{"a": ', "it is not valid JSON (Expecting value"),
    (b"[1, 2]", "it holds a JSON array, not an object"),
])
def test_documents_that_are_not_json_objects_are_refused(folder: Path, content: bytes, why: str) -> None:
    (work_folder(folder) / "output.json").write_bytes(content)
    assert why in refusal(folder)


def test_a_hard_link_inside_work_is_an_ordinary_file(folder: Path) -> None:
    # Hard links to host files cannot be made from a container (EXDEV across the bind mount); one inside
    # work/ is just a second name of a file the job wrote.
    (work_folder(folder) / "mine.json").write_text('{"ok": true}')
    os.link(work_folder(folder) / "mine.json", work_folder(folder) / "output.json")
    assert read_document(folder, "output.json") == {"ok": True}


def test_a_new_try_gets_a_fresh_work_folder_without_following_links(folder: Path, canary: Path) -> None:
    work = work_folder(folder)
    (work / "into-host").symlink_to(canary.parent, target_is_directory=True)
    (work / "output.json").symlink_to(canary)
    (work / "sub").mkdir()
    os.mkfifo(work / "sub" / "pipe")
    (folder / "output.json").write_text("{}")  # the engine's copy from the earlier try
    prepare_try(folder, {"x": 2})
    assert list(work.iterdir()) == []
    assert not (folder / "output.json").exists()
    assert canary.read_text() == '{"stolen": true}\n' and list(canary.parent.iterdir()) == [canary]
    assert json.loads((folder / "job_input.json").read_text()) == {"x": 2}


def test_the_engine_writes_its_files_over_links_without_following_them(folder: Path, canary: Path) -> None:
    # A job folder of an older layout was writable by the job: links may be left at the engine's own names.
    (folder / ".job_input.json.tmp").symlink_to(canary)
    (folder / "job_input.json").unlink()
    (folder / "job_input.json").symlink_to(canary)
    write_json(folder / "job_input.json", {"fresh": True})
    assert not (folder / "job_input.json").is_symlink()
    assert json.loads((folder / "job_input.json").read_text()) == {"fresh": True}
    assert canary.read_text() == '{"stolen": true}\n'


def test_a_work_folder_replaced_by_a_link_is_refused_and_replaced(folder: Path, canary: Path) -> None:
    work = work_folder(folder)
    os.rmdir(work)
    work.symlink_to(canary.parent, target_is_directory=True)
    (canary.parent / "output.json").write_text("{}")
    assert "the job folder cannot be opened" in refusal(folder)
    prepare_try(folder, {})
    assert work.is_dir() and not work.is_symlink()
    assert sorted(p.name for p in canary.parent.iterdir()) == ["output.json", "secret.json"]


def test_a_log_link_left_by_an_older_layout_is_removed_and_never_written_through(
        folder: Path, canary: Path) -> None:
    (folder / "job.log").symlink_to(canary)
    assert read_entries(folder) == ([], 0)
    with pytest.raises(OSError):
        JobLog(folder).append("runner", "refused: the log is a link")
    prepare_try(folder, {})
    JobLog(folder).append("runner", "a fresh log")
    assert [entry.text for entry in read_entries(folder)[0]] == ["a fresh log"]
    assert canary.read_text() == '{"stolen": true}\n'
