"""The exceptions of applet-runner.

    RunnerError                      base of everything raised on purpose
    ├── SpecError                    a dxapp.json (or other spec) is invalid; carries every Problem
    ├── FolderRefusal                (spec.source_folder) a path in an applet folder a build does not read
    ├── IllegalTransition            (spec.job_states) a move the job lifecycle does not allow
    ├── UsageError                   bad input on the command line (exit 3)
    │   └── FieldError               (tui.form_model) a run form field's value is wrong (also a ValueError)
    ├── SettingError                 (config) an unknown setting, a bad value, an unreadable config.toml
    ├── EnvironmentProblem           the host lacks something (Docker, debootstrap, network); says the fix
    ├── ImageBuildError              building a base, runtime or applet image failed
    │   └── WheelNotFound            (build.wheels) a pip pin has no wheel for the image's Python
    ├── ArchiveRefusal               (spec.asset_archive) not an asset archive, or a member would escape
    ├── StoreError                   (store.db) the database file cannot be opened or is not one of ours
    ├── NotFound                     the store has no such thing; the API server answers ResourceNotFound
    │   ├── ObjectNotFound           (store.objects) no such container or data object (or not in it)
    │   ├── FolderNotFound           (store.objects) no such folder
    │   ├── JobNotFound              (store.jobs) no job has that ID
    │   └── AppNotFound              (store.apps) no app by that ID, name and version or tag
    ├── FolderConflict               (store.objects) the folder exists, is not empty, or is the root
    ├── FileStateError               (store.files) the file's state does not allow it (closed, open)
    ├── JobFileError                 (engine.job_files) a document a job left in work/ cannot be used
    ├── BackendError                 (backends.base) a container could not be made, run or removed
    ├── InstallProblem               (api.executables.new_applet) an /applet/new's execDepends cannot install
    ├── BadRequest                   (https._wire) not an HTTP/1.x request the HTTPS proxy can pass on
    ├── Unreachable                  (https.upstream) an HTTPS app cannot be reached now (the 502 page says why)
    └── ApiError                     an API call failed; `dx_type` is the DNAnexus error type name
        ├── InvalidInput             422: the request's input is wrong (details: field, reason, expected)
        ├── InvalidType              422: an object of the wrong class was given
        ├── InvalidState             422: the object is not in a state that allows the call
        ├── ResourceNotFound         404: no such object, folder or route
        ├── PermissionDenied         401: the token may not do this
        ├── InvalidAuthentication    401: no token, an unknown one, or a job's token after the job ended
        ├── InvalidJSON              400: the body is not a JSON object
        ├── ServiceUnavailable       503: the engine is shutting down (clients retry)
        └── DiskFull                 (store._disk) 422: no space left under $RUNNER_HOME

A class defined elsewhere names its module in parentheses. The launcher's own exceptions stay outside the
tree: it runs inside job containers on the standard library alone.

Third-party exceptions (docker, sqlite3, aiohttp) are converted at the edge into one of these, so
that the command line can print one line instead of a traceback. The API server renders an ApiError
as `{"error": {"type", "message", "details"}}` with its status; the client raises the same class back.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


class RunnerError(Exception):
    """Base class of every error applet-runner raises on purpose."""


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with a document: where (a JSON path such as `runSpec.timeoutPolicy.main`) and what."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class SpecError(RunnerError):
    """A specification is invalid; `problems` lists every problem found, not just the first."""

    def __init__(self, source: str, problems: list[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        super().__init__(f"{source} is invalid ({len(self.problems)} problem(s)):\n{lines}")


class NotFound(RunnerError):
    """The store has nothing by that ID or path; the API server answers ResourceNotFound with the message."""


class UsageError(RunnerError):
    """The command line was given something it cannot use."""


class EnvironmentProblem(RunnerError):
    """The host is missing something the runner needs; the message says how to fix it."""

    def __init__(self, message: str, fix: str = "") -> None:
        self.fix = fix
        super().__init__(f"{message}\n  fix: {fix}" if fix else message)


class ImageBuildError(RunnerError):
    """Building one of the runner's Docker images failed."""


class ApiError(RunnerError):
    """An API call failed; rendered as `{"error": {"type", "message", "details"}}` with `http_status`."""

    dx_type = "InternalError"
    http_status = 500

    def __init__(self, message: str, details: Mapping[str, Any] | None = None) -> None:
        self.message = message
        self.details: dict[str, Any] = dict(details or {})
        super().__init__(message)

    def document(self) -> dict[str, Any]:
        """The error body the API sends."""
        return {"error": {"type": self.dx_type, "message": self.message, "details": self.details}}


class InvalidInput(ApiError):
    """The request's input is wrong; for run inputs, `details` holds field, reason and expected."""

    dx_type, http_status = "InvalidInput", 422


class InvalidType(ApiError):
    """An object of the wrong class was given."""

    dx_type, http_status = "InvalidType", 422


class InvalidState(ApiError):
    """The object is not in a state that allows the call."""

    dx_type, http_status = "InvalidState", 422


class ResourceNotFound(ApiError):
    """No such object, folder or route."""

    dx_type, http_status = "ResourceNotFound", 404


class PermissionDenied(ApiError):
    """The caller's token may not do this."""

    dx_type, http_status = "PermissionDenied", 401


class InvalidAuthentication(ApiError):
    """No token, an unknown token, or the token of a job that has ended."""

    dx_type, http_status = "InvalidAuthentication", 401


class InvalidJSON(ApiError):
    """The request body is not a JSON object."""

    dx_type, http_status = "InvalidJSON", 400


class ServiceUnavailable(ApiError):
    """The engine is briefly unable to answer (shutting down); clients retry."""

    dx_type, http_status = "ServiceUnavailable", 503


API_ERRORS: dict[str, type[ApiError]] = {
    cls.dx_type: cls
    for cls in (InvalidInput, InvalidType, InvalidState, ResourceNotFound, PermissionDenied,
                InvalidAuthentication, InvalidJSON, ServiceUnavailable)
}


def api_error(dx_type: str, message: str, details: Mapping[str, Any] | None = None) -> ApiError:
    """The ApiError subclass for a DNAnexus error type name (ApiError itself for unknown types)."""
    cls = API_ERRORS.get(dx_type)
    if cls is None:
        error = ApiError(message, details)
        error.dx_type = dx_type
        return error
    return cls(message, details)
