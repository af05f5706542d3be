"""Where the daemon puts its Unix socket: in the state folder, unless that path would be too long."""

from __future__ import annotations

from pathlib import Path

from runner.api.daemon import MAX_SOCKET_PATH, api_socket_dir
from runner.home_files import API_SOCKET_NAME


def test_a_short_home_keeps_the_socket_inside_it(tmp_path: Path) -> None:
    assert api_socket_dir(tmp_path) == tmp_path / "api"


def test_a_deep_home_gets_a_short_socket_folder_of_its_own(tmp_path: Path) -> None:
    deep = tmp_path / ("d" * 60) / ("e" * 60)
    chosen = api_socket_dir(deep)
    assert len(str(chosen / API_SOCKET_NAME).encode()) <= MAX_SOCKET_PATH
    assert chosen == api_socket_dir(deep) != api_socket_dir(deep / "other")
