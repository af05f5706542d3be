"""A stand-in for the engine client: canned answers per route, canned log records, every call recorded."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any, Self

import pytest

from runner.cli import _client
from runner.errors import ApiError

PROJECT = "project-" + "P" * 24


class FakeClient:
    """Answers `call(route)` from `answers` (a value, or a function of the body) and streams `records`."""

    def __init__(self, answers: Mapping[str, Any] | None = None,
                 records: list[dict[str, Any]] | None = None) -> None:
        self.project = PROJECT
        self.answers = dict(answers or {})
        self.records = list(records or [])
        self.calls: list[tuple[str, Any]] = []
        self.streams: list[tuple[str, bool, bool]] = []
        self.interrupt_after: int | None = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        pass

    def call(self, route: str, body: Mapping[str, Any] | None = None, *,
             timeout_s: float | None = 300) -> Any:
        self.calls.append((route, dict(body or {})))
        if route not in self.answers:
            raise ApiError(f"FakeClient has no answer for {route}")
        answer = self.answers[route]
        return answer(body) if callable(answer) else answer

    def stream_logs(self, job_id: str, *, tree: bool = True, follow: bool = True) -> Iterator[dict[str, Any]]:
        self.streams.append((job_id, tree, follow))
        for index, record in enumerate(self.records):
            if index == self.interrupt_after:
                raise KeyboardInterrupt
            yield record


def use(monkeypatch: pytest.MonkeyPatch, client: FakeClient) -> FakeClient:
    """Make every verb get `client` from `_client.connect()`."""
    monkeypatch.setattr(_client, "connect", lambda: client)
    return client


def forbid_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fail the test if a verb asks for the engine."""
    def refuse() -> FakeClient:
        raise AssertionError("the command contacted the engine")
    monkeypatch.setattr(_client, "connect", refuse)
