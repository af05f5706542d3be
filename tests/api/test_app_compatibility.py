"""The reasons /app-xxxx/isCompatible finds, each rule's words and their order (inputs, added inputs, outputs)."""

from __future__ import annotations

from runner.api.apps.compatibility import incompatibilities

OTHER = {
    "inputSpec": [{"name": "reads", "class": "file"}, {"name": "min_q", "class": "int", "optional": True},
                  {"name": "ref", "class": "file"}, {"name": "mode", "class": "string", "default": "fast"}],
    "outputSpec": [{"name": "bam", "class": "file"}, {"name": "stats", "class": "hash"},
                   {"name": "log", "class": "file", "optional": True}],
}


def test_every_breaking_change_is_named_once_in_order() -> None:
    new = {
        "inputSpec": [{"name": "reads", "class": "array:file"}, {"name": "min_q", "class": "int"},
                      {"name": "mode", "class": "string", "default": "fast"}, {"name": "genome", "class": "file"},
                      {"name": "threads", "class": "int", "optional": True}],
        "outputSpec": [{"name": "bam", "class": "file"}, {"name": "stats", "class": "string"},
                       {"name": "log", "class": "file"}],
    }
    assert incompatibilities(new, OTHER) == [
        "input 'reads' changed its class or type",
        "input 'min_q' was optional and is required",
        "input 'ref' was removed or renamed",
        "input 'genome' was added as a required input",
        "output 'stats' changed its class or type",
    ]


def test_an_output_removed_is_named_and_compatible_changes_are_not() -> None:
    new = {
        "inputSpec": [{"name": "reads", "class": "file", "label": "Reads"}, {"name": "min_q", "class": "int",
                      "default": 20}, {"name": "ref", "class": "file", "optional": True},
                      {"name": "mode", "class": "string", "optional": True}],
        "outputSpec": [{"name": "bam", "class": "file", "help": "sorted"}, {"name": "bai", "class": "file"}],
    }
    assert incompatibilities(new, OTHER) == ["output 'stats' was removed or renamed",
                                             "output 'log' was removed or renamed"]
    assert incompatibilities(OTHER, OTHER) == []
    assert incompatibilities({}, {}) == [] and incompatibilities({"inputSpec": "junk"}, {"outputSpec": None}) == []
