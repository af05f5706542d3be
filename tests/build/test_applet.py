"""Building an applet from a folder: the content ID, the stored files, the resources bundle, the image tag."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path

from runner.build._applet_image import dockerfile, image_tag
from runner.build._bundle import FIXED_MTIME, write_resources_tar
from runner.build.applet import applet_id_of
from runner.spec.ids import is_id
from runner.spec.run_spec import ExecDepend


def resources(tmp_path: Path) -> Path:
    root = tmp_path / "resources"
    (root / "usr" / "local" / "bin").mkdir(parents=True)
    tool = root / "usr" / "local" / "bin" / "tool"
    tool.write_text("#!/bin/sh\necho tool\n")
    tool.chmod(0o700)
    data = root / "opt" / "data.txt"
    data.parent.mkdir(mode=0o700)
    data.write_text("data")
    data.chmod(0o600)
    os.symlink("tool", root / "usr" / "local" / "bin" / "alias")
    os.symlink("/etc/hostname", root / "opt" / "outside")
    return root


def members(data: bytes) -> dict[str, tarfile.TarInfo]:
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        return {member.name: member for member in tar.getmembers()}


def test_the_resources_tar_is_deterministic_with_paths_from_root_and_a_plus_rx(tmp_path: Path) -> None:
    source = resources(tmp_path)
    write_resources_tar(source, tmp_path / "one.tar")
    os.utime(source / "opt" / "data.txt", (1, 1))
    write_resources_tar(source, tmp_path / "two.tar")
    first = (tmp_path / "one.tar").read_bytes()
    assert first == (tmp_path / "two.tar").read_bytes()
    found = members(first)
    assert list(found) == sorted(found) == [
        "opt", "opt/data.txt", "opt/outside", "usr", "usr/local", "usr/local/bin",
        "usr/local/bin/alias", "usr/local/bin/tool",
    ]
    assert found["usr/local/bin/tool"].mode == 0o755 and found["opt/data.txt"].mode == 0o644
    assert found["opt"].mode == 0o755 and found["opt"].isdir()
    assert found["usr/local/bin/alias"].issym() and found["usr/local/bin/alias"].linkname == "tool"
    assert found["opt/outside"].linkname == "/etc/hostname"
    assert {(m.uid, m.gid, m.uname, m.mtime) for m in found.values()} == {(0, 0, "root", FIXED_MTIME)}


def test_fifos_are_left_out_and_reported(tmp_path: Path) -> None:
    source = tmp_path / "resources"
    source.mkdir()
    os.mkfifo(source / "pipe")
    (source / "file").write_text("x")
    assert write_resources_tar(source, tmp_path / "r.tar") == ["pipe"]
    assert list(members((tmp_path / "r.tar").read_bytes())) == ["file"]


def test_the_applet_id_follows_the_document_code_and_resources() -> None:
    document = {"name": "a", "runSpec": {"interpreter": "bash", "file": "a.sh"}}
    first = applet_id_of(document, b"main() { :; }", None)
    assert is_id(first, "applet")
    assert applet_id_of(json.loads(json.dumps(document, indent=4)), b"main() { :; }", None) == first
    assert applet_id_of(document, b"main() { true; }", None) != first
    assert applet_id_of(document, b"main() { :; }", "0" * 64) != first
    assert applet_id_of({**document, "title": "A"}, b"main() { :; }", None) != first


def test_the_image_tag_ignores_stages_and_order_but_not_versions_or_the_runtime() -> None:
    tree, six = ExecDepend("tree"), ExecDepend("six", "pip3", "1.16.0")
    tag = image_tag("24.04", "sha256:a", [tree, six])
    assert tag.startswith("applet-runner/applet:")
    assert image_tag("24.04", "sha256:a", [six, ExecDepend("tree", stages=("main",))]) == tag
    assert image_tag("24.04", "sha256:a", [ExecDepend("six", "pip", "1.16.0"), tree]) == tag
    assert image_tag("24.04", "sha256:b", [tree, six]) != tag
    assert image_tag("24.04", "sha256:a", [ExecDepend("tree", version="2.1.0-1"), six]) != tag


def test_the_dockerfile_installs_apt_then_pip_from_the_wheels() -> None:
    text = dockerfile("applet-runner/runtime:ubuntu-24.04", ["tree", "samtools=1.19-1"], ["six==1.16.0"])
    lines = text.splitlines()
    assert lines[0] == "FROM applet-runner/runtime:ubuntu-24.04"
    assert "apt-get install --yes --no-install-recommends tree samtools=1.19-1" in lines[1]
    assert lines[2] == "COPY wheels/ /tmp/runner-wheels/"
    assert "--no-index --find-links /tmp/runner-wheels six==1.16.0" in lines[3]
    assert "apt-get" not in dockerfile("base", [], ["six"])
