"""The four requesting levels of system requirements, passed alike to effective_requirements and
described_requirements: each resource from the first level that sets it, named in `sources`."""

from __future__ import annotations

from runner.spec.system_requirements import RequirementLevels, described_requirements, effective_requirements

APPLET = "applet-1"
LEVELS: RequirementLevels = {
    "merged_by_executable": {APPLET: {"main": {"clusterSpec": {"type": "spark"}}}, "*": {"qc": {"fpgaDriver": "x"}}},
    "master_run_requirements": {"*": {"nvidiaDriver": "R470"}},
    "job_new_requirements": {"main": {"fpgaDriver": "edico-1.4.7"}, "align": {"instanceType": "mem3_ssd1_x8"}},
    "run_spec_requirements": {"*": {"instanceType": "mem1_ssd1_v2_x4", "nvidiaDriver": "R535"}},
}


def test_each_resource_comes_from_the_first_level_that_sets_it() -> None:
    resolved = effective_requirements(APPLET, "main", **LEVELS)
    assert resolved.as_request() == {"instanceType": "mem1_ssd1_v2_x4", "fpgaDriver": "edico-1.4.7",
                                     "nvidiaDriver": "R470", "clusterSpec": {"type": "spark"}}
    assert resolved.sources == {"instanceType": "runSpec.systemRequirements",
                                "fpgaDriver": "job/new systemRequirements", "nvidiaDriver": "run systemRequirements",
                                "clusterSpec": "systemRequirementsByExecutable"}


def test_described_has_every_named_entry_point_each_resolved_as_effective_resolves_it() -> None:
    described = described_requirements(APPLET, "main", **LEVELS)
    assert list(described) == ["main", "qc", "*", "align"]
    for entry_point, request in described.items():
        assert request == effective_requirements(APPLET, entry_point, **LEVELS).as_request()
    assert described["align"]["instanceType"] == "mem3_ssd1_x8"


def test_no_level_at_all_is_the_default_for_the_jobs_entry_point() -> None:
    assert described_requirements(APPLET, "qc") == {"qc": {"instanceType": "mem2_ssd1_v2_x2"}}
    assert effective_requirements(APPLET, "qc", default_instance_type="mem1_ssd1_v2_x2").sources == {
        "instanceType": "default"}
