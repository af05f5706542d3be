"""The origins of a job's HTTPS app: one host per job and app port under `.localhost` (loopback by name)."""

from __future__ import annotations

import re
from dataclasses import dataclass

DEFAULT_PORT = 443
SUFFIX = ".localhost"
_HOST = re.compile(r"^(?P<job>job-[0-9a-z]{24})(?:-(?P<port>[0-9]{1,5}))?\.localhost(?::(?P<proxy>[0-9]{1,5}))?$")


@dataclass(frozen=True, slots=True)
class Origin:
    """One app port of one job, as the proxy serves it (the job ID as a browser sends it: lower case)."""

    job_key: str
    port: int


def app_host(job_id: str, port: int) -> str:
    """`job-xxxx.localhost` for port 443, `job-xxxx-8080.localhost` for 8080 (as the platform's `:8080`).

    Browsers send host names in lower case, so the host carries the job ID so; the proxy finds the job again
    without regard to case.
    """
    key = job_id.lower()
    return f"{key}{SUFFIX}" if port == DEFAULT_PORT else f"{key}-{port}{SUFFIX}"


def app_url(job_id: str, port: int, proxy_port: int) -> str:
    """The URL a browser opens for `job_id`'s app port `port`, through the proxy listening on `proxy_port`."""
    return f"http://{app_host(job_id, port)}:{proxy_port}/"


def parse_host(host: str) -> Origin | None:
    """The origin a `Host` header names, or None when it names no job's app."""
    match = _HOST.match(host.strip().lower())
    if match is None:
        return None
    return Origin(match.group("job"), int(match.group("port") or DEFAULT_PORT))
