"""The WSGI edge: environ -> route -> steering -> auth -> parameters -> handler -> checked response.

Every answer is JSON (the control API's page and spec download aside). Routing, parameter
checks and response checks come from the spec; a response that breaks the spec, or a
crash, becomes a 500 with an `{"error"}` body and is kept so the test that owns the mock
fails loudly. CORS headers go on every response, so browser apps on any origin can call.
"""

from __future__ import annotations

import http
import re
import time
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from capymock import control
from capymock.auth import Denied
from capymock.examples import minimal_instance
from capymock.handlers import HANDLERS, Context, Result, error
from capymock.job import encode, plain
from capymock.routing import NoRoute, WrongMethod
from capymock.spec import Operation
from capymock.validation import BadParameter, BodyMismatch

if TYPE_CHECKING:
    from capymock.mock import Mock

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_REASONS = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}
_CHALLENGE = (("WWW-Authenticate", 'Bearer realm="capy"'),)
_PREFER_CODE = re.compile(r"(?:^|[\s,;])code=(\d{3})(?:$|[\s,;])")
_ALLOWED_HEADERS = "Authorization, Content-Type, Prefer"


class App:
    """The mock as a WSGI application."""

    def __init__(self, mock: Mock) -> None:
        self._mock = mock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = request_path(environ)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        operation_id, checked = None, False
        if method == "OPTIONS" and "HTTP_ACCESS_CONTROL_REQUEST_METHOD" in environ:
            result = self._preflight(environ, path)
        elif path == control.PREFIX or path.startswith(control.PREFIX + "/"):
            result = self._guarded(lambda: control.handle(self._mock, method, path, query, environ), path)
        else:
            result, operation_id, checked = self._api(environ, method, path, query)
            self._mock.journal.record(method, path, query, result.status, environ, operation_id)
        body = result.body if isinstance(result.body, bytes) else encode(result.body)
        if checked and operation_id is not None and self._mock.validate:
            result, body = self._checked(operation_id, result, body)  # the value `body` encodes
        headers = [("Content-Type", result.content_type), ("Content-Length", str(len(body))), *result.headers]
        headers += _cors(environ)
        start_response(_REASONS.get(result.status, str(result.status)), headers)
        return [b"" if method == "HEAD" or result.status == 204 else body]

    def _guarded(self, answer: Callable[[], Result], path: str) -> Result:
        try:
            return answer()
        except Exception as exc:  # a capymock bug: answer JSON, fail the owning test later
            self._mock.record_failure(f"{path} crashed:\n{traceback.format_exc()}")
            return error(500, f"capymock internal error: {type(exc).__name__}: {exc}")

    def _api(
        self, environ: dict[str, Any], method: str, path: str, query: dict[str, list[str]]
    ) -> tuple[Result, str | None, bool]:
        """The answer, its operationId, and whether the spec must hold for it."""
        try:
            match = self._mock.router.match(method, path)
        except NoRoute:
            return error(404, f"no route for {path}; see the spec for the API's paths"), None, False
        except WrongMethod as exc:
            return _wrong_method(method, path, exc.allowed), None, False
        operation = match.operation
        try:
            prefer = _PREFER_CODE.search(environ.get("HTTP_PREFER") or "")
            if prefer is not None:
                status = int(prefer.group(1))
                return self._preferred(operation, status), operation.operation_id, operation.documents(status)
            injected = self._injected(operation, method, path, query)
            if injected is not None:
                return injected, operation.operation_id, False  # deliberate: not checked
            return self._answer(operation, match.path_parameters, environ, query)
        except Exception as exc:  # a capymock bug: answer JSON, fail the owning test later
            self._mock.record_failure(f"{method} {path} crashed:\n{traceback.format_exc()}")
            return (
                error(500, f"capymock internal error: {type(exc).__name__}: {exc}"),
                operation.operation_id,
                False,
            )

    def _answer(
        self,
        operation: Operation,
        path_parameters: dict[str, str],
        environ: dict[str, Any],
        query: dict[str, list[str]],
    ) -> tuple[Result, str | None, bool]:
        mock = self._mock
        mock.settle()
        try:
            principal = mock.authenticate(operation, environ.get("HTTP_AUTHORIZATION"))
        except Denied as exc:
            return error(401, str(exc), _CHALLENGE), operation.operation_id, True
        raw = {
            p.name: _raw_parameter(p.location, p.name, path_parameters, query, environ)
            for p in operation.parameters
        }
        try:
            params = mock.validators.parse_parameters(operation, raw)
        except BadParameter as exc:
            return error(400, str(exc)), operation.operation_id, True
        handler = HANDLERS.get(operation.operation_id)
        if handler is None:
            message = f"capymock has no handler for operation {operation.operation_id!r}"
            return error(501, message), operation.operation_id, False
        result = handler(Context(mock.store, principal), params)
        if environ["REQUEST_METHOD"].upper() != "HEAD":  # HEAD shows no job, so reads none
            mock.timeline.record_reads(result.reads)
        return result, operation.operation_id, True

    def _injected(
        self, operation: Operation, method: str, path: str, query: dict[str, list[str]]
    ) -> Result | None:
        """The answer of an injected fault (None: no fault, or only a delay); not a read."""
        fault = self._mock.faults.take(method, path, operation.operation_id, query)
        if fault is None:
            return None
        if fault.delay:
            time.sleep(fault.delay.total_seconds())
        if fault.status is None:
            return None
        body = fault.body if fault.body is not None else {"error": f"injected fault: HTTP {fault.status}"}
        return Result(fault.status, body)

    def _preferred(self, operation: Operation, status: int) -> Result:
        """A `Prefer: code=` answer: that status with the smallest spec-valid body; not a read."""
        if not operation.documents(status):
            documented = ", ".join(map(str, sorted(operation.responses)))
            return error(
                400,
                f"Prefer: code={status} is not documented for {operation.operation_id}; "
                f"documented: {documented}",
            )
        schema = operation.responses[status]
        note = f"{_REASONS.get(status, status)} (answered as asked by Prefer: code={status})"
        body = minimal_instance(schema, self._mock.spec.document, note) if schema is not None else b""
        return Result(status, body, _CHALLENGE if status == 401 else ())

    def _preflight(self, environ: dict[str, Any], path: str) -> Result:
        if path == control.PREFIX or path.startswith(control.PREFIX + "/"):
            methods = control.METHODS
        else:
            methods = self._mock.router.allowed(path) or ("GET", "HEAD")
        headers = (
            ("Access-Control-Allow-Methods", ", ".join((*methods, "OPTIONS"))),
            (
                "Access-Control-Allow-Headers",
                environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or _ALLOWED_HEADERS,
            ),
            ("Access-Control-Max-Age", "600"),
        )
        return Result(204, b"", headers)

    def _checked(self, operation_id: str, result: Result, body: bytes) -> tuple[Result, bytes]:
        operation = self._mock.spec.operation(operation_id)
        try:
            sent = body if isinstance(result.body, bytes) else plain(result.body)
            self._mock.validators.check_body(operation, result.status, sent)
        except BodyMismatch as exc:
            message = f"response does not match the spec: {exc}"
            self._mock.record_failure(message)
            mismatch = error(500, f"capymock bug: {message}")
            return mismatch, encode(mismatch.body)
        return result, body


def _wrong_method(method: str, path: str, allowed: tuple[str, ...]) -> Result:
    if method == "OPTIONS":
        return Result(204, b"", (("Allow", ", ".join((*allowed, "OPTIONS"))),))
    allow = ", ".join(allowed)
    return error(405, f"{method} is not allowed on {path}; allowed: {allow}", (("Allow", allow),))


def _cors(environ: dict[str, Any]) -> list[tuple[str, str]]:
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


def request_path(environ: dict[str, Any]) -> str:
    """The request's path as text (WSGI hands it over as bytes decoded as latin-1)."""
    raw = environ.get("PATH_INFO", "") or "/"
    return str(raw.encode("latin-1").decode("utf-8", "replace"))


def _raw_parameter(
    location: str, name: str, path: dict[str, str], query: dict[str, list[str]], environ: dict[str, Any]
) -> str | None:
    if location == "path":
        return path.get(name)
    if location == "query":
        values = query.get(name)
        return values[0] if values else None
    if location == "header":
        value = environ.get("HTTP_" + name.upper().replace("-", "_"))
        return value if isinstance(value, str) else None
    return None
