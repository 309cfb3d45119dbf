"""`Handle`: what a test steers the mock with, wherever it runs. `capymock.Mock` (in process) and
`capymock.RemoteMock` (a session, or the root, of a served mock, over HTTP) both implement it
member for member: the same argument names, the same records back (`Job`, `Fired`,
`RecordedRequest`) and the same exceptions (`KeyError` for an unknown job, `IllegalTransition`,
`InvalidJob`, `ScenarioError` with located problems, `CapymockError`, `ValueError`)."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from capymock.core.job import Job
from capymock.core.journal import RecordedRequest
from capymock.world.history import JobHistory
from capymock.world.timeline import Fired


class Now(Protocol):
    """A clock as a handle shows it: `now()`, the mock's current time (timezone-aware)."""

    def now(self) -> datetime: ...


@runtime_checkable
class Handle(Protocol):
    """A scriptable Capy Jobs API: `capymock.Mock` or `capymock.RemoteMock`."""

    @property
    def url(self) -> str | None:
        """The API's base URL (None: an in-process mock not served)."""

    @property
    def token(self) -> str:
        """The default API key: an organization key of the loaded scenario's organization."""

    @property
    def organization_id(self) -> str:
        """The organization of the loaded scenario (the default token's)."""

    @property
    def scenario(self) -> str | None:
        """The loaded scenarios' names (`a + b`), or None."""

    @property
    def clock(self) -> Now:
        """The mock's clock: `clock.now()`."""

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests answered since the last load or reset, oldest first."""

    def load(self, *scenarios: str | Path) -> None:
        """Replace the whole state with scenarios (bundled names, or a path)."""

    def reset(self) -> None:
        """Start over from the last load, with an empty journal."""

    def state(self) -> dict[str, Any]:
        """The control API's view (clock, scenario, jobs, pending steps, faults, ...)."""
        ...

    def projects(self) -> list[str]:
        """The projects of the mock's organization, in the order declared."""
        ...

    def add_project(self, project_id: str, organization_id: str | None = None) -> None:
        """Declare an (empty) project, by default in the mock's organization."""

    def advance(self, duration: timedelta | float | str) -> list[Fired]:
        """Move the clock forward; the steps that fired, in order."""
        ...

    def advance_to_next_step(self) -> list[Fired]:
        """Move the clock to the next time step and fire it."""
        ...

    def clock_state(self) -> dict[str, Any]:
        """now, speed, paused, manual, waiting_for_first_request."""
        ...

    def set_clock(self, *, speed: float | None = None, paused: bool | None = None) -> dict[str, Any]:
        """Pause, resume or re-pace the clock; its state after."""
        ...

    def add_job(self, *, create_project: bool = False, **fields: Any) -> Job:
        """Add a job (`Job` fields; the rest defaulted)."""
        ...

    def set_state(self, job_id: str, state: str, **fields: Any) -> Job:
        """Move a job to `state` now, as its lifecycle allows."""
        ...

    def job(self, job_id: str) -> Job:
        """The current snapshot of a job (KeyError: none has this id)."""
        ...

    def jobs(self) -> list[Job]:
        """Every job, newest first."""
        ...

    def history(self, job_id: str) -> JobHistory:
        """What happened to a job: its changes (time, cause, the job as each left it), the API's
        reads of it and its scripted steps to come."""
        ...

    def add_token(self, token: str, *, project: str | None = None, organization: str | None = None) -> str:
        """Accept another API key (a project's, or an organization's)."""
        ...

    def clerk_token(
        self,
        *,
        org_id: str | None = None,
        user_id: str = "user_capymock",
        expires_in: timedelta | float | str = timedelta(hours=1),
        version: int = 2,
    ) -> str:
        """A Clerk session token valid from the mock's now."""
        ...

    def fail(
        self,
        method: str | None,
        path: str,
        *,
        status: int | None = 500,
        times: int | None = None,
        delay: timedelta | float | str | None = None,
        body: Any = None,
    ) -> object:
        """Answer matching requests with `status` (and/or after `delay`), `times` times."""

    def add_fault(self, raw: dict[str, Any]) -> object:
        """Add a fault in its scenario-file form."""

    def assert_requested(self, method: str, path: str, times: int | None = None, **filters: Any) -> None:
        """AssertionError (listing what was seen) unless `method path` was answered (`times` times)."""

    def defects(self) -> list[str]:
        """The mock's own defects kept since the last check."""
        ...

    def check(self) -> None:
        """Raise `MockDefect` if the mock broke its own spec or crashed since the last check."""


MEMBERS: tuple[str, ...] = tuple(
    name for name in Handle.__dict__ if not name.startswith("_") and name not in ("MEMBERS",)
)
"""The names of `Handle`'s members, in the order declared."""
