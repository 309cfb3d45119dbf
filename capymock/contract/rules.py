"""The rules of the spec that a JSON Schema cannot state, as pure functions over what a deployment
answered: every job explained by the lifecycle (and every later read of one joined to the
earlier by legal moves), `limit`, list order, a list a set of the project's jobs, a listed job
read back, and the shape of a 401.

Each takes any JSON (any type at any position, malformed timestamps, huge numbers, deep
nesting) and only ever returns findings: what is not a job, or not of its type, is the
schema check's to report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from capymock.core.operations import Operation
from capymock.core.reachability import oracle_for
from capymock.core.spec import JOB, Spec, jobs_in_body
from capymock.core.timestamps import aware_timestamp


@dataclass(frozen=True)
class Finding:
    """One broken rule: which check, the rule in full, and where (a JSON path or a header)."""

    check: str
    rule: str
    where: str = ""
    job_id: str | None = None


class Findings(AssertionError):
    """What a capymock check raises inside schemathesis: one or more findings for one response."""

    def __init__(self, findings: list[Finding]) -> None:
        super().__init__("; ".join(finding.rule for finding in findings))
        self.findings = findings


EXPLAINED = "job_explained"
JOINED = "reads_joined"
DISTINCT = "list_distinct"
LIMIT = "limit_honoured"
ORDER = "newest_first"
MEMBERSHIP = "list_membership"
READ_BACK = "listed_job_reads_back"
LOCKS = "exclusive_locks"
PAGE = "limited_list_is_newest"
BOUNDS = "limit_bounds"
AUTH = "auth_required"
NOT_FOUND = "missing_is_not_found"


def job_id(job: Any) -> str | None:
    """The job's id, if it has a usable one."""
    value = job.get(JOB.id) if isinstance(job, Mapping) else None
    return value if isinstance(value, str) else None


def explained(spec: Spec, operation_id: str | None, body: Any) -> list[Finding]:
    """Every job a body shows is one some walk of the spec's lifecycle produces."""
    return explained_jobs(spec, jobs_in_body(spec, operation_id, body))


def explained_jobs(spec: Spec, jobs: Iterable[tuple[str, Any]]) -> list[Finding]:
    """`explained` for jobs already found in a body, as `jobs_in_body` gives them (JSON path, job)."""
    oracle = oracle_for(spec)
    found = []
    for path, job in jobs:
        verdict = oracle.explain(job) if isinstance(job, Mapping) else None
        if verdict is not None and not verdict.explained:
            where = f"{path}.{verdict.field}" if verdict.field else path
            rule = f"no walk of the lifecycle produces this job: {verdict.reason}"
            found.append(Finding(EXPLAINED, rule, where, job_id(job)))
    return found


def joined(spec: Spec, path: str, before: Mapping[str, Any], after: Mapping[str, Any]) -> list[Finding]:
    """A later read of a job is joined to the earlier one by legal moves (or by none)."""
    verdict = oracle_for(spec).join(before, after)
    if verdict.explained:
        return []
    field, updated = spec.lifecycle.field, JOB.updated
    rule = (
        f"read as {before.get(field)!r} (updated {before.get(updated)}), then as {after.get(field)!r} "
        f"(updated {after.get(updated)}): {verdict.reason}"
    )
    return [Finding(JOINED, rule, f"{path}.{verdict.field}" if verdict.field else path, job_id(after))]


def distinct(listing: Operation, body: Any) -> list[Finding]:
    """A list is a set: each job in it once."""
    first: dict[str, int] = {}
    for index, job in enumerate(listed_jobs(listing, body) or []):
        identifier = job_id(job)
        if identifier is None:
            continue
        if identifier in first:
            earlier = f"{listing.envelope}[{first[identifier]}]"
            rule = f"a list holds each job once; {identifier!r} is {earlier} too"
            return [Finding(DISTINCT, rule, f"{listing.envelope}[{index}]", identifier)]
        first[identifier] = index
    return []


def limit(listing: Operation, query: Mapping[str, Any], body: Any) -> list[Finding]:
    """A list never holds more jobs than its page size (`limit`) asks for, or than its default."""
    jobs = listed_jobs(listing, body)
    if jobs is None or listing.page_size is None:
        return []
    name = listing.page_size.name
    given = query.get(name)
    wanted = _as_int(given) if given is not None else limit_keyword(listing, "default")
    if wanted is None or len(jobs) <= wanted:
        return []
    asked = f"{name}={given}" if given is not None else f"no {name} (the default is {wanted})"
    rule = f"asked with {asked}, a list holds at most {wanted} jobs; this one holds {len(jobs)}"
    return [Finding(LIMIT, rule, f"{listing.envelope}[{wanted}]")]


def order(listing: Operation, body: Any) -> list[Finding]:
    """Newest `created_at` first, ties by `id` descending."""
    jobs = listed_jobs(listing, body) or []
    keys = [_sort_key(job) for job in jobs]
    envelope = listing.envelope
    for index in range(1, len(keys)):
        before, after = keys[index - 1], keys[index]
        if before is None or after is None or after <= before:
            continue
        rule = (
            f"jobs are newest created_at first, ties by id descending; {after[1]!r} (created "
            f"{jobs[index][JOB.created]}) comes after {before[1]!r} (created {jobs[index - 1][JOB.created]})"
        )
        return [Finding(ORDER, rule, f"{envelope}[{index}]", after[1])]
    return []


def membership(listing: Operation, project_id: str | None, body: Any) -> list[Finding]:
    """A project's list holds that project's jobs only, all of one organization."""
    jobs = listed_jobs(listing, body) or []
    envelope = listing.envelope
    found = []
    organization = None
    for index, job in enumerate(jobs):
        if not isinstance(job, Mapping):
            continue
        project, owner = job.get(JOB.project), job.get(JOB.organization)
        if isinstance(project, str) and project_id is not None and project != project_id:
            rule = f"the jobs of project {project_id!r} belong to it; this one belongs to {project!r}"
            found.append(Finding(MEMBERSHIP, rule, f"{envelope}[{index}].{JOB.project}", job_id(job)))
        if isinstance(owner, str):
            if organization is not None and owner != organization[1]:
                rule = (
                    f"a project's jobs share one organization; this one's is {owner!r}, "
                    f"{envelope}[{organization[0]}]'s is {organization[1]!r}"
                )
                found.append(
                    Finding(MEMBERSHIP, rule, f"{envelope}[{index}].{JOB.organization}", job_id(job))
                )
            organization = organization or (index, owner)
    return found


def locks(spec: Spec, listing: Operation, body: Any) -> list[Finding]:
    """No two jobs of a list hold the same value of a field the lifecycle's `exclusive` invariant
    names (`locked_resource` while `running`)."""
    envelope = listing.envelope
    jobs = listed_jobs(listing, body) or []
    found = []
    for field, states in spec.lifecycle.invariants.exclusive.items():
        holders: dict[str, int] = {}
        for index, job in enumerate(jobs):
            if not isinstance(job, Mapping) or job.get(spec.lifecycle.field) not in states:
                continue
            resource = job.get(field)
            if not isinstance(resource, str):
                continue
            if resource in holders:
                rule = (
                    f"only one {' or '.join(sorted(states))} job may hold a resource at a time; "
                    f"{resource!r} is held by {envelope}[{holders[resource]}] too"
                )
                found.append(Finding(LOCKS, rule, f"{envelope}[{index}].{field}", job_id(job)))
            holders.setdefault(resource, index)
    return found


def page(listing: Operation, full: Any, limited: Any, size: int) -> list[Finding]:
    """A list cut by `limit` is the newest jobs, the head of the whole list.

    `full` is read just before `limited`: a job in `limited` that `full` does not have was created
    in between (it is newer still), so it moves the cut by one.
    """
    whole, head = listed_jobs(listing, full), listed_jobs(listing, limited)
    if whole is None or head is None:
        return []
    order = [job_id(job) for job in whole]
    fresh = sum(1 for job in head if job_id(job) not in order)
    allowed = set(order[: size + fresh])
    envelope = listing.envelope
    for index, job in enumerate(head):
        identifier = job_id(job)
        if identifier in order and identifier not in allowed:
            rule = (
                f"limit={size} answers the {size} newest jobs; {identifier!r} is number "
                f"{order.index(identifier) + 1} of the whole list"
            )
            return [Finding(PAGE, rule, f"{envelope}[{index}]", identifier)]
    return []


def missing(listed: Mapping[str, Mapping[str, Any]], requested: str | None) -> list[Finding]:
    """A job the list showed is there to read: its `getJob` is not a 404."""
    if requested is None or requested not in listed:
        return []
    rule = f"job {requested!r} was listed, so reading it answers 200, not 404 (the spec's link from the list)"
    return [Finding(READ_BACK, rule, "status 404", requested)]


def read_back(
    listed: Mapping[str, Mapping[str, Any]], requested: str | None, body: Any, reading: Operation
) -> list[Finding]:
    """Reading a job answers the job asked for; a listed job reads back with its project and
    organization."""
    envelope = str(reading.envelope)
    job = body.get(envelope) if isinstance(body, Mapping) else None
    if not isinstance(job, Mapping) or requested is None:
        return []
    answered = job.get(JOB.id)
    if isinstance(answered, str) and answered != requested:
        return [
            Finding(READ_BACK, f"reading job {requested!r} answers job {answered!r}", f"{envelope}.{JOB.id}")
        ]
    seen = listed.get(requested)
    found = []
    for field in (JOB.project, JOB.organization):
        if seen is not None and isinstance(job.get(field), str) and job.get(field) != seen.get(field):
            rule = (
                f"job {requested!r} was listed with {field} {seen.get(field)!r}; "
                f"read alone it has {job[field]!r}"
            )
            found.append(Finding(READ_BACK, rule, f"{envelope}.{field}", requested))
    return found


def challenge(status: int, headers: Mapping[str, Any], body: Any) -> list[Finding]:
    """A 401 names its scheme in `WWW-Authenticate` and explains itself in an `{"error"}` JSON body."""
    if status != 401:
        return []
    found = []
    if not header(headers, "WWW-Authenticate"):
        found.append(Finding(AUTH, "a 401 carries a WWW-Authenticate header (Bearer)", "WWW-Authenticate"))
    if not (isinstance(body, Mapping) and isinstance(body.get("error"), str)):
        found.append(Finding(AUTH, 'a 401 has a JSON body {"error": "<why>"}', "body"))
    return found


def header(headers: Mapping[str, Any], name: str) -> str | None:
    """A response header by name, in any case, whether headers map to strings or lists of them."""
    for key, value in headers.items():
        if str(key).lower() == name.lower():
            return (
                value[0] if isinstance(value, list) and value else value if isinstance(value, str) else None
            )
    return None


def listed_jobs(listing: Operation, body: Any) -> list[Any] | None:
    """The jobs a list's body holds (its envelope's list), or None for any other shape."""
    value = body.get(listing.envelope) if isinstance(body, Mapping) and listing.envelope else None
    return value if isinstance(value, list) else None


def _as_int(value: Any) -> int | None:
    if isinstance(value, list):
        value = value[0] if value else None
    try:
        number = int(str(value))
    except ValueError:
        return None
    return number


def limit_keyword(listing: Operation, keyword: str) -> int | None:
    """An integer a list's page size parameter's schema gives (`default`, `minimum`, `maximum`), if any."""
    parameter = listing.page_size
    value = parameter.schema.get(keyword) if parameter is not None else None
    return value if isinstance(value, int) else None


def _sort_key(job: Any) -> tuple[datetime, str] | None:
    if not isinstance(job, Mapping):
        return None
    moment, identifier = aware_timestamp(job.get(JOB.created)), job.get(JOB.id)
    return (moment, identifier) if moment is not None and isinstance(identifier, str) else None
