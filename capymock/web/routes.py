"""The control API's routes as data, read by both ends: `capymock.web.control` dispatches on them
and `capymock.remote.RemoteMock` calls them. Each `Route` names the handle method it carries, its
method and path, the fields of its body, the key of its answer that holds the result, and the
kinds of error it answers; `ERRORS` is the one table from an exception to an error answer
(`{"error": message, "kind": kind, ...}`) and back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capymock.errors import CapymockError, IllegalTransition, InvalidJob, OverBudget, Problem, ScenarioError

POSTED = "request body"
"""Where a scenario document posted to the control API is said to be, in its problems."""
ANY_FIELDS = None
"""A body with open fields (a job's, a fault's)."""


@dataclass(frozen=True)
class Route:
    """One control route: `method` on `{control URL}/{path}` (`{id}`: a job or session id)."""

    name: str
    """What it does, as the handle method that calls it (`add_job`) or the server's own name."""
    method: str
    path: str
    fields: tuple[str, ...] | None = ()
    """The body's fields (None: open, as `ANY_FIELDS`; empty: no body)."""
    answer: str | None = None
    """The key of the answer that holds the result (None: the whole answer)."""
    status: int = 200
    errors: tuple[str, ...] = ()
    """The kinds of `ERRORS` it may answer."""

    def url(self, control_url: str, item: str = "") -> str:
        from urllib.parse import quote

        return f"{control_url}/{self.path.replace('{id}', quote(item, safe=''))}"

    def body(self, **values: Any) -> dict[str, Any]:
        """The body for `values` (None values left out); a field the route does not take is a bug."""
        given = {key: value for key, value in values.items() if value is not None}
        if self.fields is not None:
            unknown = set(given) - set(self.fields)
            if unknown:
                raise TypeError(
                    f"{self.name} takes {', '.join(self.fields) or 'no body'}, not {sorted(unknown)}"
                )
        return given


ROUTES: tuple[Route, ...] = (
    Route("state", "GET", "state"),
    Route("reset", "POST", "reset"),
    Route("load", "POST", "scenario", ("name", "names"), errors=("ScenarioError", "Refused")),
    Route("advance", "POST", "advance", ("seconds", "duration", "to"), "fired", errors=("ValueError",)),
    Route("advance_to_next_step", "POST", "advance", ("to",), "fired", errors=("CapymockError",)),
    Route("clock_state", "GET", "clock"),
    Route("set_clock", "POST", "clock", ("speed", "paused"), errors=("ValueError",)),
    Route("jobs", "GET", "jobs", answer="jobs"),
    Route("add_job", "POST", "jobs", ANY_FIELDS, "job", 201, ("InvalidJob",)),
    Route("job", "GET", "jobs/{id}", answer="job", errors=("KeyError",)),
    Route("history", "GET", "jobs/{id}/history", errors=("KeyError",)),
    Route("lanes", "GET", "history"),
    Route(
        "set_state",
        "PATCH",
        "jobs/{id}",
        ANY_FIELDS,
        "job",
        errors=("KeyError", "IllegalTransition", "InvalidJob"),
    ),
    Route("projects", "GET", "projects", answer="projects"),
    Route(
        "add_project", "POST", "projects", ("project_id", "organization_id"), "projects", 201, ("InvalidJob",)
    ),
    Route("requests", "GET", "requests"),
    Route("clear_requests", "DELETE", "requests", status=204),
    Route("faults", "GET", "faults", answer="faults"),
    Route("add_fault", "POST", "faults", ANY_FIELDS, "faults", 201, ("ScenarioError",)),
    Route("clear_faults", "DELETE", "faults", status=204),
    Route("openapi", "GET", "openapi.yaml"),
    Route("add_token", "POST", "tokens", ("token", "project", "organization"), "token", 201, ("ValueError",)),
    Route("defects", "GET", "defects", answer="defects"),
    Route("clear_defects", "DELETE", "defects", status=204),
    Route("sessions", "GET", "sessions", answer="sessions"),
    Route(
        "start_session",
        "POST",
        "sessions",
        ("scenario", "speed"),
        status=201,
        errors=("ScenarioError", "Refused", "TooManySessions", "ValueError"),
    ),
    Route("session", "GET", "sessions/{id}", errors=("KeyError",)),
    Route("end_session", "DELETE", "sessions/{id}", status=204, errors=("KeyError",)),
)
ROUTE: dict[str, Route] = {route.name: route for route in ROUTES}
"""The routes by name."""


# -- errors ------------------------------------------------------------------------------------

ERRORS: dict[str, tuple[type[Exception], int]] = {
    "KeyError": (KeyError, 404),
    "IllegalTransition": (IllegalTransition, 409),
    "InvalidJob": (InvalidJob, 422),
    "ScenarioError": (ScenarioError, 422),
    "ValueError": (ValueError, 422),
    "OverBudget": (OverBudget, 503),
    "CapymockError": (CapymockError, 409),
}
"""An error answer's kind: the exception it stands for (on both ends) and its status. Matched in
this order, so a subclass comes before its base. Other kinds (`BadBody`, `Refused`, ...) are
errors of the control API itself and come back as `CapymockError`."""


def caught(route: Route) -> tuple[type[Exception], ...]:
    """The exceptions `route`'s handler may raise for the dispatcher to answer (its `errors`)."""
    return tuple(ERRORS[kind][0] for kind in route.errors if kind in ERRORS)


def failure(exc: Exception) -> tuple[int, dict[str, Any]]:
    """The status and body that answer `exc` (an exception of a kind in `ERRORS`)."""
    kind = next(name for name, (kind, _) in ERRORS.items() if isinstance(exc, kind))
    status = ERRORS[kind][1]
    if isinstance(exc, KeyError):
        return status, {"error": str(exc.args[0]) if exc.args else kind, "kind": kind}
    if isinstance(exc, IllegalTransition):
        return status, {
            "error": str(exc),
            "kind": kind,
            "job_id": exc.job_id,
            "from": exc.from_state,
            "to": exc.to_state,
            "legal": list(exc.legal),
            "reason": exc.reason,
        }
    if isinstance(exc, ScenarioError):
        count = len(exc.problems)
        return status, {
            "error": f"the scenario has {count} problem{'s' if count != 1 else ''}:\n{exc}",
            "kind": kind,
            "problems": [problem.to_dict() for problem in exc.problems],
        }
    return status, {"error": str(exc), "kind": kind}


def raised(status: int, body: Any) -> Exception:
    """The exception an error answer stands for, as the in-process `Mock` raises it."""
    if not isinstance(body, dict):
        body = {"error": str(body)}
    message = str(body.get("error", body))
    known = ERRORS.get(str(body.get("kind")))
    if known is None:
        return CapymockError(f"{status}: {message}")
    kind = known[0]
    if kind is IllegalTransition:
        legal = tuple(body["legal"])
        return IllegalTransition(body["job_id"], body["from"], body["to"], legal, body.get("reason", ""))
    if kind is ScenarioError:
        return ScenarioError([Problem.from_dict(problem) for problem in body["problems"]])
    return kind(message)
