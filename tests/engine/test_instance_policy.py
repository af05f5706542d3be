"""Instance types larger than the host: capped (and said so) or refused, GPUs without a GPU; the job's limits."""

from __future__ import annotations

import os

import pytest

from runner.engine._container import default_cpu_ids, disk_scale, pids_limit, shm_bytes
from runner.engine.instance_policy import UNAVAILABLE, HostLimits, capped_note, fit_to_host, given_resources
from runner.engine.scheduler import Resources
from runner.errors import InvalidInput
from runner.store.job_record import JobResources

GIB = 2**30
HOST = Resources(2.0, 8 * GIB, 0)


def test_a_type_that_fits_gets_what_it_asks_for() -> None:
    placed = fit_to_host("mem1_ssd1_v2_x2", JobResources(2.0, 4 * GIB, 0, 50 * 10**9), HostLimits(HOST))
    assert placed == {"requested": placed["given"], "given": {"cores": 2.0, "memoryBytes": 4 * GIB, "gpus": 0,
                                                             "diskBytes": 50 * 10**9}, "capped": False, "why": None}
    assert capped_note({"runnerResources": placed}) is None


def test_cap_scales_cores_and_memory_down_and_says_so() -> None:
    requested = JobResources(16.0, 32 * GIB, 0, 320 * 10**9)
    placed = fit_to_host("mem1_ssd1_x16", requested, HostLimits(HOST, "cap"))
    assert placed["given"] == {"cores": 2.0, "memoryBytes": 8 * GIB, "gpus": 0, "diskBytes": 320 * 10**9}
    assert placed["capped"] is True
    assert placed["why"] == ("mem1_ssd1_x16 asks for 16 cores, 32.0 GiB, more than this host's 2 cores, 8.0 GiB: "
                             "runs with 2 cores, 8.0 GiB (instance-policy cap)")
    job = {"runnerResources": placed}
    assert capped_note(job) == f"capped: {placed['why']}"
    assert given_resources(job, requested) == JobResources(2.0, 8 * GIB, 0, 320 * 10**9)
    assert given_resources({}, requested) == requested


def test_strict_refuses_with_the_platforms_error_naming_the_type_and_the_host() -> None:
    with pytest.raises(InvalidInput) as refused:
        fit_to_host("mem1_ssd1_x16", JobResources(16.0, 32 * GIB), HostLimits(HOST, "strict"))
    assert refused.value.message.startswith(f"{UNAVAILABLE}: mem1_ssd1_x16 needs 16 cores, 32.0 GiB; this host "
                                            "gives jobs at most 2 cores, 8.0 GiB. instance-policy is strict")
    assert refused.value.details["field"] == "instanceType"
    assert refused.value.details["host"] == {"cores": 2.0, "memoryBytes": 8 * GIB, "gpus": 0}
    # Memory alone is enough to refuse.
    with pytest.raises(InvalidInput):
        fit_to_host("mem3_ssd1_x2", JobResources(2.0, 15 * GIB), HostLimits(HOST, "strict"))


@pytest.mark.parametrize("policy", ["cap", "strict"])
def test_a_gpu_type_without_a_gpu_is_refused_under_both_policies(policy: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        fit_to_host("mem3_ssd1_gpu_x8", JobResources(8.0, 61 * GIB, 1), HostLimits(HOST, policy))
    assert "No usable GPU was found" in refused.value.message
    assert "`runner config set gpu-policy ignore`" in refused.value.message


def test_gpu_policy_ignore_runs_it_without_gpus_and_says_so() -> None:
    placed = fit_to_host("mem3_ssd1_gpu_x8", JobResources(1.0, GIB, 1), HostLimits(HOST, "strict", "ignore"))
    assert placed["given"]["gpus"] == 0 and placed["capped"] is True
    assert placed["why"] == ("mem3_ssd1_gpu_x8 asks for 1 GPU: no usable GPU on this host: runs without GPUs "
                             "(gpu-policy ignore)")


def test_fewer_gpus_than_asked_are_capped_or_refused() -> None:
    host = HostLimits(Resources(64.0, 512 * GIB, 1), "cap")
    placed = fit_to_host("mem1_ssd1_gpu2_x32", JobResources(32.0, 60 * GIB, 4), host)
    assert placed["given"]["gpus"] == 1 and "1 of 4 GPUs (instance-policy cap)" in placed["why"]
    with pytest.raises(InvalidInput):
        fit_to_host("mem1_ssd1_gpu2_x32", JobResources(32.0, 60 * GIB, 4), HostLimits(host.capacity, "strict"))


def test_pids_shm_and_cpus_follow_the_given_resources() -> None:
    assert [pids_limit(n) for n in (1, 4, 8, 64)] == [4096, 4096, 8192, 32768]
    assert shm_bytes(JobResources(2.0, 8 * GIB)) == 4 * GIB
    assert shm_bytes(JobResources(96.0, 768 * GIB)) == 32 * GIB
    assert shm_bytes(JobResources(1.0, 0)) == 64 * 2**20
    usable = tuple(sorted(os.sched_getaffinity(0)))
    assert default_cpu_ids(1.0) == usable[:1]
    assert default_cpu_ids(10_000.0) == usable  # never more CPUs than the engine may use


def test_the_test_only_disk_scale(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("RUNNER_TEST_DISK_SCALE", raising=False)
    assert disk_scale() == 1.0
    monkeypatch.setenv("RUNNER_TEST_DISK_SCALE", "0.001")
    assert disk_scale() == 0.001
    for bad in ("2", "0", "x"):
        monkeypatch.setenv("RUNNER_TEST_DISK_SCALE", bad)
        assert disk_scale() == 1.0
