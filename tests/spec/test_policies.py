"""Execution policy, instance-type catalog and IDs."""

from __future__ import annotations

from runner.spec import instance_types
from runner.spec.execution_policy import effective_execution_policy, restarts_allowed
from runner.spec.ids import content_id, id_class, is_id, new_id


def test_runtime_execution_policy_keys_override_the_run_spec() -> None:
    run_spec = {"restartOn": {"AppInternalError": 2}, "maxRestarts": 5}
    runtime = {"restartOn": {"ExecutionError": 1}}
    assert effective_execution_policy(run_spec, runtime) == {"restartOn": {"ExecutionError": 1}, "maxRestarts": 5}
    assert effective_execution_policy(None, None) == {}
    assert effective_execution_policy(run_spec, None) == run_spec


def test_restart_limits_per_reason_and_in_total() -> None:
    policy = {"restartOn": {"AppInternalError": 2, "*": 1}, "maxRestarts": 3}
    assert restarts_allowed(policy, "AppInternalError", {"AppInternalError": 2})
    assert not restarts_allowed(policy, "AppInternalError", {"AppInternalError": 3})
    assert restarts_allowed(policy, "JobTimeoutExceeded", {"JobTimeoutExceeded": 1})
    assert not restarts_allowed(policy, "JobTimeoutExceeded", {"JobTimeoutExceeded": 2})
    assert not restarts_allowed(policy, "AppInternalError", {"AppInternalError": 2, "JobTimeoutExceeded": 2})
    assert not restarts_allowed({}, "AppInternalError", {"AppInternalError": 1})


def test_default_max_restarts_is_nine() -> None:
    policy = {"restartOn": {"*": 100}}
    assert restarts_allowed(policy, "ExecutionError", {"ExecutionError": 9})
    assert not restarts_allowed(policy, "ExecutionError", {"ExecutionError": 10})


def test_catalog_maps_names_to_resources() -> None:
    x4 = instance_types.lookup("mem1_ssd1_v2_x4")
    assert x4 is not None and (x4.cores, x4.memory_gib, x4.storage_gb, x4.gpus) == (4, 8.0, 100, 0)
    assert x4.memory_bytes == 8 * 1024**3
    gpu = instance_types.lookup("mem3_ssd1_gpu_x8")
    assert gpu is not None and gpu.gpus == 1
    assert instance_types.lookup("azure:mem1_ssd1_x4") is not None
    assert instance_types.lookup("mem9_ssd9_x1") is None
    assert len(instance_types.catalog()) > 100


def test_closest_names() -> None:
    assert instance_types.closest_names("mem1_ssd1_v2_x3")[0].startswith("mem1_ssd1_v2_x")
    assert "did you mean" not in instance_types.unknown_type_message("zzz")


def test_ids() -> None:
    job = new_id("job")
    assert is_id(job, "job") and not is_id(job, "file") and id_class(job) == "job"
    assert new_id("job") != job
    assert content_id("applet", b"abc") == content_id("applet", b"abc") != content_id("applet", b"abd")
    assert is_id(content_id("applet", b""), "applet")
    assert not is_id("job-short") and not is_id(42)
