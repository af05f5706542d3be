"""What a build reads from a source folder: links out of it, special files and sizes, on real files."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from runner.errors import SpecError
from runner.spec.dxapp import Dxapp, load_dxapp
from runner.spec.source_folder import MAX_LISTED, RESOURCES_MAX_BYTES

SCRIPT = "main() { :; }\n"


def applet(folder: Path, **run_spec: str) -> Path:
    (folder / "src").mkdir(parents=True, exist_ok=True)
    (folder / "src" / "code.sh").write_text(SCRIPT)
    spec = {"interpreter": "bash", "file": "src/code.sh", "distribution": "Ubuntu", "release": "24.04", **run_spec}
    (folder / "dxapp.json").write_text(json.dumps({"name": "t", "runSpec": spec}))
    return folder


@pytest.fixture
def host_file(tmp_path: Path) -> Path:
    """A file outside the applet folder that a link in it points to."""
    secret = tmp_path / "host" / "secret.txt"
    secret.parent.mkdir()
    secret.write_text("host secret\n")
    return secret


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    return applet(tmp_path / "app")


def problems_of(folder: Path) -> dict[str, str]:
    with pytest.raises(SpecError) as caught:
        load_dxapp(folder)
    return {p.path: p.message for p in caught.value.problems}


def test_a_readme_link_out_of_the_folder_is_refused_naming_where_it_points(folder: Path, host_file: Path) -> None:
    (folder / "Readme.md").symlink_to(host_file)
    (folder / "Readme.developer.md").symlink_to("../host")
    problems = problems_of(folder)
    assert problems["Readme.md"] == f"is a link to {str(host_file)!r}, outside the applet folder"
    assert problems["Readme.developer.md"].startswith("is a link to '../host' (")
    assert all("host secret" not in message for message in problems.values())


def test_links_that_stay_inside_are_followed(folder: Path) -> None:
    (folder / "docs").mkdir()
    (folder / "docs" / "readme.md").write_text("# Inside\n")
    (folder / "Readme.md").symlink_to("docs/readme.md")
    (folder / "src" / "real.sh").write_text("main() { echo real; }\n")
    (folder / "src" / "entry.sh").symlink_to("real.sh")
    (folder / "dxapp.json").write_text(json.dumps({"name": "t", "runSpec": {
        "interpreter": "bash", "file": "src/entry.sh", "distribution": "Ubuntu", "release": "24.04"}}))
    dxapp = load_dxapp(folder)
    assert dxapp.description == "# Inside\n" and "echo real" in dxapp.run_spec.code


def test_dxapp_json_itself_a_link_out_or_a_fifo(tmp_path: Path, host_file: Path) -> None:
    outside = applet(tmp_path / "elsewhere")
    linked = tmp_path / "linked"
    linked.mkdir()
    (linked / "dxapp.json").symlink_to(outside / "dxapp.json")
    assert problems_of(linked) == {"dxapp.json": f"is a link to {str(outside / 'dxapp.json')!r}, "
                                                 "outside the applet folder"}
    piped = tmp_path / "piped"
    piped.mkdir()
    os.mkfifo(piped / "dxapp.json")
    assert problems_of(piped) == {"dxapp.json": "is a FIFO (named pipe); a build reads only regular files"}


def test_run_spec_file_through_a_linked_folder_is_refused(tmp_path: Path, host_file: Path) -> None:
    folder = applet(tmp_path / "app", file="lib/secret.txt")
    (folder / "lib").symlink_to(host_file.parent)
    problems = problems_of(folder)
    assert problems["runSpec.file"] == (f"'lib/secret.txt' goes through lib, a link to {str(host_file.parent)!r}, "
                                        "outside the applet folder")


def test_links_out_of_src_and_resources_are_refused_and_inside_ones_kept(folder: Path, host_file: Path) -> None:
    bin_dir = folder / "resources" / "usr" / "bin"
    bin_dir.mkdir(parents=True)
    (bin_dir / "tool").write_text("#!/bin/sh\n")
    (bin_dir / "alias").symlink_to("tool")
    (bin_dir / "dangling").symlink_to("not-there-yet")
    (bin_dir / "escape").symlink_to("../../../../host/secret.txt")
    (bin_dir / "absolute").symlink_to(host_file)
    (folder / "src" / "data").symlink_to(host_file.parent)
    assert problems_of(folder) == {
        "resources/usr/bin/escape": f"is a link to '../../../../host/secret.txt' ({host_file}), "
                                    "outside the applet folder",
        "resources/usr/bin/absolute": f"is a link to {str(host_file)!r}, outside the applet folder",
        "src/data": f"is a link to {str(host_file.parent)!r}, outside the applet folder",
    }
    for name in ("escape", "absolute"):
        (bin_dir / name).unlink()
    (folder / "src" / "data").unlink()
    assert isinstance(load_dxapp(folder), Dxapp)


def test_resources_itself_a_link_out_is_refused(folder: Path, host_file: Path) -> None:
    (folder / "resources").symlink_to(host_file.parent)
    assert problems_of(folder) == {"resources": f"is a link to {str(host_file.parent)!r}, outside the applet folder"}


@pytest.fixture
def unix_socket(folder: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    path = folder / "resources" / "s.sock"
    path.parent.mkdir(exist_ok=True)
    # Bound by a relative name: a socket's path is limited to 107 bytes, and test folders can be deep.
    monkeypatch.chdir(path.parent)
    server = socket.socket(socket.AF_UNIX)
    server.bind(path.name)
    yield path
    server.close()


def test_fifos_and_sockets_are_refused_by_name(folder: Path, unix_socket: Path) -> None:
    os.mkfifo(folder / "resources" / "pipe")
    os.mkfifo(folder / "Readme.md")
    os.mkfifo(folder / "src" / "later.sh")
    assert problems_of(folder) == {
        "resources/pipe": "is a FIFO (named pipe); a build takes only files, folders and links",
        "resources/s.sock": "is a socket; a build takes only files, folders and links",
        "src/later.sh": "is a FIFO (named pipe); a build takes only files, folders and links",
        "Readme.md": "is a FIFO (named pipe); a build reads only regular files",
    }


def test_a_fifo_entry_point_is_refused(tmp_path: Path) -> None:
    folder = applet(tmp_path / "app", file="src/pipe.sh")
    os.mkfifo(folder / "src" / "pipe.sh")
    assert problems_of(folder)["runSpec.file"] == "'src/pipe.sh' is a FIFO (named pipe); a build reads only regular files"


def test_many_refused_paths_are_counted_after_the_first_ones(folder: Path) -> None:
    (folder / "resources").mkdir()
    for index in range(MAX_LISTED + 5):
        os.mkfifo(folder / "resources" / f"p{index:02}")
    problems = problems_of(folder)
    assert len(problems) == MAX_LISTED + 1
    assert problems["resources"] == f"5 more paths refused as above (the first {MAX_LISTED} are listed)"


def test_a_sparse_2_gb_file_is_warned_about_with_its_size(folder: Path) -> None:
    (folder / "resources" / "data").mkdir(parents=True)
    subprocess.run(["truncate", "-s", "2G", str(folder / "resources" / "data" / "big.bin")], check=True)
    warnings = {w.path: w.message for w in load_dxapp(folder).warnings}
    assert warnings == {
        "resources/data/big.bin": "is 2.0 GiB (2147483648 bytes) (a sparse file counts at its full size), over "
                                  "512.0 MiB (536870912 bytes): it is stored in the applet and unpacked in every job",
        "resources": "holds 2.0 GiB (2147483648 bytes) in all, over 1.0 GiB (1073741824 bytes): it is stored as "
                     "one tar file and unpacked in every job",
    }


def test_resources_over_the_hard_limit_are_refused(folder: Path) -> None:
    (folder / "resources").mkdir()
    huge = RESOURCES_MAX_BYTES // 2 + 1
    for name in ("a.bin", "b.bin"):
        subprocess.run(["truncate", "-s", str(huge), str(folder / "resources" / name)], check=True)
    problems = problems_of(folder)
    assert problems["resources"].startswith(f"holds 32.0 GiB ({2 * huge} bytes), over the limit of 32.0 GiB")


def test_a_readme_that_is_not_utf8_is_a_problem(folder: Path) -> None:
    (folder / "Readme.md").write_bytes(b"caf\xe9\n")
    assert problems_of(folder) == {"Readme.md": "is not UTF-8 text (byte 3)"}


def test_resources_itself_a_fifo_is_refused_and_a_plain_file_ignored(folder: Path) -> None:
    os.mkfifo(folder / "resources")
    assert problems_of(folder) == {"resources": "is a FIFO (named pipe); a build takes only files, folders and links"}
    (folder / "resources").unlink()
    (folder / "resources").write_text("not a folder\n")
    assert isinstance(load_dxapp(folder), Dxapp)
