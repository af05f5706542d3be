"""describe's runnerUsage over real HTTP: the summary of the try's samples in the job's usage.ndjson, or nothing."""

from __future__ import annotations

import pytest

from runner.engine.usage_record import UsageRecord
from tests.api._full_env import Api

pytestmark = pytest.mark.asyncio
MIB = 2**20


async def test_describe_sums_up_the_samples_of_the_try_and_a_job_without_any_has_no_runner_usage(api: Api) -> None:
    w = api.world
    (w.home / "jobs" / w.job_a).mkdir(parents=True)
    record = UsageRecord(w.home / "jobs" / w.job_a)
    for n, (cpu, mib) in enumerate([(20.0, 100), (180.0, 300), (40.0, 250)]):
        record.append({"time": 1000 * n, "try": 0, "cpuPercent": cpu, "memoryBytes": mib * MIB,
                       "memoryPeakBytes": (mib + 10) * MIB})
    status, job = await api.post(f"/{w.job_a}/describe", {}, "user")
    assert status == 200, job
    assert job["runnerUsage"] == {"samples": 3, "cpuPercentMax": 180.0, "cpuPercentMean": 80.0,
                                  "memoryBytesPeak": 310 * MIB, "memoryBytesLast": 250 * MIB,
                                  "firstSampleAt": 0, "lastSampleAt": 2000}
    status, only = await api.post(f"/{w.job_a}/describe", {"fields": {"runnerUsage": True}}, "user")
    assert status == 200 and set(only) == {"id", "runnerUsage"}
    status, other = await api.post(f"/{w.job_a1}/describe", {}, "user")
    assert status == 200 and "runnerUsage" not in other
