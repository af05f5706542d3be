"""The engine's typed view of its own fields of a job, and the one place that names their stored keys."""

from __future__ import annotations

import pytest

from runner.store.job_record import JobRecord, JobResources, record_of, stored


def test_what_is_stored_reads_back_as_the_same_record() -> None:
    written = stored(resources=JobResources(2.0, 4 << 30, 1, 50 * 10**9), master=True, reuse=True, reuse_key="k",
                     raw_output={"n": 1}, output_destination={"container": "project-x", "folder": "/out"},
                     timeout_source="runSpec.timeoutPolicy.main", timeout_policy_by_executable={"*": {"*": {}}},
                     master_run_requirements={"*": {"instanceType": "mem1_ssd1_v2_x2"}},
                     tries=({"try": 0, "state": "failed"},), transitions_before=3)
    assert all(key.startswith("_") for key in written), "describe hides the engine's keys by their underscore"
    job = {"id": "job-x", "state": "running", **written}
    assert record_of(job) == JobRecord(
        resources=JobResources(2.0, 4 << 30, 1, 50 * 10**9), master=True, reuse=True, reuse_key="k",
        raw_output={"n": 1}, output_destination={"container": "project-x", "folder": "/out"},
        timeout_source="runSpec.timeoutPolicy.main", timeout_policy_by_executable={"*": {"*": {}}},
        master_run_requirements={"*": {"instanceType": "mem1_ssd1_v2_x2"}},
        tries=({"try": 0, "state": "failed"},), transitions_before=3)


def test_a_job_without_engine_fields_has_the_defaults() -> None:
    record = record_of({"id": "job-x"})
    assert (record.master, record.reuse, record.tries, record.transitions_before) == (False, False, (), 0)
    assert record.resources == JobResources()


def test_an_unknown_field_name_is_refused_by_name() -> None:
    with pytest.raises(TypeError, match="no engine field 'reuse_keys'"):
        stored(reuse_keys="k")
