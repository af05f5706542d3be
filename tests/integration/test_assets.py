"""`runner asset build / import / list` against the shared real engine: real Docker build, real archives."""

from __future__ import annotations

import io
import json
import os
import secrets
import string
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.client.files import read_file
from runner.errors import InvalidInput
from tests.integration.helpers import REPO, runner_cli

pytestmark = pytest.mark.docker

TOOL_ASSET = Path(__file__).resolve().parent / "assets" / "tool_asset"
# What a worker's own state is: never part of an asset.
NOT_PACKED = ("tmp", "proc", "sys", "dev", "run", "home", "root", "var/lib/dpkg", "var/lib/apt", "var/cache",
              "var/log")


def ok(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 0, (result.returncode, result.stdout, result.stderr)
    return result.stdout


def random_record_id() -> str:
    return "record-" + "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(24))


def describe(engine: EngineClient, object_id: str) -> dict[str, Any]:
    return dict(engine.call(f"/{object_id}/describe", {"properties": True, "details": True}))


def make_archive(path: Path, members: list[tuple[tarfile.TarInfo, bytes | None]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for info, data in members:
            if data is not None:
                info.size = len(data)
            tar.addfile(info, io.BytesIO(data) if data is not None else None)
    return path


def regular(name: str, data: bytes, mode: int = 0o755) -> tuple[tarfile.TarInfo, bytes]:
    info = tarfile.TarInfo(name)
    info.mode = mode
    return info, data


def link(name: str, target: str, kind: bytes = tarfile.SYMTYPE) -> tuple[tarfile.TarInfo, None]:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, target
    return info, None


def asset_names(engine: EngineClient) -> list[str]:
    found = engine.call("/system/findDataObjects", {"class": "record", "type": "AssetBundle",
                                                    "describe": {"fields": {"name": True}}})
    return sorted(r["describe"]["name"] for r in found["results"])


def test_build_makes_the_record_and_archive_of_the_platform(engine: EngineClient, engine_home: Path) -> None:
    result = runner_cli(engine_home, "asset", "build", str(TOOL_ASSET))
    record_id = ok(result).strip()
    assert record_id.startswith("record-") and "\n" not in record_id
    assert "apt-get install tree" in result.stderr and "make" in result.stderr

    record = describe(engine, record_id)
    assert (record["class"], record["state"], record["types"], record["name"], record["folder"]) == \
        ("record", "closed", ["AssetBundle"], "tool_asset", "/")
    assert record["project"] == engine.project
    assert record["properties"] == {"version": "1.2.0", "distribution": "Ubuntu", "release": "24.04",
                                    "title": "A test asset",
                                    "description": "tree from apt, a resources/ tool and a tool made by make"}
    file_id = record["details"]["archiveFileId"]["$dnanexus_link"]
    assert record["details"] == {"archiveFileId": {"$dnanexus_link": file_id}}
    archive = describe(engine, file_id)
    assert (archive["state"], archive["name"], archive["folder"]) == ("closed", "tool_asset.tar.gz", "/")
    assert archive["properties"] == {"AssetBundle": record_id}

    with tarfile.open(fileobj=io.BytesIO(read_file(engine, file_id)), mode="r:gz") as tar:
        members = {m.name: m for m in tar.getmembers()}
        made = tar.extractfile("usr/local/bin/asset-made")
        assert made is not None and made.read() == b'#!/bin/sh\necho "made by make"\n'
    for name in ("usr/bin/tree", "usr/local/bin/asset-hello", "usr/local/bin/asset-made"):
        assert members[name].isfile() and members[name].mode & 0o111, name
    leaked = [n for n in members if any(n == top or n.startswith(top + "/") for top in NOT_PACKED)]
    assert leaked == []
    assert not any(n.startswith("/") or ".." in n.split("/") for n in members)

    listed = json.loads(ok(runner_cli(engine_home, "asset", "list", "--json")))
    mine = [a for a in listed if a["id"] == record_id]
    assert mine == [{"name": "tool_asset", "version": "1.2.0", "release": "24.04", "id": record_id,
                     "project": engine.project, "folder": "/", "archive": file_id,
                     "archiveSize": archive["size"]}]


def test_import_under_a_platform_id_is_listed(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    archive = make_archive(tmp_path / "samtools_asset.tar.gz", [
        regular("usr/local/bin/imported-tool", b"#!/bin/sh\necho imported\n"),
        link("usr/local/bin/imported-alias", "/etc/alternatives/imported"),  # absolute, as packages make them
    ])
    record_id = random_record_id()
    imported = ok(runner_cli(engine_home, "asset", "import", str(archive), "--name", "samtools_asset",
                             "--version", "1.9.0", "--as", record_id, "--release", "20.04", "--title", "samtools"))
    assert imported.strip() == record_id
    record = describe(engine, record_id)
    assert (record["types"], record["name"], record["state"]) == (["AssetBundle"], "samtools_asset", "closed")
    assert record["properties"] == {"version": "1.9.0", "distribution": "Ubuntu", "release": "20.04",
                                    "title": "samtools"}
    file_id = record["details"]["archiveFileId"]["$dnanexus_link"]
    assert describe(engine, file_id)["properties"] == {"AssetBundle": record_id}
    assert read_file(engine, file_id) == archive.read_bytes()

    table = ok(runner_cli(engine_home, "asset", "list")).splitlines()
    assert table[0].split() == ["NAME", "VERSION", "RELEASE", "RECORD", "SIZE"]
    assert ["samtools_asset", "1.9.0", "20.04", record_id, str(archive.stat().st_size)] in \
        [line.split() for line in table[1:]]

    again = runner_cli(engine_home, "asset", "import", str(archive), "--name", "other", "--version", "1",
                       "--as", record_id)
    assert again.returncode == 3 and record_id in again.stderr and "already used" in again.stderr
    malformed = runner_cli(engine_home, "asset", "import", str(archive), "--name", "other", "--version", "1",
                           "--as", "record-123")
    assert malformed.returncode == 3 and "record-123" in malformed.stderr and "'id'" in malformed.stderr
    assert "other" not in asset_names(engine)

    twin = runner_cli(engine_home, "asset", "import", str(archive), "--name", "samtools_asset", "--version", "1.9.0")
    twin_id = ok(twin).strip()
    assert twin_id != record_id and "already has asset samtools_asset 1.9.0" in twin.stderr
    assert record_id in twin.stderr and "runner rm" in twin.stderr


def test_import_route_reads_only_a_regular_file(engine: EngineClient, tmp_path: Path) -> None:
    fifo = tmp_path / "pipe.tar"
    os.mkfifo(fifo)
    with pytest.raises(InvalidInput, match="is not a regular file") as refused:
        engine.call("/runner/importAsset", {"archive": str(fifo), "name": "p", "version": "1"})
    assert refused.value.details["field"] == "archive"
    with pytest.raises(InvalidInput, match="absolute path"):
        engine.call("/runner/importAsset", {"archive": "relative.tar", "name": "p", "version": "1"})
    with pytest.raises(InvalidInput, match="unknown key 'colour'"):
        engine.call("/runner/importAsset", {"archive": str(fifo), "name": "p", "version": "1", "colour": "x"})
    with pytest.raises(InvalidInput, match="`version` must be"):
        engine.call("/runner/importAsset", {"archive": str(fifo), "name": "p"})


def test_bad_dxasset_exits_3_naming_each_field(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    folder = tmp_path / "bad_asset"
    folder.mkdir()
    (folder / "dxasset.json").write_text(json.dumps({
        "name": "bad asset", "title": "t", "description": "d", "release": "18.04", "distribution": "Debian",
        "execDepends": [{"name": "bio", "package_manager": "gem"}], "instanceType": "mem9_nothing"}))
    result = runner_cli(engine_home, "asset", "build", str(folder))
    assert result.returncode == 3 and result.stdout == ""
    for path in ("name:", "version: is required", "release:", "distribution:", "execDepends[0].package_manager:",
                 "instanceType:"):
        assert path in result.stderr, (path, result.stderr)
    as_json = json.loads(runner_cli(engine_home, "asset", "build", str(folder), "--json").stdout)
    assert as_json["valid"] is False
    assert {p["path"] for p in as_json["problems"]} == {"name", "version", "release", "distribution",
                                                        "execDepends[0].package_manager", "instanceType"}
    # The engine refuses it the same way when asked directly, before Docker is involved.
    with pytest.raises(InvalidInput) as refused:
        engine.call("/runner/buildAsset", {"source": str(folder)})
    assert "execDepends[0].package_manager" in str(refused.value)
    missing = runner_cli(engine_home, "asset", "build", str(tmp_path))
    assert missing.returncode == 3 and "no dxasset.json" in missing.stderr


@pytest.mark.parametrize(("members", "named"), [
    ([regular("../../etc/x", b"owned\n")], "../../etc/x"),
    ([regular("/etc/x", b"owned\n", 0o644)], "/etc/x"),
    ([link("etc-link", "/etc"), regular("etc-link/cron.d/x", b"* * * * * root sh\n", 0o644)], "etc-link"),
    ([link("usr/lib/up", "../../../../etc")], "usr/lib/up"),
    ([link("passwd", "/etc/passwd", tarfile.LNKTYPE)], "/etc/passwd"),
])
def test_hostile_archive_is_refused_on_import(engine: EngineClient, engine_home: Path, tmp_path: Path,
                                              members: list[tuple[tarfile.TarInfo, bytes | None]],
                                              named: str) -> None:
    archive = make_archive(tmp_path / "hostile.tar.gz", members)
    before = asset_names(engine)
    result = runner_cli(engine_home, "asset", "import", str(archive), "--name", "hostile", "--version", "1")
    assert result.returncode == 3, (result.stdout, result.stderr)
    assert named in result.stderr and "refused" in result.stderr and result.stdout == ""
    assert asset_names(engine) == before
    files = engine.call("/system/findDataObjects", {"class": "file", "name": "hostile.tar.gz"})["results"]
    assert files == []


def test_not_an_archive_is_refused(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    text = tmp_path / "notes.tar.gz"
    text.write_text("just some text, named like an archive\n")
    result = runner_cli(engine_home, "asset", "import", str(text), "--name", "notes", "--version", "1")
    assert result.returncode == 3 and "is not a tar, tar.gz or tar.bz2 archive" in result.stderr
    bzip2 = make_archive(tmp_path / "tool.tar.bz2", [regular("usr/local/bin/bz-tool", b"#!/bin/sh\n")], "w:bz2")
    record_id = ok(runner_cli(engine_home, "asset", "import", str(bzip2), "--name", "bz_asset", "--version", "3",
                              cwd=REPO)).strip()
    archive_id = describe(engine, record_id)["details"]["archiveFileId"]["$dnanexus_link"]
    assert describe(engine, archive_id)["name"] == "tool.tar.bz2"


def asset_folder(tmp_path: Path, depends: list[dict[str, str]], makefile: str | None = None) -> Path:
    folder = tmp_path / "asset"
    folder.mkdir()
    (folder / "dxasset.json").write_text(json.dumps({
        "name": "failing", "title": "t", "description": "d", "version": "1", "release": "24.04",
        "execDepends": depends}))
    if makefile is not None:
        (folder / "Makefile").write_text(makefile)
    return folder


@pytest.mark.parametrize(("depends", "makefile", "expected"), [
    ([], "all:\n\techo compiling the tool\n\texit 7\n", ["at step 'make'", "compiling the tool"]),
    ([{"name": "no-such-package-for-runner-tests"}], None,
     ["at step 'apt-get install no-such-package-for-runner-tests'",
      "apt package no-such-package-for-runner-tests is not available"]),
])
def test_a_failing_step_is_named_and_leaves_nothing(engine: EngineClient, engine_home: Path, tmp_path: Path,
                                                    client: Any, depends: list[dict[str, str]],
                                                    makefile: str | None, expected: list[str]) -> None:
    result = runner_cli(engine_home, "asset", "build", str(asset_folder(tmp_path, depends, makefile)))
    assert result.returncode == 1 and result.stdout == ""
    assert "could not be built" in result.stderr and "internal error" not in result.stderr
    for text in expected:
        assert text in result.stderr, (text, result.stderr)
    assert "failing" not in asset_names(engine)
    left = client.containers.list(all=True, filters={"label": [f"runner.home={engine_home}",
                                                               "runner.kind=asset-build"]})
    assert left == []
