"""Proxy mode: a WSGI app that forwards each request to the deployment with the caller's own token,
answers with the deployment's answer, and notes what passed through: the jobs it showed, and
its 5xx answers and timeouts (they become the scenario's faults). Each exchange is bounded
(`record.upstream`): a redirect is passed back, never followed with the caller's token."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from capymock.core.job import encode
from capymock.core.routing import NoRoute, WrongMethod, router_for
from capymock.core.spec import JOB, Spec, jobs_in_body
from capymock.record.observations import Recording
from capymock.record.upstream import MAX_ANSWER, Unanswered, exchange
from capymock.web.access import Access
from capymock.web.answer import Answer, error
from capymock.web.environ import STATUS_LINES, StartResponse, header, read_body, request_path

Reply = tuple[int, list[tuple[str, str]], bytes]
FORWARDED = (
    "Authorization",
    "Accept",
    "Accept-Language",
    "Content-Type",
    "Prefer",
    "Origin",
    "User-Agent",
    "If-None-Match",
    "Access-Control-Request-Method",
    "Access-Control-Request-Headers",
)
"""Request headers passed on (not Accept-Encoding: the body is read, so it must not be compressed)."""
MAX_BODY = 1 << 20
"""The largest request body forwarded (the Capy Jobs API takes none)."""
HOP_BY_HOP = {"connection", "keep-alive", "transfer-encoding", "content-length", "server", "date"}
PATH_SAFE = "/:@!$&'()*+,;="
"""What a path may hold as it is (RFC 3986); the rest, and `%` (WSGI decoded the path), is encoded."""
QUERY_SAFE = PATH_SAFE + "?%"
"""The query string is handed over as sent: only what a request line may not hold is encoded."""


class RecordingProxy:
    """Forwards to `target`; `recording` gets every job shown and every failure."""

    def __init__(
        self,
        target: str,
        spec: Spec,
        *,
        timeout: float = 10.0,
        access: Access | None = None,
        max_answer: int = MAX_ANSWER,
    ) -> None:
        self.target, self.spec, self.timeout = target.rstrip("/"), spec, timeout
        self.max_answer = max_answer
        """The largest answer passed on (a larger one is a 502)."""
        self.access = access or Access()
        self.recording = Recording(datetime.now(UTC), self.target)
        self.began = time.monotonic()
        self.on_change: Callable[[str, dict[str, Any]], None] | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        misdirected = self.access.misdirected(environ)
        if misdirected:
            status, headers, body = _reply(error(421, misdirected))
        else:
            query = quote(str(environ.get("QUERY_STRING", "")).encode("latin-1"), safe=QUERY_SAFE)
            status, headers, body = self.forward(environ, method, request_path(environ), query)
        start_response(STATUS_LINES.get(status, str(status)), [*headers, ("Content-Length", str(len(body)))])
        return [b"" if method == "HEAD" else body]

    def forward(self, environ: dict[str, Any], method: str, path: str, query: str) -> Reply:
        try:
            data = read_body(environ, MAX_BODY) or None
        except ValueError:
            return _error(400, "Content-Length is not a number")
        if data is not None and len(data) > MAX_BODY:
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        if not path.startswith("/"):
            return _error(400, f"the request target must be a path starting with /, not {path[:50]!r}")
        headers = {name: value for name in FORWARDED if (value := header(environ, name)) is not None}
        if "Authorization" in headers:
            self.recording.keep_out(headers["Authorization"])
        url = self.target + quote(path, safe=PATH_SAFE) + (f"?{query}" if query else "")
        seen = time.monotonic() - self.began
        try:
            answer = exchange(url, method, headers, data, deadline=self.timeout, limit=self.max_answer)
        except Unanswered as failure:
            if failure.timed_out:  # the deployment's doing: a fault of the scenario
                self.recording.failed(method, path, None, seen)
                return _error(504, f"the deployment did not answer within {self.timeout:g}s")
            return _error(502, f"the deployment's answer is unusable: {failure.reason}")
        status, body = answer.status, answer.body
        if status >= 500:
            self.recording.failed(method, path, status, seen, body)
        elif 200 <= status < 300:
            self.note(method, path, body, seen)
        kept = [(name, value) for name, value in answer.headers if name.lower() not in HOP_BY_HOP]
        return status, kept, body

    def note(self, method: str, path: str, body: bytes, seen: float) -> None:
        """Note the jobs a 2xx answer of a job operation (list, get) shows."""
        try:
            operation = router_for(self.spec).match(method, path).operation
            value = json.loads(body)
        except (NoRoute, WrongMethod, ValueError):
            return
        for _, job in jobs_in_body(self.spec, operation.operation_id, value):
            if self.recording.saw(job, seen) and self.on_change is not None:
                self.on_change(str(job.get(JOB.id)), job)


def _error(status: int, message: str) -> Reply:
    return _reply(error(status, f"capymock record: {message}"))


def _reply(answer: Answer) -> Reply:
    return answer.status, [("Content-Type", answer.content_type)], encode(answer.body)
