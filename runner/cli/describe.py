"""`runner describe ID`: a job, applet, file, record, project or container, laid out like `dx describe`."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime, timedelta, tzinfo
from typing import Any

import click

from runner.cli import _client
from runner.errors import UsageError
from runner.spec.ids import CONTAINER_CLASSES, id_class

FIELD_WIDTH = 22
NONE = "-"
DATA_CLASSES = frozenset({"applet", "file", "record"})
DESCRIBABLE = frozenset({"job", *DATA_CLASSES, *CONTAINER_CLASSES})
SIZE_UNITS = ("KB", "MB", "GB", "TB")
TIME_UNITS_S = {"days": 86400, "hours": 3600, "minutes": 60, "seconds": 1}

Row = tuple[str, str]


def format_time(millis: object, tz: tzinfo | None = None) -> str:
    """A timestamp in ms as `YYYY-MM-DD HH:MM:SS` in `tz` (default: local time); `-` when there is none."""
    if not isinstance(millis, (int, float)) or isinstance(millis, bool):
        return NONE
    return datetime.fromtimestamp(millis / 1000, tz).strftime("%Y-%m-%d %H:%M:%S")


def format_duration(millis: object) -> str:
    """A duration in ms as `h:mm:ss` (`N days, h:mm:ss` from one day); `-` when there is none."""
    if not isinstance(millis, (int, float)) or isinstance(millis, bool):
        return NONE
    return str(timedelta(seconds=max(0, int(millis) // 1000)))


def format_size(size: object) -> str:
    """A byte count as `dx` shows it: `N bytes`, else `x.yz KB|MB|GB|TB`."""
    if not isinstance(size, int) or isinstance(size, bool):
        return NONE
    if size < 1024:
        return f"{size} bytes"
    value = float(size)
    for unit in SIZE_UNITS:
        value /= 1024
        if value < 1024 or unit == SIZE_UNITS[-1]:
            break
    return f"{value:.2f} {unit}"


def format_value(value: object) -> str:
    """An input or output value: a link as the object (or `job-xxxx:field`) it names, else JSON."""
    if isinstance(value, Mapping) and set(value) == {"$dnanexus_link"}:
        link = value["$dnanexus_link"]
        if isinstance(link, str):
            return link
        if isinstance(link, Mapping):
            if "job" in link:
                return f"{link['job']}:{link.get('field')}"
            if "id" in link:
                return f"{link['project']}:{link['id']}" if link.get("project") else str(link["id"])
    if isinstance(value, list):
        return "[" + ", ".join(format_value(item) for item in value) + "]"
    return json.dumps(value)


def format_io(values: object) -> str:
    """An input or output mapping as `name=value` lines (`-` when empty or missing)."""
    if not isinstance(values, Mapping) or not values:
        return NONE
    return "\n".join(f"{name}={format_value(value)}" for name, value in values.items())


def format_spec(spec: object) -> str:
    """An inputSpec or outputSpec, one `name: class (optional, default ...)` line per field."""
    if not isinstance(spec, list) or not spec:
        return NONE
    lines = []
    for field in spec:
        if not isinstance(field, Mapping):
            continue
        notes = []
        if field.get("optional") or "default" in field:
            notes.append("optional")
        if "default" in field:
            notes.append(f"default {format_value(field['default'])}")
        line = f"{field.get('name', '?')}: {field.get('class', '?')}"
        lines.append(line + (f" ({', '.join(notes)})" if notes else ""))
    return "\n".join(lines) or NONE


def format_rows(rows: Iterable[Row]) -> str:
    """Aligned `Key   Value` lines; a value's later lines are indented under its first."""
    out = []
    for key, value in rows:
        first, *rest = (value or NONE).split("\n")
        out.append(f"{key:<{FIELD_WIDTH - 1}} {first}".rstrip())
        out.extend(" " * FIELD_WIDTH + line for line in rest)
    return "\n".join(out)


def job_rows(job: Mapping[str, Any], tz: tzinfo | None = None) -> list[Row]:
    """The rows `dx describe` shows for a job."""
    stopped = format_time(job.get("stoppedRunning"), tz)
    if job.get("startedRunning") and job.get("stoppedRunning"):
        stopped += f" (Runtime: {format_duration(job['stoppedRunning'] - job['startedRunning'])})"
    rows = [
        ("ID", _text(job.get("id"))), ("Class", _text(job.get("class"))),
        ("Job name", _text(job.get("name"))),
        ("Executable name", _text(job.get("executableName"))),
        ("Executable", _text(job.get("app") or job.get("applet"))),
        ("Project context", _text(job.get("project"))), ("Workspace", _text(job.get("workspace"))),
        ("Root execution", _text(job.get("rootExecution"))), ("Parent job", _text(job.get("parentJob"))),
        ("Origin job", _text(job.get("originJob"))), ("Function", _text(job.get("function"))),
        ("Instance Type", _text(job.get("instanceType"))), ("State", _text(job.get("state"))),
        ("Try", _text(job.get("try"))), ("Launched by", _text(job.get("launchedBy"))),
        ("Created", format_time(job.get("created"), tz)),
        ("Started running", format_time(job.get("startedRunning"), tz)), ("Stopped running", stopped),
        ("Timeout", format_duration(job.get("timeout"))), ("Output folder", _text(job.get("folder"))),
        ("Depends on", _join(job.get("dependsOn"))), ("Tags", _join(job.get("tags"))),
        ("Properties", _properties(job.get("properties"))),
        ("Input", format_io(job.get("input"))), ("Output", format_io(job.get("output"))),
    ]
    image = job.get("runnerImage")
    if isinstance(image, Mapping) and image.get("image"):
        rows.append(("Image", f"{image['image']}" + (f" ({image['note']})" if image.get("note") else "")))
    if isinstance(image, Mapping) and image.get("releaseNote"):
        rows.append(("Release", str(image["releaseNote"])))
    placed = job.get("runnerResources")
    if isinstance(placed, Mapping) and placed.get("capped"):
        rows.append(("Capped", str(placed.get("why"))))
    https = job.get("httpsApp")
    if isinstance(https, Mapping) and isinstance(https.get("dns"), Mapping) and https["dns"].get("url"):
        state = "open while the job runs: runner open " + _text(job.get("id")) if https.get("enabled") else "closed"
        rows.append(("HTTPS app", f"{https['dns']['url']} ({state})"))
    if job.get("failureReason") or job.get("failureMessage"):
        rows += [("Failure reason", _text(job.get("failureReason"))),
                 ("Failure message", _text(job.get("failureMessage")))]
        cause = job.get("failureFrom")
        if isinstance(cause, Mapping) and cause.get("id") and cause.get("id") != job.get("id"):
            rows.append(("Failure from", f"{cause['id']} ({cause.get('name') or '?'})"))
    return rows


def applet_rows(applet: Mapping[str, Any], tz: tzinfo | None = None) -> list[Row]:
    """The rows `dx describe` shows for an applet."""
    run_spec = applet.get("runSpec")
    run_spec = run_spec if isinstance(run_spec, Mapping) else {}
    rows = _object_head(applet, tz)
    rows += [("Title", _text(applet.get("title"))), ("Summary", _text(applet.get("summary"))),
             ("Input Spec", format_spec(applet.get("inputSpec"))),
             ("Output Spec", format_spec(applet.get("outputSpec"))),
             ("Interpreter", _text(run_spec.get("interpreter"))),
             ("Instance type", _per_entry(run_spec.get("systemRequirements"), _instance_type)),
             ("Timeout", _per_entry(run_spec.get("timeoutPolicy"), _timeout)),
             ("Tags", _join(applet.get("tags"))), ("Properties", _properties(applet.get("properties")))]
    return rows


def file_rows(file: Mapping[str, Any], tz: tzinfo | None = None) -> list[Row]:
    """The rows `dx describe` shows for a file."""
    rows = _object_head(file, tz)
    rows += [("Size", format_size(file.get("size"))), ("Media type", _text(file.get("media"))),
             ("Tags", _join(file.get("tags"))), ("Properties", _properties(file.get("properties")))]
    return rows


def record_rows(record: Mapping[str, Any], tz: tzinfo | None = None) -> list[Row]:
    """The rows `dx describe` shows for a record."""
    rows = _object_head(record, tz)
    rows += [("Types", _join(record.get("types"))), ("Tags", _join(record.get("tags"))),
             ("Properties", _properties(record.get("properties")))]
    if "details" in record:
        rows.append(("Details", json.dumps(record["details"])))
    return rows


def container_rows(container: Mapping[str, Any], tz: tzinfo | None = None) -> list[Row]:
    """The rows `dx describe` shows for a project or container."""
    return [("ID", _text(container.get("id"))), ("Class", _text(container.get("class"))),
            ("Name", _text(container.get("name"))), ("Summary", _text(container.get("summary"))),
            ("Billed to", _text(container.get("billTo"))), ("Access level", _text(container.get("level"))),
            ("Region", _text(container.get("region"))),
            ("Created", format_time(container.get("created"), tz)),
            ("Last modified", format_time(container.get("modified"), tz)),
            ("Data usage", _text(container.get("dataUsage"))), ("Tags", _join(container.get("tags"))),
            ("Properties", _properties(container.get("properties")))]


ROWS: dict[str, Callable[[Mapping[str, Any], tzinfo | None], list[Row]]] = {
    "job": job_rows, "applet": applet_rows, "file": file_rows, "record": record_rows,
    "project": container_rows, "container": container_rows,
}


def format_describe(description: Mapping[str, Any], tz: tzinfo | None = None) -> str:
    """The human layout of a describe answer of any class (unknown classes: their top-level fields)."""
    rows = ROWS.get(str(description.get("class")))
    if rows is not None:
        return format_rows(rows(description, tz))
    return format_rows((key, value if isinstance(value, str) else json.dumps(value))
                       for key, value in description.items())


def describe_body(klass: str) -> dict[str, Any]:
    """The describe request for a class: data objects with their properties (and a record its details)."""
    if klass in DATA_CLASSES:
        return {"properties": True, "details": True} if klass == "record" else {"properties": True}
    return {}


@click.command()
@click.argument("object_id", metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="Print the API's describe answer as JSON.")
def describe(object_id: str, as_json: bool) -> None:
    """Describe ID: a job, applet, file, record, project or container.

    Exits 1 when the engine has no such object, 3 when ID is not an ID of one of these classes.
    """
    klass = id_class(object_id)
    if klass not in DESCRIBABLE:
        raise UsageError(f"{object_id!r} is not the ID of a job, applet, file, record, project or container "
                         "(e.g. job-xxxx)")
    with _client.connect() as client:
        answer = client.call(f"/{object_id}/describe", describe_body(klass))
    if as_json:
        click.echo(json.dumps(answer, indent=4, sort_keys=True))
    else:
        click.echo(format_describe(answer if isinstance(answer, Mapping) else {}))


def _object_head(obj: Mapping[str, Any], tz: tzinfo | None) -> list[Row]:
    return [("ID", _text(obj.get("id"))), ("Class", _text(obj.get("class"))),
            ("Project", _text(obj.get("project"))), ("Folder", _text(obj.get("folder"))),
            ("Name", _text(obj.get("name"))), ("State", _text(obj.get("state"))),
            ("Created", format_time(obj.get("created"), tz)),
            ("Last modified", format_time(obj.get("modified"), tz))]


def _text(value: object) -> str:
    return NONE if value is None or value == "" else str(value)


def _join(values: object) -> str:
    if not isinstance(values, Sequence) or isinstance(values, str) or not values:
        return NONE
    return ", ".join(str(v) for v in values)


def _properties(values: object) -> str:
    if not isinstance(values, Mapping) or not values:
        return NONE
    return ", ".join(f"{key}={value}" for key, value in sorted(values.items()))


def _per_entry(policy: object, show: Callable[[object], str | None]) -> str:
    """A per-entry-point mapping: the value alone when only `*` is given, else `entry: value` pairs."""
    if not isinstance(policy, Mapping) or not policy:
        return NONE
    shown = {entry: show(value) for entry, value in policy.items()}
    pairs = {entry: value for entry, value in shown.items() if value is not None}
    if list(pairs) == ["*"]:
        return pairs["*"]
    return ", ".join(f"{entry}: {value}" for entry, value in pairs.items()) or NONE


def _instance_type(requirements: object) -> str | None:
    value = requirements.get("instanceType") if isinstance(requirements, Mapping) else None
    return value if isinstance(value, str) else None


def _timeout(policy: object) -> str | None:
    if not isinstance(policy, Mapping):
        return None
    seconds = sum(TIME_UNITS_S[unit] * value for unit, value in policy.items()
                  if unit in TIME_UNITS_S and isinstance(value, (int, float)))
    return format_duration(seconds * 1000) if seconds else None
