"""The run specification: interpreter, code, distribution, resources, timeouts, restarts, dependencies."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from runner.spec import instance_types, releases
from runner.spec._checks import Checker, is_int, is_number, join, show
from runner.spec.links import data_link_id

INTERPRETERS = ("bash", "python3")
OBSOLETE_INTERPRETERS = ("python2.7",)
DISTRIBUTIONS = ("Ubuntu",)
RELEASES = releases.RELEASES
PACKAGE_MANAGERS = ("apt", "pip", "pip3", "gem", "cpan", "cran", "git")
NVIDIA_DRIVERS = ("R470", "R535")
RESTART_REASONS = (
    "ExecutionError", "UnresponsiveWorker", "JMInternalError", "AppInternalError",
    "JobTimeoutExceeded", "SpotInstanceInterruption", "*",
)
TIME_UNITS = {"days": 86400, "hours": 3600, "minutes": 60}
MAX_TIMEOUT_SECONDS = 30 * 86400
DEFAULT_MAX_RESTARTS = 9

_RUN_SPEC_FIELDS = frozenset(
    {"interpreter", "file", "code", "distribution", "release", "version", "systemRequirements",
     "timeoutPolicy", "executionPolicy", "execDepends", "bundledDepends", "assetDepends",
     "restartableEntryPoints", "headJobOnDemand", "inheritParentRestartOnPolicy", "systemRequirementsByExecutable"}
)
_SYSREQ_FIELDS = frozenset({"instanceType", "instanceTypeSelector", "clusterSpec", "fpgaDriver", "nvidiaDriver"})

SystemRequirements = Mapping[str, Mapping[str, Any]]
"""Entry point (or "*") -> requested resources (instanceType, clusterSpec, fpgaDriver, nvidiaDriver...)."""
TimeoutPolicy = Mapping[str, float]
"""Entry point (or "*") -> timeout in seconds (0: no timeout)."""


@dataclass(frozen=True, slots=True)
class ExecDepend:
    """A package installed into the applet's image: `{name, package_manager, version?, stages?}`."""

    name: str
    package_manager: str = "apt"
    version: str | None = None
    stages: tuple[str, ...] | None = None


@dataclass(frozen=True, slots=True)
class RunSpec:
    """A validated run specification."""

    interpreter: str
    code: str
    file: str | None
    distribution: str
    release: str
    version: str | None = None
    system_requirements: SystemRequirements = field(default_factory=dict)
    timeout_policy: TimeoutPolicy = field(default_factory=dict)
    execution_policy: Mapping[str, Any] = field(default_factory=dict)
    exec_depends: tuple[ExecDepend, ...] = ()
    bundled_depends: tuple[Mapping[str, Any], ...] = ()
    asset_depends: tuple[Mapping[str, Any], ...] = ()
    restartable_entry_points: str = "master"
    head_job_on_demand: bool = False
    # What runSpec.release said, when the applet runs on another release (legacy-release = nearest), and why.
    requested_release: str | None = None
    release_note: str | None = None


def duration_seconds(value: Any, path: str, checker: Checker) -> float | None:
    """Sum a `{"days", "hours", "minutes"}` mapping into seconds; report units and values that are wrong."""
    if not isinstance(value, Mapping):
        checker.wrong_type(path, 'a mapping of time units, e.g. {"hours": 2}', value)
        return None
    if not value:
        checker.problem(path, "must give at least one of 'days', 'hours', 'minutes'")
        return None
    total = 0.0
    for unit, amount in value.items():
        if unit not in TIME_UNITS:
            checker.problem(join(path, unit), f"unknown unit {unit!r}; must be one of 'days', 'hours', 'minutes'")
            return None
        if not is_number(amount) or amount < 0:
            checker.problem(join(path, unit), f"must be a non-negative number, got {show(amount)}")
            return None
        total += amount * TIME_UNITS[unit]
    return total


def read_timeout_policy(raw: Any, path: str, checker: Checker) -> dict[str, float]:
    """Read a timeoutPolicy (entry point -> duration); none may exceed 30 days."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        checker.wrong_type(path, "a mapping of entry point to duration", raw)
        return {}
    policy: dict[str, float] = {}
    for entry_point, duration in raw.items():
        seconds = duration_seconds(duration, join(path, entry_point), checker)
        if seconds is None:
            continue
        if seconds > MAX_TIMEOUT_SECONDS:
            checker.problem(join(path, entry_point), f"timeoutPolicy for all entry points should not exceed 30 days "
                            f"(got {seconds / 86400:g} days)")
            continue
        policy[entry_point] = seconds
    return policy


def read_system_requirements(raw: Any, path: str, checker: Checker, *, at_runtime: bool = False) -> dict[str, Any]:
    """Read systemRequirements (entry point -> resources), checking names and exclusive keywords."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        checker.wrong_type(path, "a mapping of entry point to requirements", raw)
        return {}
    result: dict[str, Any] = {}
    for entry_point, request in raw.items():
        entry_path = join(path, entry_point)
        if not isinstance(request, Mapping):
            checker.wrong_type(entry_path, "a mapping such as {\"instanceType\": \"mem1_ssd1_v2_x4\"}", request)
            continue
        if _check_requirement(request, entry_path, checker, at_runtime=at_runtime):
            result[entry_point] = dict(request)
    return result


def _check_requirement(request: Mapping[str, Any], path: str, checker: Checker, *, at_runtime: bool) -> bool:
    before = len(checker.problems)
    checker.unknown_keys(request, path, _SYSREQ_FIELDS, strict=False)
    instance_type = checker.string(request, "instanceType", path)
    if instance_type is not None and instance_types.lookup(instance_type) is None:
        checker.problem(join(path, "instanceType"), instance_types.unknown_type_message(instance_type))
    if "instanceTypeSelector" in request:
        if at_runtime:
            checker.problem(join(path, "instanceTypeSelector"), "keyword is not allowed at runtime")
        if "instanceType" in request:
            checker.problem(path, "instanceType and instanceTypeSelector keywords are mutually exclusive")
        if "clusterSpec" in request:
            checker.problem(path, "instanceTypeSelector and clusterSpec keywords are mutually exclusive")
        _check_selector(request["instanceTypeSelector"], join(path, "instanceTypeSelector"), checker)
    cluster = checker.mapping(request, "clusterSpec", path)
    if cluster is not None:
        count = cluster.get("initialInstanceCount")
        if not is_int(count) or count < 1:
            checker.problem(join(join(path, "clusterSpec"), "initialInstanceCount"),
                            f"is required and must be an integer >= 1, got {show(count)}")
    checker.one_of(request, "nvidiaDriver", path, NVIDIA_DRIVERS)
    checker.string(request, "fpgaDriver", path)
    return len(checker.problems) == before


def _check_selector(selector: Any, path: str, checker: Checker) -> None:
    if not isinstance(selector, Mapping):
        checker.wrong_type(path, 'a mapping such as {"allowedInstanceTypes": ["mem1_ssd1_v2_x4"]}', selector)
        return
    allowed = checker.string_list(selector, "allowedInstanceTypes", path)
    if not allowed:
        checker.problem(join(path, "allowedInstanceTypes"), "must list at least one instance type")
        return
    for index, name in enumerate(allowed):
        if instance_types.lookup(name) is None:
            checker.problem(join(join(path, "allowedInstanceTypes"), index), instance_types.unknown_type_message(name))


def read_execution_policy(raw: Any, path: str, checker: Checker) -> dict[str, Any]:
    """Read an executionPolicy: `restartOn` (failure reason -> count), `maxRestarts`, `maxSpotTries`."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        checker.wrong_type(path, "a mapping", raw)
        return {}
    checker.unknown_keys(raw, path, frozenset({"restartOn", "maxRestarts", "maxSpotTries"}), strict=False)
    restart_on = checker.mapping(raw, "restartOn", path)
    for reason, count in (restart_on or {}).items():
        reason_path = join(join(path, "restartOn"), reason)
        if reason not in RESTART_REASONS:
            checker.problem(reason_path, f"unknown failure reason; must be one of {', '.join(RESTART_REASONS)}")
        elif not is_int(count) or count < 0:
            checker.problem(reason_path, f"must be a non-negative integer, got {show(count)}")
    for key in ("maxRestarts", "maxSpotTries"):
        if key in raw and (not is_int(raw[key]) or raw[key] < 0):
            checker.problem(join(path, key), f"must be a non-negative integer, got {show(raw[key])}")
    return dict(raw)


def git_depend_problem(item: Mapping[str, Any]) -> str:
    """Why a `git` execDepends cannot work here, and how to vendor the repository into resources/ instead."""
    def text(key: str, default: str) -> str:
        value = item.get(key)
        return value if isinstance(value, str) and value else default

    url = text("url", "<url>")
    repository = url.rstrip("/").rsplit("/", 1)[-1].removesuffix(".git") if "url" in item else text("name", "repo")
    # Cloned into destdir as a folder named after the repository, as on the platform.
    target = "resources/" + text("destdir", "/opt").strip("/") + "/" + repository
    branch = f"--branch {item['tag']} " if isinstance(item.get("tag"), str) and item["tag"] else ""
    steps = [f"git clone --depth 1 {branch}{url} {target}"]
    if isinstance(item.get("build_commands"), str) and item["build_commands"]:
        steps.append(f"run its build_commands ({item['build_commands']}) in {target}")
    steps.append("remove this entry")
    return ("git packages are cloned from the network when a job starts, and this runner builds and runs jobs "
            f"offline: vendor the repository into resources/ instead ({'; '.join(steps)}); resources/ is unpacked "
            "at / in every job")


def _entries(raw: Any, path: str, checker: Checker, example: str,
             of: str = "") -> Iterator[tuple[str, Mapping[str, Any]]]:
    """The mappings of the array `raw` at `path`, each with its path; anything else recorded as a problem."""
    if raw is None:
        return
    if not isinstance(raw, list):
        checker.wrong_type(path, f"an array {of}".rstrip(), raw)
        return
    for index, item in enumerate(raw):
        item_path = join(path, index)
        if isinstance(item, Mapping):
            yield item_path, item
        else:
            checker.wrong_type(item_path, example, item)


def read_exec_depends(raw: Any, path: str, checker: Checker, *, network: bool) -> tuple[ExecDepend, ...]:
    """Read execDepends; managers other than apt need network access, as on the platform."""
    depends = []
    for item_path, item in _entries(raw, path, checker, 'a mapping such as {"name": "samtools"}', "of packages"):
        name = checker.string(item, "name", item_path, required=True)
        manager = checker.one_of(item, "package_manager", item_path, PACKAGE_MANAGERS) or "apt"
        version = checker.string(item, "version", item_path)
        stages = checker.string_list(item, "stages", item_path)
        if manager == "git":
            checker.problem(item_path, git_depend_problem(item))
        elif manager != "apt" and not network:
            checker.problem(join(item_path, "package_manager"),
                            f"{manager!r} packages are fetched from the network: add access.network "
                            '(for example ["*"]) to dxapp.json')
        if name is not None:
            depends.append(ExecDepend(name, manager, version, tuple(stages) if stages is not None else None))
    return tuple(depends)


def read_bundled_depends(raw: Any, path: str, checker: Checker) -> tuple[Mapping[str, Any], ...]:
    """Read bundledDepends: each `{name, id: <file link>, stages?}`."""
    example = 'a mapping such as {"name": "x.tar.gz", "id": {"$dnanexus_link": "file-..."}}'
    for item_path, item in _entries(raw, path, checker, example):
        checker.string(item, "name", item_path, required=True)
        checker.string_list(item, "stages", item_path)
        file_id = data_link_id(item.get("id"))
        if file_id is None or not file_id.startswith("file-"):
            checker.problem(join(item_path, "id"), f'expected a file link {{"$dnanexus_link": "file-..."}}, '
                            f"got {show(item.get('id'))}")
    return tuple(raw) if isinstance(raw, list) else ()


def read_asset_depends(raw: Any, path: str, checker: Checker) -> tuple[Mapping[str, Any], ...]:
    """Read assetDepends: each `{id: "record-..."}` or `{name, version, project?, folder?}`, with `stages?`.

    They resolve at build, against the engine's AssetBundle records (runner.build.bundles).
    """
    example = 'a mapping such as {"id": "record-..."} or {"name": ..., "version": ...}'
    for item_path, item in _entries(raw, path, checker, example):
        checker.string_list(item, "stages", item_path)
        if "id" in item:
            record_id = checker.string(item, "id", item_path)
            if record_id is not None and not record_id.startswith("record-"):
                checker.problem(join(item_path, "id"), f"expected a record ID \"record-...\", got {show(record_id)}")
            continue
        for key in ("project", "folder"):
            checker.string(item, key, item_path)
        if not isinstance(item.get("name"), str) or not isinstance(item.get("version"), str):
            checker.problem(item_path, 'must give "id" (record-...), or "name" and "version" (strings)')
    return tuple(raw) if isinstance(raw, list) else ()


def read_run_spec(raw: Any, path: str, checker: Checker, *, network: bool,
                  legacy_release: str = "refuse") -> dict[str, Any] | None:
    """Check a runSpec's own fields; returns the normalized pieces for the caller to finish (code, region).

    `legacy_release` (the setting: `refuse` or `nearest`) says what a release the runner has no image for means.
    """
    if raw is None:
        checker.problem(path, "is required")
        return None
    if not isinstance(raw, Mapping):
        checker.wrong_type(path, "a mapping", raw)
        return None
    checker.unknown_keys(raw, path, _RUN_SPEC_FIELDS, strict=False)
    interpreter = checker.string(raw, "interpreter", path, required=True)
    if interpreter is not None and interpreter not in INTERPRETERS:
        why = "is no longer supported" if interpreter in OBSOLETE_INTERPRETERS else "is not supported"
        checker.problem(join(path, "interpreter"), f"{interpreter!r} {why}; supported interpreters: bash, python3")
    distribution = checker.one_of(raw, "distribution", path, DISTRIBUTIONS, required=True)
    release, release_note = releases.read_release(raw, path, checker, legacy_release)
    checker.string(raw, "version", path)
    if "file" not in raw and "code" not in raw:
        checker.problem(join(path, "file"), "is required: the path of the entry-point script, e.g. \"src/app.sh\"")
    checker.string(raw, "code", path)
    checker.one_of(raw, "restartableEntryPoints", path, ("master", "all"))
    checker.boolean(raw, "headJobOnDemand", path)
    return {
        "interpreter": interpreter, "distribution": distribution, "release": release,
        "requestedRelease": raw.get("release") if release != raw.get("release") else None,
        "releaseNote": release_note,
        "file": checker.string(raw, "file", path),
        "code": raw.get("code") if isinstance(raw.get("code"), str) else None, "version": raw.get("version") if isinstance(raw.get("version"), str) else None,
        "systemRequirements": read_system_requirements(raw.get("systemRequirements"), join(path, "systemRequirements"), checker),
        "timeoutPolicy": read_timeout_policy(raw.get("timeoutPolicy"), join(path, "timeoutPolicy"), checker),
        "executionPolicy": read_execution_policy(raw.get("executionPolicy"), join(path, "executionPolicy"), checker),
        "execDepends": read_exec_depends(raw.get("execDepends"), join(path, "execDepends"), checker, network=network),
        "bundledDepends": read_bundled_depends(raw.get("bundledDepends"), join(path, "bundledDepends"), checker),
        "assetDepends": read_asset_depends(raw.get("assetDepends"), join(path, "assetDepends"), checker),
        "restartableEntryPoints": raw.get("restartableEntryPoints") if raw.get("restartableEntryPoints") in ("master", "all") else "master",
        "headJobOnDemand": raw.get("headJobOnDemand") is True,
    }
