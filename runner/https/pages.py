"""The proxy's own answers: small HTML pages that say what happened and what to do about it."""

from __future__ import annotations

import html
from http import HTTPStatus

STYLE = "body{font-family:sans-serif;max-width:44em;margin:3em auto;line-height:1.5}code{background:#eee;padding:0 .2em}"


def page(status: int, title: str, paragraphs: list[str], headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A whole HTTP response: `status`, an HTML page of `title` and `paragraphs` (plain text, `` `x` `` as code)."""
    body = "".join(f"<p>{_inline(text)}</p>" for text in paragraphs)
    document = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title>"
                f"<style>{STYLE}</style></head><body><h1>{html.escape(title)}</h1>{body}</body></html>\n")
    return response(status, document.encode(), "text/html; charset=utf-8", headers)


def response(status: int, body: bytes, content_type: str, headers: tuple[tuple[str, str], ...] = ()) -> bytes:
    """A whole HTTP/1.1 response that closes the connection."""
    lines = [f"HTTP/1.1 {status} {HTTPStatus(status).phrase}", f"Content-Type: {content_type}",
             f"Content-Length: {len(body)}", "Cache-Control: no-store", "X-Content-Type-Options: nosniff",
             "Connection: close", *(f"{key}: {value}" for key, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body


def _inline(text: str) -> str:
    pieces = html.escape(text, quote=False).split("`")
    return "".join(f"<code>{piece}</code>" if index % 2 else piece for index, piece in enumerate(pieces))


def login_needed(job_id: str) -> bytes:
    """401: no live session for this job's app."""
    return page(401, "Log in to this HTTPS app", [
        f"There is no session for {job_id}'s HTTPS app in this browser, or it ended after a time without requests.",
        (f"Get a one-time login link with `runner open {job_id}` (`--print-url` prints it instead of opening a "
         "browser), or press `o` on the job in `runner tui`."),
    ])


def link_spent(job_id: str) -> bytes:
    """401: the login link was used already, expired, or is for another app."""
    return page(401, "This login link cannot be used", [
        ("A login link works once, for a short time, for the app it was made for; this one was used already, "
         "has expired, or is not one of this app's."),
        f"Get a new one with `runner open {job_id}`.",
    ])


def not_listening(job_id: str, port: int, reason: str) -> bytes:
    """502: the job runs, but nothing answers on the app's port yet."""
    return page(502, "502 Bad Gateway", [
        f"{job_id} is running, but its app does not answer on port {port} yet ({reason}).",
        ("The app may still be starting (installing dependencies, loading data): reload this page in a moment. "
         f"If it stays so, the app may listen on another port than {port}, or only on an address other than "
         f"127.0.0.1: see the job's log (`runner watch {job_id}`)."),
    ])


def not_running(job_id: str, state: str) -> bytes:
    """503: the job is not running, so there is no app to reach."""
    when = "yet: reload this page once it runs" if state in ("idle", "runnable", "waiting_on_input") else "any more"
    return page(503, "This job is not running", [
        f"{job_id} is {state}. Its HTTPS app is served only while the job runs, and it does not run {when}.",
    ])


def foreign_origin(job_id: str, sender: str) -> bytes:
    """403: a page of another origin (another job's app, say) sent the request."""
    return page(403, "Refused: sent by another site's page", [
        f"This request to {job_id}'s HTTPS app was sent by a page of {sender}, not by the app's own pages.",
        "The proxy passes on only requests from the app's own origin, so that one app cannot act in another.",
    ])


def unknown_app(host: str, why: str) -> bytes:
    """404: the host names no job's HTTPS app."""
    return page(404, "No HTTPS app here", [f"{host}: {why}.",
                                           ("An app's address is `http://job-xxxx.localhost:PORT/` (port 443), "
                                            "or `http://job-xxxx-8080.localhost:PORT/` for its port 8080 or 8081.")])


def bad_request(reason: str) -> bytes:
    """400: a request the proxy cannot pass on."""
    return page(400, "Bad request", [reason])
