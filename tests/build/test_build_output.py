"""The build's output as an error message quotes it: whole lines, even when the engine split them in chunks."""

from __future__ import annotations

from runner.build._docker import BuildOutput, tail


def test_a_line_sent_in_pieces_is_quoted_whole() -> None:
    output = BuildOutput()
    for chunk in ["Reading package lists...\nBuilding dep", "endency tree...\nE", ": Unable to locate package x\n"]:
        output.feed(chunk)
    assert list(output) == ["Reading package lists...", "Building dependency tree...",
                            "E: Unable to locate package x"]
    assert tail(output).splitlines()[-1] == "    | E: Unable to locate package x"


def test_the_last_line_without_its_newline_is_quoted_too() -> None:
    output = BuildOutput()
    output.feed("\x1b[31mE: Unable to locate package y\x1b[0m")
    assert list(output) == ["E: Unable to locate package y"]
