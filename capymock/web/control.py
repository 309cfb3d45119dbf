"""The control API under `/_capymock/`: steer a running mock over HTTP.

Not part of the Capy contract: small JSON bodies, the same operations as the Python API.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from capymock.core.timestamps import format_timestamp
from capymock.core.yaml_loader import SafeLoader
from capymock.errors import CapymockError, IllegalTransition, InvalidJob, ScenarioError
from capymock.scenario.loader import parse_scenario
from capymock.web.answer import Answer, error, method_not_allowed
from capymock.web.environ import Environ
from capymock.world.fake_api import FakeApi

PREFIX = "/_capymock"
METHODS: tuple[str, ...] = ("GET", "POST", "PATCH", "DELETE")
MAX_BODY = 5 * 1024 * 1024
DASHBOARD = Path(__file__).with_name("dashboard.html")
_JOB = re.compile(r"jobs/([^/]+)\Z")


class _BadBody(Exception):
    pass


def owns(path: str) -> bool:
    """Whether `path` is the control API's (under `/_capymock/`), not the Capy API's."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def handle(fake: FakeApi, method: str, path: str, environ: Environ) -> Answer:
    """Answer one control request."""
    route = path[len(PREFIX) :].strip("/")
    if route == "" and method in ("GET", "HEAD"):
        return Answer(200, DASHBOARD.read_bytes(), content_type="text/html; charset=utf-8")
    if fake.control_token is not None and not _authorized(fake.control_token, environ):
        return error(401, "the control API needs the control token: 'Authorization: Bearer <control token>'")
    job = _JOB.match(route)
    key = "jobs/{id}" if job else route
    handlers = _ROUTES.get(key)
    if handlers is None:
        return error(404, f"no control route {PREFIX}/{route}; routes: {', '.join(_ROUTES)}")
    handler = handlers.get("GET" if method == "HEAD" else method)
    if handler is None:
        return method_not_allowed(method, path, tuple(handlers))
    try:
        return handler(fake, _read_body(environ), job.group(1) if job else "")
    except _BadBody as exc:
        return error(400, str(exc))


def _authorized(token: str, environ: Environ) -> bool:
    given = environ.get("HTTP_AUTHORIZATION", "")
    return given.partition(" ")[2].strip() == token or environ.get("HTTP_X_CAPYMOCK_TOKEN") == token


def _read_body(environ: Environ) -> bytes:
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


def _ok(body: Any, status: int = 200) -> Answer:
    return Answer(status, body)


def _state(fake: FakeApi, body: bytes, _: str) -> Answer:
    return _ok(fake.state())


def _reset(fake: FakeApi, body: bytes, _: str) -> Answer:
    fake.reset()
    return _ok(fake.state())


def _scenario(fake: FakeApi, body: bytes, _: str) -> Answer:
    """By name(s) `{"name": "retry-then-succeed"}` / `{"names": [...]}`, or a scenario document."""
    try:
        request = yaml.load(body.decode("utf-8"), Loader=SafeLoader) if body.strip() else None
    except (yaml.YAMLError, UnicodeDecodeError):
        request = None
    try:
        if isinstance(request, dict) and set(request) <= {"name", "names"} and request:
            names = request.get("names") or [request.get("name")]
            fake.load(*[str(n) for n in names])
        else:
            fake.load(
                parse_scenario(
                    body.decode("utf-8", "replace"), fake.spec, source="request body", default_name="posted"
                )
            )
    except ScenarioError as exc:
        count = len(exc.problems)
        return Answer(
            422,
            {
                "error": f"the scenario has {count} problem{'s' if count != 1 else ''}:\n{exc}",
                "problems": [p.to_dict() for p in exc.problems],
            },
        )
    return _ok(fake.state())


def _advance(fake: FakeApi, body: bytes, _: str) -> Answer:
    """`{"seconds": n}`, `{"duration": "5s"}`, or `{"to": "next_step"}`."""
    request = _object(body)
    try:
        if request.get("to") == "next_step":
            fired = fake.advance_to_next_step()
        elif "seconds" in request or "duration" in request:
            fired = fake.advance(request["seconds"] if "seconds" in request else request["duration"])
        else:
            raise _BadBody('expected {"seconds": n}, {"duration": "5s"} or {"to": "next_step"}')
    except ValueError as exc:
        return error(422, str(exc))
    except CapymockError as exc:
        return error(409, str(exc))
    return _ok({"now": format_timestamp(fake.clock.now()), "fired": [f.to_dict() for f in fired]})


def _jobs(fake: FakeApi, body: bytes, _: str) -> Answer:
    return _ok({"jobs": [job.to_dict() for job in fake.jobs()]})


def _add_job(fake: FakeApi, body: bytes, _: str) -> Answer:
    try:
        job = fake.add_job(**_object(body, required=False))
    except InvalidJob as exc:
        return error(422, str(exc))
    return _ok({"job": job}, 201)


def _get_job(fake: FakeApi, body: bytes, job_id: str) -> Answer:
    try:
        return _ok({"job": fake.job(job_id)})
    except KeyError:
        return error(404, f"no job {job_id!r}")


def _patch_job(fake: FakeApi, body: bytes, job_id: str) -> Answer:
    fields = _object(body)
    state = fields.pop("state", None)
    if not isinstance(state, str):
        raise _BadBody('expected {"state": "<state>", ...fields}')
    try:
        job = fake.set_state(job_id, state, **fields)
    except KeyError:
        return error(404, f"no job {job_id!r}")
    except IllegalTransition as exc:
        return Answer(
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


def _requests(fake: FakeApi, body: bytes, _: str) -> Answer:
    return _ok({"requests": [entry.to_dict() for entry in fake.requests]})


def _clear_requests(fake: FakeApi, body: bytes, _: str) -> Answer:
    fake.world.journal.clear()
    return Answer(204, b"")


def _faults(fake: FakeApi, body: bytes, _: str) -> Answer:
    return _ok({"faults": fake.world.faults.describe()})


def _add_fault(fake: FakeApi, body: bytes, _: str) -> Answer:
    try:
        fake.add_fault(_object(body))
    except ScenarioError as exc:
        return Answer(422, {"error": str(exc), "problems": [p.to_dict() for p in exc.problems]})
    return _ok({"faults": fake.world.faults.describe()}, 201)


def _clear_faults(fake: FakeApi, body: bytes, _: str) -> Answer:
    fake.world.faults.clear()
    return Answer(204, b"")


def _openapi(fake: FakeApi, body: bytes, _: str) -> Answer:
    return Answer(200, fake.spec.text.encode(), content_type="application/yaml")


_ROUTES: dict[str, dict[str, Callable[..., Answer]]] = {
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
