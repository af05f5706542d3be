"""Who may call what: the access kind every route declares, the caller a token names, and the object rules.

    Access.PUBLIC          no token is asked for (only /runner/jwks: a public key, as a platform's JWKS is)
    Access.SIGNED          no token: the URL's signature, made by the engine at /upload or /download, is checked
    Access.USER            the user's token only
    Access.JOB_SELF        a live job's token only; on a /job-xxxx/ route, that job's own
    Access.ANY             the user's token or a live job's; on a /job-xxxx/ route the job must be one the
                           caller may act on, and every other object rule below applies in the handler
    Access.ANY_IN_MESSAGE  as ANY, with the token in a websocket's first message (what `dx watch` sends)

A job's levels, as the reference gives them: CONTRIBUTE in its workspace, VIEW in its project context (or
the level its applet's `access.project` asks for, when higher), `access.allProjects` in every project, and
nothing elsewhere. A job of an app has no access to its project context unless the app's `access.project`
asks for it; it has VIEW in the app's resources container and CONTRIBUTE in its project cache. It reads where
it has VIEW, writes where it has CONTRIBUTE, and acts (describe, tag, terminate, update, logs) only on jobs that
share its workspace or whose parent does. The user does anything.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from runner.engine.references import references_in
from runner.errors import InvalidAuthentication, PermissionDenied, ResourceNotFound
from runner.store.apps import AppNotFound, get_app
from runner.store.jobs import JobNotFound, get_job
from runner.store.objects import ObjectNotFound, get_executable
from runner.store.tokens import lookup_token

if TYPE_CHECKING:
    from runner.store.db import Database


class Access(str, enum.Enum):
    """What a route needs from its caller (see the module's docstring)."""

    PUBLIC = "public"
    SIGNED = "signed"
    USER = "user"
    JOB_SELF = "job-self"
    ANY = "any"
    ANY_IN_MESSAGE = "any-in-message"


LEVELS = ("VIEW", "UPLOAD", "CONTRIBUTE", "ADMINISTER")


def _rank(level: str | None) -> int:
    return LEVELS.index(level) + 1 if level in LEVELS else 0


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the user, or a job (its workspace, project context and the levels its applet asks for)."""

    kind: str  # "user" or "job"
    job_id: str | None = None
    workspace: str | None = None
    project: str | None = None
    project_level: str | None = "VIEW"
    all_projects_level: str | None = None
    resources: str | None = None
    project_cache: str | None = None

    @property
    def is_job(self) -> bool:
        """Whether the token is a job's."""
        return self.kind == "job"

    def level(self, container_id: str) -> str | None:
        """The caller's access level in a container (None: none at all)."""
        if not self.is_job:
            return "ADMINISTER"
        levels = []
        if container_id == self.workspace:
            levels.append("CONTRIBUTE")
        if container_id == self.project and self.project_level:
            levels.append(self.project_level)
        if container_id == self.resources:
            levels.append("VIEW")
        if container_id == self.project_cache:
            levels.append("CONTRIBUTE")
        if container_id.startswith("project-") and self.all_projects_level:
            levels.append(self.all_projects_level)
        return max(levels, key=_rank) if levels else None

    def may_read(self, container_id: str) -> bool:
        """Whether the caller has VIEW or more in `container_id`."""
        return _rank(self.level(container_id)) >= _rank("VIEW")

    def may_write(self, container_id: str) -> bool:
        """Whether the caller has CONTRIBUTE or more in `container_id`."""
        return _rank(self.level(container_id)) >= _rank("CONTRIBUTE")

    def require_read(self, container_id: str) -> None:
        """Raise PermissionDenied unless the caller may read `container_id`."""
        if not self.may_read(container_id):
            raise PermissionDenied(f"{self.job_id} may not read {container_id}: {self._reads()}")

    def _reads(self) -> str:
        if self.resources is None:
            return f"a job reads only its workspace {self.workspace} and its project context {self.project}"
        project = f", the project context {self.project}" if self.project_level else ""
        return (f"a job of an app reads only its workspace {self.workspace}{project}, its resources container "
                f"{self.resources} and its project cache {self.project_cache} (an app reads its project context "
                "only when its access.project asks for it)")

    def require_write(self, container_id: str) -> None:
        """Raise PermissionDenied unless the caller has CONTRIBUTE access to `container_id`."""
        if not self.may_write(container_id):
            raise PermissionDenied(f"{self.job_id} may not write into {container_id}: a job has CONTRIBUTE access "
                                   f"only to its workspace {self.workspace} (and to its project context "
                                   "when its applet's access.project asks for CONTRIBUTE)")

    def may_act_on(self, db: Database, job: Mapping[str, Any]) -> bool:
        """Whether the caller may describe or change `job`: the user, or a job sharing its or its parent's workspace."""
        if not self.is_job or self.workspace == job.get("workspace"):
            return True
        parent_id = job.get("parentJob")
        if not parent_id:
            return False
        try:
            return bool(get_job(db, parent_id).get("workspace") == self.workspace)
        except JobNotFound:
            return False

    def require_act_on(self, db: Database, job: Mapping[str, Any]) -> None:
        """Raise PermissionDenied unless the caller may act on `job`."""
        if not self.may_act_on(db, job):
            raise PermissionDenied(f"{self.job_id} may not act on {job['id']}: it shares neither that job's "
                                   "workspace nor its parent's")


def _applet_access(db: Database, applet_id: Any) -> Mapping[str, Any]:
    if not isinstance(applet_id, str):
        return {}
    try:
        access = get_executable(db, applet_id).get("access")
    except ObjectNotFound:
        return {}
    return access if isinstance(access, Mapping) else {}


def caller_of(db: Database, token: str | None) -> Caller:
    """Who `token` belongs to; InvalidAuthentication for none, an unknown one, or a job's after the job ended."""
    if token is None:
        raise InvalidAuthentication("no token: send the header 'Authorization: Bearer <token>'")
    info = lookup_token(db, token)
    if info is None:
        raise InvalidAuthentication("the token could not be found")
    if info.kind != "job":
        return Caller(kind="user")
    if info.revoked or info.job_id is None:
        raise InvalidAuthentication(f"the token of {info.job_id} is no longer valid: that job has ended")
    try:
        job = get_job(db, info.job_id)
    except JobNotFound:
        raise InvalidAuthentication("the token's job no longer exists") from None
    if job.get("app"):
        return _app_job(db, job)
    access = _applet_access(db, job.get("applet"))
    asked, everywhere = access.get("project"), access.get("allProjects")
    return Caller(kind="job", job_id=job["id"], workspace=job.get("workspace"), project=job.get("project"),
                  project_level=str(asked) if _rank(asked) > _rank("VIEW") else "VIEW",
                  all_projects_level=str(everywhere) if _rank(everywhere) else None)


def _app_job(db: Database, job: Mapping[str, Any]) -> Caller:
    """A job of an app: its project context only as far as the app's access.project asks (the reference:
    "apps by default do not have VIEW access to data in the project they were launched from")."""
    try:
        access = get_app(db, str(job["app"])).get("access")
    except AppNotFound:
        access = None
    asked = access.get("project") if isinstance(access, Mapping) else None
    everywhere = access.get("allProjects") if isinstance(access, Mapping) else None
    return Caller(kind="job", job_id=job["id"], workspace=job.get("workspace"), project=job.get("project"),
                  project_level=str(asked) if _rank(asked) else None,
                  all_projects_level=str(everywhere) if _rank(everywhere) else None,
                  resources=job.get("resources"), project_cache=job.get("projectCache"))


def require_access(caller: Caller, access: Access, route: str, object_id: str | None) -> None:
    """Raise unless `caller` is who `access` admits (the object rules come after, in `require_job` and Caller).

    The errors of JOB_SELF are those the reference documents: /job/new answers a user's token with
    InvalidAuthentication, /job-xxxx/getIdentityToken with PermissionDenied, and another job's token with
    InvalidAuthentication ("cannot be used from this IP address").
    """
    if access is Access.USER and caller.is_job:
        raise PermissionDenied(f"{route} may be called only with the user's token, not a job's")
    if access is not Access.JOB_SELF:
        return
    if not caller.is_job and object_id is None:
        raise InvalidAuthentication(f"{route}: the auth token used is not a token issued to a job")
    if not caller.is_job:
        raise PermissionDenied(f"{route} can only be called with a job token")
    if object_id is not None and object_id != caller.job_id:
        raise InvalidAuthentication(f"The token cannot be used from this IP address: {route} may be called only "
                                    f"by {object_id} itself, not by {caller.job_id}")


def require_references(db: Database, caller: Caller, value: Any, where: str) -> None:
    """Every job a job-based reference in `value` names is one the caller may describe (act on).

    The reference: "Ability to describe any job used in a job-based object reference" is required; without it
    a job could have another tree's outputs copied into its own input. A missing job is left to the engine,
    which fails the waiting job naming it.
    """
    for ref in references_in(value):
        try:
            job = get_job(db, ref.job)
        except JobNotFound:
            continue
        if not caller.may_act_on(db, job):
            raise PermissionDenied(f"{where}: {caller.job_id} may not use the output of {ref.job}: it may describe "
                                   "only jobs that share its workspace or whose parent does")


def require_job(db: Database, caller: Caller, job_id: str) -> dict[str, Any]:
    """The job `job_id` once the caller may act on it; ResourceNotFound when there is none."""
    try:
        job = get_job(db, job_id)
    except JobNotFound:
        raise ResourceNotFound(f"the job {job_id} does not exist") from None
    caller.require_act_on(db, job)
    return job
