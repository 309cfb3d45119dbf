"""One function per operationId: (request context, typed parameters) -> `Result`.

Handlers see no HTTP: the app has already routed, authenticated and parsed parameters.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from capymock.auth import Principal
from capymock.job import Job
from capymock.store import Store


@dataclass(frozen=True)
class Result:
    """A response as data: status, body, extra headers, and the jobs it shows.

    `body` is JSON-able (it may hold `Job`s), or bytes sent as `content_type`.
    """

    status: int
    body: Any
    headers: tuple[tuple[str, str], ...] = ()
    reads: Sequence[Job] = ()
    """The jobs this response shows: each counts as one read of that job."""
    content_type: str = "application/json"


def error(status: int, message: str, headers: tuple[tuple[str, str], ...] = ()) -> Result:
    """The spec's error shape: `{"error": message}`."""
    return Result(status, {"error": message}, headers)


@dataclass(frozen=True)
class Context:
    """What a handler may use: the store and who is calling."""

    store: Store
    principal: Principal


def list_project_jobs(context: Context, params: Mapping[str, Any]) -> Result:
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
    return Result(200, {"jobs": jobs}, reads=jobs)


def get_job(context: Context, params: Mapping[str, Any]) -> Result:
    """One job, if it exists within the caller's scope (otherwise 404: existence is not leaked)."""
    job_id = params["jobID"]
    job = context.store.get(job_id)
    if job is None or not context.principal.may_read(job["organization_id"], job["project_id"]):
        return error(404, f"job {job_id!r} not found")
    return Result(200, {"job": job}, reads=(job,))


Handler = Callable[[Context, Mapping[str, Any]], Result]

LIST_JOBS = "listProjectJobs"
GET_JOB = "getJob"
"""The operationIds capymock answers; everything else about them comes from the spec."""

HANDLERS: dict[str, Handler] = {
    LIST_JOBS: list_project_jobs,
    GET_JOB: get_job,
}
