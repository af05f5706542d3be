"""What a re-run carries over from the job it re-runs: the run request's fields besides its input.

As `dx run --clone JOB`: the same project, folder, name, tags, properties, priority and instance type
requests, and further what this engine's /applet-x/run accepts and a job's describe shows (execution
policy, timeout, debug options, rank...). Flags given to the re-run replace what is carried.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# The describe fields a re-run reads (besides the defaults), asked for by name: describe leaves them out.
EXTRA_DESCRIBE_FIELDS = ("debug", "allowSSH", "headJobOnDemand")
# Describe fields carried as the run request's field of the same name when they are set (not empty).
SAME_NAME = ("project", "folder", "name", "tags", "properties", "priority", "executionPolicy", "allowSSH", "costLimit", "headJobOnDemand")
# Describe fields carried only when true or not the default (a false one is the default anyway).
WHEN_SET = ("delayWorkspaceDestruction", "ignoreReuse", "rank")


def carried_fields(job: Mapping[str, Any], applet: str, tree: Iterable[Mapping[str, Any]] = ()) -> dict[str, Any]:
    """The run request fields, input aside, that start `job` again as a root job of `applet`.

    `applet` is the one the re-run starts (a fresh build with `runner rerun --latest`): the by-executable
    requests made for the applet `job` ran are moved to it, so that they still apply. `tree`: the describes
    of the jobs of `job`'s tree, whose timeouts the re-run's jobs get again.
    """
    fields: dict[str, Any] = {key: job[key] for key in SAME_NAME if job.get(key) not in (None, "", [], {})}
    fields.update({key: job[key] for key in WHEN_SET if job.get(key)})
    debug_on = (job.get("debug") or {}).get("debugOn") if isinstance(job.get("debug"), Mapping) else None
    if debug_on:
        fields["debug"] = {"debugOn": list(debug_on)}
    fields.update(_requests(job, applet))
    timeouts = _timeouts([*tree, job], str(job.get("applet") or ""), applet)
    if timeouts:
        fields["timeoutPolicyByExecutable"] = timeouts
    return fields


def _timeouts(jobs: Iterable[Mapping[str, Any]], ran: str, applet: str) -> dict[str, dict[str, Any]]:
    """The timeout each (executable, entry point) of `jobs` ran with, as a timeoutPolicyByExecutable.

    Describe shows a job's effective timeout, not the policy it came from: rebuilt from the jobs that ran, the
    last one of each entry point winning; the applet `ran` keyed by `applet`, the one the re-run starts.
    """
    policy: dict[str, dict[str, Any]] = {}
    for each in jobs:
        timeout, executable = each.get("timeout"), each.get("applet") or each.get("app")
        if isinstance(timeout, bool) or not isinstance(timeout, int) or timeout <= 0 or not executable:
            continue
        key = applet if executable == ran else str(executable)
        policy.setdefault(key, {})[str(each.get("function") or "main")] = {"minutes": timeout / 60000}
    return policy


def _requests(job: Mapping[str, Any], applet: str) -> dict[str, Any]:
    """The instance type requests `job` ran with: a root's as its run asked; a subjob's as they resolved."""
    if job.get("parentJob") is None:
        # What the run asked, not what resolved: with no request, a fresh build's run spec decides again.
        requests, by_executable = job.get("runSystemRequirements"), job.get("runSystemRequirementsByExecutable")
    else:
        # A subjob's requests came from every run from its root down (and /job/new's): as they resolved.
        requests, by_executable = job.get("systemRequirements"), job.get("mergedSystemRequirementsByExecutable")
    fields: dict[str, Any] = {}
    if isinstance(requests, Mapping) and requests:
        fields["systemRequirements"] = dict(requests)
    if isinstance(by_executable, Mapping) and by_executable:
        fields["systemRequirementsByExecutable"] = _moved(by_executable, str(job.get("applet") or ""), applet)
    return fields


def _moved(by_executable: Mapping[str, Any], ran: str, applet: str) -> dict[str, Any]:
    """`by_executable` with the requests for `ran` keyed by `applet` instead."""
    moved = {key: value for key, value in by_executable.items() if key != ran}
    if ran in by_executable:
        moved[applet] = {**dict(by_executable.get(applet) or {}), **dict(by_executable[ran])}
    return moved


def with_overrides(carried: Mapping[str, Any], given: Mapping[str, Any], *, merge_instance_types: bool) -> dict[str, Any]:
    """`carried` with each field of `given` in its place.

    With `merge_instance_types` (an --instance-type naming entry points), `given`'s systemRequirements
    replace the carried ones entry point by entry point, as `dx run --clone` merges them; a single
    instance type for every entry point (`*`) replaces them all.
    """
    merged = {**dict(carried), **dict(given)}
    requirements = given.get("systemRequirements")
    if merge_instance_types and isinstance(requirements, Mapping) and isinstance(carried.get("systemRequirements"),
                                                                                 Mapping):
        merged["systemRequirements"] = {**dict(carried["systemRequirements"]), **dict(requirements)}
    return merged
