"""Handlers: (request context, typed parameters) -> `Answer`, one per role, or per operationId.

Handlers see no HTTP: the app has already routed, authenticated and parsed parameters. An
operation is answered by the handler registered for its operationId (`HANDLERS`, or a
`Mock(handlers=...)`), else by the handler of its role: a list of a project's jobs, or one job
read by its id. An operation that changes a job has no default: it answers 501 until one is
given. A handler changes the world only through `Context`, which calls `FakeApi`'s own
operations on the world the request was read from.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from capymock.core.auth import Principal
from capymock.core.job import Job
from capymock.core.operations import Operation, Role
from capymock.core.spec import JOB
from capymock.core.store import Store
from capymock.web.answer import Answer, error
from capymock.world.fake_api import FakeApi
from capymock.world.history import Cause
from capymock.world.world import World


@dataclass(frozen=True)
class Context:
    """What a handler may use: the operation, who is calling, and the world it reads and changes."""

    operation: Operation
    principal: Principal
    world: World
    api: FakeApi

    @property
    def store(self) -> Store:
        """The world's jobs."""
        return self.world.store

    def job(self, params: Mapping[str, Any]) -> Job | None:
        """The job the path names, if the caller may see it and it matches every other path
        parameter (`/projects/{projectID}/jobs/{jobID}`); None otherwise: existence is not leaked."""
        job_id = params.get(self.operation.parameter_for(JOB.id) or "")
        job = self.store.get(job_id) if isinstance(job_id, str) else None
        if job is None or not self.principal.may_read(job[JOB.organization], job[JOB.project]):
            return None
        fields = self.operation.path_fields
        return job if all(job[fields[name]] == params[name] for name in fields if name in params) else None

    def set_state(self, job_id: str, state: str, **fields: Any) -> Job:
        """Move a job as the lifecycle allows (`FakeApi.set_state`, in this request's world).

        Raises:
            IllegalTransition: the lifecycle does not allow it.
        """
        return self.api.set_state_in(self.world, job_id, state, fields, Cause.API)

    def answer(self, job: Job, status: int = 200) -> Answer:
        """`job` in the operation's envelope: the answer of an operation that shows one job."""
        return Answer(status, {self.operation.envelope: job}, reads=(job,) if self.operation.safe else ())


def list_jobs(context: Context, params: Mapping[str, Any]) -> Answer:
    """A project's jobs, newest first, at most the page size."""
    project_id = params[context.operation.parameter_for(JOB.project) or ""]
    principal = context.principal
    if principal.project_id is not None and principal.project_id != project_id:
        return error(
            403, f"this key is scoped to project {principal.project_id!r} and cannot read {project_id!r}"
        )
    if context.store.project_organization(project_id) != principal.organization_id:
        return error(404, f"project {project_id!r} not found")
    page = context.operation.page_size
    jobs = context.store.newest(project_id, params[page.name] if page is not None else None) or []
    return Answer(200, {context.operation.envelope: jobs}, reads=jobs)


def read_job(context: Context, params: Mapping[str, Any]) -> Answer:
    """One job, if it exists within the caller's scope; otherwise a 404, which says where a job
    of that id is when the caller may not see it (a mock's data is no secret, and a job made
    for another organization is a common slip: `strategies.jobs()` without the mock's)."""
    job = context.job(params)
    if job is None:
        job_id = params.get(context.operation.parameter_for(JOB.id) or "")
        return error(404, f"job {job_id!r} not found{_elsewhere(context, job_id)}")
    return context.answer(job)


def _elsewhere(context: Context, job_id: Any) -> str:
    """Where a job of that id is, if there is one the caller may not see."""
    other = context.store.get(job_id) if isinstance(job_id, str) else None
    if other is None:
        return ""
    principal = context.principal
    if other[JOB.organization] != principal.organization_id:
        return (
            f" for this token: it belongs to organization {other[JOB.organization]!r}, and the token "
            f"to {principal.organization_id!r}"
        )
    if principal.project_id is not None and other[JOB.project] != principal.project_id:
        return (
            f" for this token: it is in project {other[JOB.project]!r}, and the token is scoped to "
            f"{principal.project_id!r}"
        )
    return f" here: it is in project {other[JOB.project]!r}"


Handler = Callable[[Context, Mapping[str, Any]], Answer]

HANDLERS: dict[str, Handler] = {}
"""Handlers by operationId, for operations their role does not answer (none yet)."""

BY_ROLE: dict[Role, Handler] = {
    Role.LISTS: list_jobs,
    Role.READS: read_job,
}


def handler_for(operation: Operation, given: Mapping[str, Handler]) -> Handler | None:
    """The handler of `operation`: one `given` for its operationId, else `HANDLERS`', else its
    role's (a list needs a path parameter naming the project; a read, one naming the job)."""
    found = given.get(operation.operation_id) or HANDLERS.get(operation.operation_id)
    if found is not None:
        return found
    needs = {Role.LISTS: JOB.project, Role.READS: JOB.id}.get(operation.role)
    return BY_ROLE[operation.role] if needs and operation.parameter_for(needs) else None
