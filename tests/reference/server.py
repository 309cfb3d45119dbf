"""A conformant Capy Jobs API server written with the standard library only.

It answers the two operations of openapi.yaml from fixed, planned data (three projects in two
organizations), enforces Bearer auth with an org-wide and a project-scoped key, and lets a
`Mutation` replace one step of its logic or rewrite each reply, so that single-defect variants
of it can be served. It shares no code with capymock, so that it can judge capymock's checks.

    python tests/reference/server.py [--port 4011]    # serves the conformant server
"""

from __future__ import annotations

import argparse
import copy
import json
import re
import socket
import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, cast
from urllib.parse import parse_qs, unquote, urlsplit

ORG_KEY = "capy_live_reference_org_key"
PROJECT_KEY = "capy_live_reference_proj_key"
ORGANIZATION = "org_ref"
PROJECT = "proj_ref"
OTHER_PROJECT = "proj_other"
OTHER_ORGANIZATION = "org_else"
ELSE_PROJECT = "proj_else"
PROJECTS = {PROJECT: ORGANIZATION, OTHER_PROJECT: ORGANIZATION, ELSE_PROJECT: OTHER_ORGANIZATION}

LIST_JOBS = "listProjectJobs"
GET_JOB = "getJob"
ALLOW = "GET, HEAD"
CHALLENGE = 'Bearer realm="capy"'
JSON_TYPE = "application/json"
LIMIT_MIN, LIMIT_MAX, LIMIT_DEFAULT = 1, 100, 25
MAX_DISCARDED_BODY = 1 << 20

JOB_FIELDS = (
    "attempts",
    "claimed_at",
    "claimed_by",
    "cluster_id",
    "completed_at",
    "created_at",
    "error",
    "id",
    "last_exit_code",
    "last_stderr",
    "last_stdout",
    "locked_resource",
    "max_attempts",
    "organization_id",
    "preview_database_id",
    "project_id",
    "retry_classification",
    "started_at",
    "state",
    "type",
    "updated_at",
)

# -- data -------------------------------------------------------------------------------

TRANSITIONS = {
    "pending": ("claimed", "cancelled"),
    "claimed": ("running", "pending", "failed", "cancelled"),
    "running": ("succeeded", "failed", "pending", "cancelled"),
    "failed": ("pending",),
    "succeeded": (),
    "cancelled": (),
}

_RETRY = ("claimed", "running", "failed", "pending")
PATHS: dict[str, tuple[str, ...]] = {
    "fresh": (),
    "claimed": ("claimed",),
    "running": ("claimed", "running"),
    "succeeded": ("claimed", "running", "succeeded"),
    "failed_run": ("claimed", "running", "failed"),
    "failed_claim": ("claimed", "failed"),
    "cancelled_pending": ("cancelled",),
    "cancelled_claimed": ("claimed", "cancelled"),
    "cancelled_running": ("claimed", "running", "cancelled"),
    "retry_pending": _RETRY,
    "lapsed_pending": ("claimed", "pending"),
    "lost_worker_pending": ("claimed", "running", "pending"),
    "retry_claimed": (*_RETRY, "claimed"),
    "retry_running": (*_RETRY, "claimed", "running"),
    "retry_succeeded": (*_RETRY, "claimed", "running", "succeeded"),
    "retry_cancelled": (*_RETRY, "cancelled"),
    "exhausted": (*_RETRY, *_RETRY, "claimed", "running", "failed"),
}
"""How a job got where it is: the states it entered after `pending`, in order."""

BASE_TIME = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Plan:
    """One job to generate: its id, project, history, retry budget, type and age in minutes."""

    id: str
    project: str
    path: str
    max_attempts: int
    type: str
    age: int


_REF_PLANS = (  # newest first; equal ages share a created_at, so ids break the tie
    (17, "fresh", 3, "build", 0),
    (4, "claimed", 3, "deploy", 0),
    (23, "running", 2, "migrate", 6),
    (9, "succeeded", 3, "deploy", 13),
    (30, "failed_run", 1, "test", 19),
    (2, "cancelled_pending", 3, "preview", 26),
    (12, "retry_pending", 3, "build", 33),
    (27, "retry_succeeded", 3, "deploy", 40),
    (6, "failed_claim", 1, "backup", 47),
    (19, "cancelled_running", 2, "preview", 55),
    (31, "retry_running", 4, "build", 62),
    (8, "lapsed_pending", 2, "test", 62),
    (14, "cancelled_claimed", 3, "backup", 62),
    (25, "exhausted", 3, "deploy", 70),
    (1, "lost_worker_pending", 3, "migrate", 77),
    (21, "retry_claimed", 2, "test", 85),
    (11, "succeeded", 1, "preview", 92),
    (28, "fresh", 0, "backup", 99),
    (5, "retry_cancelled", 2, "build", 107),
    (16, "failed_run", 3, "deploy", 115),
    (32, "succeeded", 3, "test", 122),
    (10, "failed_claim", 2, "build", 122),
    (22, "cancelled_pending", 0, "preview", 130),
    (3, "running", 5, "backup", 138),
    (29, "claimed", 2, "test", 146),
    (15, "fresh", 5, "deploy", 153),
    (7, "retry_succeeded", 4, "migrate", 161),
    (24, "exhausted", 3, "build", 170),
    (13, "running", 3, "test", 178),
    (26, "cancelled_running", 3, "deploy", 186),
    (18, "claimed", 1, "preview", 193),
    (20, "lapsed_pending", 3, "backup", 200),
    (33, "succeeded", 2, "build", 207),
)

PLANS: tuple[Plan, ...] = (
    *(Plan(f"job_ref_{n:02d}", PROJECT, path, most, kind, age) for n, path, most, kind, age in _REF_PLANS),
    Plan("job_oth_01", OTHER_PROJECT, "succeeded", 3, "deploy", 3),
    Plan("job_oth_02", OTHER_PROJECT, "running", 2, "build", 10),
    Plan("job_oth_03", OTHER_PROJECT, "fresh", 3, "test", 58),
    Plan("job_oth_04", OTHER_PROJECT, "failed_run", 1, "backup", 120),
    Plan("job_else_01", ELSE_PROJECT, "running", 3, "deploy", 8),
    Plan("job_else_02", ELSE_PROJECT, "succeeded", 2, "build", 50),
    Plan("job_else_03", ELSE_PROJECT, "fresh", 3, "test", 90),
)


def stamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`, to the second."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_stamp(text: str) -> datetime:
    """The instant of an RFC 3339 timestamp (with `Z` or an offset)."""
    return datetime.fromisoformat(text.replace("Z", "+00:00").replace("z", "+00:00"))


def _gap(seed: int, step: int) -> timedelta:
    """A deterministic pause of 5 s to about 4 min between two transitions of one job."""
    return timedelta(seconds=5 + (seed * 37 + step * 101) % 240)


def _enter(job: dict[str, Any], state: str, moment: datetime, seed: int) -> None:
    """Move `job` into `state` at `moment`, deriving what the transition derives."""
    if state not in TRANSITIONS[job["state"]]:
        raise ValueError(f"{job['id']}: {job['state']} -> {state} is not a transition")
    now = stamp(moment)
    if state == "claimed":
        job["attempts"] += 1
        job.update(claimed_at=now, claimed_by=f"worker-{(seed + job['attempts']) % 4 + 1}")
    elif state == "running":
        job["started_at"] = now
    elif state == "succeeded":
        job.update(completed_at=now, last_exit_code=0, last_stdout=f"{job['type']} done", error=None)
    elif state == "failed":
        exhausted = job["attempts"] >= job["max_attempts"]
        job.update(
            completed_at=now,
            last_exit_code=1 + seed % 3,
            error=f"{job['type']} failed",
            last_stderr="exit status 1",
            retry_classification="exhausted" if exhausted else "transient",
        )
    elif state == "cancelled":
        job["completed_at"] = now
    elif state == "pending":
        if job["attempts"] >= job["max_attempts"]:
            raise ValueError(f"{job['id']}: no retry left")
        job.update(claimed_by=None, claimed_at=None, started_at=None, completed_at=None)
    job["state"] = state
    job["updated_at"] = now


def _generate(plan: Plan, seed: int) -> dict[str, Any]:
    """One job, walked from `pending` through its planned history."""
    created = BASE_TIME - timedelta(minutes=plan.age)
    job: dict[str, Any] = dict.fromkeys(JOB_FIELDS)
    job.update(
        id=plan.id,
        project_id=plan.project,
        organization_id=PROJECTS[plan.project],
        type=plan.type,
        state="pending",
        attempts=0,
        max_attempts=plan.max_attempts,
        created_at=stamp(created),
        updated_at=stamp(created),
    )
    moment = created
    for step, state in enumerate(PATHS[plan.path]):
        moment += _gap(seed, step)
        _enter(job, state, moment, seed)
    if job["attempts"] > job["max_attempts"]:
        raise ValueError(f"{plan.id}: more attempts than allowed")
    if plan.type == "deploy":
        job["cluster_id"] = "cl_eu_west_1"
    if plan.type == "preview":
        job["preview_database_id"] = f"pdb_{plan.id.rsplit('_', 1)[1]}"
    if plan.type == "migrate" and job["state"] != "pending":
        job["locked_resource"] = f"db:{plan.project}:main"
    return job


def reference_jobs() -> list[dict[str, Any]]:
    """Every job of every project, freshly generated (callers may change their copy)."""
    return [_generate(plan, seed) for seed, plan in enumerate(PLANS)]


# -- the conformant logic -----------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What a key may read: a whole organization, or one project of it."""

    organization: str
    project: str | None = None

    def reaches(self, project_id: str) -> bool:
        return PROJECTS.get(project_id) == self.organization and self.project in (None, project_id)


KEYS = {ORG_KEY: Scope(ORGANIZATION), PROJECT_KEY: Scope(ORGANIZATION, PROJECT)}


class Problem(Exception):
    """An error answer: status, message and extra headers."""

    def __init__(self, status: int, message: str, headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.message, self.headers = status, message, dict(headers or {})


@dataclass
class Exchange:
    """What a request asked for, as the logic and a mutation's rewrite see it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    operation: str | None
    params: dict[str, str]


@dataclass
class Reply:
    """What will be sent: status, headers, and a JSON body (or `raw` bytes in its place)."""

    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=lambda: {"Content-Type": JSON_TYPE})
    raw: bytes | None = None

    def payload(self) -> bytes:
        return self.raw if self.raw is not None else json.dumps(self.body).encode()


Step = Callable[..., Any]
"""A replacement for one step: called as `override(standard, *args)`, where `standard` is the
conformant step."""


@dataclass(frozen=True)
class Mutation:
    """One deliberate defect: replacements for named steps of `Reference`, and/or a rewrite of
    every reply. Steps: authenticate(header), parse_limit(values), project_jobs(scope,
    project_id), order(jobs), window(jobs, limit), find_job(scope, job_id)."""

    steps: Mapping[str, Step] = field(default_factory=dict)
    rewrite: Callable[[Exchange, Reply], Reply] | None = None


_SHORT = 60


def _show(text: str) -> str:
    return repr(text if len(text) <= _SHORT else text[: _SHORT - 3] + "...")


def authenticate(header: str | None) -> Scope | None:
    """The scope of a `Bearer` key, or None when the header is missing or the key unknown."""
    scheme, _, token = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer":
        return None
    return KEYS.get(token.strip())


_INTEGER = re.compile(r"-?[0-9]+")


def parse_limit(values: list[str]) -> int:
    """The `limit` query parameter: absent means the default; else one integer in range."""
    if not values:
        return LIMIT_DEFAULT
    if len(values) > 1:
        raise Problem(400, "limit is given more than once")
    text = values[0]
    try:
        value = int(text) if _INTEGER.fullmatch(text) else None
    except ValueError:  # more digits than Python converts
        value = None
    if value is None:
        raise Problem(400, f"limit must be an integer, got {_show(text)}")
    if not LIMIT_MIN <= value <= LIMIT_MAX:
        raise Problem(400, f"limit must be between {LIMIT_MIN} and {LIMIT_MAX}, got {value}")
    return value


def order(jobs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Newest `created_at` first, ties by `id` descending."""
    return sorted(jobs, key=lambda job: (parse_stamp(job["created_at"]), job["id"]), reverse=True)


def window(jobs: list[dict[str, Any]], limit: int) -> list[dict[str, Any]]:
    """The first `limit` jobs."""
    return jobs[:limit]


class Reference:
    """The conformant behaviour, step by step; a `Mutation` may replace any step."""

    def __init__(self, mutation: Mutation | None = None, jobs: list[dict[str, Any]] | None = None) -> None:
        self.mutation = mutation or Mutation()
        self.jobs = {job["id"]: job for job in (jobs if jobs is not None else reference_jobs())}

    def step(self, name: str, standard: Step, *args: Any) -> Any:
        override = self.mutation.steps.get(name)
        return override(standard, *args) if override is not None else standard(*args)

    def answer(self, exchange: Exchange) -> Reply:
        """The reply to one request, after the mutation's rewrite."""
        try:
            reply = self._answer(exchange)
        except Problem as problem:
            reply = Reply(problem.status, {"error": problem.message})
            reply.headers.update(problem.headers)
        if self.mutation.rewrite is not None:
            reply = self.mutation.rewrite(exchange, reply)
        return reply

    def _answer(self, exchange: Exchange) -> Reply:
        if exchange.operation is None:
            raise Problem(404, f"no route for {_show(exchange.path)}")
        if exchange.method not in ("GET", "HEAD"):
            raise Problem(405, f"{exchange.method} is not allowed here", {"Allow": ALLOW})
        scope = self.step("authenticate", authenticate, exchange.headers.get("authorization"))
        if scope is None:
            raise Problem(401, "a valid bearer token is required", {"WWW-Authenticate": CHALLENGE})
        if exchange.operation == LIST_JOBS:
            limit = self.step("parse_limit", parse_limit, exchange.query.get("limit", []))
            jobs = self.step("project_jobs", self.project_jobs, scope, exchange.params["projectID"])
            listed = self.step("window", window, self.step("order", order, jobs), limit)
            return Reply(200, {"jobs": copy.deepcopy(listed)})
        job = self.step("find_job", self.find_job, scope, exchange.params["jobID"])
        return Reply(200, {"job": copy.deepcopy(job)})

    def project_jobs(self, scope: Scope, project_id: str) -> list[dict[str, Any]]:
        """The project's jobs; 404 for a project outside the key's organization, 403 for another
        project of it when the key is project-scoped."""
        if PROJECTS.get(project_id) != scope.organization:
            raise Problem(404, f"no project {_show(project_id)}")
        if not scope.reaches(project_id):
            raise Problem(403, f"this key may not act on project {_show(project_id)}")
        return [job for job in self.jobs.values() if job["project_id"] == project_id]

    def find_job(self, scope: Scope, job_id: str) -> dict[str, Any]:
        """The job, when it is in the key's scope; 404 otherwise."""
        job = self.jobs.get(job_id)
        if job is None or not scope.reaches(job["project_id"]):
            raise Problem(404, f"no job {_show(job_id)}")
        return job


def split_target(target: str) -> tuple[str, str]:
    """Path and query of a request target (origin form `/p?q`, or absolute form `http://h/p?q`)."""
    if not target.startswith("/"):
        parts = urlsplit(target)
        return parts.path or "/", parts.query
    path, _, query = target.partition("?")
    return path, query


def route(path: str) -> tuple[str | None, dict[str, str]]:
    """The operation a raw path names and its decoded path parameters ((None, {}) if none)."""
    parts = path.split("/")
    if len(parts) == 5 and parts[:3] == ["", "v1", "projects"] and parts[3] and parts[4] == "jobs":
        return LIST_JOBS, {"projectID": unquote(parts[3])}
    if len(parts) == 4 and parts[:3] == ["", "v1", "jobs"] and parts[3]:
        return GET_JOB, {"jobID": unquote(parts[3])}
    return None, {}


# -- HTTP -------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], reference: Reference) -> None:
        super().__init__(address, _Handler)
        self.reference = reference
        self.connections: set[socket.socket] = set()
        self.lock = threading.Lock()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self.lock:
            self.connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self.lock:
            self.connections.discard(request)
        super().shutdown_request(request)

    def drop_connections(self) -> None:
        with self.lock:
            open_now = list(self.connections)
        for connection in open_now:
            with suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "capy-reference/1.0"
    sys_version = ""
    timeout = 30
    disable_nagle_algorithm = True

    def version_string(self) -> str:
        return self.server_version

    def do_GET(self) -> None:
        self._serve()

    def __getattr__(self, name: str) -> Any:
        if name.startswith("do_"):  # every other method reaches the logic too (405 or 404)
            return self._serve
        raise AttributeError(name)

    def log_message(self, format: str, *args: Any) -> None:
        return

    def send_error(self, code: int, message: str | None = None, explain: str | None = None) -> None:
        """Malformed requests get JSON errors like everything else, and the connection closes."""
        self.close_connection = True
        try:
            phrase = HTTPStatus(code).phrase
        except ValueError:
            phrase = "error"
        reply = Reply(code, {"error": message or phrase})
        self._send(reply, head=getattr(self, "command", None) == "HEAD")

    def _serve(self) -> None:
        self._discard_body()
        path, query = split_target(self.path)
        operation, params = route(path)
        exchange = Exchange(
            method=self.command,
            path=path,
            query=parse_qs(query, keep_blank_values=True),
            headers={name.lower(): value for name, value in self.headers.items()},
            operation=operation,
            params=params,
        )
        reply = cast(_Server, self.server).reference.answer(exchange)
        self._send(reply, head=self.command == "HEAD")

    def _discard_body(self) -> None:
        """Read a request body nobody needs, so the next request on the connection parses."""
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            self.close_connection = True
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
        except ValueError:
            length = -1
        if length < 0 or length > MAX_DISCARDED_BODY:
            self.close_connection = True
        elif length:
            self.rfile.read(length)

    def _send(self, reply: Reply, head: bool) -> None:
        payload = reply.payload()
        self.send_response(reply.status)
        for name, value in reply.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        if not head:
            self.wfile.write(payload)


class ReferenceServer:
    """The reference (with an optional mutation) served on a background thread."""

    def __init__(self, mutation: Mutation | None = None, host: str = "127.0.0.1", port: int = 0) -> None:
        self.reference = Reference(mutation)
        self.httpd = _Server((host, port), self.reference)
        self.thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> ReferenceServer:
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        return self

    def stop(self) -> None:
        if self.thread is not None:
            self.httpd.shutdown()
            self.thread.join()
            self.thread = None
        self.httpd.drop_connections()
        self.httpd.server_close()

    def __enter__(self) -> ReferenceServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serve(mutation: Mutation | None = None, *, token: str = ORG_KEY) -> Iterator[tuple[str, str, str]]:
    """Serve the reference (with `mutation`) on a free port: yields (base_url, token, project_id)."""
    with ReferenceServer(mutation) as server:
        yield server.url, token, PROJECT


def main() -> None:
    """Serve the conformant reference until Ctrl-C."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=4011)
    port = parser.parse_args().port
    server = ReferenceServer(port=port).start()
    print(f"reference at {server.url}\n  org key     {ORG_KEY}\n  project key {PROJECT_KEY} ({PROJECT})")
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
