"""assetDepends and bundledDepends against the real engine (real Docker, real store, real dxpy in the jobs): assets
resolved at build by name and version or by ID, archives and plain files reaching / before the job's code runs,
hostile archives refused at build, and bundles unpacked once into the applet's image, not at each job start."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest

from runner.client.api import EngineClient
from runner.client.files import upload_file
from tests.integration.helpers import runner_cli, wait_terminal

pytestmark = pytest.mark.docker

RELEASE = "24.04"
Member = bytes | tuple[str, str]
"""A regular file's content, or ("symlink", target)."""


def _archive(path: Path, members: dict[str, Member], mode: str = "w:gz") -> Path:
    """A tar archive at `path` (compressed as `mode` says) holding `members`; executable regular files."""
    with tarfile.open(path, mode) as tar:
        for name, content in members.items():
            info = tarfile.TarInfo(name)
            if isinstance(content, tuple):
                info.type, info.linkname = tarfile.SYMTYPE, content[1]
                tar.addfile(info)
            else:
                info.size, info.mode = len(content), 0o755
                tar.addfile(info, io.BytesIO(content))
    return path


def _tool(name: str, says: str) -> dict[str, Member]:
    return {f"usr/local/bin/{name}": f"#!/bin/sh\necho {says}\n".encode()}


def _upload(engine: EngineClient, path: Path, folder: str = "/bundles", project: str | None = None) -> str:
    return upload_file(engine, path, project=project or engine.project, folder=folder)


def _asset(engine: EngineClient, name: str, version: str, archive: Path, folder: str = "/assets",
           project: str | None = None, release: str = RELEASE) -> str:
    """A closed AssetBundle record as `runner asset build` makes one; its ID."""
    project = project or engine.project
    file_id = _upload(engine, archive, folder, project)
    record = engine.call("/record/new", {
        "project": project, "name": name, "folder": folder, "parents": True, "types": ["AssetBundle"],
        "details": {"archiveFileId": {"$dnanexus_link": file_id}},
        "properties": {"version": version, "distribution": "Ubuntu", "release": release},
    })["id"]
    engine.call(f"/{record}/close", {})
    return str(record)


def _applet(folder: Path, run_spec: dict[str, Any], body: str) -> Path:
    """An applet folder whose main runs `body` (bash) and outputs its stdout as `out`."""
    (folder / "src").mkdir(parents=True)
    (folder / "src" / "code.sh").write_text(
        f'main() {{\n  out=$({body})\n  echo "$out"\n  dx-jobutil-add-output out "$out" --class=string\n}}\n'
        'other() {\n  dx-jobutil-add-output out "$(ls /staged-other.txt 2>&1)" --class=string\n}\n')
    document = {
        "name": folder.name, "dxapi": "1.0.0", "version": "0.0.1",
        "inputSpec": [], "outputSpec": [{"name": "out", "class": "string"}],
        "runSpec": {"interpreter": "bash", "file": "src/code.sh", "distribution": "Ubuntu", "release": RELEASE,
                    "timeoutPolicy": {"*": {"minutes": 10}}, **run_spec},
    }
    (folder / "dxapp.json").write_text(json.dumps(document))
    return folder


def _build(engine: EngineClient, folder: Path) -> dict[str, Any]:
    return engine.call("/runner/build", {"folder": str(folder)}, timeout_s=None)  # type: ignore[no-any-return]


def _run(engine: EngineClient, applet: str, **extra: Any) -> dict[str, Any]:
    job = engine.call(f"/{applet}/run", {"project": engine.project, "input": {}, **extra})["id"]
    return wait_terminal(engine, job, timeout_s=300)


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


def test_an_asset_named_by_name_and_version_and_one_by_id_give_their_tools(
        engine: EngineClient, tmp_path: Path) -> None:
    first, second = _unique("samtools"), _unique("bcftools")
    _asset(engine, first, "1.2.0", _archive(tmp_path / f"{first}.tar.gz", _tool(first, f"{first}-works")))
    record = _asset(engine, second, "0.9", _archive(tmp_path / f"{second}.tar.gz", _tool(second, "by-id")))

    by_name = _applet(tmp_path / "by_name", {"assetDepends": [{"name": first, "version": "1.2.0"}]}, first)
    by_id = _applet(tmp_path / "by_id", {"assetDepends": [{"id": record}]}, second)
    applets = [_build(engine, by_name)["id"], _build(engine, by_id)["id"]]

    jobs = [_run(engine, applet) for applet in applets]
    assert [(j["state"], j.get("output")) for j in jobs] == [
        ("done", {"out": f"{first}-works"}), ("done", {"out": "by-id"})]
    described = engine.call(f"/{applets[1]}/describe", {})
    (bundled,) = described["runSpec"]["bundledDepends"]
    assert bundled["name"] == f"{second}.tar.gz" and bundled["id"]["$dnanexus_link"].startswith("file-")
    assert described["runSpec"]["assetDepends"] == [{"id": record}]


def test_a_re_imported_asset_makes_a_new_applet(engine: EngineClient, tmp_path: Path) -> None:
    name = _unique("tool")
    old = _asset(engine, name, "1", _archive(tmp_path / "old.tar.gz", _tool(name, "old")))
    folder = _applet(tmp_path / "reimported", {"assetDepends": [{"name": name, "version": "1"}]}, name)
    before = _build(engine, folder)["id"]
    assert engine.call("/runner/sourceId", {"folder": str(folder)})["built"] is True
    engine.call(f"/{engine.project}/removeObjects", {"objects": [old]})
    _asset(engine, name, "1", _archive(tmp_path / "new.tar.gz", _tool(name, "new")))

    # The source folder did not change, but its applet did: it is no longer built.
    unbuilt = engine.call("/runner/sourceId", {"folder": str(folder)})
    assert unbuilt["built"] is False and unbuilt["id"] != before
    after = _build(engine, folder)["id"]
    assert after == unbuilt["id"]
    assert _run(engine, after)["output"] == {"out": "new"}


def test_a_missing_asset_exits_3_naming_the_entry_and_the_commands(engine_home: Path, tmp_path: Path) -> None:
    folder = _applet(tmp_path / "missing", {"assetDepends": [{"name": "nosuch", "version": "2.0"}]}, "true")
    result = runner_cli(engine_home, "build", str(folder))
    assert result.returncode == 3, result.stderr
    assert "runSpec.assetDepends[0]" in result.stderr and "'nosuch' version '2.0'" in result.stderr
    assert "runner asset build DIR" in result.stderr
    assert "runner asset import ARCHIVE --name nosuch --version 2.0" in result.stderr


def test_two_matching_assets_exit_3_listing_both(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    name = _unique("twice")
    archive = _archive(tmp_path / "a.tar.gz", _tool(name, "a"))
    records = [_asset(engine, name, "3", archive, folder="/one"), _asset(engine, name, "3", archive, folder="/two")]
    folder = _applet(tmp_path / "ambiguous", {"assetDepends": [{"name": name, "version": "3"}]}, name)
    result = runner_cli(engine_home, "build", str(folder))
    assert result.returncode == 3, result.stderr
    assert "runSpec.assetDepends[0]" in result.stderr and "matches 2 records" in result.stderr
    assert all(record in result.stderr for record in records)

    # Named with its project and folder, the one in /two is the one.
    pinned = _applet(tmp_path / "pinned", {"assetDepends": [
        {"name": name, "version": "3", "project": engine.project, "folder": "/two"}]}, name)
    assert _run(engine, _build(engine, pinned)["id"])["output"] == {"out": "a"}


def test_an_asset_of_another_release_is_refused(engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    name = _unique("old-release")
    record = _asset(engine, name, "1", _archive(tmp_path / "x.tar.gz", _tool(name, "x")), release="20.04")
    folder = _applet(tmp_path / "release", {"assetDepends": [{"id": record}]}, name)
    result = runner_cli(engine_home, "build", str(folder))
    assert result.returncode == 3, result.stderr
    assert "runSpec.assetDepends[0]" in result.stderr and "built for Ubuntu 20.04" in result.stderr


def _bundled(engine: EngineClient, tmp_path: Path) -> list[dict[str, Any]]:
    """bundledDepends of a tar.gz, a tar.bz2 (named without a suffix), a plain file, and two staged archives."""
    files = [
        ("tools.tar.gz", _archive(tmp_path / "t.tgz", {"opt/gz/hello.txt": b"from gz\n"}), None),
        ("tools-bz2", _archive(tmp_path / "t.bz2", {"opt/bz2/hello.txt": b"from bz2\n"}, "w:bz2"), None),
        ("reference.txt", tmp_path / "reference.txt", None),
        ("main.tar", _archive(tmp_path / "m.tar", {"staged-main.txt": b"main only\n"}, "w"), ["main"]),
        ("other.tar", _archive(tmp_path / "o.tar", {"staged-other.txt": b"other only\n"}, "w"), ["other"]),
    ]
    (tmp_path / "reference.txt").write_text("plain file\n")
    return [{"name": name, "id": {"$dnanexus_link": _upload(engine, path)}, **({"stages": s} if s else {})}
            for name, path, s in files]


def test_bundled_archives_and_files_reach_root_once_unpacked_in_the_image(
        engine: EngineClient, engine_home: Path, tmp_path: Path) -> None:
    body = ("cat /opt/gz/hello.txt /opt/bz2/hello.txt /reference.txt /staged-main.txt; "
            "ls /staged-other.txt 2>&1; stat -c %Z /opt/gz/hello.txt")
    folder = _applet(tmp_path / "bundled", {"bundledDepends": _bundled(engine, tmp_path)}, body)
    built = _build(engine, folder)
    assert built["imageBuilt"] is True
    first, second = _run(engine, built["id"]), _run(engine, built["id"])

    lines = first["output"]["out"].splitlines()
    assert lines[:4] == ["from gz", "from bz2", "plain file", "main only"]
    assert "No such file" in lines[4]  # staged for `other` only
    # The image holds the unpacked files: both jobs see the same change time, not their own start's.
    assert second["output"]["out"] == first["output"]["out"]
    # The launcher unpacks only the staged archive of the entry point at each start.
    log = (engine_home / "jobs" / second["id"] / "job.log").read_text()
    assert "unpacked main.tar" in log and "tools.tar.gz" not in log
    again = _build(engine, folder)
    assert (again["id"], again["imageBuilt"]) == (built["id"], False)

    other = _run(engine, built["id"], entryPoint="other")
    assert other["output"] == {"out": "/staged-other.txt"}


@pytest.mark.parametrize(("members", "refusal"), [
    ({"../../etc/evil": b"x"}, "escapes / (it names '..')"),
    ({"opt/link": ("symlink", "/etc"), "opt/link/evil": b"x"}, "through the link /opt/link"),
])
def test_a_hostile_archive_is_refused_at_build(engine: EngineClient, engine_home: Path, tmp_path: Path,
                                               members: dict[str, Member], refusal: str) -> None:
    hostile = _upload(engine, _archive(tmp_path / "hostile.tar.gz", members))
    folder = _applet(tmp_path / "hostile", {"bundledDepends": [
        {"name": "hostile.tar.gz", "id": {"$dnanexus_link": hostile}}]}, "true")
    result = runner_cli(engine_home, "build", str(folder))
    assert result.returncode == 3, result.stderr
    assert "runSpec.bundledDepends[0]" in result.stderr and refusal in result.stderr


def test_a_link_planted_by_an_earlier_archive_is_not_followed(engine_home: Path, engine: EngineClient,
                                                              tmp_path: Path) -> None:
    planted = _upload(engine, _archive(tmp_path / "a.tar.gz", {"opt/plant": ("symlink", "/etc")}))
    follow = _upload(engine, _archive(tmp_path / "b.tar.gz", {"opt/plant/evil.conf": b"x"}))
    folder = _applet(tmp_path / "planted", {"bundledDepends": [
        {"name": "a.tar.gz", "id": {"$dnanexus_link": planted}},
        {"name": "b.tar.gz", "id": {"$dnanexus_link": follow}}]}, "true")
    result = runner_cli(engine_home, "build", str(folder))
    assert result.returncode == 3, result.stderr
    assert "runSpec.bundledDepends[1]" in result.stderr and "through the link /opt/plant" in result.stderr


def test_a_file_the_engine_does_not_hold_is_a_build_error(engine_home: Path, tmp_path: Path) -> None:
    folder = _applet(tmp_path / "unheld", {"bundledDepends": [
        {"name": "x.tar.gz", "id": {"$dnanexus_link": "file-" + "B" * 24}}]}, "true")
    result = runner_cli(engine_home, "build", str(folder))
    assert result.returncode == 3, result.stderr
    assert "runSpec.bundledDepends[0]" in result.stderr and "file-" + "B" * 24 in result.stderr
