"""dxapp.json, read the way `dx build` reads a source folder, into a validated `Dxapp`."""

from __future__ import annotations

import dataclasses
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from runner.errors import Problem, SpecError
from runner.spec._checks import Checker, is_int, join, show
from runner.spec.io_spec import IOParam, read_io_spec
from runner.spec.links import check_details_links
from runner.spec.run_spec import ExecDepend, RunSpec, read_run_spec, read_system_requirements
from runner.spec.source_folder import MAX_TEXT_BYTES, FolderRefusal, check_bundled_trees, read_regular_file

MAX_TREE_TURNAROUND_SECONDS = 2592000
HTTPS_PORTS = (443, 8080, 8081)
SHARED_ACCESS = ("VIEW", "CONTRIBUTE", "ADMINISTER", "NONE")
ACCESS_LEVELS = ("VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER")
HOSTNAME_PATTERN = re.compile(r"^[a-z][a-z0-9]{2,}-[a-z][a-z0-9-]{2,}[a-z0-9]$")
VERSION_PATTERN = re.compile(r"^[a-zA-Z0-9._+-]+$")
DEFAULT_REGION = "aws:us-east-1"
MAX_DXAPP_BYTES = 16 * 1024 * 1024

_TOP_FIELDS = frozenset(
    {"name", "title", "summary", "description", "developerNotes", "dxapi", "version", "inputSpec", "outputSpec",
     "runSpec", "access", "httpsApp", "regionalOptions", "ignoreReuse", "treeTurnaroundTimeThreshold", "details",
     "categories", "types", "tags", "properties", "hidden", "developers", "authorizedUsers", "openSource",
     "billTo", "resources", "upstreamProjects"}
)


@dataclass(frozen=True, slots=True)
class Access:
    """What a job of this executable may reach: network hosts and project permissions."""

    network: tuple[str, ...] = ()
    project: str | None = None
    all_projects: str | None = None
    developer: bool = False
    project_creation: bool = False


@dataclass(frozen=True, slots=True)
class HttpsApp:
    """An httpsApp configuration: open ports, who may connect, an optional hostname."""

    ports: tuple[int, ...]
    shared_access: str
    hostname: str | None = None


@dataclass(frozen=True, slots=True)
class Dxapp:
    """A validated dxapp.json (with `runSpec.file` inlined as code, as `dx build` does)."""

    name: str
    title: str
    summary: str
    description: str
    developer_notes: str
    dxapi: str
    version: str | None
    input_spec: tuple[IOParam, ...] | None
    output_spec: tuple[IOParam, ...] | None
    run_spec: RunSpec
    access: Access
    https_app: HttpsApp | None
    regional_options: Mapping[str, Any]
    ignore_reuse: bool
    tree_turnaround_time_threshold: int | None
    details: Any
    raw: Mapping[str, Any] = field(compare=False, default_factory=dict)
    # dxapp.json as read and validated: a build stores these bytes rather than read the file again.
    source: bytes = field(compare=False, repr=False, default=b"")
    warnings: tuple[Problem, ...] = field(compare=False, default=())


def load_dxapp(folder: str | Path, region: str = DEFAULT_REGION, *, legacy_release: str = "refuse") -> Dxapp:
    """Read and validate `folder/dxapp.json` and what a build reads beside it; SpecError lists all problems.

    `legacy_release` is the setting: `nearest` runs an applet of an unsupported release on the nearest one.
    """
    folder = Path(folder)
    source = str(folder / "dxapp.json")
    checker = Checker()
    try:
        raw_bytes = read_regular_file(folder, "dxapp.json", MAX_DXAPP_BYTES)
    except FolderRefusal as exc:
        raise SpecError(source, [Problem("dxapp.json", str(exc))]) from None
    if raw_bytes is None:
        raise SpecError(source, [Problem("", f"no dxapp.json in {folder}")])
    raw = parse_json_document(raw_bytes, checker)
    unparsed = bool(checker.problems)
    check_bundled_trees(folder, checker)
    if unparsed:
        raise SpecError(source, checker.problems)
    dxapp = build_dxapp(raw, checker, folder=folder, region=region, legacy_release=legacy_release)
    if dxapp is None or checker.problems:
        raise SpecError(source, checker.problems)
    return dataclasses.replace(dxapp, source=raw_bytes)


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def parse_json_document(data: bytes, checker: Checker) -> Any:
    """Decode JSON text strictly (no NaN or Infinity); problems go to `checker`."""
    if len(data) > MAX_DXAPP_BYTES:
        checker.problem("", f"dxapp.json is {len(data)} bytes; at most {MAX_DXAPP_BYTES} are read")
        return None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        checker.problem("", f"not UTF-8 text (byte {exc.start})")
        return None
    try:
        return json.loads(text, parse_constant=_reject_constant)
    except json.JSONDecodeError as exc:
        checker.problem("", f"not valid JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}")
    except ValueError as exc:
        checker.problem("", str(exc))
    except RecursionError:
        checker.problem("", "not valid JSON: nested too deeply")
    return None


def build_dxapp(raw: Any, checker: Checker, *, folder: Path | None = None, region: str = DEFAULT_REGION,
                legacy_release: str = "refuse") -> Dxapp | None:
    """Validate a decoded dxapp.json document; `folder` (when given) resolves runSpec.file and readmes."""
    if not isinstance(raw, Mapping):
        checker.wrong_type("", "a JSON object (mapping) at the top level", raw)
        return None
    checker.unknown_keys(raw, "", _TOP_FIELDS, strict=False)
    name = checker.string(raw, "name", "")
    if name is not None and not name.strip():
        checker.problem("name", "must not be empty")
    title, summary = checker.string(raw, "title", ""), checker.string(raw, "summary", "")
    description, notes = checker.string(raw, "description", ""), checker.string(raw, "developerNotes", "")
    dxapi = checker.string(raw, "dxapi", "") or "1.0.0"
    version = checker.string(raw, "version", "")
    if version is not None and not VERSION_PATTERN.match(version):
        checker.problem("version", f"{version!r} must match ^[a-zA-Z0-9._+-]+$")
    inputs = read_io_spec(raw.get("inputSpec"), "inputSpec", checker, is_input=True)
    outputs = read_io_spec(raw.get("outputSpec"), "outputSpec", checker, is_input=False)
    access = _read_access(raw.get("access"), checker)
    pieces = read_run_spec(raw.get("runSpec"), "runSpec", checker, network=bool(access.network),
                           legacy_release=legacy_release)
    https_app = _read_https_app(raw.get("httpsApp"), checker)
    regional = _read_regional_options(raw, checker)
    ignore_reuse = checker.boolean(raw, "ignoreReuse", "") or False
    threshold = raw.get("treeTurnaroundTimeThreshold")
    if threshold is not None and (not is_int(threshold) or not 0 <= threshold < MAX_TREE_TURNAROUND_SECONDS):
        checker.problem("treeTurnaroundTimeThreshold",
                        f"must be a non-negative integer less than {MAX_TREE_TURNAROUND_SECONDS}, got {show(threshold)}")
    details = raw.get("details", {})
    if not isinstance(details, Mapping | list):
        checker.wrong_type("details", "a mapping or an array", details)
    check_details_links(details, "details", checker)
    description = description or _read_optional_text(folder, "Readme.md", checker)
    notes = notes or _read_optional_text(folder, "Readme.developer.md", checker)
    if pieces is None:
        return None
    run_spec = _finish_run_spec(pieces, regional, region, folder, checker)
    if run_spec is None or checker.problems:
        return None
    return Dxapp(
        name=name or (folder.resolve().name if folder is not None else "applet"),
        title=title or "", summary=summary or "",
        description=description, developer_notes=notes,
        dxapi=dxapi, version=version, input_spec=inputs, output_spec=outputs, run_spec=run_spec,
        access=access, https_app=https_app, regional_options=regional, ignore_reuse=ignore_reuse,
        tree_turnaround_time_threshold=threshold, details=details, raw=raw, warnings=tuple(checker.warnings),
    )


def _finish_run_spec(
    pieces: dict[str, Any], regional: Mapping[str, Any], region: str, folder: Path | None, checker: Checker
) -> RunSpec | None:
    code = _read_code(pieces["file"], folder, checker) if pieces["file"] is not None else None
    if code is None:
        code = pieces.get("code") or ""
    system_requirements = pieces["systemRequirements"]
    regional_requirements = _regional_system_requirements(regional, region)
    if regional_requirements is not None:
        system_requirements = regional_requirements
    if checker.problems:
        return None
    return RunSpec(
        interpreter=pieces["interpreter"], code=code, file=pieces["file"], distribution=pieces["distribution"],
        release=pieces["release"], version=pieces["version"], system_requirements=system_requirements,
        timeout_policy=pieces["timeoutPolicy"], execution_policy=pieces["executionPolicy"],
        exec_depends=tuple(d for d in pieces["execDepends"] if isinstance(d, ExecDepend)),
        bundled_depends=pieces["bundledDepends"], asset_depends=pieces["assetDepends"],
        restartable_entry_points=pieces["restartableEntryPoints"], head_job_on_demand=pieces["headJobOnDemand"],
        requested_release=pieces["requestedRelease"], release_note=pieces["releaseNote"],
    )


def _read_code(file: str, folder: Path | None, checker: Checker) -> str | None:
    if folder is None:
        return None
    if PurePosixPath(file).is_absolute() or ".." in PurePosixPath(file).parts:
        checker.problem("runSpec.file", f"{file!r} must be a path inside the applet folder")
        return None
    try:
        data = read_regular_file(folder, file, MAX_TEXT_BYTES)
    except FolderRefusal as exc:
        checker.problem("runSpec.file", f"{file!r} {exc}")
        return None
    if data is None:
        checker.problem("runSpec.file", f"{file!r} does not exist in {folder}")
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        checker.problem("runSpec.file", f"{file!r} is not UTF-8 text")
    return None


def _read_optional_text(folder: Path | None, name: str, checker: Checker) -> str:
    """A readme's text; "" when there is none. One that may not be read (a link out, a FIFO) is a problem."""
    if folder is None:
        return ""
    try:
        data = read_regular_file(folder, name, MAX_TEXT_BYTES)
    except FolderRefusal as exc:
        checker.problem(name, str(exc))
        return ""
    if data is None:
        return ""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        checker.problem(name, f"is not UTF-8 text (byte {exc.start})")
        return ""


def _read_access(raw: Any, checker: Checker) -> Access:
    if raw is None:
        return Access()
    if not isinstance(raw, Mapping):
        checker.wrong_type("access", "a mapping", raw)
        return Access()
    checker.unknown_keys(raw, "access", frozenset({"network", "project", "allProjects", "developer", "projectCreation"}),
                         strict=False)
    network = checker.string_list(raw, "network", "access") or []
    project = checker.one_of(raw, "project", "access", ACCESS_LEVELS)
    all_projects = checker.one_of(raw, "allProjects", "access", ACCESS_LEVELS)
    developer = checker.boolean(raw, "developer", "access") or False
    creation = checker.boolean(raw, "projectCreation", "access") or False
    return Access(tuple(network), project, all_projects, developer, creation)


def _read_https_app(raw: Any, checker: Checker) -> HttpsApp | None:
    if raw is None:
        return None
    if not isinstance(raw, Mapping):
        checker.wrong_type("httpsApp", "a mapping", raw)
        return None
    checker.unknown_keys(raw, "httpsApp", frozenset({"ports", "shared_access", "dns"}), strict=True)
    ports = raw.get("ports")
    if ports is None:
        checker.problem("httpsApp.ports", "is required")
    elif not isinstance(ports, list) or not ports or not all(is_int(p) and p in HTTPS_PORTS for p in ports):
        checker.problem("httpsApp.ports", f"must be a non-empty array of ports among 443, 8080, 8081, got {show(ports)}")
        ports = None
    shared = checker.one_of(raw, "shared_access", "httpsApp", SHARED_ACCESS, required=True)
    dns = checker.mapping(raw, "dns", "httpsApp")
    hostname = checker.string(dns, "hostname", "httpsApp.dns") if dns is not None else None
    if hostname is not None and not HOSTNAME_PATTERN.match(hostname):
        checker.problem("httpsApp.dns.hostname",
                        f"{hostname!r} must match /^[a-z][a-z0-9]{{2,}}-[a-z][a-z0-9-]{{2,}}[a-z0-9]$/")
    if ports is None or shared is None:
        return None
    return HttpsApp(tuple(dict.fromkeys(ports)), shared, hostname)


def _read_regional_options(raw: Mapping[str, Any], checker: Checker) -> dict[str, Any]:
    options = checker.mapping(raw, "regionalOptions", "")
    if options is None:
        return {}
    run_spec: Mapping[str, Any] = raw["runSpec"] if isinstance(raw.get("runSpec"), Mapping) else {}
    result: dict[str, Any] = {}
    for region, settings in options.items():
        path = join("regionalOptions", region)
        if not isinstance(settings, Mapping):
            checker.wrong_type(path, "a mapping", settings)
            continue
        if "systemRequirements" in settings:
            if "systemRequirements" in run_spec:
                checker.problem(join(path, "systemRequirements"),
                                "cannot be given both here and in runSpec.systemRequirements")
            settings = {**settings, "systemRequirements": read_system_requirements(
                settings["systemRequirements"], join(path, "systemRequirements"), checker)}
        result[region] = dict(settings)
    return result


def _regional_system_requirements(regional: Mapping[str, Any], region: str) -> Any:
    """regionalOptions[region].systemRequirements replaces runSpec's; the first region stands in for a missing one."""
    if not regional:
        return None
    chosen = regional.get(region) or next(iter(regional.values()))
    return chosen.get("systemRequirements") if isinstance(chosen, Mapping) else None
