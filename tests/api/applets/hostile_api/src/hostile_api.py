"""hostile_api: each attempt on another tree or project, and the error type (or "allowed") it met."""

import json
import os
import urllib.error
import urllib.request

import dxpy


def _error_of(call):
    try:
        call()
        return "allowed"
    except dxpy.exceptions.DXAPIError as exc:
        return exc.name


def _logs(victim):
    """GET /runner/logs of the victim with this job's own token (what `runner watch` reads)."""
    token = json.loads(os.environ["DX_SECURITY_CONTEXT"])["auth_token"]
    url = "{}://{}:{}/runner/logs?job={}&follow=0".format(
        os.environ.get("DX_APISERVER_PROTOCOL", "http"), os.environ["DX_APISERVER_HOST"],
        os.environ["DX_APISERVER_PORT"], victim)
    request = urllib.request.Request(url, headers={"Authorization": "Bearer " + token})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return "allowed: " + response.read(200).decode("utf-8", "replace")
    except urllib.error.HTTPError as exc:
        return json.loads(exc.read())["error"]["type"]


@dxpy.entry_point("main")
def main(victim, other_project, applet):
    reference = {"$dnanexus_link": {"job": victim, "field": "greeting"}}
    attempts = {
        "detach_elsewhere": _error_of(lambda: dxpy.api.applet_run(
            applet, {"input": {"who": "x"}, "detach": True, "project": other_project})),
        "detach_here": _error_of(lambda: dxpy.api.applet_run(applet, {"input": {"who": "x"}, "detach": True})),
        "update": _error_of(lambda: dxpy.api.job_update(victim, {"allowSSH": ["0.0.0.0/0"], "rank": 1000})),
        "tags": _error_of(lambda: dxpy.api.job_add_tags(victim, {"tags": ["owned"]})),
        "terminate": _error_of(lambda: dxpy.api.job_terminate(victim)),
        "describe": _error_of(lambda: dxpy.api.job_describe(victim)),
        "steal_output": _error_of(lambda: dxpy.api.job_new({"function": "main", "input": {"x": reference}})),
        "logs": _logs(victim),
    }
    return {"attempts": attempts}


dxpy.run()
