"""`Mock`: one fake Capy API — its spec, store, clock, keys and journal — and its Python API."""

from __future__ import annotations

import functools
import random
import threading
from datetime import timedelta
from pathlib import Path
from typing import Any

from capymock.app import App
from capymock.auth import Keyring, Principal, authenticate, mint_session_token
from capymock.clock import Clock, ManualClock, format_timestamp, wall_clock_now
from capymock.errors import InvalidJob, MockFailure
from capymock.job import Job
from capymock.journal import DEFAULT_SIZE, Journal, RecordedRequest
from capymock.routing import Router
from capymock.spec import Operation, Spec, load_spec
from capymock.statemachine import fill_in
from capymock.store import Store
from capymock.validation import Validators

DEFAULT_ORGANIZATION = "org_demo"
DEFAULT_PROJECT = "proj_demo"
DEFAULT_TOKEN = "capy_live_demo_4f1c9a7e2b8d6035"
DEFAULT_JOB_TYPE = "task"
DEFAULT_MAX_ATTEMPTS = 3


@functools.lru_cache(maxsize=8)
def _compiled(spec: Spec) -> tuple[Validators, Router]:
    return Validators(spec), Router(spec)


class Mock:
    """A scriptable, in-memory Capy Jobs API.

    Serve it with `capymock.serve()`, or call `mock.wsgi_app` directly. Every response is
    checked against the spec while `validate` is on; a mismatch or a crash answers 500 and
    is raised again by `check()` (which `serve()` calls when its block ends).
    """

    def __init__(
        self,
        *,
        spec: Spec | str | Path | None = None,
        clock: Clock | None = None,
        validate: bool = True,
        any_token: bool = False,
        organization_id: str = DEFAULT_ORGANIZATION,
        token: str = DEFAULT_TOKEN,
        seed: int = 0,
        journal_size: int = DEFAULT_SIZE,
    ) -> None:
        self.spec = spec if isinstance(spec, Spec) else load_spec(spec)
        self.validators, self.router = _compiled(self.spec)
        self.clock: Clock = clock if clock is not None else ManualClock(wall_clock_now())
        self.validate = validate
        self.any_token = any_token
        self.organization_id = organization_id
        self.token = token
        self.url: str | None = None
        self.store = Store()
        self.keyring = Keyring()
        self.keyring.add(token, organization_id)
        self.journal = Journal(journal_size)
        self._random = random.Random(seed)
        self._failures: list[str] = []
        self._failures_lock = threading.Lock()
        self.wsgi_app = App(self)

    # -- jobs -------------------------------------------------------------------------

    def add_job(self, **fields: Any) -> Job:
        """Add a job; fields are `Job` field names, the rest is defaulted.

        Defaults: a generated `id`, `state` the lifecycle's initial state, `attempts` 0,
        `max_attempts` 3, `project_id` "proj_demo" in the mock's organization, `created_at`
        now. A job that starts in a later state gets the fields its lifecycle would have
        derived on the way there (a `running` job has a claim and a `started_at`).

        Raises:
            InvalidJob: an unknown field, a value the `Job` schema rejects, a broken
                lifecycle invariant, or an id already in use.
        """
        unknown = sorted(set(fields) - set(self.spec.job_fields))
        if unknown:
            raise InvalidJob(
                f"unknown Job field(s) {', '.join(unknown)}; Job fields: {', '.join(self.spec.job_fields)}"
            )
        job = Job(self._complete(fields))
        problems = self.validators.job_errors(job) or self.spec.lifecycle.violations(job)
        if problems:
            raise InvalidJob(f"job {job.get('id')!r}: " + "; ".join(problems))
        if self.store.get(job.id) is not None:
            raise InvalidJob(f"job {job.id!r} already exists")
        self.store.put(job)
        return job

    def _complete(self, given: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = dict.fromkeys(self.spec.job_fields)
        project_id = given.get("project_id", DEFAULT_PROJECT)
        organization_id = self.store.project_organization(project_id) or self.organization_id
        now = given.get("created_at") or format_timestamp(self.clock.now())
        fields.update(
            id=self._new_id(),
            project_id=project_id,
            organization_id=organization_id,
            type=DEFAULT_JOB_TYPE,
            attempts=0,
            max_attempts=DEFAULT_MAX_ATTEMPTS,
            created_at=now,
            updated_at=now,
        )
        return fill_in(self.spec.lifecycle, fields, given, now)

    def _new_id(self) -> str:
        return f"job_{self._random.getrandbits(64):016x}"

    def add_project(self, project_id: str, organization_id: str | None = None) -> None:
        """Declare an (empty) project, by default in the mock's organization."""
        self.store.add_project(project_id, organization_id or self.organization_id)

    def job(self, job_id: str) -> Job:
        """The current snapshot of a job.

        Raises:
            KeyError: no job has this id.
        """
        job = self.store.get(job_id)
        if job is None:
            raise KeyError(f"no job {job_id!r}")
        return job

    def jobs(self) -> list[Job]:
        """Every job, newest first."""
        return sorted(self.store.jobs(), key=lambda job: job.sort_key, reverse=True)

    # -- auth -------------------------------------------------------------------------

    def add_token(self, token: str, *, project: str | None = None, organization: str | None = None) -> str:
        """Accept another API key, scoped to one project or (by default) the whole organization."""
        organization_id = (
            organization or (project and self.store.project_organization(project)) or self.organization_id
        )
        self.keyring.add(token, organization_id, project)
        return token

    def clerk_token(
        self,
        *,
        org_id: str | None = None,
        user_id: str = "user_capymock",
        expires_in: timedelta | float = timedelta(hours=1),
        version: int = 2,
    ) -> str:
        """A Clerk session token for `org_id` (default: the mock's), valid from the mock's now."""
        lifetime = expires_in if isinstance(expires_in, timedelta) else timedelta(seconds=expires_in)
        return mint_session_token(
            organization_id=org_id or self.organization_id,
            user_id=user_id,
            issued_at=self.clock.now(),
            lifetime=lifetime,
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

    # -- requests and failures --------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """The requests answered so far (the newest 1000 by default), oldest first."""
        return self.journal.entries()

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
