"""A job's `httpsApp` as describe shows it on the platform: enabled, ports, shared_access, dns.url."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from runner.https.hosts import DEFAULT_PORT


def https_app_view(job: Mapping[str, Any], https_app: Mapping[str, Any], url_of: Callable[[str, int], str]) -> dict[str, Any]:
    """describe's `httpsApp` of `job`, whose executable's is `https_app`; `url_of(job_id, port)` gives a URL.

    `enabled` says whether the proxy serves the app now (while the job runs). `dns.url` is the address of port
    443 when the app opens it, else of its first port. The platform's describe words the access level both as
    `shared_access` (the dxapp.json key) and as `access` (its documented example): both are given.
    """
    ports = [int(port) for port in https_app.get("ports") or []]
    main_port = DEFAULT_PORT if DEFAULT_PORT in ports else ports[0]
    shared = str(https_app.get("shared_access") or "VIEW")
    return {"enabled": job.get("state") == "running", "ports": ports, "shared_access": shared, "access": shared,
            "dns": {"url": url_of(job["id"], main_port)}}
