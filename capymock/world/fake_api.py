"""`FakeApi`: one fake Capy API (a spec and its current world) and the operations that load,
reset and steer it. The web edge serves it; `capymock.Mock` is a `FakeApi` with a WSGI app."""

from __future__ import annotations

import functools
import random
import threading
from collections import deque
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal

from capymock.core.auth import Principal, authenticate, mint_session_token
from capymock.core.clock import Clock, ManualClock, check_speed
from capymock.core.defaults import DEFAULT_PROJECT, DEFAULT_TOKEN, MAX_CONTROL_BODY, MAX_JOBS
from capymock.core.durations import parse_duration
from capymock.core.job import Job, compose_job, segment_problem
from capymock.core.journal import DEFAULT_BYTES, DEFAULT_SIZE, Journal, JournalBudget, RecordedRequest
from capymock.core.operations import Operation
from capymock.core.routing import router_for
from capymock.core.spec import JOB, Spec
from capymock.core.suggest import did_you_mean
from capymock.core.timestamps import format_timestamp
from capymock.core.transitions import transition
from capymock.core.validation import validators_for
from capymock.errors import CapymockError, InvalidJob, MockDefect, Problem, ScenarioError
from capymock.scenario.checks import check_disjoint
from capymock.scenario.loader import check_fault, fault_document, load_scenario
from capymock.scenario.model import Fault, Scenario
from capymock.system.clock import SystemClock, wall_clock_now
from capymock.system.specs import load_spec
from capymock.world.faults import ArmedFaults
from capymock.world.history import Cause, JobHistory
from capymock.world.lanes import LaneFilter, lanes
from capymock.world.timeline import Fired
from capymock.world.world import Baseline, World, empty_baseline, planned_baseline

ScenarioReference = str | Path | Scenario
KEPT_DEFECTS = 100
MAX_DEFECT = 10_000


class FakeApi:
    """A scriptable, in-memory Capy Jobs API: its spec, its current world, and a baseline to reset to.

    Every operation reads the current world once and acts on it; a load or reset swaps in a
    new world whole.
    """

    def __init__(
        self,
        *,
        scenario: ScenarioReference | Sequence[ScenarioReference] | None = None,
        spec: Spec | str | Path | None = None,
        clock: Clock | None = None,
        validate: bool = True,
        any_token: bool = False,
        token: str = DEFAULT_TOKEN,
        control_token: str | None = None,
        seed: int = 0,
        journal_size: int = DEFAULT_SIZE,
        journal_bytes: int = DEFAULT_BYTES,
        journal_budget: JournalBudget | None = None,
        handlers: Mapping[str, Callable[..., Any]] | None = None,
        wall: Callable[[], datetime] = wall_clock_now,
        max_jobs: int = MAX_JOBS,
        max_body: int = MAX_CONTROL_BODY,
    ) -> None:
        self.spec = spec if isinstance(spec, Spec) else load_spec(spec)
        self.handlers: Mapping[str, Callable[..., Any]] = dict(handlers or {})
        """Handlers by operationId, before the web edge's own (`capymock.web.handlers`)."""
        self.validators, self.router = validators_for(self.spec), router_for(self.spec)
        self.validate = validate
        self.any_token = any_token
        self.token = token
        self.control_token = control_token
        self.max_jobs = max_jobs
        """The most jobs a load may hold in all (`serve --max-jobs`); more is a `ScenarioError`."""
        self.max_body = max_body
        """The largest control request body, in bytes (`serve --max-body`); larger is a 413."""
        self.admit: Callable[[int, int], None] | None = None
        """Asked before this API holds more, with the jobs and the bytes of scenario text it would
        hold (a session's is its server's budget: it raises `OverBudget` to refuse)."""
        self.held_bytes = 0
        """Bytes of the scenario text the last load was parsed from."""
        self.held_jobs = 0
        """Jobs the last load scripted (some may not exist yet: a first step's `after` delays one)."""
        self._journal_size = journal_size
        self.journal_budget = journal_budget if journal_budget is not None else JournalBudget(journal_bytes)
        """The bytes this mock's journals keep, shared with its sessions' (`journal_bytes`, unless
        `journal_budget` is given: another mock's, as a session shares its server's)."""
        self._random = random.Random(seed)
        self._failures: deque[str] = deque(maxlen=KEPT_DEFECTS)
        self._dropped = 0
        self._failures_lock = threading.Lock()
        self.on_defect: Callable[[str], None] | None = None
        """Called with each defect as it happens (`capymock serve` prints them)."""
        self._swap_lock = threading.Lock()
        self.start: datetime | Literal["now"] | None = None
        """Where every load starts the clock, whatever the scenario says (`serve --start`); "now" is
        the real time of each load."""
        self.start_on_first_request = False
        """Each load or reset leaves the clock standing until the API's first request."""
        self.reload_error: str | None = None
        """Why the last reload of the served files failed (None: it did not)."""
        self._wall = wall
        clock = clock if clock is not None else ManualClock(wall())
        self._restart = _like(clock)
        """Makes the clock a load or reset starts: like the mock's when it was made or last loaded."""
        self._loaded: list[Scenario] = []
        self._starts_now = False
        """Whether the loaded scenarios start at the real time of each load and reset."""
        self._baseline = empty_baseline(clock.now(), token)
        self._world = World(self.spec, self._baseline, clock, self.record_failure, self._journal())
        if scenario is not None:
            self.load(*(scenario if isinstance(scenario, (list, tuple)) else [scenario]))

    # -- the world ----------------------------------------------------------------------

    @property
    def world(self) -> World:
        """The current world (a load or reset replaces it whole)."""
        return self._world

    @property
    def clock(self) -> Clock:
        """The current world's clock."""
        return self._world.clock

    @property
    def faults(self) -> ArmedFaults:
        """The current world's armed faults (`describe()`, `clear()`)."""
        return self._world.faults

    @property
    def scenario(self) -> str | None:
        """The loaded scenarios' names (`a + b`), or None."""
        return self._world.scenario

    @property
    def loaded(self) -> tuple[Scenario, ...]:
        """The scenarios of the last `load()`, as parsed."""
        return tuple(self._loaded)

    @property
    def organization_id(self) -> str:
        """The organization of the first loaded scenario (the default token's)."""
        return self._world.organization_id

    def load(self, *scenarios: ScenarioReference) -> None:
        """Replace the whole state with one or more scenarios (bundled names, paths or parsed).

        The clock restarts at the first scenario's `start` (without one: where it is now). The
        default token becomes an organization key of the first scenario's organization. With
        no scenario, the mock is emptied. A scenario that cannot be loaded (more than `max_jobs`
        jobs among them) raises `ScenarioError`, and one a session's budget cannot hold
        `OverBudget`; either changes nothing.
        """
        parsed = [
            s if isinstance(s, Scenario) else load_scenario(s, self.spec, max_jobs=self.max_jobs)
            for s in scenarios
        ]
        total = sum(len(s.jobs) for s in parsed)
        if total > self.max_jobs:
            names = " + ".join(s.name for s in parsed)
            message = (
                f"{names}: {total:,} jobs together, more than the {self.max_jobs:,} a load may hold "
                "(--max-jobs)"
            )
            raise ScenarioError([Problem(None, "", message)])
        size = sum(s.size for s in parsed)
        if self.admit is not None:
            self.admit(total, size)
        check_disjoint(parsed)
        clock = self._world.clock
        if self.start == "now":
            start: datetime | None = None
        else:
            start = self.start or next((s.start for s in parsed if s.start is not None), None)
        starts_now = self.start == "now" or (start is None and any(s.starts_now for s in parsed))
        if start is None:
            start = self._wall() if starts_now else clock.now()
        baseline = self._plan(parsed, start)
        with self._swap_lock:
            self._loaded, self._starts_now, self._restart = parsed, starts_now, _like(clock)
            self._baseline = baseline
            previous, self._world = self._world, self._new_world(baseline)
            self.held_bytes, self.held_jobs = size, total
        previous.journal.clear()  # its bytes go back to the server's budget

    def reset(self) -> None:
        """Start over from the last `load()` (an empty mock if none): its jobs, keys, scripts
        and faults, an empty request journal, and its clock as it was loaded (manual, or
        running at its speed, paused or not), at its start; a scenario that starts `now` starts
        at the real time of the reset."""
        with self._swap_lock:
            if self._starts_now:
                self._baseline = self._plan(self._loaded, self._wall())
            previous, self._world = self._world, self._new_world(self._baseline)
        previous.journal.clear()  # its bytes go back to the server's budget

    def _plan(self, scenarios: list[Scenario], start: datetime) -> Baseline:
        if scenarios:
            return planned_baseline(self.spec, scenarios, start, self.token)
        return empty_baseline(start, self.token)

    def _new_world(self, baseline: Baseline) -> World:
        clock = self._restart(baseline.start)
        waits = self.start_on_first_request and isinstance(clock, SystemClock)
        if waits and isinstance(clock, SystemClock):
            restarted: Clock = SystemClock(clock.speed, baseline.start, paused=True)
        else:
            restarted = clock
        world = World(self.spec, baseline, restarted, self.record_failure, self._journal())
        world.waiting = waits
        return world

    def _journal(self) -> Journal:
        return Journal(self._journal_size, self.journal_budget)

    def release(self) -> None:
        """Let go of what this mock keeps for the server as a whole (its journal's bytes), as a
        session ends."""
        self._world.journal.clear()

    # -- the clock ----------------------------------------------------------------------

    def clock_state(self) -> dict[str, Any]:
        """The clock as the control API shows it: now, speed, paused, manual, waiting."""
        world = self._world
        clock = world.clock
        running = isinstance(clock, SystemClock)
        return {
            "now": format_timestamp(clock.now()),
            "speed": clock.speed if isinstance(clock, SystemClock) else 0,
            "paused": clock.paused if isinstance(clock, SystemClock) else True,
            "manual": not running,
            "waiting_for_first_request": world.waiting,
        }

    def set_clock(self, *, speed: float | None = None, paused: bool | None = None) -> dict[str, Any]:
        """Pause, resume or re-pace the clock from now on (`speed` 0 pauses it).

        A manual clock (one that moves only with `advance()`) starts running in real time from
        where it stands once given a speed or told to resume.

        Raises:
            ValueError: a speed below 0 or above a million.
        """
        if speed is not None and speed != 0:
            check_speed(speed)
        stop = paused is True or speed == 0
        world = self._world
        with world.timeline.lock:
            clock = world.clock
            world.waiting = False
            if not isinstance(clock, SystemClock):
                if not stop and (speed is not None or paused is False):
                    world.use_clock(SystemClock(speed or 1.0, clock.now()))
                return self.clock_state()
            world.timeline.settle()
            if speed:
                clock.set_speed(speed)
            if stop:
                clock.pause()
            elif paused is False or speed:
                clock.resume()
        return self.clock_state()

    def begin(self, world: World) -> None:
        """The API's first request to `world`: a clock waiting for it starts running."""
        with world.timeline.lock:
            if world.waiting and isinstance(world.clock, SystemClock):
                world.waiting = False
                world.clock.resume()

    def advance(self, duration: timedelta | float | str) -> list[Fired]:
        """Move the clock forward, firing every step due on the way at its due time."""
        return self._world.timeline.advance(parse_duration(duration))

    def advance_to_next_step(self) -> list[Fired]:
        """Move the clock to the next time step and fire it.

        Raises:
            CapymockError: no step is waiting for time (none left, or only `after_polls` ones).
        """
        world = self._world
        with world.timeline.lock:
            world.timeline.settle()
            nxt = world.timeline.next_due()
            if nxt is None:
                waiting = [p for p in world.timeline.pending() if "after_polls" in p]
                raise CapymockError("no step is waiting for time" + _waiting_for_reads(waiting))
            return world.timeline.advance(max(nxt[0] - world.clock.now(), timedelta(0)))

    def settle(self) -> None:
        """Fire the steps due by now (the app does this before answering each request)."""
        self._world.timeline.settle()

    # -- jobs -------------------------------------------------------------------------

    def add_job(self, *, create_project: bool = False, **fields: Any) -> Job:
        """Add a job; fields are `Job` field names, the rest is defaulted.

        Defaults: a generated `id`, the lifecycle's initial `state`, `attempts` 0,
        `max_attempts` 3, type "task", `project_id` the first project of the mock's
        organization ("proj_demo" in an empty mock), `created_at` now. A job that starts in a
        later state gets the fields its lifecycle would have derived on the way there (a
        `running` job has a claim and a `started_at`). Once the mock has projects, the job's
        must be one of them (`add_project()`), unless `create_project`: a mistyped project
        is an error with "did you mean", not a new project.

        Raises:
            InvalidJob: an unknown field, a value the `Job` schema rejects, a broken
                lifecycle invariant, an id already in use, a project the mock does not have
                (with "did you mean"), or a project of another organization.
            OverBudget: a session whose server's live sessions hold as many jobs as they may.
        """
        if not isinstance(create_project, bool):
            raise InvalidJob(f"create_project is true or false, got {create_project!r}")
        self._check_fields(fields)
        world = self._world
        if self.admit is not None:
            self.admit(len(world.store) + 1, self.held_bytes)
        projects, mine = world.store.projects(), world.projects()
        given = {JOB.project: mine[0] if mine else DEFAULT_PROJECT, **fields}
        for role in (JOB.id, JOB.project):
            problem = segment_problem(given[role]) if role in given else None
            if problem:
                raise InvalidJob(f"{role} {given[role]!r} {problem}")
        owner = world.store.project_organization(given[JOB.project])
        if owner is None and projects and not create_project:
            raise InvalidJob(_unknown_project(str(given[JOB.project]), world))
        organization_id = fields.get(JOB.organization) or owner or world.organization_id
        job = compose_job(
            self.spec,
            given,
            job_id=fields.get(JOB.id) or self._new_id(),
            organization_id=organization_id,
            now=format_timestamp(world.clock.now()),
        )
        self._check_job(job)
        with world.timeline.lock:
            if world.store.get(job.id) is not None:
                raise InvalidJob(f"job {job.id!r} already exists")
            later = world.timeline.scheduled(job.id)
            if later is not None:
                raise InvalidJob(
                    f"job {job.id!r} is taken: the scenario creates it at {format_timestamp(later)}"
                )
            try:
                world.store.put(job)
            except ValueError as exc:
                raise InvalidJob(f"job {job.id!r}: {exc}") from None
            world.history.changed(job, world.clock.now(), Cause.ADDED, None, self.spec.lifecycle.field)
        return job

    def _check_fields(self, fields: dict[str, Any]) -> None:
        unknown = sorted(set(fields) - set(self.spec.job_fields))
        if unknown:
            known = ", ".join(self.spec.job_fields)
            raise InvalidJob(f"unknown Job field(s) {', '.join(unknown)}; Job fields: {known}")
        self._check_state(fields.get(self.spec.lifecycle.field))
        problems = self.validators.field_errors(fields)
        if problems:
            raise InvalidJob("; ".join(problems))

    def _check_state(self, state: Any) -> None:
        states = self.spec.lifecycle.states
        if isinstance(state, str) and state not in states:
            hint = did_you_mean(state, states)
            raise InvalidJob(f"{state!r} is not a state{hint}; states: {', '.join(states)}")

    def _check_job(self, job: Job) -> None:
        problems = self.validators.job_problems(job)
        if problems:
            raise InvalidJob(f"job {job.get(JOB.id)!r}: " + "; ".join(problems))

    def _new_id(self) -> str:
        return f"job_{self._random.getrandbits(64):016x}"

    def set_state(self, job_id: str, state: str, **fields: Any) -> Job:
        """Move a job to `state` now, as its lifecycle allows; its scripted steps stop.

        Raises:
            KeyError: no such job.
            IllegalTransition: the lifecycle does not allow this move from the job's state.
            InvalidJob: `state` is not a state, or `fields` break the schema or an invariant.
        """
        return self.set_state_in(self._world, job_id, state, fields)

    def set_state_in(
        self, world: World, job_id: str, state: str, fields: dict[str, Any], cause: str = Cause.SET
    ) -> Job:
        """`set_state` in `world` (a request's handler changes the world it was answered from,
        `cause` "api")."""
        self._check_state(state)
        self._check_fields(fields)
        with world.timeline.lock:
            world.timeline.settle()
            current = _existing(world, job_id)
            moment = world.clock.now()
            new = Job(transition(self.spec.lifecycle, current, state, format_timestamp(moment), fields))
            self._check_job(new)
            world.timeline.forget(job_id)
            world.store.put(new)
            world.history.changed(new, moment, cause, current, self.spec.lifecycle.field)
        return new

    def add_project(self, project_id: str, organization_id: str | None = None) -> None:
        """Declare an (empty) project, by default in the mock's organization.

        Raises:
            InvalidJob: the id cannot be a project id (empty, or with a `/`).
        """
        problem = segment_problem(project_id)
        if problem:
            raise InvalidJob(f"project id {project_id!r} {problem}")
        world = self._world
        world.store.add_project(project_id, organization_id or world.organization_id)

    def projects(self) -> list[str]:
        """The projects of the mock's organization, in the order declared."""
        return self._world.projects()

    def history(self, job_id: str) -> JobHistory:
        """What happened to `job_id`: each change (time on the mock's clock, cause, the job as
        it left it) and each API read of it, oldest first; the steps still to come in `to_come`.

        Raises:
            KeyError: no job has this id, and none ever had.
        """
        world = self._world
        world.timeline.settle()
        found = world.history.of(job_id, self.spec.lifecycle.field)
        if not found.changes and world.store.get(job_id) is None:
            raise KeyError(f"no job {job_id!r}")
        return replace(found, to_come=tuple(world.timeline.script(job_id)))

    def lanes(self, wanted: LaneFilter | None = None) -> dict[str, Any]:
        """The timeline's lanes: the history of each job `wanted` names (default: the first
        `LANES_LIMIT`, newest first) with its current fields and the armed faults a read of it
        would meet, the time span of every matched job, and the choices to filter by
        (`world/lanes.py`)."""
        return lanes(self._world, self.spec, wanted or LaneFilter())

    def job(self, job_id: str) -> Job:
        """The current snapshot of a job.

        Raises:
            KeyError: no job has this id.
        """
        world = self._world
        world.timeline.settle()
        return _existing(world, job_id)

    def jobs(self) -> list[Job]:
        """Every job, newest first."""
        return self._world.jobs()

    # -- auth -------------------------------------------------------------------------

    def add_token(self, token: str, *, project: str | None = None, organization: str | None = None) -> str:
        """Accept another API key, scoped to one project or (by default) the whole organization."""
        world = self._world
        owner = world.store.project_organization(project) if project else None
        world.keyring.add(token, organization or owner or world.organization_id, project)
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
        world = self._world
        return mint_session_token(
            organization_id=org_id or world.organization_id,
            user_id=user_id,
            issued_at=world.clock.now(),
            lifetime=expires_in,
            version=version,
        )

    def authenticate(self, operation: Operation, header: str | None, world: World | None = None) -> Principal:
        """Who is calling `operation` in `world` (default: the current one); an operation with no
        security is called by the world's organization.

        Raises:
            Denied: the operation needs a token and this one is not acceptable.
        """
        world = world or self._world
        if not operation.security_schemes:
            return Principal(world.organization_id)
        any_token = world.organization_id if self.any_token else None
        return authenticate(header, world.keyring, world.clock.now(), any_token)

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
        return self.add_fault(fault_document(method, path, status, times, delay, body))

    def add_fault(self, raw: dict[str, Any]) -> Fault:
        """Add a fault given in its scenario-file form (`{"match": {...}, "status": ...}`).

        Raises:
            ScenarioError: the fault is malformed, or no operation has its path.
        """
        fault = check_fault(raw, self.spec)
        self._world.faults.add(fault)
        return fault

    # -- requests and defects ---------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests answered so far, oldest first: the newest 1000 by default, within the
        bytes `journal_bytes` leaves the server's journals (see `capymock.core.journal`)."""
        return self._world.journal.entries()

    def assert_requested(self, method: str, path: str, times: int | None = None, **filters: Any) -> None:
        """Assert the mock answered `method path` (`times` times; None: at least once).

        `filters` narrow the match: `status=404`, `query={"limit": "2"}`, `headers={...}`.

        Raises:
            AssertionError: listing the requests the mock did see.
        """
        __tracebackhide__ = True
        from capymock.core.expectations import assert_requested  # only tests use it

        assert_requested(self.requests, method, path, times, **filters)

    def record_failure(self, message: str) -> None:
        """Keep a defect of the mock itself (the newest `KEPT_DEFECTS`), to be raised by `check()`."""
        if len(message) > MAX_DEFECT:
            message = message[: MAX_DEFECT - 20] + " ... (cut short)"
        with self._failures_lock:
            if len(self._failures) == self._failures.maxlen:
                self._dropped += 1
            self._failures.append(message)
        if self.on_defect is not None:
            self.on_defect(message)

    def defects(self) -> list[str]:
        """The defects kept since the last `check()` or `clear_defects()`, oldest first."""
        with self._failures_lock:
            return list(self._failures)

    def clear_defects(self) -> None:
        """Forget the defects kept so far."""
        with self._failures_lock:
            self._failures.clear()
            self._dropped = 0

    def check(self) -> None:
        """Raise `MockDefect` if the mock broke its own spec or crashed since the last check."""
        __tracebackhide__ = True
        with self._failures_lock:
            failures, dropped = list(self._failures), self._dropped
            self._failures.clear()
            self._dropped = 0
        if failures:
            more = f"\n\n(and {dropped} earlier ones)" if dropped else ""
            raise MockDefect("\n\n".join(failures) + more)

    def state(self) -> dict[str, Any]:
        """The control API's view: clock, scenario, jobs (newest first), their legal next states,
        pending steps, faults, the last reload error, the spec's operations by role, and the
        default API key (`token`)."""
        view = self._world.view()
        return {
            **view,
            "token": self.token,
            "clock": self.clock_state(),
            "reload_error": self.reload_error,
            "operations": self._operations,
        }

    @functools.cached_property
    def _operations(self) -> list[dict[str, str]]:
        """The spec's operations as the state shows them (the dashboard's fault form offers them)."""
        return [
            {
                "operation_id": op.operation_id,
                "method": op.method,
                "path": op.path,
                "role": op.role.name.lower(),
            }
            for op in self.spec.operations
        ]


def _existing(world: World, job_id: str) -> Job:
    job = world.store.get(job_id)
    if job is None:
        raise KeyError(f"no job {job_id!r}")
    return job


def _like(clock: Clock) -> Callable[[datetime], Clock]:
    """Makes clocks like `clock` is now (manual; or real time at its speed, paused or not)."""
    if isinstance(clock, SystemClock):
        speed, paused = clock.speed, clock.paused
        return lambda moment: SystemClock(speed, moment, paused=paused)
    return clock.restarted


def _unknown_project(project: str, world: World) -> str:
    projects = world.store.projects()
    hint = did_you_mean(project, projects)
    known = f"; projects: {', '.join(projects[:20])}" if projects else "; it has none"
    return (
        f"project {project!r} is not a project of this mock{hint}{known}. Declare it first "
        f"(add_project({project!r})), or add the job with create_project=True"
    )


def _waiting_for_reads(waiting: list[dict[str, Any]]) -> str:
    """What the steps that wait for reads still need: "; job_1's step to claimed waits for 2
    reads (0 so far): read it with getJob or in a list"."""
    if not waiting:
        return ""
    shown = [
        f"{row['job_id']}'s step to {row['state']} waits for {row['after_polls']} "
        f"read{'s' if row['after_polls'] != 1 else ''} ({row['reads']} so far)"
        for row in waiting[:3]
    ]
    more = f", and {len(waiting) - 3} more" if len(waiting) > 3 else ""
    return f"; {', '.join(shown)}{more}: read the job (getJob, or in a list) to move it"
