"""The scheduler's pure step: ordering, capacity, the reserve, max-parallel, CPU and GPU assignment, lending."""

from __future__ import annotations

from runner.engine.scheduler import MAX_PASSES, Assignment, Candidate, Host, Resources, jobs_to_start, plan

GIB = 2**30
HOST = Host(cpu_ids=(0, 1), memory_bytes=24 * GIB)


def job(job_id: str, cores: float = 1, rank: int = 0, created: int = 0, memory: int = 4 * GIB, gpus: int = 0,
        **more: object) -> Candidate:
    return Candidate(job_id, Resources(cores, memory, gpus), rank, created, **more)  # type: ignore[arg-type]


def started(runnable: list[Candidate], running: list[Candidate], host: Host = HOST) -> list[str]:
    return [job_id for job_id, _ in jobs_to_start(runnable, running, host)]


def test_jobs_start_while_their_cores_fit() -> None:
    queue = [job(f"job-{i}", created=i) for i in range(3)]
    assert started(queue, []) == ["job-0", "job-1"]
    assert started(queue[1:], [queue[0]]) == ["job-1"]
    assert started(queue[2:], queue[:2]) == []


def test_rank_comes_before_age() -> None:
    queue = [job("job-old", created=0), job("job-urgent", rank=1023, created=5), job("job-low", rank=-1024)]
    assert started(queue, []) == ["job-urgent", "job-old"]


def test_memory_must_fit_as_well() -> None:
    queue = [job("job-a", memory=16 * GIB), job("job-b", memory=16 * GIB, created=1)]
    result = plan(queue, [], HOST)
    assert [s for s, _ in result.starts] == ["job-a"]
    assert result.waiting["job-b"] == "needs 16.0 GiB of memory; 8.0 GiB free"


def test_a_job_larger_than_the_host_is_capped_and_runs_alone_on_every_cpu() -> None:
    huge = job("job-huge", cores=16, memory=64 * GIB)
    assert jobs_to_start([huge, job("job-small", created=1)], [], HOST) == [("job-huge", Assignment((0, 1)))]
    assert started([job("job-small", created=1)], [huge]) == []


def test_cpus_are_exclusive_while_free_ones_remain() -> None:
    host = Host(cpu_ids=(4, 5, 6, 7), memory_bytes=64 * GIB)
    first, second = jobs_to_start([job("job-a", 2), job("job-b", 2, created=1)], [], host)
    assert first == ("job-a", Assignment((4, 5)))
    assert second == ("job-b", Assignment((6, 7)))
    running = [job("job-a", 2, assignment=first[1])]
    assert jobs_to_start([job("job-c", 1)], running, host) == [("job-c", Assignment((6,)))]


def test_why_a_job_waits_is_said() -> None:
    host = Host(cpu_ids=tuple(range(4)), memory_bytes=64 * GIB)
    result = plan([job("job-big", 4)], [job("job-run", 2)], host)
    assert result.starts == ()
    assert result.waiting == {"job-big": "needs 4 cores; 2 free"}


def test_the_reserve_is_kept_free_for_the_desktop() -> None:
    host = Host(cpu_ids=tuple(range(4)), memory_bytes=16 * GIB, reserve=Resources(1, 4 * GIB))
    assert host.capacity == Resources(3, 12 * GIB, 0)
    result = plan([job("job-a", 2, memory=8 * GIB), job("job-b", 1, memory=8 * GIB, created=1)], [], host)
    assert [s for s, _ in result.starts] == ["job-a"]
    assert result.waiting["job-b"] == "needs 8.0 GiB of memory; 4.0 GiB free"


def test_a_reserve_never_leaves_less_than_one_core() -> None:
    host = Host(cpu_ids=(0, 1), memory_bytes=8 * GIB, reserve=Resources(8, 64 * GIB))
    assert host.capacity == Resources(1, GIB, 0)
    assert started([job("job-a", 2, memory=4 * GIB)], [], host) == ["job-a"]


def test_max_parallel_limits_the_tries_at_once() -> None:
    host = Host(cpu_ids=tuple(range(8)), memory_bytes=64 * GIB, max_parallel=2)
    result = plan([job(f"job-{i}", created=i) for i in range(4)], [], host)
    assert [s for s, _ in result.starts] == ["job-0", "job-1"]
    assert result.waiting == {"job-2": "max-parallel 2 reached", "job-3": "max-parallel 2 reached"}
    unlimited = Host(cpu_ids=tuple(range(8)), memory_bytes=64 * GIB, max_parallel=0)
    assert len(jobs_to_start([job(f"job-{i}", created=i) for i in range(4)], [], unlimited)) == 4


def test_smaller_jobs_pass_a_big_one_only_so_often() -> None:
    big = job("job-big", 2, created=0)
    small = job("job-small", 1, created=1)
    running = [job("job-run", 1)]
    first = plan([big, small], running, HOST)
    assert [s for s, _ in first.starts] == ["job-small"]
    assert first.passed == {"job-big": 1}
    tired = job("job-big", 2, created=0, passed=MAX_PASSES)
    held = plan([tired, small], running, HOST)
    assert held.starts == ()
    assert held.waiting == {"job-big": "needs 2 cores; 1 free", "job-small": "waiting its turn: job-big goes first"}


def test_gpus_are_never_shared() -> None:
    host = Host(cpu_ids=tuple(range(8)), memory_bytes=64 * GIB, gpu_ids=(0, 1))
    queue = [job(f"job-{i}", gpus=1, created=i) for i in range(3)]
    result = plan(queue, [], host)
    assert result.starts == (("job-0", Assignment((0,), (0,))), ("job-1", Assignment((1,), (1,))))
    assert result.waiting == {"job-2": "waiting for a GPU: both busy"}
    running = [job("job-0", gpus=1, assignment=Assignment((0,), (0,)))]
    assert jobs_to_start([queue[2]], running, host) == [("job-2", Assignment((1,), (1,)))]


def test_a_gpu_job_waits_on_a_one_gpu_host() -> None:
    host = Host(cpu_ids=tuple(range(8)), memory_bytes=64 * GIB, gpu_ids=(3,))
    running = [job("job-a", gpus=1, assignment=Assignment((0,), (3,)))]
    result = plan([job("job-b", gpus=1)], running, host)
    assert result.waiting == {"job-b": "waiting for a GPU: the only one is busy"}
    assert jobs_to_start([job("job-b", gpus=1)], [], host) == [("job-b", Assignment((0,), (3,)))]


def test_a_gpu_job_on_a_host_without_gpus_is_capped_to_none() -> None:
    assert jobs_to_start([job("job-gpu", gpus=1)], [], HOST) == [("job-gpu", Assignment((0,)))]


def test_a_blocked_parent_lends_its_reservation_to_its_children() -> None:
    parent = job("job-parent", 2, assignment=Assignment((0, 1)))
    children = [job(f"job-child{i}", 1, created=i, ancestors=("job-parent",)) for i in range(3)]
    result = plan(children, [parent], HOST)
    assert result.starts == (("job-child0", Assignment((0,), lender="job-parent")),
                             ("job-child1", Assignment((1,), lender="job-parent")))
    assert result.waiting == {"job-child2": "needs 1 core; 0 free"}


def test_grandchildren_borrow_from_the_nearest_ancestor_with_room() -> None:
    root = job("job-root", 2, assignment=Assignment((0, 1)))
    child = job("job-child", 2, ancestors=("job-root",), assignment=Assignment((0, 1), lender="job-root"))
    grandchild = job("job-grand", 1, ancestors=("job-child", "job-root"))
    assert jobs_to_start([grandchild], [root, child], HOST) == [("job-grand", Assignment((0,), lender="job-child"))]


def test_an_unrelated_job_does_not_borrow() -> None:
    parent = job("job-parent", 2, assignment=Assignment((0, 1)))
    assert plan([job("job-other", 1)], [parent], HOST).waiting == {"job-other": "needs 1 core; 0 free"}


def test_borrowers_skip_the_queue_and_max_parallel() -> None:
    host = Host(cpu_ids=(0, 1), memory_bytes=24 * GIB, max_parallel=1)
    parent = job("job-parent", 2, assignment=Assignment((0, 1)))
    head = job("job-big", 2, rank=5, passed=MAX_PASSES)
    child = job("job-child", 1, created=1, ancestors=("job-parent",))
    assert started([head, child], [parent], host) == ["job-child"]


def test_a_borrower_whose_lender_ended_counts_against_the_host() -> None:
    borrower = job("job-child", 1, ancestors=("job-parent",), assignment=Assignment((0,), lender="job-parent"))
    assert started([job("job-other", 2)], [borrower]) == []
    assert started([job("job-other", 1)], [borrower]) == ["job-other"]


def test_assignments_are_stored_and_read_back() -> None:
    assignment = Assignment((2, 3), (1,), "job-parent")
    assert Assignment.of(assignment.document()) == assignment
    assert Assignment.of(None) == Assignment()


def test_a_lender_lends_its_memory_only_when_the_host_has_none_free() -> None:
    host = Host(cpu_ids=(0, 1), memory_bytes=8 * GIB)
    parent = job("job-parent", 2, memory=4 * GIB, assignment=Assignment((0, 1)))
    children = [job(f"job-child{i}", 1, created=i, memory=3 * GIB, ancestors=("job-parent",)) for i in range(2)]
    result = plan(children, [parent], host)
    assert result.starts == (("job-child0", Assignment((0,), lender="job-parent")),
                             ("job-child1", Assignment((1,), lender="job-parent", memory_lent=True)))
