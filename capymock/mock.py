"""`Mock`: one fake Capy API — spec, store, clock, keys, scripts, faults, journal — and
its Python API."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from capymock.app import App
from capymock.auth import Keyring, Principal, authenticate, mint_session_token
from capymock.clock import Clock, ManualClock, format_timestamp, wall_clock_now
from capymock.defaults import DEFAULT_ORGANIZATION, DEFAULT_PROJECT, DEFAULT_TOKEN
from capymock.duration import parse_duration
from capymock.errors import CapymockError, InvalidJob, MockFailure, Problem, ScenarioError
from capymock.faults import Faults
from capymock.job import Job, compose_job
from capymock.journal import DEFAULT_SIZE, Journal, RecordedRequest
from capymock.requests_check import assert_requested
from capymock.routing import router_for
from capymock.scenarios import Fault, Scenario, check_fault, load_scenario
from capymock.spec import Operation, Spec, load_spec
from capymock.statemachine import transition
from capymock.store import Store
from capymock.timeline import Fired, Timeline
from capymock.validation import validators_for


@dataclass(frozen=True)
class _Baseline:
    """Everything `reset()` returns to."""

    name: str | None
    organization_id: str
    start: datetime
    store: Any
    timeline: Any
    keys: list[tuple[str, Principal]]
    faults: Any


class Mock:
    """A scriptable, in-memory Capy Jobs API.

    Serve it with `capymock.serve()`, or call `mock.wsgi_app` directly. Every response is
    checked against the spec while `validate` is on; a mismatch or a crash answers 500 and
    is raised again by `check()` (which `serve()` calls when its block ends).
    """

    def __init__(
        self,
        *,
        scenario: str | Path | Scenario | Sequence[str | Path | Scenario] | None = None,
        spec: Spec | str | Path | None = None,
        clock: Clock | None = None,
        validate: bool = True,
        any_token: bool = False,
        token: str = DEFAULT_TOKEN,
        control_token: str | None = None,
        seed: int = 0,
        journal_size: int = DEFAULT_SIZE,
    ) -> None:
        self.spec = spec if isinstance(spec, Spec) else load_spec(spec)
        self.validators, self.router = validators_for(self.spec), router_for(self.spec)
        self.clock: Clock = clock if clock is not None else ManualClock(wall_clock_now())
        self.validate = validate
        self.any_token = any_token
        self.token = token
        self.control_token = control_token
        self.url: str | None = None
        self.organization_id = DEFAULT_ORGANIZATION
        self.scenario: str | None = None
        self.store = Store()
        self.keyring = Keyring()
        self.keyring.add(token, self.organization_id)
        self.faults = Faults()
        self.journal = Journal(journal_size)
        self.timeline = Timeline(self.spec, self.store, self.clock, self.record_failure)
        self._random = random.Random(seed)
        self._failures: list[str] = []
        self._failures_lock = threading.Lock()
        self._baseline = self._capture(self.clock.now())
        self.wsgi_app = App(self)
        if scenario is not None:
            self.load(*(scenario if isinstance(scenario, (list, tuple)) else [scenario]))

    # -- scenarios and time -----------------------------------------------------------

    def load(self, *scenarios: str | Path | Scenario) -> None:
        """Replace the whole state with one or more scenarios (bundled names, paths or parsed).

        The clock restarts at the first scenario's `start` (without one: where it is now). The
        default token becomes an organization key of the first scenario's organization. With
        no scenario, the mock is emptied. A scenario that cannot be loaded raises
        `ScenarioError` and changes nothing.
        """
        parsed = [s if isinstance(s, Scenario) else load_scenario(s, self.spec) for s in scenarios]
        _check_no_overlap(parsed)
        start = next((s.start for s in parsed if s.start is not None), self.clock.now())
        staged = Mock(spec=self.spec, clock=ManualClock(start), token=self.token, validate=False)
        if parsed:
            staged._populate(parsed, start)
        self._baseline = staged._capture(start)
        self.reset()

    def _populate(self, scenarios: list[Scenario], start: datetime) -> None:
        self.scenario = " + ".join(s.name for s in scenarios)
        self.organization_id = scenarios[0].organization
        self.keyring.replace([])
        self.keyring.add(self.token, scenarios[0].organization)
        organizations: dict[str, str] = {}
        for scenario in scenarios:
            for project in scenario.projects:
                self.store.add_project(project, scenario.organization)
                organizations[project] = scenario.organization
            for grant in scenario.tokens:
                self.keyring.add(grant.token, scenario.organization, grant.project)
            for fault in scenario.faults:
                self.faults.add(fault)
        self.timeline.start([job for s in scenarios for job in s.jobs], organizations, start)

    def _capture(self, start: datetime) -> _Baseline:
        """Everything `reset()` returns to, as this mock is now, with the clock at `start`."""
        return _Baseline(
            self.scenario,
            self.organization_id,
            start,
            self.store.snapshot(),
            self.timeline.snapshot(),
            self.keyring.items(),
            self.faults.snapshot(),
        )

    def reset(self) -> None:
        """Return to the state right after the last `load()` (an empty mock if none), and
        clear the request journal."""
        base = self._baseline
        self.clock.set(base.start)
        self.store.restore(base.store)
        self.timeline.restore(base.timeline)
        self.keyring.replace(base.keys)
        self.faults.restore(base.faults)
        self.journal.clear()
        self.scenario, self.organization_id = base.name, base.organization_id

    def advance(self, duration: timedelta | float | str) -> list[Fired]:
        """Move the clock forward, firing every step due on the way at its due time."""
        return self.timeline.advance(parse_duration(duration))

    def advance_to_next_step(self) -> list[Fired]:
        """Move the clock to the next time step and fire it.

        Raises:
            CapymockError: no step is waiting for time (none left, or only `after_polls` ones).
        """
        self.timeline.settle()
        nxt = self.timeline.next_due()
        if nxt is None:
            waiting = [p for p in self.timeline.pending() if "after_polls" in p]
            detail = f"; {len(waiting)} wait for reads" if waiting else ""
            raise CapymockError(f"no step is waiting for time{detail}")
        return self.timeline.advance(max(nxt[0] - self.clock.now(), timedelta(0)))

    def settle(self) -> None:
        """Fire the steps due by now (the app does this before answering each request)."""
        self.timeline.settle()

    # -- jobs -------------------------------------------------------------------------

    def add_job(self, **fields: Any) -> Job:
        """Add a job; fields are `Job` field names, the rest is defaulted.

        Defaults: a generated `id`, the lifecycle's initial `state`, `attempts` 0,
        `max_attempts` 3, type "task", `project_id` "proj_demo" in the mock's organization,
        `created_at` now. A job that starts in a later state gets the fields its lifecycle
        would have derived on the way there (a `running` job has a claim and a `started_at`).

        Raises:
            InvalidJob: an unknown field, a value the `Job` schema rejects, a broken
                lifecycle invariant, or an id already in use.
        """
        unknown = sorted(set(fields) - set(self.spec.job_fields))
        if unknown:
            known = ", ".join(self.spec.job_fields)
            raise InvalidJob(f"unknown Job field(s) {', '.join(unknown)}; Job fields: {known}")
        given = {"project_id": DEFAULT_PROJECT, **fields}
        organization_id = (
            fields.get("organization_id")
            or self.store.project_organization(given["project_id"])
            or self.organization_id
        )
        job = compose_job(
            self.spec,
            given,
            job_id=fields.get("id") or self._new_id(),
            organization_id=organization_id,
            now=format_timestamp(self.clock.now()),
        )
        self._check_job(job)
        if self.store.get(job.id) is not None:
            raise InvalidJob(f"job {job.id!r} already exists")
        later = self.timeline.scheduled(job.id)
        if later is not None:
            raise InvalidJob(f"job {job.id!r} is taken: the scenario creates it at {format_timestamp(later)}")
        self.store.put(job)
        return job

    def _check_job(self, job: Job) -> None:
        problems = self.validators.job_errors(job) or self.spec.lifecycle.violations(job)
        if problems:
            raise InvalidJob(f"job {job.get('id')!r}: " + "; ".join(problems))

    def _new_id(self) -> str:
        return f"job_{self._random.getrandbits(64):016x}"

    def set_state(self, job_id: str, state: str, **fields: Any) -> Job:
        """Move a job to `state` now, as its lifecycle allows; its scripted steps stop.

        Raises:
            KeyError: no such job.
            IllegalTransition: the lifecycle does not allow this move from the job's state.
            InvalidJob: `fields` break the schema or an invariant.
        """
        self.settle()
        current = self.job(job_id)
        new = Job(transition(self.spec.lifecycle, current, state, format_timestamp(self.clock.now()), fields))
        self._check_job(new)
        self.timeline.forget(job_id)
        self.store.put(new)
        return new

    def add_project(self, project_id: str, organization_id: str | None = None) -> None:
        """Declare an (empty) project, by default in the mock's organization."""
        self.store.add_project(project_id, organization_id or self.organization_id)

    def job(self, job_id: str) -> Job:
        """The current snapshot of a job.

        Raises:
            KeyError: no job has this id.
        """
        self.settle()
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(f"no job {job_id!r}")
        return job

    def jobs(self) -> list[Job]:
        """Every job, newest first."""
        self.settle()
        return sorted(self.store.jobs(), key=lambda job: job.sort_key, reverse=True)

    # -- auth -------------------------------------------------------------------------

    def add_token(self, token: str, *, project: str | None = None, organization: str | None = None) -> str:
        """Accept another API key, scoped to one project or (by default) the whole organization."""
        owner = self.store.project_organization(project) if project else None
        self.keyring.add(token, organization or owner or self.organization_id, project)
        return token

    def clerk_token(
        self,
        *,
        org_id: str | None = None,
        user_id: str = "user_capymock",
        expires_in: timedelta | float | str = timedelta(hours=1),
        version: int = 2,
    ) -> str:
        """A Clerk session token for `org_id` (default: the mock's), valid from the mock's now."""
        return mint_session_token(
            organization_id=org_id or self.organization_id,
            user_id=user_id,
            issued_at=self.clock.now(),
            lifetime=parse_duration(expires_in),
            version=version,
        )

    def authenticate(self, operation: Operation, header: str | None) -> Principal:
        """Who is calling `operation` (an operation with no security: the mock's organization).

        Raises:
            Denied: the operation needs a token and this one is not acceptable.
        """
        if not operation.security_schemes:
            return Principal(self.organization_id)
        any_token = self.organization_id if self.any_token else None
        return authenticate(header, self.keyring, self.clock.now(), any_token)

    # -- faults -----------------------------------------------------------------------

    def fail(
        self,
        method: str | None,
        path: str,
        *,
        status: int | None = 500,
        times: int | None = None,
        delay: timedelta | float | str | None = None,
        body: Any = None,
    ) -> Fault:
        """Answer matching requests with `status` (and/or after `delay`), `times` times (None: always).

        `path` is exact or a template of the spec (`/v1/jobs/{jobID}`).

        Raises:
            ScenarioError: no operation has this path or method.
        """
        raw: dict[str, Any] = {"match": {"path": path}}
        if method:
            raw["match"]["method"] = method
        raw.update(
            {
                k: v
                for k, v in {"status": status, "times": times, "delay": delay, "body": body}.items()
                if v is not None
            }
        )
        return self.add_fault(raw)

    def add_fault(self, raw: dict[str, Any]) -> Fault:
        """Add a fault given in its scenario-file form (`{"match": {...}, "status": ...}`).

        Raises:
            ScenarioError: the fault is malformed, or no operation has its path.
        """
        fault = check_fault(raw, self.spec)
        self.faults.add(fault)
        return fault

    # -- requests and failures --------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests answered so far (the newest 1000 by default), oldest first."""
        return self.journal.entries()

    def assert_requested(self, method: str, path: str, times: int | None = None, **filters: Any) -> None:
        """Assert the mock answered `method path` (`times` times; None: at least once).

        `filters` narrow the match: `status=404`, `query={"limit": "2"}`, `headers={...}`.

        Raises:
            AssertionError: listing the requests the mock did see.
        """
        assert_requested(self.requests, method, path, times, **filters)

    def record_failure(self, message: str) -> None:
        """Keep a failure of the mock itself, to be raised by `check()`."""
        with self._failures_lock:
            self._failures.append(message)

    def check(self) -> None:
        """Raise `MockFailure` if the mock broke its own spec or crashed since the last check."""
        with self._failures_lock:
            failures, self._failures = self._failures, []
        if failures:
            raise MockFailure("\n\n".join(failures))

    def state(self) -> dict[str, Any]:
        """The control API's view: clock, scenario, jobs (newest first), pending steps."""
        jobs = self.jobs()
        return {
            "now": format_timestamp(self.clock.now()),
            "scenario": self.scenario,
            "jobs": [job.to_dict() for job in jobs],
            "pending_steps": self.timeline.pending(),
            "faults": self.faults.describe(),
        }


def _check_no_overlap(scenarios: list[Scenario]) -> None:
    """Scenarios loaded together may not share a job id."""
    seen: dict[str, str] = {}
    problems = []
    for scenario in scenarios:
        for job in {job.id: job for job in scenario.jobs}.values():
            if job.id in seen:
                problems.append(
                    Problem(None, "", f"job id {job.id!r} is in both {seen[job.id]} and {scenario.source}")
                )
            seen[job.id] = scenario.source
    if problems:
        raise ScenarioError(problems)
