"""The WSGI edge: environ -> route -> steering -> auth -> parameters -> handler -> checked response.

Every answer is JSON (the control API's page and spec download aside). Routing, parameter
checks and response checks come from the spec; a response that breaks the spec, or a
crash, becomes a 500 with an `{"error"}` body and is kept so the test that owns the mock
fails loudly. The Capy API answers CORS for any origin, so browser apps anywhere can call it;
the control API only for the origins `Access` allows. A `Host` that `Access` does not answer
gets a 421 on every route. Each request is answered from one world, read once when it arrives.
"""

from __future__ import annotations

import re
import time
import traceback
from collections.abc import Callable, Iterable
from urllib.parse import parse_qs

# The module itself, not `from capymock.web import control`, which reads the package's attribute: a
# stale module once sys.modules is rolled back around an in-process pytest run (pytester).
import capymock.web.control as control
from capymock.core.auth import Denied, Principal, UnknownKey
from capymock.core.job import encode, plain
from capymock.core.minimal_bodies import minimal_body
from capymock.core.operations import Operation
from capymock.core.routing import NoRoute, WrongMethod
from capymock.core.validation import BadParameter, BodyMismatch
from capymock.errors import IllegalTransition
from capymock.web.access import Access
from capymock.web.answer import Answer, crashed, error, method_not_allowed
from capymock.web.environ import (
    DEFERRABLE,
    HELD,
    HOLDS,
    STATUS_LINES,
    TAKEN,
    Environ,
    HeldBack,
    Holds,
    StartResponse,
    header,
    request_path,
)
from capymock.web.handlers import Context, handler_for
from capymock.world.fake_api import FakeApi
from capymock.world.sessions import Sessions
from capymock.world.sessions import split as split_session
from capymock.world.world import World

_CHALLENGE = (("WWW-Authenticate", 'Bearer realm="capy"'),)
_PREFER_CODE = re.compile(r"(?:^|[\s,;])code=(\d{3})(?:$|[\s,;])")
_ALLOWED_HEADERS = "Authorization, Content-Type, Prefer"

Answered = tuple[Answer, str | None]
"""An answer as sent, and its operationId."""


class App:
    """A fake API as a WSGI application, under the rules of `access` (default: any `Host`).

    With `sessions`, paths under `/s/{id}/` are answered by that session's own fake API.
    """

    def __init__(self, fake: FakeApi, access: Access | None = None, sessions: Sessions | None = None) -> None:
        self._root = fake
        self.access = access or Access()
        self.sessions = sessions
        self.holds = Holds()
        """The requests faults' delays hold back, across the server and its sessions."""

    def __call__(self, environ: Environ, start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        environ[HOLDS] = self.holds
        path = request_path(environ)
        query = environ.get("QUERY_STRING") or ""  # parsed only where a fault or a parameter needs it
        operation_id, cors = None, False
        misdirected = self.access.misdirected(environ)  # first: a refused request touches no session
        fake, path, missing = self._resolve(path) if misdirected is None else (self._root, path, None)
        world = fake.world
        if misdirected is not None:
            answer = error(421, misdirected)
        elif missing is not None:
            answer, cors = missing, True
        elif control.owns(path):
            answer = _guarded(fake, path, lambda: self._control(fake, method, path, environ))
        elif method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            answer, cors = _preflight(fake, environ, path), True
        else:
            if world.waiting:
                fake.begin(world)
            answer, operation_id = _api(fake, world, environ, method, path, query)
            world.journal.record(method, path, query, answer.status, environ, operation_id)
            cors = True
        body = answer.body if isinstance(answer.body, bytes) else encode(answer.body)
        headers = [("Content-Type", answer.content_type), ("Content-Length", str(len(body))), *answer.headers]
        if cors:
            headers += _cors(environ)
        start_response(STATUS_LINES.get(answer.status, str(answer.status)), headers)
        return [b"" if method == "HEAD" or answer.status == 204 else body]

    def _resolve(self, path: str) -> tuple[FakeApi, str, Answer | None]:
        """The fake API a path is for (a session's, or the server's own), the path within it, and
        the answer when it names no live session."""
        if self.sessions is None or (found := split_session(path)) is None:
            return self._root, path, None
        session_id, rest = found
        session = self.sessions.get(session_id)
        if session is None:
            return self._root, rest, error(404, self.sessions.gone(session_id))
        return session.fake, rest, None

    def _control(self, fake: FakeApi, method: str, path: str, environ: Environ) -> Answer:
        sessions = self.sessions if fake is self._root else None
        return control.handle(fake, self.access, method, path, environ, sessions, self._root)


def _guarded(fake: FakeApi, what: str, compute: Callable[[], Answer]) -> Answer:
    try:
        return compute()
    except Exception as exc:  # a capymock bug: answer JSON, fail the owning test later
        return _crashed(fake, what, exc)


def _crashed(fake: FakeApi, what: str, exc: Exception) -> Answer:
    fake.record_failure(f"{what} crashed:\n{traceback.format_exc()}")
    return crashed(exc)


def _api(fake: FakeApi, world: World, environ: Environ, method: str, path: str, query: str) -> Answered:
    try:
        match = fake.router.match(method, path)
    except NoRoute:
        return error(404, f"no route for {path}; see the spec for the API's paths"), None
    except WrongMethod as exc:
        return _wrong_method(method, path, exc.allowed), None
    try:
        return _operation(fake, world, match.operation, match.path_parameters, environ, path, query)
    except HeldBack:
        raise
    except Exception as exc:  # a capymock bug: answer JSON, fail the owning test later
        return _crashed(fake, f"{method} {path}", exc), match.operation.operation_id


def _operation(
    fake: FakeApi,
    world: World,
    operation: Operation,
    path_parameters: dict[str, str],
    environ: Environ,
    path: str,
    query: str,
) -> Answered:
    operation_id = operation.operation_id
    asked = environ.get("HTTP_PREFER")
    prefer = _PREFER_CODE.search(asked) if asked else None
    if prefer is not None:
        status = int(prefer.group(1))
        answer = _preferred(fake, operation, status)
        return _sent(fake, operation_id, answer, operation.documents(status))[0], operation_id
    method = environ["REQUEST_METHOD"].upper()
    injected = _injected(world, operation, method, path, query, environ)
    if injected is not None:
        return injected, operation_id  # deliberate: not checked
    world.timeline.settle()
    try:
        principal = fake.authenticate(operation, environ.get("HTTP_AUTHORIZATION"), world)
    except Denied as exc:
        denied = error(401, str(exc), _CHALLENGE)
        if isinstance(exc, UnknownKey):
            denied = _hinted(denied, world)
        return _sent(fake, operation_id, denied)[0], operation_id
    # The answer is a function of the request, the caller and the store: remembered per store
    # version, as sent (encoded, and checked when validating).
    headers = (
        tuple([header(environ, name) for name in operation.header_names]) if operation.header_names else ()
    )
    if not operation.safe:  # a change is made every time it is asked for, and reads nothing
        answered = _answer(fake, world, operation, principal, path_parameters, query, environ)
        return _sent(fake, operation_id, *answered)[0], operation_id
    key = (operation_id, path, query, headers, principal, fake.validate)
    version = world.store.version
    answer = world.answers.get(key, version)
    if answer is None:
        answer, sound = _sent(
            fake, operation_id, *_answer(fake, world, operation, principal, path_parameters, query, environ)
        )
        if sound:
            size = len(answer.body) if isinstance(answer.body, bytes) else 4096
            cost = size + len(path) + len(query) + sum(len(h or "") for h in headers)
            world.answers.put(key, version, answer, cost)
    if method != "HEAD" and answer.reads:  # HEAD shows no job, so reads none
        world.history.read(world.clock.now(), operation.operation_id, answer.reads)
        world.timeline.record_reads(answer.reads)
    return answer, operation_id


def _answer(
    fake: FakeApi,
    world: World,
    operation: Operation,
    principal: Principal,
    path_parameters: dict[str, str],
    query: str,
    environ: Environ,
) -> tuple[Answer, bool]:
    """The handler's answer, and whether the spec must hold for it."""
    values = parse_qs(query, keep_blank_values=True)
    raw = {
        p.name: _raw_parameter(p.location, p.name, path_parameters, values, environ)
        for p in operation.parameters
    }
    try:
        params = fake.validators.parse_parameters(operation, raw)
    except BadParameter as exc:
        return error(400, str(exc)), True
    handler = handler_for(operation, fake.handlers)
    if handler is None:
        return error(501, f"capymock has no handler for operation {operation.operation_id!r}"), False
    try:
        answer = handler(Context(operation, principal, world, fake), params)
    except IllegalTransition as exc:
        return error(409, str(exc)), operation.documents(409)
    return (_hinted(answer, world) if answer.status == 404 else answer), True


def _injected(
    world: World,
    operation: Operation,
    method: str,
    path: str,
    query: str,
    environ: Environ,
) -> Answer | None:
    """The answer of an injected fault (None: no fault, or only a delay); not a read.

    A delay holds the request back: on a server that can answer later, by raising `HeldBack`
    (the request is run again with the fault it took, once the delay is over); else by
    sleeping on this thread.
    """
    fault = environ.get(TAKEN)
    if fault is None and world.faults.armed():
        values = parse_qs(query, keep_blank_values=True)
        fault = world.faults.take(method, path, operation.operation_id, values)
    if fault is None:
        return None
    held: Holds | None = environ.pop(HELD, None)
    if held is not None:  # run again once its delay is over: its place is free
        held.give_back()
    if fault.delay and TAKEN not in environ:
        holds: Holds | None = environ.get(HOLDS)
        if holds is not None and not holds.take():
            return error(
                503,
                f"capymock: {holds.count} requests are held back by delay faults, the most this "
                f"server holds at once (--max-held {holds.limit}); clear the faults "
                "(DELETE /_capymock/faults) or wait for their delays",
            )
        if environ.get(DEFERRABLE):
            environ[HELD] = holds
            raise HeldBack(fault.delay.total_seconds(), fault)
        try:
            time.sleep(fault.delay.total_seconds())
        finally:
            if holds is not None:
                holds.give_back()
    if fault.status is None:
        return None
    body = fault.body if fault.body is not None else {"error": f"injected fault: HTTP {fault.status}"}
    return Answer(fault.status, body)


def _preferred(fake: FakeApi, operation: Operation, status: int) -> Answer:
    """A `Prefer: code=` answer: that status with the smallest spec-valid body; not a read."""
    if not operation.documents(status):
        documented = ", ".join(map(str, sorted(operation.responses)))
        return error(
            400,
            f"Prefer: code={status} is not documented for {operation.operation_id}; documented: {documented}",
        )
    schema = operation.responses[status]
    note = f"{STATUS_LINES.get(status, status)} (answered as asked by Prefer: code={status})"
    body = minimal_body(schema, fake.spec.document, note) if schema is not None else b""
    return Answer(status, body, _CHALLENGE if status == 401 else ())


def _preflight(fake: FakeApi, environ: Environ, path: str) -> Answer:
    methods = fake.router.allowed(path) or ("GET", "HEAD")
    requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS")
    headers = (
        ("Access-Control-Allow-Methods", ", ".join((*methods, "OPTIONS"))),
        ("Access-Control-Allow-Headers", requested or _ALLOWED_HEADERS),
        ("Access-Control-Max-Age", "600"),
    )
    return Answer(204, b"", headers)


def _sent(fake: FakeApi, operation_id: str, answer: Answer, checked: bool = True) -> tuple[Answer, bool]:
    """`answer` as sent: encoded and, when the spec must hold for it and the mock validates,
    checked; a 500 when it breaks the spec (False: it did, and the owner fails)."""
    if not (checked and fake.validate):
        return _encoded(answer), True
    operation = fake.spec.operation(operation_id)
    try:
        sent = answer.body if isinstance(answer.body, bytes) else plain(answer.body)
        fake.validators.check_body(operation, answer.status, sent)
    except BodyMismatch as exc:
        message = f"response does not match the spec: {exc}"
        fake.record_failure(message)
        return _encoded(error(500, f"capymock bug: {message}")), False
    return _encoded(answer), True


def _encoded(answer: Answer) -> Answer:
    """`answer` with its body as the bytes sent."""
    if isinstance(answer.body, bytes):
        return answer
    return Answer(answer.status, encode(answer.body), answer.headers, answer.reads, answer.content_type)


NO_SCENARIO = (
    " (this mock has no scenario loaded, so it has only the jobs and keys you add: load one with "
    "@pytest.mark.capy_scenario(...), mock.load(...) or POST /_capymock/scenario)"
)


def _hinted(answer: Answer, world: World) -> Answer:
    """An error (a 404, an unknown key's 401) from an empty mock with no scenario says so: the
    usual cause in a fresh test."""
    if world.scenario is not None or len(world.store) or not isinstance(answer.body, dict):
        return answer
    message = str(answer.body.get("error", ""))
    return Answer(answer.status, {"error": message + NO_SCENARIO}, answer.headers, answer.reads)


def _wrong_method(method: str, path: str, allowed: tuple[str, ...]) -> Answer:
    if method == "OPTIONS":
        return Answer(204, b"", (("Allow", ", ".join((*allowed, "OPTIONS"))),))
    return method_not_allowed(method, path, allowed)


def _cors(environ: Environ) -> list[tuple[str, str]]:
    origin = environ.get("HTTP_ORIGIN")
    exposed = ("Access-Control-Expose-Headers", "Allow, WWW-Authenticate")
    if not origin:
        return [("Access-Control-Allow-Origin", "*"), exposed]
    return [
        ("Access-Control-Allow-Origin", origin),
        ("Access-Control-Allow-Credentials", "true"),
        ("Vary", "Origin"),
        exposed,
    ]


def _raw_parameter(
    location: str, name: str, path: dict[str, str], query: dict[str, list[str]], environ: Environ
) -> str | None:
    if location == "path":
        return path.get(name)
    if location == "query":
        values = query.get(name)
        return values[0] if values else None
    if location == "header":
        return header(environ, name)
    return None
