"""`runner upload / download / ls / cat / rm` as a subprocess against the shared real engine."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from pathlib import Path

import pytest

from runner.client.api import EngineClient
from runner.client.files import download_file, read_file, upload_file
from tests.integration.helpers import runner_cli_bytes as runner_cli

pytestmark = pytest.mark.docker



def ok(result: subprocess.CompletedProcess[bytes]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout.decode()


def unique_folder() -> str:
    return f"/clidata-{uuid.uuid4().hex[:10]}"


def test_upload_ls_cat_download_rm(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    folder = unique_folder()
    source = tmp_path / "hello.txt"
    content = b"hello\x00binary\xff\n"
    source.write_bytes(content)
    file_id = ok(runner_cli(engine_home, "upload", str(source), "--folder", folder, "--parents", "--brief")).strip()
    assert file_id.startswith("file-") and "\n" not in file_id

    assert ok(runner_cli(engine_home, "ls", folder + "/")).splitlines() == ["hello.txt"]
    assert folder.lstrip("/") + "/" in ok(runner_cli(engine_home, "ls")).splitlines()
    assert ok(runner_cli(engine_home, "ls", "--brief", folder)).splitlines() == [file_id]
    long = ok(runner_cli(engine_home, "ls", "-l", folder)).splitlines()
    assert long[-1].startswith("closed") and f"hello.txt ({file_id})" in long[-1]
    assert "bytes" in long[-1]

    assert runner_cli(engine_home, "cat", f"{folder}/hello.txt").stdout == content
    assert runner_cli(engine_home, "cat", file_id).stdout == content
    assert runner_cli(engine_home, "cat", f"{engine.project}:{file_id}").stdout == content

    ok(runner_cli(engine_home, "download", f"{folder}/hello.txt", "-o", str(tmp_path / "copy.txt")))
    assert (tmp_path / "copy.txt").read_bytes() == content
    refused = runner_cli(engine_home, "download", file_id, "-o", str(tmp_path / "copy.txt"))
    assert refused.returncode == 3 and b"already exists" in refused.stderr
    (tmp_path / "copy.txt").write_bytes(b"old")
    ok(runner_cli(engine_home, "download", file_id, "-o", str(tmp_path / "copy.txt"), "-f"))
    assert (tmp_path / "copy.txt").read_bytes() == content
    out = tmp_path / "out"
    out.mkdir()
    ok(runner_cli(engine_home, "download", file_id, cwd=out))
    assert (out / "hello.txt").read_bytes() == content

    ok(runner_cli(engine_home, "rm", f"{folder}/hello.txt"))
    assert ok(runner_cli(engine_home, "ls", folder)) == ""
    gone = runner_cli(engine_home, "cat", file_id)
    assert gone.returncode == 1 and b"error:" in gone.stderr


def test_multi_part_upload_and_download(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    folder = unique_folder()
    source = tmp_path / "big.bin"
    source.write_bytes(os.urandom(3 << 20) + b"tail")
    file_id = ok(runner_cli(engine_home, "upload", str(source), "--destination", f"{folder}/", "--parents",
                            "--brief", "--part-size", str(1 << 20))).strip()
    parts = engine.call(f"/{file_id}/describe", {"fields": {"parts": True, "size": True}})
    assert len(parts["parts"]) == 4 and parts["size"] == source.stat().st_size
    ok(runner_cli(engine_home, "download", f"{folder}/big.bin", "-o", str(tmp_path / "copy.bin")))
    assert (tmp_path / "copy.bin").read_bytes() == source.read_bytes()

    # The same through the client API that `runner run` can use for local files.
    assert engine.project is not None
    again = upload_file(engine, source, project=engine.project, folder=folder, name="again.bin", part_size=1 << 20)
    assert read_file(engine, again) == source.read_bytes()
    assert download_file(engine, again, tmp_path / "again.bin").read_bytes() == source.read_bytes()


def test_upload_to_a_new_folder_of_a_named_project(engine: EngineClient, engine_home: Path,
                                                   tmp_path: Path) -> None:
    folder = unique_folder()
    source = tmp_path / "a.txt"
    source.write_text("A\n")
    missing = runner_cli(engine_home, "upload", str(source), "--destination", f"{engine.project}:{folder}/a/b/")
    assert missing.returncode == 1, missing.stderr
    printed = ok(runner_cli(engine_home, "upload", str(source), "--destination",
                            f"{engine.project}:{folder}/a/b/", "--parents"))
    assert printed.startswith("file-") and f"{engine.project}:{folder}/a/b/a.txt" in printed
    assert ok(runner_cli(engine_home, "ls", f"{engine.project}:{folder}/a")).splitlines() == ["b/"]
    assert ok(runner_cli(engine_home, "ls", f"{folder}/a/b")).splitlines() == ["a.txt"]
    renamed = ok(runner_cli(engine_home, "upload", str(source), "--path", f"{folder}/a/b/renamed.txt", "--brief"))
    assert ok(runner_cli(engine_home, "ls", f"{folder}/a/b/renamed.txt", "--brief")).strip() == renamed.strip()


def test_rm_folders_and_ambiguous_names(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    folder = unique_folder()
    source = tmp_path / "same.txt"
    source.write_text("x")
    ids = [ok(runner_cli(engine_home, "upload", str(source), "--folder", folder, "-p", "--brief")).strip()
           for _ in range(2)]
    ambiguous = runner_cli(engine_home, "cat", f"{folder}/same.txt")
    assert ambiguous.returncode == 3 and all(i.encode() in ambiguous.stderr for i in ids)
    assert runner_cli(engine_home, "rm", f"{folder}/same.txt").returncode == 3
    not_recursive = runner_cli(engine_home, "rm", folder)
    assert not_recursive.returncode == 3 and b"-r" in not_recursive.stderr
    ok(runner_cli(engine_home, "rm", "-a", f"{folder}/same.txt"))
    assert ok(runner_cli(engine_home, "ls", folder)) == ""
    ok(runner_cli(engine_home, "upload", str(source), "--folder", f"{folder}/sub", "-p"))
    ok(runner_cli(engine_home, "rm", "-r", folder))
    assert runner_cli(engine_home, "ls", folder).returncode == 1
    assert runner_cli(engine_home, "ls", f"{folder}/nothing").returncode == 1


def test_recursive_upload_and_help(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    folder = unique_folder()
    tree = tmp_path / "tree"
    (tree / "inner").mkdir(parents=True)
    (tree / "top.txt").write_text("top")
    (tree / "inner" / "deep.txt").write_text("deep")
    refused = runner_cli(engine_home, "upload", str(tree), "--folder", folder, "-p")
    assert refused.returncode == 3
    ok(runner_cli(engine_home, "upload", "-r", str(tree), "--folder", folder, "-p"))
    assert ok(runner_cli(engine_home, "ls", f"{folder}/tree")).splitlines() == ["inner/", "top.txt"]
    assert runner_cli(engine_home, "cat", f"{folder}/tree/inner/deep.txt").stdout == b"deep"
    for verb in ("upload", "download", "ls", "cat", "rm"):
        assert b"Usage:" in runner_cli(engine_home, verb, "--help").stdout


def test_upload_json_prints_the_new_files_describe(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    folder = unique_folder()
    source = tmp_path / "described.txt"
    source.write_text("four")
    described = json.loads(ok(runner_cli(engine_home, "upload", str(source), "--folder", folder, "-p", "--json")))
    assert (described["name"], described["folder"], described["state"], described["size"]) == \
        ("described.txt", folder, "closed", 4)
