"""The control API under `/_capymock/`: steer a running mock over HTTP.

Not part of the Capy contract: small JSON bodies, the same operations as the Python API. It
answers browser pages of its own origin only (and those `Access` allows), takes writes only
with a JSON or YAML body type (so no cross-origin "simple" request reaches it), and loads
scenario files only from the folders `Access` names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from capymock.core.auth import redact
from capymock.core.job import encode
from capymock.core.suggest import did_you_mean
from capymock.core.timestamps import format_timestamp
from capymock.errors import OverBudget, Problem, ScenarioError
from capymock.scenario.loader import bundled_scenarios, parse_scenario
from capymock.scenario.model import Scenario
from capymock.web.access import Access, simple_content_type
from capymock.web.answer import Answer, Headers, error, method_not_allowed
from capymock.web.environ import Environ, header, read_body
from capymock.web.routes import POSTED, ROUTES, Route, caught, failure
from capymock.world.fake_api import FakeApi
from capymock.world.lanes import LANES_LIMIT, MAX_LANES, LaneFilter
from capymock.world.sessions import PREFIX as SESSION_PREFIX
from capymock.world.sessions import Session, Sessions, TooManySessions

PREFIX = "/_capymock"
METHODS: tuple[str, ...] = ("GET", "POST", "PATCH", "DELETE")
WRITES = frozenset(("POST", "PUT", "PATCH", "DELETE"))
BODY_TYPES = ("application/json", "application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
POLL_LIMIT = 100
"""Journal entries a poll (`GET /_capymock/requests`) answers unless it asks for `limit`."""
MAX_POLL_LIMIT = 1000
"""The most journal entries a poll answers."""
MAX_POLL_BYTES = 1_000_000
"""The most bytes a journal poll answers (an entry is at most a fraction of it)."""
POLL_PARAMETERS = ("since", "limit", "newest")
DASHBOARD = Path(__file__).with_name("dashboard.html")
TIMELINE = Path(__file__).with_name("timeline.html")
"""The timeline page at `/_capymock/timeline` (and, with its data inline, `capymock show`'s)."""
LANE_PARAMETERS = ("project", "type", "state", "offset", "limit")
_ITEM = re.compile(r"(jobs|sessions)/([^/]+)(/history)?\Z")
_GUARDS: Headers = (
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Content-Security-Policy", "frame-ancestors 'none'"),
    ("Cross-Origin-Resource-Policy", "same-origin"),
)


class _BadBody(Exception):
    pass


class _TooLarge(Exception):
    pass


@dataclass(frozen=True)
class _Call:
    """One control request, as its route handler sees it."""

    fake: FakeApi
    access: Access
    body: bytes
    job_id: str = ""
    """The `{id}` of `jobs/{id}` or `sessions/{id}`."""
    environ: Environ | None = None
    sessions: Sessions | None = None
    """The server's sessions (None inside a session: sessions are started on the server's root)."""
    root: FakeApi | None = None
    """The server's own fake API (its scenarios can be named by their `name:`)."""

    def loadable(self, name: str) -> str | Path | Scenario:
        """What `name` names: a bundled scenario, one the server serves (by its `name:`), or a
        file in the served folders (`_loadable`)."""
        served = {scenario.name: scenario for scenario in (self.root or self.fake).loaded}
        if name in served and name not in bundled_scenarios():
            return served[name]
        return _loadable(name, self.access.scenario_dirs, tuple(served))


def owns(path: str) -> bool:
    """Whether `path` is the control API's (under `/_capymock/`), not the Capy API's."""
    return path == PREFIX or path.startswith(PREFIX + "/")


def handle(
    fake: FakeApi,
    access: Access,
    method: str,
    path: str,
    environ: Environ,
    sessions: Sessions | None = None,
    root: FakeApi | None = None,
) -> Answer:
    """Answer one control request (CORS only for the origins `access` allows)."""
    origin = environ.get("HTTP_ORIGIN")
    if origin is not None and not access.origin_allowed(origin, environ):
        refused = error(
            403,
            f"the control API does not answer pages of {origin[:200]!r}, only its own origin and "
            "loopback origins on its port; to allow one: capymock serve --allow-origin ORIGIN",
        )
        return replace(refused, headers=_GUARDS)
    answer = _answer(fake, access, method, path, environ, sessions, root)
    cors: Headers = ()
    if origin is not None:
        cors = (("Access-Control-Allow-Origin", origin), ("Access-Control-Allow-Credentials", "true"))
    return replace(answer, headers=(*answer.headers, *cors, ("Vary", "Origin"), *_GUARDS))


def _answer(
    fake: FakeApi,
    access: Access,
    method: str,
    path: str,
    environ: Environ,
    sessions: Sessions | None,
    root: FakeApi | None,
) -> Answer:
    if method == "OPTIONS":
        return _preflight(environ)
    route = path[len(PREFIX) :].strip("/")
    if route == "" and method in ("GET", "HEAD"):
        return Answer(200, DASHBOARD.read_bytes(), content_type="text/html; charset=utf-8")
    if route == "timeline" and method in ("GET", "HEAD"):  # a page: its data asks for the token
        return _timeline_page()
    if fake.control_token is not None and not _authorized(fake.control_token, environ):
        message = "the control API needs the control token: 'Authorization: Bearer <control token>'"
        return _error(401, message, "Unauthorized")
    item = _ITEM.match(route)
    handlers = _DISPATCH.get(f"{item.group(1)}/{{id}}{item.group(3) or ''}" if item else route)
    if handlers is None:
        return _error(
            404, f"no control route {PREFIX}/{route[:100]}; routes: {', '.join(_DISPATCH)}", "NoRoute"
        )
    chosen = handlers.get("GET" if method == "HEAD" else method)
    if chosen is None:
        refused = method_not_allowed(method, path, tuple(handlers))
        return replace(refused, body={**refused.body, "kind": "MethodNotAllowed"})
    handler, errors = chosen
    try:
        if method in WRITES:
            _check_body_type(environ)
        body, job_id = _read_body(environ, fake.max_body), item.group(2) if item else ""
        call = _Call(fake, access, body, job_id, environ, sessions, root)
        return handler(call)
    except errors as exc:  # the kinds of error its route declares (`capymock.web.routes`)
        return Answer(*failure(exc))
    except _BadBody as exc:
        return _error(400, str(exc), "BadBody")
    except _TooLarge as exc:
        return _error(413, str(exc), "TooLarge")
    except OverBudget as exc:  # what live sessions hold together: any load or new job may cross it
        return Answer(*failure(exc))
    except _WrongType as exc:
        return _error(415, str(exc), "WrongType")
    except _Refused as exc:
        return _error(403, str(exc), "Refused")
    except _NoSessions:
        message = "sessions are started on the server's own control API, not inside a session"
        return _error(404, message, "NoSessions")
    except _UnknownSession as exc:  # raised only where `sessions` is given
        return _error(404, sessions.gone(str(exc)) if sessions is not None else str(exc), "KeyError")


def _error(status: int, message: str, kind: str) -> Answer:
    """A control API error: `{"error": message, "kind": kind}` (`capymock.web.routes.ERRORS`)."""
    return Answer(status, {"error": message, "kind": kind})


def _preflight(environ: Environ) -> Answer:
    requested = environ.get("HTTP_ACCESS_CONTROL_REQUEST_HEADERS") or "Authorization, Content-Type"
    return Answer(
        204,
        b"",
        (
            ("Access-Control-Allow-Methods", ", ".join((*METHODS, "OPTIONS"))),
            ("Access-Control-Allow-Headers", requested),
            ("Access-Control-Max-Age", "600"),
        ),
    )


class _WrongType(Exception):
    pass


def _check_body_type(environ: Environ) -> None:
    """A write's body must say it is JSON (or YAML): a page cannot send that cross-origin unasked."""
    given = header(environ, "Content-Type")
    media = (given or "").split(";", 1)[0].strip().lower()
    if simple_content_type(environ) or (given is not None and media not in BODY_TYPES):
        raise _WrongType(f"control writes take Content-Type: application/json, not {media or given!r}")
    if given is None and _length(environ) > 0:
        raise _WrongType("control writes with a body need Content-Type: application/json")


def _authorized(token: str, environ: Environ) -> bool:
    given = environ.get("HTTP_AUTHORIZATION", "")
    return given.partition(" ")[2].strip() == token or environ.get("HTTP_X_CAPYMOCK_TOKEN") == token


def _length(environ: Environ) -> int:
    try:
        return int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        raise _BadBody("Content-Length is not a number") from None


def _read_body(environ: Environ, limit: int) -> bytes:
    """The request's body, of at most `limit` bytes (said before reading when `Content-Length`
    tells; a body without one is read no further than `limit`)."""
    length = _length(environ)
    if length > limit:
        _drain(environ, length, limit)  # nothing is read yet: read it all, keeping none
    if length > limit or len(body := read_body(environ, limit)) > limit:
        raise _TooLarge(
            f"the body is larger than {limit:,} bytes, the most the control API takes (--max-body); "
            "load a larger scenario from a file: serve --scenario FILE, or a file in --scenarios-dir by name"
        )
    return body


DRAINED = 16
"""A refused body up to this many times the limit is read and thrown away, so the client, still
sending, gets the 413 instead of a broken connection; a larger one is not read at all."""


def _drain(environ: Environ, length: int, limit: int) -> None:
    """Read a body of `length` bytes too large to take, in small pieces, keeping none of it."""
    left = length
    if left > DRAINED * limit:
        return
    stream = environ["wsgi.input"]
    while left > 0 and (piece := stream.read(min(left, 1 << 16))):
        left -= len(piece)


def _json(body: bytes, *, required: bool = True) -> Any:
    if not body.strip():
        if required:
            raise _BadBody("expected a JSON body")
        return {}
    try:
        return json.loads(body, parse_constant=_no_constant)
    except ValueError as exc:
        raise _BadBody(f"the body is not JSON: {exc}") from None
    except RecursionError:
        raise _BadBody("the body is not JSON this API takes: it nests too deeply") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _object(body: bytes, required: bool = True) -> dict[str, Any]:
    value = _json(body, required=required)
    if not isinstance(value, dict):
        raise _BadBody("expected a JSON object")
    return value


def _ok(body: Any, status: int = 200) -> Answer:
    return Answer(status, body)


def _state(call: _Call) -> Answer:
    return _ok(call.fake.state())


def _reset(call: _Call) -> Answer:
    call.fake.reset()
    return _ok(call.fake.state())


def _scenario(call: _Call) -> Answer:
    """By name(s) `{"name": "retry-then-succeed"}` / `{"names": [...]}`, or a scenario document.

    A name is a bundled scenario, or a file inside the folders the server may load from.
    """
    fake, body = call.fake, call.body
    request = _names_request(body)
    if isinstance(request, dict) and set(request) <= {"name", "names"} and request:
        names = request["names"] if "names" in request else [request.get("name")]
        if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
            raise _BadBody('expected {"name": "<scenario>"} or {"names": ["<scenario>", ...]}')
        fake.load(*[call.loadable(name) for name in names])
    else:
        text = body.decode("utf-8", "replace")
        posted = parse_scenario(text, fake.spec, source=POSTED, default_name="posted", max_jobs=fake.max_jobs)
        fake.load(posted)
    return _ok(fake.state())


def _names_request(body: bytes) -> Any:
    """The body as data if it is a small JSON object (`{"name": ...}`); None for a document."""
    if not body.lstrip().startswith(b"{"):
        return None
    try:
        return json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None


class _Refused(Exception):
    pass


def _loadable(name: str, folders: tuple[Path, ...], served: tuple[str, ...] = ()) -> str | Path:
    """A bundled scenario's name, or the real path of a file inside `folders` that `name` names.

    Raises:
        _Refused: a path outside the folders (symlinks and `..` followed first); it is not
            opened, so nothing of it is shown.
        ScenarioError: no bundled scenario and no file in the folders has this name.
    """
    bundled = bundled_scenarios()
    if name in bundled:
        return name
    where = ", ".join(str(folder) for folder in folders) or (
        "none; start serve with --scenario FILE or --scenarios-dir DIR to serve one"
    )
    shown = repr(name if len(name) <= 120 else name[:117] + "...")
    if len(name) > 1024 or "\x00" in name:
        raise _Refused(f"{shown} is not a scenario name or a file name")
    candidates = [Path(name)] if Path(name).is_absolute() else [folder / name for folder in folders]
    for candidate in candidates:
        try:
            real = candidate.resolve()  # symlinks and `..` followed before the check
        except (OSError, RuntimeError):
            raise _Refused(f"{shown} is not a file this server can load") from None
        if not any(real.is_relative_to(folder) for folder in folders):
            raise _Refused(
                f"{shown} is outside the folders this server loads scenario files from ({where}); "
                "name a bundled scenario, a file in those folders, or POST the scenario document itself"
            )
        if _is_file(real):
            return real
    hint = did_you_mean(name, [*bundled, *served])
    named = f"; served: {', '.join(served)}" if served else ""
    message = (
        f"no bundled scenario, served scenario or file in the served folders is called {shown}{hint}; "
        f"bundled: {', '.join(bundled)}{named}; served folders: {where}"
    )
    raise ScenarioError([Problem(None, "", message)])


def _is_file(path: Path) -> bool:
    try:
        return path.is_file()
    except OSError:  # a name too long for the file system, say
        return False


def _advance(call: _Call) -> Answer:
    """`{"seconds": n}`, `{"duration": "5s"}`, or `{"to": "next_step"}`."""
    fake, request = call.fake, _object(call.body)
    if request.get("to") == "next_step":
        fired = fake.advance_to_next_step()
    elif "seconds" in request or "duration" in request:
        fired = fake.advance(request["seconds"] if "seconds" in request else request["duration"])
    else:
        raise _BadBody('expected {"seconds": n}, {"duration": "5s"} or {"to": "next_step"}')
    return _ok({"now": format_timestamp(fake.clock.now()), "fired": [f.to_dict() for f in fired]})


def _jobs(call: _Call) -> Answer:
    return _ok({"jobs": [job.to_dict() for job in call.fake.jobs()]})


def _add_job(call: _Call) -> Answer:
    return _ok({"job": call.fake.add_job(**_object(call.body, required=False))}, 201)


def _get_job(call: _Call) -> Answer:
    return _ok({"job": call.fake.job(call.job_id)})


def _job_history(call: _Call) -> Answer:
    return _ok(call.fake.history(call.job_id).to_dict())  # KeyError: a 404 of its kind


def _lanes(call: _Call) -> Answer:
    """Every matched job's history in one answer (`world/lanes.py`): `?project=`, `?type=`,
    `?state=` filter, `?offset=` and `?limit=` (default 100, at most 1,000) page; the timeline
    page asks for the lanes it shows."""
    try:
        given = _query(call.environ or {}, "history", LANE_PARAMETERS)
        wanted = LaneFilter(
            project=given.get("project", [""])[0] or None,
            type=given.get("type", [""])[0] or None,
            state=given.get("state", [""])[0] or None,
            offset=_whole(given, "offset", 0, 0, 10**9),
            limit=_whole(given, "limit", LANES_LIMIT, 1, MAX_LANES),
        )
    except ValueError as exc:
        return error(400, str(exc))
    return _ok(call.fake.lanes(wanted))


def _timeline_page(call: _Call | None = None) -> Answer:
    return Answer(200, TIMELINE.read_bytes(), content_type="text/html; charset=utf-8")


def _patch_job(call: _Call) -> Answer:
    fields = _object(call.body)
    name = call.fake.spec.lifecycle.field
    state = fields.pop(name, None)
    if not isinstance(state, str):
        raise _BadBody(f'expected {{"{name}": "<{name}>", ...fields}}')
    scripted = call.fake.world.timeline.has_script(call.job_id)
    job = call.fake.set_state(call.job_id, state, **fields)
    # A job moved by hand leaves its script: say so, so nobody waits for steps that will not come.
    return _ok({"job": job, "script_stopped": scripted})


def _clock(call: _Call) -> Answer:
    return _ok(call.fake.clock_state())


def _set_clock(call: _Call) -> Answer:
    """`{"speed": 10}`, `{"paused": true}`, `{"paused": false}` or both."""
    request = _object(call.body)
    unknown = set(request) - {"speed", "paused"}
    speed, paused = request.get("speed"), request.get("paused")
    if unknown or not request or (paused is not None and not isinstance(paused, bool)):
        raise _BadBody('expected {"speed": <number>} and/or {"paused": true|false}')
    if speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float))):
        raise _BadBody('expected {"speed": <number>}: 0 pauses, 1 is real time, 10 ten times as fast')
    return _ok(call.fake.set_clock(speed=speed, paused=paused))


def _requests(call: _Call) -> Answer:
    """A page of the journal, oldest first, at most `limit` entries after the cursor `since` (or,
    with `newest`, the newest ones) and at most `MAX_POLL_BYTES` of JSON; `next` is the cursor
    to pass as `since` for what comes after, `more` whether anything does."""
    try:
        since, limit, newest = _poll_parameters(call.environ or {})
    except ValueError as exc:
        return _error(400, str(exc), "BadBody")
    page = call.fake.world.journal.page(since, limit, newest=newest)
    entries = reversed(page.entries) if newest else iter(page.entries)
    chosen: list[tuple[int, bytes]] = []
    room = MAX_POLL_BYTES - 200  # the page's own fields
    for seq, entry in entries:
        encoded = encode(entry.to_dict())
        room -= len(encoded) + 1
        if room < 0 and chosen:
            break
        chosen.append((seq, encoded))
    if newest:
        chosen.reverse()
    last = chosen[-1][0] if chosen else max(since, page.newest)
    tail = {"next": last, "more": last < page.newest, "kept": page.kept, "dropped": page.dropped}
    tail["epoch"] = page.epoch
    body = b'{"requests":[' + b",".join(encoded for _, encoded in chosen) + b"]," + encode(tail)[1:]
    return Answer(200, body)


def _poll_parameters(environ: Environ) -> tuple[int, int, bool]:
    """`since`, `limit` and `newest` from a journal poll's query string. Raises ValueError."""
    given = _query(environ, "requests", POLL_PARAMETERS)
    since = _whole(given, "since", 0, 0, 10**18)
    limit = _whole(given, "limit", POLL_LIMIT, 1, MAX_POLL_LIMIT)
    newest = given.get("newest", ["false"])[0].lower()
    if newest not in ("true", "false", "1", "0"):
        raise ValueError(f"newest is true or false, not {newest[:100]!r}")
    return since, limit, newest in ("true", "1")


def _query(environ: Environ, route: str, allowed: Sequence[str]) -> dict[str, list[str]]:
    """A GET route's query parameters, each one it takes given at most once. Raises ValueError."""
    given = parse_qs(environ.get("QUERY_STRING") or "", keep_blank_values=True)
    for name, values in given.items():
        if name not in allowed:
            raise ValueError(f"GET {PREFIX}/{route} takes {', '.join(allowed)}; not {name[:100]!r}")
        if len(values) > 1:
            raise ValueError(f"{name} is given {len(values)} times; give it once")
    return given


def _whole(given: dict[str, list[str]], name: str, default: int, low: int, high: int) -> int:
    if name not in given:
        return default
    text = given[name][0]
    if not (text.isascii() and text.isdigit() and len(text) <= 19) or not low <= int(text) <= high:
        raise ValueError(f"{name} is a whole number from {low} to {high}, not {text[:100]!r}")
    return int(text)


def _clear_requests(call: _Call) -> Answer:
    call.fake.world.journal.clear()
    return Answer(204, b"")


def _faults(call: _Call) -> Answer:
    return _ok({"faults": call.fake.faults.describe()})


def _add_fault(call: _Call) -> Answer:
    call.fake.add_fault(_object(call.body))
    return _ok({"faults": call.fake.faults.describe()}, 201)


def _clear_faults(call: _Call) -> Answer:
    call.fake.faults.clear()
    return Answer(204, b"")


def _openapi(call: _Call) -> Answer:
    return Answer(200, call.fake.spec.text.encode(), content_type="application/yaml")


def _tokens(call: _Call) -> Answer:
    """`{"token": "capy_live_...", "project": "proj_web"}` (project and organization optional:
    by default the key is organization-wide, for the mock's organization)."""
    request = _object(call.body)
    token, project, organization = request.get("token"), request.get("project"), request.get("organization")
    if not isinstance(token, str) or not all(
        v is None or isinstance(v, str) for v in (project, organization)
    ):
        raise _BadBody(
            'expected {"token": "capy_live_...", "project": "<project id>", "organization": "<id>"}'
        )
    call.fake.add_token(token, project=project, organization=organization)
    return _ok({"token": redact(token), "project": project}, 201)


def _projects(call: _Call) -> Answer:
    return _ok({"projects": call.fake.projects()})


def _add_project(call: _Call) -> Answer:
    """`{"project_id": "proj_new", "organization_id": "org_x"}` (organization optional: the mock's)."""
    request = _object(call.body)
    project, organization = request.get("project_id"), request.get("organization_id")
    if not isinstance(project, str) or not (organization is None or isinstance(organization, str)):
        raise _BadBody('expected {"project_id": "<project id>", "organization_id": "<organization id>"}')
    call.fake.add_project(project, organization)
    return _ok({"projects": call.fake.projects()}, 201)


def _defects(call: _Call) -> Answer:
    return _ok({"defects": call.fake.defects()})


def _clear_defects(call: _Call) -> Answer:
    call.fake.clear_defects()
    return Answer(204, b"")


# -- sessions ------------------------------------------------------------------------------


def _registry(call: _Call) -> Sessions:
    if call.sessions is None:
        raise _NoSessions
    return call.sessions


class _NoSessions(Exception):
    pass


def _session_view(call: _Call, session: Session) -> dict[str, Any]:
    registry = _registry(call)
    base = f"{_origin(call.environ or {})}{SESSION_PREFIX}{session.id}"
    expires = datetime.now(UTC) + timedelta(seconds=registry.expires_in(session))
    return {
        "id": session.id,
        "base_url": base,
        "token": session.fake.token,
        "control_url": f"{base}{PREFIX}",
        "expires_at": format_timestamp(expires),
        "scenario": session.fake.scenario,
        "clock": session.fake.clock_state(),
    }


def _origin(environ: Environ) -> str:
    host = (
        environ.get("HTTP_HOST")
        or f"{environ.get('SERVER_NAME', '127.0.0.1')}:{environ.get('SERVER_PORT', '')}"
    )
    return f"{environ.get('wsgi.url_scheme', 'http')}://{host}"


def _start_session(call: _Call) -> Answer:
    """`{"scenario": "retry-then-succeed" | "<YAML>" | {...}, "speed": 10}`: both optional."""
    request = _object(call.body, required=False)
    unknown = set(request) - {"scenario", "speed"}
    speed = request.get("speed")
    if unknown or (speed is not None and (isinstance(speed, bool) or not isinstance(speed, (int, float)))):
        raise _BadBody('expected {"scenario": <name, document or object>, "speed": <number>}, both optional')
    try:
        references = _references(request.get("scenario"), call)
        registry = _registry(call)
        session = registry.create(speed or None)
    except TooManySessions as exc:
        return _error(429, str(exc), "TooManySessions")
    try:
        session.fake.load(*references)
    except (ScenarioError, OverBudget):
        registry.end(session.id)
        raise
    return _ok(_session_view(call, session), 201)


def _references(value: Any, call: _Call) -> list[Any]:
    """What a session starts from: a name or file (as the scenario route takes them), a document
    (YAML text, or a JSON object), a list of names, or nothing."""
    if value is None:
        return []
    if isinstance(value, str) and "\n" not in value and not value.lstrip().startswith("{"):
        return [call.loadable(value)]
    if isinstance(value, list) and all(isinstance(name, str) for name in value):
        return [call.loadable(name) for name in value]
    text = value if isinstance(value, str) else json.dumps(value)
    if not isinstance(value, (str, dict)):
        raise _BadBody('"scenario" is a name, a list of names, a YAML document or a JSON object')
    spec, most = call.fake.spec, call.fake.max_jobs
    return [parse_scenario(text, spec, source=POSTED, default_name="session", max_jobs=most)]


def _sessions(call: _Call) -> Answer:
    return _ok({"sessions": [_session_view(call, session) for session in _registry(call).live()]})


def _one_session(call: _Call) -> Session:
    session = _registry(call).get(call.job_id)
    if session is None:
        raise _UnknownSession(call.job_id)
    return session


class _UnknownSession(Exception):
    pass


def _get_session(call: _Call) -> Answer:
    return _ok(_session_view(call, _one_session(call)))


def _end_session(call: _Call) -> Answer:
    if not _registry(call).end(call.job_id):
        raise _UnknownSession(call.job_id)
    return Answer(204, b"")


Handler = Callable[[_Call], Answer]
HANDLERS: dict[str, Handler] = {
    "state": _state,
    "reset": _reset,
    "load": _scenario,
    "advance": _advance,
    "advance_to_next_step": _advance,
    "clock_state": _clock,
    "set_clock": _set_clock,
    "jobs": _jobs,
    "add_job": _add_job,
    "job": _get_job,
    "history": _job_history,
    "lanes": _lanes,
    "set_state": _patch_job,
    "projects": _projects,
    "add_project": _add_project,
    "requests": _requests,
    "clear_requests": _clear_requests,
    "faults": _faults,
    "add_fault": _add_fault,
    "clear_faults": _clear_faults,
    "openapi": _openapi,
    "add_token": _tokens,
    "defects": _defects,
    "clear_defects": _clear_defects,
    "sessions": _sessions,
    "start_session": _start_session,
    "session": _get_session,
    "end_session": _end_session,
}
"""The handler of each route of `capymock.web.routes.ROUTES`, by the route's name."""


def _dispatch(routes: tuple[Route, ...]) -> dict[str, dict[str, tuple[Handler, tuple[type[Exception], ...]]]]:
    """Path -> method -> (handler, the errors it may raise): the routes one handler answers
    share it, and the errors of all of them."""
    table: dict[str, dict[str, tuple[Handler, tuple[type[Exception], ...]]]] = {}
    for route in routes:
        handler = HANDLERS[route.name]
        before = table.setdefault(route.path, {}).get(route.method)
        if before is not None and before[0] is not handler:
            raise AssertionError(f"{route.method} {route.path} has two handlers")
        errors = (*(before[1] if before else ()), *caught(route))
        table[route.path][route.method] = (handler, tuple(dict.fromkeys(errors)))
    missing = set(HANDLERS) - {route.name for route in routes}
    if missing:
        raise AssertionError(f"handlers without a route: {sorted(missing)}")
    return table


_DISPATCH = _dispatch(ROUTES)
