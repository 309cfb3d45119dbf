"""`RemoteMock`: a session on a shared `capymock serve`, steered over HTTP with the same handle as
`Mock` (load, reset, advance, jobs, faults, tokens, the request journal), so many test workers,
or CI jobs, share one server and never see each other's state."""

from __future__ import annotations

import contextlib
import json
import urllib.error
import urllib.request
from datetime import timedelta
from pathlib import Path
from typing import Any

from capymock.core.auth import mint_session_token
from capymock.core.durations import parse_duration
from capymock.core.expectations import assert_requested
from capymock.core.journal import RecordedRequest
from capymock.core.timestamps import parse_timestamp
from capymock.errors import (
    CapymockError,
    IllegalTransition,
    InvalidJob,
    MockDefect,
    OverBudget,
    Problem,
    ScenarioError,
    SourceLocation,
)
from capymock.scenario.loader import bundled_scenarios, fault_document


class RemoteMock:
    """A fresh session on the server at `server` (a `capymock serve` URL), loaded with `scenarios`.

    `url` is the session's base URL: an app under test needs only that changed. `end()` ends it.
    """

    def __init__(
        self, server: str, *scenarios: str | Path, speed: float | None = None, timeout: float = 30
    ) -> None:
        self.server, self.timeout = server.rstrip("/"), timeout
        body: dict[str, Any] = {}
        if speed is not None:
            body["speed"] = speed
        created = self._call("POST", f"{self.server}/_capymock/sessions", body)
        self.session_id: str = created["id"]
        self.url: str = created["base_url"]
        self.token: str = created["token"]
        self.control_url: str = created["control_url"]
        self.expires_at: str = created["expires_at"]
        if scenarios:
            try:
                self.load(*scenarios)
            except Exception:
                self.end()
                raise

    # -- the session -------------------------------------------------------------------

    def load(self, *scenarios: str | Path) -> None:
        """Replace the session's state with bundled scenarios (by name), or one scenario file (sent
        whole, so it need not be on the server's disk).

        Raises:
            ScenarioError: a scenario cannot be loaded (the session keeps its state).
        """
        bundled = bundled_scenarios()
        if all(isinstance(s, str) and s in bundled for s in scenarios):
            self._control("POST", "scenario", {"names": list(scenarios)})
        elif len(scenarios) == 1:
            text = Path(scenarios[0]).read_text(encoding="utf-8")
            self._control("POST", "scenario", text.encode(), content_type="application/yaml")
        else:
            message = "a remote session loads bundled scenarios by name, or one scenario file"
            raise ScenarioError([Problem(None, "", message)])

    def reset(self) -> None:
        """Back to right after the last load, with an empty journal."""
        self._control("POST", "reset", {})

    def end(self) -> None:
        """End the session; its URLs answer 404 from then on."""
        with contextlib.suppress(KeyError):  # already ended, or expired
            self._call("DELETE", f"{self.server}/_capymock/sessions/{self.session_id}", None)

    def projects(self) -> list[str]:
        """The projects of the mock's organization, in the order declared."""
        return list(self.state()["projects"])

    def state(self) -> dict[str, Any]:
        return dict(self._control("GET", "state"))

    @property
    def organization_id(self) -> str:
        """The organization of the loaded scenario (the default token's)."""
        return str(self.state()["organization"])

    @property
    def scenario(self) -> str | None:
        name = self.state()["scenario"]
        return str(name) if name is not None else None

    # -- time --------------------------------------------------------------------------

    def advance(self, duration: timedelta | float | str) -> list[dict[str, Any]]:
        """Move the session's clock forward; the steps that fired, in order."""
        seconds = parse_duration(duration).total_seconds()
        return list(self._control("POST", "advance", {"seconds": seconds})["fired"])

    def advance_to_next_step(self) -> list[dict[str, Any]]:
        return list(self._control("POST", "advance", {"to": "next_step"})["fired"])

    def clock_state(self) -> dict[str, Any]:
        return dict(self._control("GET", "clock"))

    def set_clock(self, *, speed: float | None = None, paused: bool | None = None) -> dict[str, Any]:
        body = {k: v for k, v in {"speed": speed, "paused": paused}.items() if v is not None}
        return dict(self._control("POST", "clock", body))

    # -- jobs, tokens, faults ----------------------------------------------------------

    def add_job(self, **fields: Any) -> dict[str, Any]:
        return dict(self._control("POST", "jobs", fields)["job"])

    def set_state(self, job_id: str, state: str, **fields: Any) -> dict[str, Any]:
        return dict(self._control("PATCH", f"jobs/{job_id}", {"state": state, **fields})["job"])

    def job(self, job_id: str) -> dict[str, Any]:
        return dict(self._control("GET", f"jobs/{job_id}")["job"])

    def jobs(self) -> list[dict[str, Any]]:
        return list(self._control("GET", "jobs")["jobs"])

    def add_token(self, token: str, *, project: str | None = None) -> str:
        self._control("POST", "tokens", {"token": token, "project": project})
        return token

    def clerk_token(
        self,
        *,
        org_id: str | None = None,
        user_id: str = "user_capymock",
        expires_in: timedelta | float | str = timedelta(hours=1),
        version: int = 2,
    ) -> str:
        """A Clerk session token valid from the session's now (for `org_id`, default: its organization)."""
        state = self.state()
        return mint_session_token(
            organization_id=org_id or state["organization"],
            user_id=user_id,
            issued_at=parse_timestamp(state["now"]),
            lifetime=expires_in,
            version=version,
        )

    def fail(
        self,
        method: str | None,
        path: str,
        *,
        status: int | None = 500,
        times: int | None = None,
        delay: timedelta | float | str | None = None,
        body: Any = None,
    ) -> None:
        """Answer matching requests with `status` (and/or after `delay`), `times` times (None: always)."""
        self.add_fault(fault_document(method, path, status, times, delay, body))

    def add_fault(self, raw: dict[str, Any]) -> None:
        self._control("POST", "faults", raw)

    # -- requests and defects ------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests the session answered (tokens redacted), oldest first: every entry its
        journal keeps, read page by page."""
        entries: list[RecordedRequest] = []
        since, epoch = 0, None
        while True:
            page = self._control("GET", f"requests?limit=1000&since={since}")
            if epoch is not None and page["epoch"] != epoch:  # reset meanwhile: read the new journal
                entries, since, epoch = [], 0, None
                continue
            entries += [RecordedRequest(**entry) for entry in page["requests"]]
            since, epoch = page["next"], page["epoch"]
            if not page["more"]:
                return entries

    def assert_requested(self, method: str, path: str, times: int | None = None, **filters: Any) -> None:
        """As `Mock.assert_requested`: `AssertionError` listing what the session saw."""
        __tracebackhide__ = True
        assert_requested(self.requests, method, path, times, **filters)

    def check(self) -> None:
        """Raise `MockDefect` if the session broke its own spec or crashed since the last check."""
        __tracebackhide__ = True
        defects = self._control("GET", "defects")["defects"]
        if defects:
            self._control("DELETE", "defects", None)
            raise MockDefect("\n\n".join(defects))

    # -- HTTP --------------------------------------------------------------------------

    def _control(
        self, method: str, route: str, body: Any = None, *, content_type: str = "application/json"
    ) -> Any:
        return self._call(method, f"{self.control_url}/{route}", body, content_type)

    def _call(self, method: str, url: str, body: Any, content_type: str = "application/json") -> Any:
        data = body if isinstance(body, bytes) else None if body is None else json.dumps(body).encode()
        headers = {"Content-Type": content_type} if data is not None else {}
        request = urllib.request.Request(url, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                raw = response.read()
        except urllib.error.HTTPError as failure:
            with failure:
                raise _error(failure.code, failure.read()) from None
        except urllib.error.URLError as failure:
            raise CapymockError(f"cannot reach the capymock server at {url}: {failure.reason}") from None
        return json.loads(raw) if raw else None


def _error(status: int, raw: bytes) -> Exception:
    """The error an answer of the control API stands for, as the in-process `Mock` raises it."""
    try:
        body = json.loads(raw)
    except ValueError:
        body = {"error": raw.decode("utf-8", "replace")}
    message = str(body.get("error", body))
    if status == 404 and message.startswith("no job"):
        return KeyError(message)
    if status == 409 and "legal" in body:
        return IllegalTransition(body["job_id"], body["from"], body["to"], tuple(body["legal"]))
    if status == 422 and "problems" in body:
        return ScenarioError([_problem(p) for p in body["problems"]])
    if status == 422:
        return InvalidJob(message)
    if status == 404 and message.startswith("no session"):
        return KeyError(message)
    if status == 503 and "--max-session-" in message:
        return OverBudget(message)
    return CapymockError(f"{status}: {message}")


def _problem(raw: dict[str, Any]) -> Problem:
    where = SourceLocation(raw["file"], raw["line"], raw["column"]) if raw.get("file") else None
    return Problem(where, raw.get("path", ""), raw.get("message", ""))
