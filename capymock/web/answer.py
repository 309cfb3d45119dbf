"""A response as data (`Answer`), and the answers every route shares: errors and 405s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from capymock.core.job import Job

Headers = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Answer:
    """A response as data: status, body, extra headers, and the jobs it shows.

    `body` is JSON-able (it may hold `Job`s), or bytes sent as `content_type`.
    """

    status: int
    body: Any
    headers: Headers = ()
    reads: Sequence[Job] = ()
    """The jobs this response shows: each counts as one read of that job."""
    content_type: str = "application/json"


def error(status: int, message: str, headers: Headers = ()) -> Answer:
    """The spec's error shape: `{"error": message}`."""
    return Answer(status, {"error": message}, headers)


def method_not_allowed(method: str, path: str, allowed: Sequence[str]) -> Answer:
    """405 naming the methods `path` does answer (in `Allow`, too)."""
    allow = ", ".join(allowed)
    return error(405, f"{method} is not allowed on {path}; allowed: {allow}", (("Allow", allow),))


def crashed(exc: BaseException) -> Answer:
    """500 for a crash of capymock itself (the owning test fails later, from `Mock.check()`)."""
    return error(500, f"capymock internal error: {type(exc).__name__}: {exc}")
