"""Deliberately wrong Capy deployments: the real mock behind a middleware with one defect each.

Each defect rewrites what the conformant mock answers, the way a drifting deployment would.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any

import capymock
from capymock.web.servers import BackgroundServer

Body = Any
Rewrite = Callable[[str, int, Body], tuple[int, Body, str]]
"""(path, status, body) -> (status, body, content type)."""


def _jobs_of(body: Body) -> list[dict[str, Any]]:
    if isinstance(body, dict) and isinstance(body.get("jobs"), list):
        return body["jobs"]
    return [body["job"]] if isinstance(body, dict) and isinstance(body.get("job"), dict) else []


def missing_required_field(path: str, status: int, body: Body) -> tuple[int, Body, str]:
    for job in _jobs_of(body):
        job.pop("project_id", None)
    return status, body, "application/json"


def wrong_type(path: str, status: int, body: Body) -> tuple[int, Body, str]:
    for job in _jobs_of(body):
        job["attempts"] = str(job["attempts"])
    return status, body, "application/json"


def undocumented_status(path: str, status: int, body: Body) -> tuple[int, Body, str]:
    return (418 if status == 404 else status), body, "application/json"


def wrong_content_type(path: str, status: int, body: Body) -> tuple[int, Body, str]:
    return status, body, "text/plain"


def lifecycle_violation(path: str, status: int, body: Body) -> tuple[int, Body, str]:
    for job in _jobs_of(body):
        if job["state"] == "running":
            job["started_at"] = None
    return status, body, "application/json"


HITS: dict[str, int] = {}
"""Requests each drift server answered, by URL (to tell a stale connection from a miss)."""

DEFECTS: dict[str, Rewrite] = {
    "missing_required_field": missing_required_field,
    "wrong_type": wrong_type,
    "undocumented_status": undocumented_status,
    "wrong_content_type": wrong_content_type,
    "lifecycle_violation": lifecycle_violation,
}


class Drift:
    """WSGI middleware that re-writes the mock's JSON answers with one defect."""

    def __init__(
        self,
        app: Any,
        rewrite: Rewrite | None = None,
        *,
        token: str = "",
        ignore_auth: bool = False,
        ignore_limit: bool = False,
    ) -> None:
        self.app, self.rewrite, self.token = app, rewrite, token
        self.label = ""
        self.ignore_auth, self.ignore_limit = ignore_auth, ignore_limit

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        HITS[self.label] = HITS.get(self.label, 0) + 1
        if self.ignore_auth:
            environ["HTTP_AUTHORIZATION"] = f"Bearer {self.token}"
        if self.ignore_limit and environ.get("PATH_INFO", "").endswith("/jobs"):
            environ["QUERY_STRING"] = "limit=100"
        captured: dict[str, Any] = {}

        def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            captured["status"], captured["headers"] = status, headers

        raw = b"".join(self.app(environ, capture))
        status = int(captured["status"].split()[0])
        content_type = "application/json"
        if self.rewrite is not None and raw and environ["PATH_INFO"].startswith("/v1/"):
            status, body, content_type = self.rewrite(environ["PATH_INFO"], status, json.loads(raw))
            raw = json.dumps(body).encode()
        headers = [
            (k, v) for k, v in captured["headers"] if k.lower() not in ("content-length", "content-type")
        ]
        headers += [("Content-Type", content_type), ("Content-Length", str(len(raw)))]
        start_response(f"{status} {'I am a teapot' if status == 418 else 'X'}", headers)
        return [b"" if environ["REQUEST_METHOD"] == "HEAD" else raw]


@contextmanager
def deployment(defect: str | None) -> Iterator[tuple[str, str]]:
    """Serve the demo scenario with `defect` (None: conformant); yield (url, token)."""
    mock = capymock.Mock(scenario="demo", validate=False)
    options: dict[str, Any] = {"token": mock.token}
    if defect == "auth_not_enforced":
        options["ignore_auth"] = True
    elif defect == "limit_ignored":
        options["ignore_limit"] = True
        for index in range(30):
            mock.add_job(project_id="proj_demo", created_at=f"2020-01-01T00:00:{index:02d}Z")
    elif defect is not None:
        options["rewrite"] = DEFECTS[defect]
    drift = Drift(mock.wsgi_app, **options)
    with BackgroundServer(drift) as server:
        drift.label = server.url
        yield server.url, mock.token
