"""What a restarted daemon takes over from the one before: its port, and when it was last alive."""

from __future__ import annotations

import logging
import os
import socket
from pathlib import Path

import pytest

from runner.api.daemon import choose_port, last_heartbeat_ms
from runner.home_files import ENGINE_ALIVE, ENGINE_PORT

HOSTS = ("127.0.0.1",)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_first_start_takes_any_port(tmp_path: Path) -> None:
    assert choose_port(tmp_path, 0, HOSTS) == (0, None)


def test_a_restart_takes_the_port_of_the_engine_before(tmp_path: Path) -> None:
    port = _free_port()
    (tmp_path / ENGINE_PORT).write_text(f"{port}\n")
    assert choose_port(tmp_path, 0, HOSTS) == (port, None)


def test_an_explicit_port_wins(tmp_path: Path) -> None:
    (tmp_path / ENGINE_PORT).write_text("4000\n")
    assert choose_port(tmp_path, 4100, HOSTS) == (4100, None)


@pytest.mark.parametrize("junk", ["", "not a port", "70000", "-1"])
def test_a_damaged_port_file_means_any_port(tmp_path: Path, junk: str) -> None:
    (tmp_path / ENGINE_PORT).write_text(junk)
    assert choose_port(tmp_path, 0, HOSTS) == (0, None)


def test_a_port_taken_by_another_program_is_given_up_and_the_log_says_so(
        tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen(1)
        port = int(squatter.getsockname()[1])
        (tmp_path / ENGINE_PORT).write_text(f"{port}\n")
        with caplog.at_level(logging.WARNING, logger="runner.engine"):
            assert choose_port(tmp_path, 0, HOSTS) == (0, port)
    assert f"port {port} of the previous engine is taken by another program" in caplog.text
    assert "jobs with network access were told port" in caplog.text


def test_the_last_heartbeat_is_the_time_the_file_was_last_touched(tmp_path: Path) -> None:
    assert last_heartbeat_ms(tmp_path) is None
    (tmp_path / ENGINE_ALIVE).touch()
    os.utime(tmp_path / ENGINE_ALIVE, (1_700_000_000.25, 1_700_000_000.25))
    assert last_heartbeat_ms(tmp_path) == 1_700_000_000_250
