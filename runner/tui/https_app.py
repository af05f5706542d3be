"""A job's HTTPS app, as describe gives it (`httpsApp.dns.url`, as `dx describe job-xxxx --json | jq .httpsApp`
shows on the platform), its one-time login link (what `o` opens: the proxy wants a session first), and opening
it in a browser without taking the terminal the TUI runs in."""

from __future__ import annotations

import webbrowser
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

from runner.client.api import EngineClient

NO_APP = "this job has no HTTPS app"


def https_app_url(description: Mapping[str, Any]) -> str | None:
    """The http(s) URL of the job's HTTPS app, or None when describe gives none (or it is switched off)."""
    app = description.get("httpsApp")
    if not isinstance(app, Mapping) or app.get("enabled") is False:
        return None
    dns = app.get("dns")
    url = dns.get("url") if isinstance(dns, Mapping) else None
    if not isinstance(url, str) or urlsplit(url).scheme not in ("https", "http") or not urlsplit(url).netloc:
        return None
    return url


def app_login_url(client: EngineClient, job: str) -> str | None:
    """A one-time login link to `job`'s HTTPS app (`/runner/httpsLogin`), or None when it has no app.

    A job that does not run yet has its app too (`enabled` false until it runs): the link waits for it.
    """
    described = client.call(f"/{job}/describe", {"fields": {"httpsApp": True}})
    if not isinstance(described.get("httpsApp"), Mapping):
        return None
    return str(client.call("/runner/httpsLogin", {"job": job})["url"])


def open_in_browser(url: str) -> bool:
    """Open `url` in a graphical browser; False when there is none (a text browser would take the TUI's terminal)."""
    try:
        browser = webbrowser.get()
    except webbrowser.Error:
        return False
    if isinstance(browser, webbrowser.GenericBrowser) and not isinstance(browser, webbrowser.BackgroundBrowser):
        return False
    return bool(browser.open(url))
