"""The WSGI edge: environ -> route -> auth -> parameters -> handler -> checked response.

Every answer is JSON. Routing, parameter checks and response checks come from the spec;
a response that breaks the spec, or a crash, becomes a 500 with an `{"error"}` body and
is kept so the test that owns the mock fails loudly.
"""

from __future__ import annotations

import http
import traceback
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from capymock.auth import Denied, redact
from capymock.handlers import HANDLERS, Context, Result, error
from capymock.job import encode
from capymock.journal import RecordedRequest
from capymock.routing import NoRoute, WrongMethod
from capymock.validation import BadParameter, BodyMismatch

if TYPE_CHECKING:
    from capymock.mock import Mock

StartResponse = Callable[[str, list[tuple[str, str]]], Any]

_REASONS = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}
_CHALLENGE = (("WWW-Authenticate", 'Bearer realm="capy"'),)


class App:
    """The mock as a WSGI application."""

    def __init__(self, mock: Mock) -> None:
        self._mock = mock

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        method = environ["REQUEST_METHOD"].upper()
        path = _path(environ)
        query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        operation_id, result = self._answer(environ, method, path, query)
        body = encode(result.body)
        if operation_id is not None and self._mock.validate:
            result, body = self._checked(operation_id, result, body)
        headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body))), *result.headers]
        self._mock.journal.record(_entry(environ, method, path, query, result.status, operation_id))
        start_response(_REASONS.get(result.status, str(result.status)), headers)
        return [b"" if method == "HEAD" else body]

    def _answer(
        self, environ: dict[str, Any], method: str, path: str, query: dict[str, list[str]]
    ) -> tuple[str | None, Result]:
        try:
            return self._dispatch(environ, method, path, query)
        except Exception as exc:  # a capymock bug: answer JSON, fail the owning test later
            self._mock.record_failure(f"{method} {path} crashed:\n{traceback.format_exc()}")
            return None, error(500, f"capymock internal error: {type(exc).__name__}: {exc}")

    def _dispatch(
        self, environ: dict[str, Any], method: str, path: str, query: dict[str, list[str]]
    ) -> tuple[str | None, Result]:
        mock = self._mock
        try:
            match = mock.router.match(method, path)
        except NoRoute:
            return None, error(404, f"no route for {path}; see the spec for the API's paths")
        except WrongMethod as exc:
            allow = ", ".join(exc.allowed)
            return None, error(
                405, f"{method} is not allowed on {path}; allowed: {allow}", (("Allow", allow),)
            )
        operation = match.operation
        try:
            principal = mock.authenticate(operation, environ.get("HTTP_AUTHORIZATION"))
        except Denied as exc:
            return operation.operation_id, error(401, str(exc), _CHALLENGE)
        raw = {
            p.name: _raw_parameter(p.location, p.name, match.path_parameters, query, environ)
            for p in operation.parameters
        }
        try:
            params = mock.validators.parse_parameters(operation, raw)
        except BadParameter as exc:
            return operation.operation_id, error(400, str(exc))
        handler = HANDLERS.get(operation.operation_id)
        if handler is None:
            return None, error(501, f"capymock has no handler for operation {operation.operation_id!r}")
        return operation.operation_id, handler(Context(mock.store, principal), params)

    def _checked(self, operation_id: str, result: Result, body: bytes) -> tuple[Result, bytes]:
        operation = self._mock.spec.operation(operation_id)
        try:
            self._mock.validators.check_body(operation, result.status, body)
        except BodyMismatch as exc:
            message = f"response does not match the spec: {exc}"
            self._mock.record_failure(message)
            mismatch = error(500, f"capymock bug: {message}")
            return mismatch, encode(mismatch.body)
        return result, body


def _path(environ: dict[str, Any]) -> str:
    raw = environ.get("PATH_INFO", "") or "/"
    return raw.encode("latin-1").decode("utf-8", "replace")


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


def _entry(
    environ: dict[str, Any],
    method: str,
    path: str,
    query: dict[str, list[str]],
    status: int,
    operation_id: str | None,
) -> RecordedRequest:
    headers = {}
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            headers[key[5:].replace("_", "-").title()] = value
    if "Authorization" in headers:
        scheme, _, token = headers["Authorization"].partition(" ")
        headers["Authorization"] = f"{scheme} {redact(token)}".strip()
    flat = {k: v[0] if len(v) == 1 else list(v) for k, v in query.items()}
    return RecordedRequest(method, path, flat, status, headers, operation_id)
