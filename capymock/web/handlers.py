"""One function per operationId: (request context, typed parameters) -> `Answer`.

Handlers see no HTTP: the app has already routed, authenticated and parsed parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from capymock.core.auth import Principal
from capymock.core.spec import GET_JOB, JOB, LIST_JOBS, Operation
from capymock.core.store import Store
from capymock.web.answer import Answer, error


@dataclass(frozen=True)
class Context:
    """What a handler may use: the operation, the store and who is calling."""

    operation: Operation
    store: Store
    principal: Principal


def list_project_jobs(context: Context, params: Mapping[str, Any]) -> Answer:
    """A project's jobs, newest first, at most `limit`."""
    project_id = params["projectID"]
    principal = context.principal
    if principal.project_id is not None and principal.project_id != project_id:
        return error(
            403, f"this key is scoped to project {principal.project_id!r} and cannot read {project_id!r}"
        )
    if context.store.project_organization(project_id) != principal.organization_id:
        return error(404, f"project {project_id!r} not found")
    jobs = context.store.newest(project_id, params["limit"]) or []
    return Answer(200, {context.operation.envelope: jobs}, reads=jobs)


def get_job(context: Context, params: Mapping[str, Any]) -> Answer:
    """One job, if it exists within the caller's scope (otherwise 404: existence is not leaked)."""
    job_id = params["jobID"]
    job = context.store.get(job_id)
    if job is None or not context.principal.may_read(job[JOB.organization], job[JOB.project]):
        return error(404, f"job {job_id!r} not found")
    return Answer(200, {context.operation.envelope: job}, reads=(job,))


Handler = Callable[[Context, Mapping[str, Any]], Answer]

HANDLERS: dict[str, Handler] = {
    LIST_JOBS: list_project_jobs,
    GET_JOB: get_job,
}
