"""The control API under `/_capymock/`: steer a running mock over HTTP.

Not part of the Capy contract: small JSON bodies, the same operations as the Python API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from capymock.errors import CapymockError, IllegalTransition, InvalidJob, ScenarioError
from capymock.handlers import Result, error
from capymock.scenarios import parse_scenario

if TYPE_CHECKING:
    from capymock.mock import Mock

PREFIX = "/_capymock"
METHODS: tuple[str, ...] = ("GET", "POST", "PATCH", "DELETE")
MAX_BODY = 5 * 1024 * 1024
DASHBOARD = Path(__file__).with_name("dashboard.html")
_JOB = re.compile(r"jobs/([^/]+)\Z")


class _BadBody(Exception):
    pass


def handle(
    mock: Mock, method: str, path: str, query: dict[str, list[str]], environ: dict[str, Any]
) -> Result:
    """Answer one control request."""
    route = path[len(PREFIX) :].strip("/")
    if route == "" and method in ("GET", "HEAD"):
        return Result(200, DASHBOARD.read_bytes(), content_type="text/html; charset=utf-8")
    if mock.control_token is not None and not _authorized(mock.control_token, environ):
        return error(401, "the control API needs the control token: 'Authorization: Bearer <control token>'")
    job = _JOB.match(route)
    key = "jobs/{id}" if job else route
    handlers = _ROUTES.get(key)
    if handlers is None:
        return error(404, f"no control route {PREFIX}/{route}; routes: {', '.join(_ROUTES)}")
    handler = handlers.get("GET" if method == "HEAD" else method)
    if handler is None:
        allowed = ", ".join(handlers)
        return error(405, f"{method} is not allowed on {path}; allowed: {allowed}", (("Allow", allowed),))
    try:
        return handler(mock, _read_body(environ), job.group(1) if job else "")
    except _BadBody as exc:
        return error(400, str(exc))


def _authorized(token: str, environ: dict[str, Any]) -> bool:
    given = environ.get("HTTP_AUTHORIZATION", "")
    return given.partition(" ")[2].strip() == token or environ.get("HTTP_X_CAPYMOCK_TOKEN") == token


def _read_body(environ: dict[str, Any]) -> bytes:
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise _BadBody("Content-Length is not a number") from None
    if length > MAX_BODY:
        raise _BadBody(f"the body is larger than {MAX_BODY} bytes")
    return environ["wsgi.input"].read(length) if length > 0 else b""


def _json(body: bytes, *, required: bool = True) -> Any:
    if not body.strip():
        if required:
            raise _BadBody("expected a JSON body")
        return {}
    try:
        return json.loads(body)
    except ValueError as exc:
        raise _BadBody(f"the body is not JSON: {exc}") from None


def _object(body: bytes, required: bool = True) -> dict[str, Any]:
    value = _json(body, required=required)
    if not isinstance(value, dict):
        raise _BadBody("expected a JSON object")
    return value


def _ok(body: Any, status: int = 200) -> Result:
    return Result(status, body)


def _state(mock: Mock, body: bytes, _: str) -> Result:
    return _ok(mock.state())


def _reset(mock: Mock, body: bytes, _: str) -> Result:
    mock.reset()
    return _ok(mock.state())


def _scenario(mock: Mock, body: bytes, _: str) -> Result:
    """By name(s) `{"name": "retry-then-succeed"}` / `{"names": [...]}`, or a scenario document."""
    try:
        request = yaml.safe_load(body.decode("utf-8")) if body.strip() else None
    except (yaml.YAMLError, UnicodeDecodeError):
        request = None
    try:
        if isinstance(request, dict) and set(request) <= {"name", "names"} and request:
            names = request.get("names") or [request.get("name")]
            mock.load(*[str(n) for n in names])
        else:
            mock.load(
                parse_scenario(
                    body.decode("utf-8", "replace"), mock.spec, source="request body", default_name="posted"
                )
            )
    except ScenarioError as exc:
        count = len(exc.problems)
        return Result(
            422,
            {
                "error": f"the scenario has {count} problem{'s' if count != 1 else ''}:\n{exc}",
                "problems": [p.to_dict() for p in exc.problems],
            },
        )
    return _ok(mock.state())


def _advance(mock: Mock, body: bytes, _: str) -> Result:
    """`{"seconds": n}`, `{"duration": "5s"}`, or `{"to": "next_step"}`."""
    request = _object(body)
    try:
        if request.get("to") == "next_step":
            fired = mock.advance_to_next_step()
        elif "seconds" in request or "duration" in request:
            fired = mock.advance(request["seconds"] if "seconds" in request else request["duration"])
        else:
            raise _BadBody('expected {"seconds": n}, {"duration": "5s"} or {"to": "next_step"}')
    except ValueError as exc:
        return error(422, str(exc))
    except CapymockError as exc:
        return error(409, str(exc))
    return _ok({"now": mock.state()["now"], "fired": [f.to_dict() for f in fired]})


def _jobs(mock: Mock, body: bytes, _: str) -> Result:
    return _ok({"jobs": [job.to_dict() for job in mock.jobs()]})


def _add_job(mock: Mock, body: bytes, _: str) -> Result:
    try:
        job = mock.add_job(**_object(body, required=False))
    except InvalidJob as exc:
        return error(422, str(exc))
    return _ok({"job": job}, 201)


def _get_job(mock: Mock, body: bytes, job_id: str) -> Result:
    try:
        return _ok({"job": mock.job(job_id)})
    except KeyError:
        return error(404, f"no job {job_id!r}")


def _patch_job(mock: Mock, body: bytes, job_id: str) -> Result:
    fields = _object(body)
    state = fields.pop("state", None)
    if not isinstance(state, str):
        raise _BadBody('expected {"state": "<state>", ...fields}')
    try:
        job = mock.set_state(job_id, state, **fields)
    except KeyError:
        return error(404, f"no job {job_id!r}")
    except IllegalTransition as exc:
        return Result(
            409,
            {
                "error": str(exc),
                "job_id": exc.job_id,
                "from": exc.from_state,
                "to": exc.to_state,
                "legal": list(exc.legal),
            },
        )
    except InvalidJob as exc:
        return error(422, str(exc))
    return _ok({"job": job})


def _requests(mock: Mock, body: bytes, _: str) -> Result:
    return _ok({"requests": [entry.to_dict() for entry in mock.requests]})


def _clear_requests(mock: Mock, body: bytes, _: str) -> Result:
    mock.journal.clear()
    return Result(204, b"")


def _faults(mock: Mock, body: bytes, _: str) -> Result:
    return _ok({"faults": mock.faults.describe()})


def _add_fault(mock: Mock, body: bytes, _: str) -> Result:
    try:
        mock.add_fault(_object(body))
    except ScenarioError as exc:
        return Result(422, {"error": str(exc), "problems": [p.to_dict() for p in exc.problems]})
    return _ok({"faults": mock.faults.describe()}, 201)


def _clear_faults(mock: Mock, body: bytes, _: str) -> Result:
    mock.faults.clear()
    return Result(204, b"")


def _openapi(mock: Mock, body: bytes, _: str) -> Result:
    return Result(200, mock.spec.text.encode(), content_type="application/yaml")


_ROUTES: dict[str, dict[str, Callable[..., Result]]] = {
    "state": {"GET": _state},
    "reset": {"POST": _reset},
    "scenario": {"POST": _scenario},
    "advance": {"POST": _advance},
    "jobs": {"GET": _jobs, "POST": _add_job},
    "jobs/{id}": {"GET": _get_job, "PATCH": _patch_job},
    "requests": {"GET": _requests, "DELETE": _clear_requests},
    "faults": {"GET": _faults, "POST": _add_fault, "DELETE": _clear_faults},
    "openapi.yaml": {"GET": _openapi},
}
