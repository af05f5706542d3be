"""Reading a container's usage from cgroup files laid out as cgroup v1 and v2 hosts lay them out (in a temporary
folder standing for /sys/fs/cgroup and /proc): found from its init process or by Docker's naming, forgotten when gone."""

from __future__ import annotations

from pathlib import Path

from runner.backends._cgroup_usage import ContainerUsage, cgroup_files, read_usage

CID = "c0ffee" * 10 + "abcd"
MIB = 2**20


def v2_host(root: Path, relative: str, usec: int, current: int, inactive: int, peak: int | None) -> Path:
    (root / "sys").mkdir(parents=True, exist_ok=True)
    (root / "sys" / "cgroup.controllers").write_text("cpu memory pids\n")
    folder = root / "sys" / relative
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cpu.stat").write_text(f"usage_usec {usec}\nuser_usec 1\nsystem_usec 2\n")
    (folder / "memory.current").write_text(f"{current}\n")
    (folder / "memory.stat").write_text(f"anon 5\nfile 9\nactive_file 3\ninactive_file {inactive}\n")
    if peak is not None:
        (folder / "memory.peak").write_text(f"{peak}\n")
    return folder


def v1_host(root: Path, relative: str, ns: int, usage: int, inactive: int, peak: int) -> None:
    memory, cpu = root / "sys" / "memory" / relative, root / "sys" / "cpuacct" / relative
    memory.mkdir(parents=True)
    cpu.mkdir(parents=True)
    (cpu / "cpuacct.usage").write_text(f"{ns}\n")
    (memory / "memory.usage_in_bytes").write_text(f"{usage}\n")
    (memory / "memory.max_usage_in_bytes").write_text(f"{peak}\n")
    (memory / "memory.stat").write_text(f"cache 7\ninactive_file 1\ntotal_inactive_file {inactive}\n")


def proc_of(root: Path, pid: int, text: str) -> Path:
    (root / "proc" / str(pid)).mkdir(parents=True)
    (root / "proc" / str(pid) / "cgroup").write_text(text)
    return root / "proc"


def test_v2_reads_cpu_time_memory_less_inactive_cache_and_the_peak(tmp_path: Path) -> None:
    v2_host(tmp_path, f"system.slice/docker-{CID}.scope", 2_500_000, 300 * MIB, 100 * MIB, 400 * MIB)
    files = cgroup_files(CID, 4242, tmp_path / "sys", tmp_path / "proc")  # no /proc entry: Docker's naming
    assert files is not None and files.v2
    usage = read_usage(files)
    assert (usage.cpu_seconds, usage.memory_bytes, usage.memory_peak_bytes) == (2.5, 200 * MIB, 400 * MIB)


def test_v2_follows_the_init_process_and_a_kernel_without_memory_peak(tmp_path: Path) -> None:
    v2_host(tmp_path, "kubepods/pod1/inner", 1_000_000, 50 * MIB, 0, None)
    proc = proc_of(tmp_path, 7, "0::/kubepods/pod1/inner\n")
    files = cgroup_files(CID, 7, tmp_path / "sys", proc)
    assert files is not None and files.peak is None
    assert read_usage(files).memory_peak_bytes is None


def test_v1_reads_the_memory_and_cpuacct_hierarchies(tmp_path: Path) -> None:
    v1_host(tmp_path, f"docker/{CID}", 3_000_000_000, 64 * MIB, 16 * MIB, 80 * MIB)
    proc = proc_of(tmp_path, 9, f"4:memory:/docker/{CID}\n2:cpuacct:/docker/{CID}\n0::/docker/{CID}\n")
    files = cgroup_files(CID, 9, tmp_path / "sys", proc)
    assert files is not None and not files.v2
    usage = read_usage(files)
    assert (usage.cpu_seconds, usage.memory_bytes, usage.memory_peak_bytes) == (3.0, 48 * MIB, 80 * MIB)


def test_a_container_whose_cgroup_is_gone_is_forgotten_and_located_again(tmp_path: Path) -> None:
    located: list[str] = []
    containers = {"job-A": (CID, 11)}

    def locate(job_id: str) -> tuple[str, int] | None:
        located.append(job_id)
        return containers.get(job_id)

    folder = v2_host(tmp_path, f"docker/{CID}", 1_000_000, 10 * MIB, 0, None)
    reader = ContainerUsage(locate, tmp_path / "sys", tmp_path / "proc")
    assert reader.read("job-A") is not None and reader.read("job-A") is not None
    assert located == ["job-A"]  # the container is looked up once, then only its files are read
    for child in folder.iterdir():
        child.unlink()
    assert reader.read("job-A") is None
    new_id = "beef" * 16
    containers["job-A"] = (new_id, 12)
    v2_host(tmp_path, f"docker/{new_id}", 4_000_000, 20 * MIB, 0, None)
    usage = reader.read("job-A")
    assert usage is not None and usage.cpu_seconds == 4.0 and located == ["job-A", "job-A"]
    assert reader.read("job-B") is None  # no container: nothing to read, nothing raised
