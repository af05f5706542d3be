"""/runner/httpsLogin: a one-time login link to a job's HTTPS app (what `runner open` and the TUI's `o` open).

Only the user's token mints one (a job's never does). With one local user, every access level of
`httpsApp.shared_access` comes to the same person: VIEW, CONTRIBUTE and ADMINISTER admit the user, who holds
ADMINISTER in every local project; NONE admits only the user who launched the job, which the link checks.
"""

from __future__ import annotations

from typing import Any

from runner.api.core.routing import Access, Call, Routes
from runner.engine.submit import LAUNCHED_BY
from runner.errors import InvalidInput, InvalidState, PermissionDenied, ResourceNotFound
from runner.https.proxy import PROXY_KEY, HttpsProxy, https_app_of
from runner.spec.ids import is_id
from runner.spec.job_states import JobState
from runner.store.jobs import JobNotFound, get_job

routes = Routes()


def _proxy(call: Call) -> HttpsProxy:
    proxy = call.services.extras.get(PROXY_KEY)
    if not isinstance(proxy, HttpsProxy):
        raise InvalidState("this engine serves no HTTPS app proxy")
    return proxy


def _job(call: Call) -> dict[str, Any]:
    job_id = call.body.get("job")
    if not is_id(job_id, "job"):
        raise InvalidInput(f"`job` must be a job ID (job-xxxx), got {str(job_id)[:100]!r}",
                           {"field": "job", "expected": "a job ID"})
    try:
        return get_job(call.db, str(job_id))
    except JobNotFound:
        raise ResourceNotFound(f"the job {job_id} does not exist") from None


@routes.static("runner", "httpsLogin", Access.USER)
async def https_login(call: Call) -> dict[str, Any]:
    """A login link (`url`, good once, for `expiresIn` seconds) and the app's `appUrl`, for `job` and `port`."""
    proxy = _proxy(call)
    job = _job(call)
    https_app = https_app_of(call.db, job)
    if https_app is None:
        raise InvalidState(f"{job['id']} has no HTTPS app: its applet's dxapp.json has no httpsApp")
    ports = [int(port) for port in https_app["ports"]]
    port = call.body.get("port", 443 if 443 in ports else ports[0])
    if not isinstance(port, int) or isinstance(port, bool) or port not in ports:
        raise InvalidInput(f"`port` must be one of the app's ports {ports}, got {port!r}",
                           {"field": "port", "expected": f"one of {ports}"})
    if JobState(job["state"]).is_terminal:
        raise InvalidState(f"{job['id']} is {job['state']}: its HTTPS app is served only while it runs")
    if https_app.get("shared_access") == "NONE" and job.get("launchedBy") != LAUNCHED_BY:
        raise PermissionDenied(f"{job['id']}'s app is shared with no one (NONE): only its launching user opens it")
    return {"url": proxy.login_url(job["id"], port), "appUrl": proxy.url(job["id"], port),
            "expiresIn": int(proxy.sessions.login_ttl_s), "state": job["state"]}
