"""`RemoteMock`: a served mock steered over HTTP with the same handle as `Mock`
(`capymock.handle.Handle`): a session of its own on a shared `capymock serve`, so many test
workers, or CI jobs, share one server and never see each other's state; or, with `root()`, the
served mock itself. Every call is a route of `capymock.web.routes`, the table the server
dispatches on, and every error answer comes back as the exception the in-process mock raises."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from capymock.core.auth import mint_session_token
from capymock.core.durations import parse_duration
from capymock.core.expectations import assert_requested
from capymock.core.job import Job
from capymock.core.journal import RecordedRequest
from capymock.core.timestamps import parse_timestamp
from capymock.errors import CapymockError, MockDefect, Problem, ScenarioError, SourceLocation
from capymock.scenario.loader import bundled_scenarios, display_path, fault_document
from capymock.web.routes import POSTED, ROUTE, Route, raised
from capymock.world.history import JobHistory
from capymock.world.timeline import Fired

CONTROL = "/_capymock"


class RemoteClock:
    """A served mock's clock, as `clock` shows it: `now()` asks the server."""

    def __init__(self, mock: RemoteMock) -> None:
        self._mock = mock

    def now(self) -> datetime:
        """The mock's current time."""
        return parse_timestamp(self._mock.clock_state()["now"])


class RemoteMock:
    """A fresh session on the server at `server` (a `capymock serve` URL), loaded with `scenarios`;
    with `session=False` (or `RemoteMock.root(server)`), the served mock itself.

    `url` is the API's base URL (the session's): an app under test needs only that changed.
    `end()` ends the session (for the root, it does nothing). `control_token`: the server's
    `--control-token`, if it has one.
    """

    def __init__(
        self,
        server: str,
        *scenarios: str | Path,
        speed: float | None = None,
        timeout: float = 30,
        session: bool = True,
        control_token: str | None = None,
    ) -> None:
        self.server, self.timeout, self.control_token = server.rstrip("/"), timeout, control_token
        self.session_id: str | None = None
        self.expires_at: str | None = None
        self.control_url = f"{self.server}{CONTROL}"
        if session:
            created = self._call(ROUTE["start_session"], ROUTE["start_session"].body(speed=speed))
            self.session_id = created["id"]
            self.url: str = created["base_url"]
            self._token: str | None = created["token"]
            self.control_url = created["control_url"]
            self.expires_at = created["expires_at"]
        else:
            if speed is not None:
                raise TypeError("speed is a session's; the served root keeps the clock it was served with")
            self.url, self._token = self.server, None
        if scenarios:
            try:
                self.load(*scenarios)
            except Exception:
                self.end()
                raise

    @classmethod
    def root(cls, server: str, *, timeout: float = 30, control_token: str | None = None) -> RemoteMock:
        """The served mock itself (not a session): what every client of `server` without a
        session sees. Its changes are everyone's; `reset()` between tests."""
        return cls(server, timeout=timeout, session=False, control_token=control_token)

    @property
    def token(self) -> str:
        """The default API key (the session's, or the served mock's)."""
        if self._token is None:
            return str(self.state()["token"])
        return self._token

    @property
    def clock(self) -> RemoteClock:
        """The mock's clock: `clock.now()`."""
        return RemoteClock(self)

    # -- the session -------------------------------------------------------------------

    def load(self, *scenarios: str | Path) -> None:
        """Replace the mock's state with scenarios named as the server knows them (bundled, served,
        or files in its folders), or with one scenario file of this machine (sent whole, so it
        need not be on the server's disk). With none, the mock is emptied.

        Raises:
            ScenarioError: a scenario cannot be loaded (the mock keeps its state).
        """
        route = ROUTE["load"]
        bundled = bundled_scenarios()
        files = [
            Path(s) for s in scenarios if not (isinstance(s, str) and s in bundled) and Path(s).is_file()
        ]
        if not files:
            self._call(route, route.body(names=[str(s) for s in scenarios]))
        elif len(scenarios) == 1:
            path = files[0]
            text = path.read_text(encoding="utf-8")
            try:
                self._call(route, text.encode(), content_type="application/yaml")
            except ScenarioError as exc:  # located in the file, as the in-process mock says
                raise ScenarioError(
                    [_in_file(problem, display_path(path)) for problem in exc.problems]
                ) from None
        else:
            message = "a remote mock loads scenarios by name, or one scenario file of this machine"
            raise ScenarioError([Problem(None, "", message)])

    def reset(self) -> None:
        """Back to right after the last load, with an empty journal."""
        self._call(ROUTE["reset"], {})

    def end(self) -> None:
        """End the session; its URLs answer 404 from then on. (The root is never ended.)"""
        if self.session_id is None:
            return
        route = ROUTE["end_session"]
        with contextlib.suppress(KeyError):  # already ended, or expired
            self._call(route, None, item=self.session_id, control_url=f"{self.server}{CONTROL}")

    def state(self) -> dict[str, Any]:
        return dict(self._call(ROUTE["state"]))

    def projects(self) -> list[str]:
        """The projects of the mock's organization, in the order declared."""
        return list(self._call(ROUTE["projects"]))

    def add_project(self, project_id: str, organization_id: str | None = None) -> None:
        """Declare an (empty) project, by default in the mock's organization."""
        route = ROUTE["add_project"]
        self._call(route, route.body(project_id=project_id, organization_id=organization_id))

    @property
    def organization_id(self) -> str:
        """The organization of the loaded scenario (the default token's)."""
        return str(self.state()["organization"])

    @property
    def scenario(self) -> str | None:
        name = self.state()["scenario"]
        return str(name) if name is not None else None

    # -- time --------------------------------------------------------------------------

    def advance(self, duration: timedelta | float | str) -> list[Fired]:
        """Move the mock's clock forward; the steps that fired, in order."""
        route = ROUTE["advance"]
        seconds = parse_duration(duration).total_seconds()
        return [Fired(**fired) for fired in self._call(route, route.body(seconds=seconds))]

    def advance_to_next_step(self) -> list[Fired]:
        route = ROUTE["advance_to_next_step"]
        return [Fired(**fired) for fired in self._call(route, route.body(to="next_step"))]

    def clock_state(self) -> dict[str, Any]:
        return dict(self._call(ROUTE["clock_state"]))

    def set_clock(self, *, speed: float | None = None, paused: bool | None = None) -> dict[str, Any]:
        route = ROUTE["set_clock"]
        return dict(self._call(route, route.body(speed=speed, paused=paused)))

    # -- jobs, tokens, faults ----------------------------------------------------------

    def add_job(self, *, create_project: bool = False, **fields: Any) -> Job:
        body = {**fields, "create_project": create_project} if create_project else fields
        return Job(self._call(ROUTE["add_job"], body))

    def set_state(self, job_id: str, state: str, **fields: Any) -> Job:
        return Job(self._call(ROUTE["set_state"], {"state": state, **fields}, item=job_id))

    def job(self, job_id: str) -> Job:
        return Job(self._call(ROUTE["job"], item=job_id))

    def jobs(self) -> list[Job]:
        return [Job(job) for job in self._call(ROUTE["jobs"])]

    def history(self, job_id: str) -> JobHistory:
        """What happened to `job_id` (`Mock.history`): its changes, the API's reads of it, and
        the scripted steps still to come."""
        return JobHistory.from_dict(self._call(ROUTE["history"], item=job_id))

    def add_token(self, token: str, *, project: str | None = None, organization: str | None = None) -> str:
        route = ROUTE["add_token"]
        self._call(route, route.body(token=token, project=project, organization=organization))
        return token

    def clerk_token(
        self,
        *,
        org_id: str | None = None,
        user_id: str = "user_capymock",
        expires_in: timedelta | float | str = timedelta(hours=1),
        version: int = 2,
    ) -> str:
        """A Clerk session token valid from the mock's now (for `org_id`, default: its organization)."""
        state = self.state()
        return mint_session_token(
            organization_id=org_id or state["organization"],
            user_id=user_id,
            issued_at=parse_timestamp(state["now"]),
            lifetime=expires_in,
            version=version,
        )

    def fail(
        self,
        method: str | None,
        path: str,
        *,
        status: int | None = 500,
        times: int | None = None,
        delay: timedelta | float | str | None = None,
        body: Any = None,
    ) -> None:
        """Answer matching requests with `status` (and/or after `delay`), `times` times (None: always)."""
        self.add_fault(fault_document(method, path, status, times, delay, body))

    def add_fault(self, raw: dict[str, Any]) -> None:
        self._call(ROUTE["add_fault"], raw)

    # -- requests and defects ------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests the mock answered (tokens redacted), oldest first: every entry its
        journal keeps, read page by page."""
        route = ROUTE["requests"]
        entries: list[RecordedRequest] = []
        since, epoch = 0, None
        while True:
            page = self._call(route, query=f"limit=1000&since={since}")
            if epoch is not None and page["epoch"] != epoch:  # reset meanwhile: read the new journal
                entries, since, epoch = [], 0, None
                continue
            entries += [RecordedRequest(**entry) for entry in page["requests"]]
            since, epoch = page["next"], page["epoch"]
            if not page["more"]:
                return entries

    def assert_requested(self, method: str, path: str, times: int | None = None, **filters: Any) -> None:
        """As `Mock.assert_requested`: `AssertionError` listing what the mock saw."""
        __tracebackhide__ = True
        assert_requested(self.requests, method, path, times, **filters)

    def defects(self) -> list[str]:
        """The defects kept since the last `check()`, oldest first."""
        return list(self._call(ROUTE["defects"]))

    def check(self) -> None:
        """Raise `MockDefect` if the mock broke its own spec or crashed since the last check."""
        __tracebackhide__ = True
        defects = self.defects()
        if defects:
            self._call(ROUTE["clear_defects"])
            raise MockDefect("\n\n".join(defects))

    # -- HTTP --------------------------------------------------------------------------

    def _call(
        self,
        route: Route,
        body: Any = None,
        *,
        item: str = "",
        query: str = "",
        content_type: str = "application/json",
        control_url: str | None = None,
    ) -> Any:
        """Call `route` (on `item`, a job or session id); its answer's `route.answer` key, or the
        whole answer. An error answer is raised as the exception its kind stands for."""
        url = route.url(control_url or self.control_url, item) + (f"?{query}" if query else "")
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if data is not None else {}
        if self.control_token is not None:
            headers["Authorization"] = f"Bearer {self.control_token}"
        request = urllib.request.Request(url, data=data, method=route.method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as failure:
            with failure:
                raise _error(failure.code, failure.read()) from None
        except urllib.error.URLError as failure:
            raise CapymockError(f"cannot reach the capymock server at {url}: {failure.reason}") from None
        answer = json.loads(raw) if raw else None
        return answer[route.answer] if route.answer is not None and answer is not None else answer


def _error(status: int, raw: bytes) -> Exception:
    try:
        body = json.loads(raw)
    except ValueError:
        body = {"error": raw.decode("utf-8", "replace")}
    return raised(status, body)


def _in_file(problem: Problem, path: str) -> Problem:
    """`problem` of a posted document, located in the file it was read from."""
    where = problem.location
    if where is None or where.path != POSTED:
        return problem
    return Problem(SourceLocation(path, where.line, where.column), problem.path, problem.message)
