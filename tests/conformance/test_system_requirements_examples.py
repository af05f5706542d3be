"""The examples of "Requesting Instance Types" (applets-and-entry-points.md), one test each."""

from __future__ import annotations

from runner.spec.system_requirements import described_requirements, effective_requirements, merge_tree

X2, X4, X8, X16 = "mem2_ssd1_v2_x2", "mem2_ssd1_v2_x4", "mem2_ssd1_v2_x8", "mem1_ssd1_v2_x16"


def instance(chain: list, executable: str, entry_point: str, **levels: object) -> str:
    merged = merge_tree(chain)
    return effective_requirements(executable, entry_point, merged_by_executable=merged, **levels).instance_type  # type: ignore[arg-type]


def test_star_star_forces_every_job_and_beats_every_later_level() -> None:
    root = {"*": {"*": {"instanceType": X2}}}
    child = {"applet-1": {"main": {"instanceType": X16}}, "*": {"*": {"instanceType": X16}}}
    for executable, entry_point in (("applet-1", "main"), ("applet-2", "foo")):
        assert instance([root, child], executable, entry_point,
                        master_run_requirements={"*": {"instanceType": X16}},
                        job_new_requirements={"*": {"instanceType": X16}},
                        run_spec_requirements={"*": {"instanceType": X16}}) == X2


def test_executable_star_forces_all_entry_points_of_that_applet_only() -> None:
    root = {"applet-1": {"*": {"instanceType": X2}}}
    child = {"applet-1": {"main": {"instanceType": X16}, "foo": {"instanceType": X16}},
             "applet-2": {"main": {"instanceType": X16}}}
    assert instance([root, child], "applet-1", "main") == X2
    assert instance([root, child], "applet-1", "foo") == X2
    assert instance([root, child], "applet-2", "main") == X16


def test_executable_star_still_allows_overrides_of_the_other_keys() -> None:
    root = {"applet-1": {"*": {"instanceType": X2}}}
    child = {"applet-1": {"main": {"nvidiaDriver": "R535", "clusterSpec": {"initialInstanceCount": 2}}}}
    merged = merge_tree([root, child])
    resolved = effective_requirements("applet-1", "main", merged_by_executable=merged,
                                      run_spec_requirements={"main": {"fpgaDriver": "edico-1.4.2"}})
    assert resolved.instance_type == X2
    assert resolved.nvidia_driver == "R535"
    assert resolved.cluster_spec == {"initialInstanceCount": 2}
    assert resolved.fpga_driver == "edico-1.4.2"
    assert resolved.sources["fpgaDriver"] == "runSpec.systemRequirements"


def test_named_entry_point_forces_only_that_entry_point() -> None:
    root = {"applet-1": {"main": {"instanceType": X2}}}
    child = {"applet-1": {"main": {"instanceType": X16}, "foo": {"instanceType": X16}},
             "applet-2": {"*": {"instanceType": X16}}}
    assert instance([root, child], "applet-1", "main") == X2
    assert instance([root, child], "applet-1", "foo") == X16
    assert instance([root, child], "applet-2", "bar") == X16


def test_two_applets_example() -> None:
    root = {"applet-1": {"main": {"instanceType": X2}, "*": {"instanceType": X4}},
            "applet-2": {"main": {"instanceType": X8}}}
    child = {"applet-1": {"main": {"instanceType": X16}, "foo": {"instanceType": X16}},
             "applet-2": {"main": {"instanceType": X16}, "foo": {"instanceType": X16}},
             "applet-3": {"*": {"instanceType": X16}}}
    assert instance([root, child], "applet-1", "main") == X2
    assert instance([root, child], "applet-1", "foo") == X4
    assert instance([root, child], "applet-2", "main") == X8
    assert instance([root, child], "applet-2", "foo") == X16
    assert instance([root, child], "applet-3", "main") == X16


def test_child_star_fills_what_the_parent_left_open() -> None:
    root = {"applet-1": {"main": {"instanceType": X2}}}
    child = {"*": {"*": {"instanceType": X16}}}
    assert instance([root, child], "applet-1", "main") == X2
    assert instance([root, child], "applet-9", "main") == X16


def test_runtime_star_overrides_run_spec_main() -> None:
    """The "*" entry point at run time overrides the run specification's "main"."""
    resolved = effective_requirements("applet-1", "main",
                                      master_run_requirements={"*": {"instanceType": "mem1_ssd1_v2_x8"}},
                                      run_spec_requirements={"main": {"instanceType": X2}})
    assert resolved.instance_type == "mem1_ssd1_v2_x8"
    assert resolved.sources["instanceType"] == "run systemRequirements"


def test_five_levels_in_order() -> None:
    levels = {
        "master_run_requirements": {"main": {"instanceType": "mem1_ssd1_v2_x4"}},
        "job_new_requirements": {"main": {"instanceType": "mem1_ssd1_v2_x8"}},
        "run_spec_requirements": {"main": {"instanceType": "mem1_ssd1_v2_x16"}},
    }
    by_executable = {"applet-1": {"main": {"instanceType": X2}}}
    assert effective_requirements("applet-1", "main", merged_by_executable=by_executable, **levels).instance_type == X2
    assert effective_requirements("applet-1", "main", **levels).instance_type == "mem1_ssd1_v2_x4"
    levels.pop("master_run_requirements")
    assert effective_requirements("applet-1", "main", **levels).instance_type == "mem1_ssd1_v2_x8"
    levels.pop("job_new_requirements")
    assert effective_requirements("applet-1", "main", **levels).instance_type == "mem1_ssd1_v2_x16"
    default = effective_requirements("applet-1", "main")
    assert (default.instance_type, default.sources["instanceType"]) == ("mem2_ssd1_v2_x2", "default")


def test_detached_tree_ignores_its_creators_settings() -> None:
    """A detached execution is a new root: only its own systemRequirementsByExecutable counts."""
    creator = {"*": {"*": {"instanceType": X2}}}
    detached = {"applet-1": {"*": {"instanceType": X16}}}
    assert instance([creator, detached], "applet-1", "main") == X2
    assert instance([detached], "applet-1", "main") == X16


# describe's systemRequirements as dxpy's own tests read it from the platform (test_dxclient.py's dx run --clone
# tests, test_dxpy.py's job metadata test): keyed like the requests, "*" kept, each key resolved.
def test_described_requirements_are_keyed_like_the_requests() -> None:
    applet = "applet-xxxx"
    assert described_requirements(applet, "main", master_run_requirements={"*": {"instanceType": "mem2_hdd2_x2"}},
                                  merged_by_executable={applet: {"*": {"instanceType": "mem1_ssd1_v2_x2"}}}) == {
        "*": {"instanceType": "mem1_ssd1_v2_x2"}}
    assert described_requirements(applet, "main", master_run_requirements={"some_ep": {"instanceType": "mem2_hdd2_x1"}}
                                  ) == {"some_ep": {"instanceType": "mem2_hdd2_x1"}}
    assert described_requirements(applet, "main", master_run_requirements={"*": {"nvidiaDriver": "R470"}},
                                  run_spec_requirements={"*": {"nvidiaDriver": "R535"}})["*"]["nvidiaDriver"] == "R470"
    assert described_requirements(applet, "main") == {"main": {"instanceType": "mem2_ssd1_v2_x2"}}
