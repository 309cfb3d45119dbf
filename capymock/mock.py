"""`Mock`: a fake Capy API wired to the web edge (`wsgi_app`), with isolated sessions on the same
server (`session()`), and `serve()`, which runs one on a free loopback port for a `with` block."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from capymock.core.clock import Clock, ManualClock
from capymock.core.spec import Spec
from capymock.system.clock import SystemClock
from capymock.web.app import App
from capymock.web.served import Served
from capymock.world.fake_api import FakeApi, ScenarioReference
from capymock.world.sessions import PREFIX as SESSION_PREFIX
from capymock.world.sessions import Sessions


class Mock(FakeApi):
    """A scriptable, in-memory Capy Jobs API.

    Serve it with `capymock.serve()`, or call `mock.wsgi_app` directly. Every response is
    checked against the spec while `validate` is on; a mismatch or a crash answers 500 and
    is raised again by `check()` (which `serve()` calls when its block ends).
    """

    url: str | None = None
    """Where the mock is served (set by `serve()` and `capymock serve`), else None."""

    @functools.cached_property
    def sessions(self) -> Sessions:
        """The isolated sessions served beside this mock, under `/s/{id}/`."""
        return Sessions(self._session_mock)

    @functools.cached_property
    def wsgi_app(self) -> App:
        """The mock as a WSGI application (for `httpx.WSGITransport`, `werkzeug.test.Client`, ...)."""
        return App(self, sessions=self.sessions)

    def session(self, *scenarios: ScenarioReference, speed: float | None = None) -> Mock:
        """A new session on this mock's server: a whole mock of its own (store, clock, keys,
        scripts, faults, journal) under `{url}/s/{id}`, loaded with `scenarios`.

        Its clock is virtual (it moves with `advance()`), or runs at `speed` like `serve --speed`.
        `end_session()` ends it; so does 30 minutes without a request.

        Raises:
            ScenarioError: a scenario cannot be loaded (no session is left behind).
            TooManySessions: the server holds as many sessions as it may.
            OverBudget: its jobs would take the live sessions past their budget (`sessions.job_budget`).
        """
        started = self.sessions.create(speed)
        session = started.fake
        assert isinstance(session, Mock)
        try:
            session.load(*scenarios)
        except Exception:
            self.sessions.end(started.id)
            raise
        session.session_id = started.id
        session.url = f"{self.url}{SESSION_PREFIX}{started.id}" if self.url else None
        return session

    session_id: str | None = None
    """The id of this mock's session on its server, when it is one (`Mock.session()`)."""

    def end_session(self, session: Mock) -> None:
        """End a session made by `session()`; its URLs answer 404 from then on."""
        if session.session_id is not None:
            self.sessions.end(session.session_id)

    def _session_mock(self, speed: float | None) -> FakeApi:
        now = self._wall()
        clock: Clock = SystemClock(speed, now) if speed else ManualClock(now)
        return Mock(
            spec=self.spec,
            clock=clock,
            validate=self.validate,
            any_token=self.any_token,
            token=self.token,
            control_token=self.control_token,
            handlers=self.handlers,
            wall=self._wall,
            journal_budget=self.journal_budget,
            max_jobs=self.max_jobs,
            max_body=self.max_body,
        )


@contextmanager
def serve(
    scenario: ScenarioReference | Sequence[ScenarioReference] | None = None,
    *,
    spec: Spec | str | Path | None = None,
    host: str = "127.0.0.1",
    port: int = 0,
    clock: Clock | None = None,
    validate: bool = True,
    any_token: bool = False,
    **options: Any,
) -> Iterator[Mock]:
    """Run a `Mock` on `host:port` (default: a free loopback port) for the `with` block.

    `scenario` (a bundled name, a path, or several) is loaded first. Yields the mock with
    `.url` set. It answers only loopback `Host` names and `host` (see `capymock.web.access`).
    When the block ends the server stops, and any defect of the mock while serving (a
    response that broke the spec, a crash) is raised as `MockDefect`.
    """
    mock = Mock(scenario=scenario, spec=spec, clock=clock, validate=validate, any_token=any_token, **options)
    with Served(mock, mock.sessions, host=host, port=port) as served:
        mock.url = served.url
        yield mock
    mock.check()
