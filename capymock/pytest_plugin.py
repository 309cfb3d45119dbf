"""pytest fixtures for suites that test Capy API clients: `capy_mock`, `capy_url`, `capy_token`.

One mock server runs per test session (per xdist worker); every test starts from a fresh
state: the scenario of its `capy_scenario` marker, or an empty mock. With `--capy-base-url`
(or `CAPY_BASE_URL`) the same suite runs against a real deployment instead, and the tests
that script the mock are skipped. Fixtures only; capymock itself is imported when first used.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import pytest

if TYPE_CHECKING:
    from capymock.handle import Handle
    from capymock.mock import Mock
    from capymock.remote import RemoteMock

MARKER = "capy_scenario"


@dataclass(frozen=True)
class _Live:
    url: str
    token: str


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("capymock", "capymock: a mock of the Capy Jobs API")
    group.addoption(
        "--capy-base-url",
        default=None,
        metavar="URL",
        help="Run against this Capy deployment instead of the mock (also CAPY_BASE_URL).",
    )
    group.addoption(
        "--capy-token",
        default=None,
        metavar="TOKEN",
        help="Bearer token for --capy-base-url (also CAPY_TOKEN).",
    )
    group.addoption(
        "--capy-server",
        default=None,
        metavar="URL",
        help="Give each test a fresh session on this shared `capymock serve` instead of an "
        "in-process mock (also CAPY_SERVER).",
    )
    parser.addini(
        "capy_scenarios_dir",
        "Folder that capy_scenario markers' relative paths are also looked up in.",
        default=None,
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(*names_or_paths): load these capymock scenarios (bundled names, or paths relative to the "
        "test file or capy_scenarios_dir) before the test; on a function, class or module.",
    )
    live = _live(config)
    if live is not None and not live.token:
        raise pytest.UsageError("--capy-base-url needs a token: pass --capy-token or set CAPY_TOKEN")


def pytest_sessionstart(session: pytest.Session) -> None:
    """With `--capy-server`, the server is asked once, before any test: if it does not answer,
    the run stops with one line saying so (not one failure per test)."""
    server = _server(session.config)
    if server is None or _live(session.config) is not None or hasattr(session.config, "workerinput"):
        return
    import json
    import urllib.error
    import urllib.request

    url = f"{server}/_capymock/state"
    try:
        with urllib.request.urlopen(url, timeout=30) as response:
            answer = json.loads(response.read())
        if not isinstance(answer, dict) or "clock" not in answer:
            raise ValueError("it does not answer as a capymock server does")
    except urllib.error.HTTPError as exc:
        if exc.code != 401:  # a control token: the sessions will say so
            _unreachable(server, f"HTTP {exc.code}")
    except (OSError, ValueError) as exc:
        _unreachable(server, str(getattr(exc, "reason", exc)))


def _unreachable(server: str, why: str) -> NoReturn:
    raise pytest.UsageError(
        f"capymock: --capy-server {server} is not a capymock server this run can reach ({why}); "
        "start one with `capymock serve` and pass its URL"
    )


def pytest_runtest_setup(item: pytest.Item) -> None:
    """A misspelled capymock marker is an error, not a test that quietly runs without its scenario."""
    for marker in item.iter_markers():
        if marker.name.startswith("capy") and marker.name != MARKER:
            pytest.fail(
                f"unknown marker {marker.name!r}: capymock's marker is {MARKER!r} "
                f"(@pytest.mark.{MARKER}('retry-then-succeed'))",
                pytrace=False,
            )


def _live(config: pytest.Config) -> _Live | None:
    url = config.getoption("capy_base_url") or os.environ.get("CAPY_BASE_URL")
    if not url:
        return None
    token = config.getoption("capy_token") or os.environ.get("CAPY_TOKEN") or ""
    return _Live(url.rstrip("/"), token)


def pytest_report_header(config: pytest.Config) -> str | None:
    live = _live(config)
    return f"capymock: live mode against {live.url} (scripting tests are skipped)" if live else None


class _Session:
    """The run's in-process mock and its server, started by the first test that needs them."""

    def __init__(self) -> None:
        self._mock: Mock | None = None
        self._server: Any = None
        self.loaded: tuple[str, ...] | None = None

    @property
    def mock(self) -> Mock:
        if self._mock is None:
            from capymock.mock import Mock
            from capymock.web.served import Served

            mock = Mock()
            self._server = Served(mock, mock.sessions).start()
            mock.url = self._server.url
            self._mock = mock
        return self._mock

    def prepare(self, paths: list[Path]) -> Mock:
        """The mock in the state right after loading `paths` (an empty mock for none)."""
        wanted = tuple(str(p) for p in paths)
        if wanted != self.loaded:
            self.loaded = None
            self.mock.load(*paths)  # files parsed once: the loader keeps them until they change
            self.loaded = wanted
        else:
            self.mock.reset()
        return self.mock

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()


@pytest.fixture(scope="session")
def _capy_session() -> Iterator[_Session]:
    session = _Session()
    yield session
    session.stop()


def _server(config: pytest.Config) -> str | None:
    url = config.getoption("capy_server") or os.environ.get("CAPY_SERVER")
    return str(url).rstrip("/") if url else None


@pytest.fixture
def capy_mock(request: pytest.FixtureRequest, _capy_session: _Session) -> Iterator[Handle]:
    """The scriptable mock (a `capymock.Handle`), reset for this test (to its `capy_scenario`
    marker's scenarios): an in-process `Mock`; with `--capy-server`, a `RemoteMock` on a fresh
    session of its own on that shared server."""
    live = _live(request.config)
    if live is not None:
        pytest.skip(
            f"needs capy_mock to script the API, but this run is against the deployment at {live.url}"
        )
    from capymock.errors import CapymockError, MockDefect, ScenarioError

    problem = None
    server = _server(request.config)
    mock: Mock | RemoteMock | None = None
    remote: RemoteMock | None = None
    try:
        paths = _scenario_paths(request)
        mock = remote = _remote(server, paths) if server else None
        mock = mock or _capy_session.prepare(paths)
    except ScenarioError as exc:
        problem = f"capy_scenario: {exc}"
    except CapymockError as exc:
        problem = f"capymock: {exc}"
    if problem is not None or mock is None:  # failed outside the `except`, so pytest shows it once
        pytest.fail(problem or "capymock: no mock", pytrace=False)
    yield mock
    try:
        mock.check()
    except MockDefect as exc:
        problem = f"{type(exc).__name__}: {exc}"
    finally:
        if remote is not None:  # a session of its own on the shared server
            remote.end()
    if problem is not None:
        pytest.fail(problem, pytrace=False)


def _remote(server: str, paths: list[Path]) -> RemoteMock:
    """A session on the shared server, loaded like the in-process mock would be."""
    from capymock.remote import RemoteMock
    from capymock.scenario.loader import BUNDLED_DIR

    bundled = BUNDLED_DIR.resolve()
    references: list[str | Path] = [  # a bundled scenario by its name: the server has it too
        path.stem if path.parent.resolve() == bundled else path for path in paths
    ]
    return RemoteMock(server, *references)


def _scenario_paths(request: pytest.FixtureRequest) -> list[Path]:
    from capymock.scenario.loader import find_scenario_file

    marker = request.node.get_closest_marker(MARKER)
    if marker is None:
        return []
    bases = [Path(str(request.node.path)).parent]
    configured = request.config.getini("capy_scenarios_dir")
    if configured:
        bases.append(Path(str(request.config.rootpath)) / str(configured))
    return [_first_found(str(name), bases, find_scenario_file) for name in marker.args]


def _first_found(reference: str, bases: list[Path], find: Any) -> Path:
    for base in bases:
        candidate = base / reference
        if candidate.is_file():
            return candidate
    return Path(find(reference))


def _live_or_mock(request: pytest.FixtureRequest, attribute: str) -> str:
    """`attribute` (url or token) of the deployment in live mode, else of the mock."""
    target = _live(request.config) or request.getfixturevalue("capy_mock")
    return str(getattr(target, attribute))


@pytest.fixture
def capy_url(request: pytest.FixtureRequest) -> str:
    """Base URL of the Capy API under test: the mock's, or the deployment's in live mode."""
    return _live_or_mock(request, "url")


@pytest.fixture
def capy_token(request: pytest.FixtureRequest) -> str:
    """A bearer token for `capy_url`: the mock's organization key, or `--capy-token`."""
    return _live_or_mock(request, "token")
