"""Proxy mode: a WSGI app that forwards each request to the deployment with the caller's own token,
answers with the deployment's answer, and notes what passed through: the jobs it showed, and
its 5xx answers and timeouts (they become the scenario's faults)."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from capymock.core.spec import JOB, Spec
from capymock.record.observations import Recording
from capymock.web.access import Access
from capymock.web.environ import STATUS_LINES, read_body

StartResponse = Callable[..., Any]
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
_LINES = STATUS_LINES


class RecordingProxy:
    """Forwards to `target`; `recording` gets every job shown and every failure."""

    def __init__(
        self, target: str, spec: Spec, *, timeout: float = 10.0, access: Access | None = None
    ) -> None:
        self.target, self.spec, self.timeout = target.rstrip("/"), spec, timeout
        self.access = access or Access()
        self.recording = Recording(datetime.now(UTC), self.target)
        self.began = time.monotonic()
        self.on_change: Callable[[str, dict[str, Any]], None] | None = None

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        misdirected = self.access.misdirected(environ)
        if misdirected:
            body = json.dumps({"error": misdirected}).encode()
            start_response(
                "421 Misdirected Request",
                [("Content-Type", "application/json"), ("Content-Length", str(len(body)))],
            )
            return [body]
        method = environ["REQUEST_METHOD"].upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = environ.get("QUERY_STRING", "")
        status, headers, body = self.forward(environ, method, path, query)
        start_response(_LINES.get(status, str(status)), [*headers, ("Content-Length", str(len(body)))])
        return [b"" if method == "HEAD" else body]

    def forward(
        self, environ: dict[str, Any], method: str, path: str, query: str
    ) -> tuple[int, list[tuple[str, str]], bytes]:
        try:
            data = read_body(environ, MAX_BODY) or None
        except ValueError:
            return _error(400, "Content-Length is not a number")
        if data is not None and len(data) > MAX_BODY:
            return _error(413, f"the body is larger than {MAX_BODY} bytes")
        headers = {name: value for name in FORWARDED if (value := _header(environ, name)) is not None}
        url = self.target + path + (f"?{query}" if query else "")
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        seen = time.monotonic() - self.began
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                status, answer, body = response.status, response.headers, response.read()
        except urllib.error.HTTPError as failure:
            with failure:
                status, answer, body = failure.code, failure.headers, failure.read()
        except (urllib.error.URLError, TimeoutError, OSError) as failure:
            reason = getattr(failure, "reason", failure)
            if isinstance(reason, TimeoutError):  # the deployment's doing: a fault of the scenario
                self.recording.failed(method, path, None, seen)
                return _error(504, f"the deployment did not answer within {self.timeout:g}s")
            return _error(502, f"cannot reach the deployment: {reason}")
        if status >= 500:
            self.recording.failed(method, path, status, seen, body)
        elif 200 <= status < 300:
            self.note(body, seen)
        kept = [(name, value) for name, value in answer.items() if name.lower() not in HOP_BY_HOP]
        return status, kept, body

    def note(self, body: bytes, seen: float) -> None:
        try:
            value = json.loads(body)
        except ValueError:
            return
        for operation in self.spec.operations:
            shown = value.get(operation.envelope) if isinstance(value, dict) and operation.envelope else None
            for job in shown if isinstance(shown, list) else [shown] if isinstance(shown, dict) else []:
                if self.recording.saw(job, seen) and self.on_change is not None:
                    self.on_change(str(job.get(JOB.id)), job)


def _header(environ: dict[str, Any], name: str) -> str | None:
    key = name.upper().replace("-", "_")
    value = environ.get(key if key == "CONTENT_TYPE" else "HTTP_" + key)
    return value if isinstance(value, str) else None


def _error(status: int, message: str) -> tuple[int, list[tuple[str, str]], bytes]:
    body = json.dumps({"error": f"capymock record: {message}"}).encode()
    return status, [("Content-Type", "application/json")], body
