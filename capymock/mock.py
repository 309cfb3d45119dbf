"""`Mock`: a fake Capy API wired to the web edge (`wsgi_app`), and `serve()`, which runs one on a
free loopback port for a `with` block."""

from __future__ import annotations

import functools
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from capymock.core.clock import Clock
from capymock.core.spec import Spec
from capymock.web.access import Access
from capymock.web.app import App
from capymock.web.servers import BackgroundServer
from capymock.world.fake_api import FakeApi, ScenarioReference


class Mock(FakeApi):
    """A scriptable, in-memory Capy Jobs API.

    Serve it with `capymock.serve()`, or call `mock.wsgi_app` directly. Every response is
    checked against the spec while `validate` is on; a mismatch or a crash answers 500 and
    is raised again by `check()` (which `serve()` calls when its block ends).
    """

    url: str | None = None
    """Where the mock is served (set by `serve()` and `capymock serve`), else None."""

    @functools.cached_property
    def wsgi_app(self) -> App:
        """The mock as a WSGI application (for `httpx.WSGITransport`, `werkzeug.test.Client`, ...)."""
        return App(self)


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
    with BackgroundServer(App(mock, Access.serving(host)), host, port) as server:
        mock.url = server.url
        yield mock
    mock.check()
