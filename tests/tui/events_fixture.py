"""A fixed, realistic set of events (a tree with a subjob, a failed run, a waiting job) for model and snapshot tests."""

from __future__ import annotations

from runner.spec.events import Event, JobCreated, JobStateChanged, JobUpdated, LogLines

T0 = 1_790_000_000_000
MINUTE = 60_000
RES = {"cores": 2, "memoryBytes": 4 * 2**30, "gpus": 0, "diskBytes": 10**10}
ROOT_A = "job-A00000000000000000000001"
SUB_A = "job-A00000000000000000000002"
ROOT_B = "job-B00000000000000000000001"
ROOT_C = "job-C00000000000000000000001"


def created(seq: int, job: str, root: str, parent: str | None, name: str, function: str = "main",
            at: int = T0, resources: dict[str, int] | None = None) -> JobCreated:
    """A job.created event of an applet job."""
    return JobCreated(seq=seq, time=at, job=job, root=root, parent=parent, name=name,
                      executable="applet-000000000000000000000001", function=function,
                      instance_type="mem1_ssd1_v2_x2", resources=resources or RES, rank=0, created=at)


def state(seq: int, job: str, root: str, old: str, new: str, at: int, try_: int = 0,
          reason: str | None = None, message: str | None = None) -> JobStateChanged:
    """A job.state event."""
    return JobStateChanged(seq=seq, time=at, job=job, root=root, from_state=old, to_state=new, try_=try_,
                           reason=reason, message=message)


def sample_events() -> list[Event]:
    """Three trees: A (running, with a subjob waiting on input), B (failed on a timeout), C (runnable)."""
    return [
        created(1, ROOT_B, ROOT_B, None, "timeout_demo", at=T0),
        state(2, ROOT_B, ROOT_B, "idle", "runnable", T0),
        state(3, ROOT_B, ROOT_B, "runnable", "running", T0 + 1000),
        state(4, ROOT_B, ROOT_B, "running", "failed", T0 + 61_000, reason="JobTimeoutExceeded",
              message="The job ran past its timeout of 1 minute"),
        created(5, ROOT_A, ROOT_A, None, "scatter_gather_bash", at=T0 + 2 * MINUTE),
        state(6, ROOT_A, ROOT_A, "idle", "runnable", T0 + 2 * MINUTE),
        state(7, ROOT_A, ROOT_A, "runnable", "running", T0 + 2 * MINUTE),
        LogLines(seq=8, time=T0 + 2 * MINUTE, job=ROOT_A, root=ROOT_A, stream="stdout",
                 text="splitting input\nstarting 1 subjob\n"),
        created(9, SUB_A, ROOT_A, ROOT_A, "scatter_gather_bash:process", "process", at=T0 + 3 * MINUTE),
        JobUpdated(seq=10, time=T0 + 3 * MINUTE, job=SUB_A, root=ROOT_A, changes={"dependsOn": [ROOT_B]}),
        state(11, SUB_A, ROOT_A, "idle", "waiting_on_input", T0 + 3 * MINUTE),
        created(12, ROOT_C, ROOT_C, None, "hello_bash", at=T0 + 4 * MINUTE,
                resources={"cores": 4, "memoryBytes": 8 * 2**30, "gpus": 0}),
        state(13, ROOT_C, ROOT_C, "idle", "runnable", T0 + 4 * MINUTE),
    ]
