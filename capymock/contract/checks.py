"""capymock's own contract checks, registered with schemathesis: lifecycle invariants on every
job in a response, `limit` honoured, list order newest first.

They read the lifecycle from the capymock `Spec` the run was started with.
"""

from __future__ import annotations

import itertools
from typing import Any

import schemathesis
from schemathesis import Case, CheckContext, Response

from capymock.core.spec import GET_JOB, JOB, LIST_JOBS, Spec
from capymock.core.timestamps import parse_timestamp

_SPECS: dict[int, Spec] = {}
LIST_OPERATION = LIST_JOBS


def bind(schemathesis_schema: Any, spec: Spec) -> None:
    """Tell the checks which capymock `Spec` describes `schemathesis_schema`."""
    _SPECS[id(schemathesis_schema)] = spec


def _spec(case: Case[Any]) -> Spec | None:
    return _SPECS.get(id(case.operation.schema))


def _body(response: Response) -> Any:
    try:
        return response.json()
    except Exception:
        return None


def _jobs(body: Any, spec: Spec) -> list[Any]:
    if not isinstance(body, dict):
        return []
    many, one = spec.operation(LIST_JOBS).envelope, spec.operation(GET_JOB).envelope
    if isinstance(body.get(many), list):
        return list(body[many])
    return [body[one]] if isinstance(body.get(one), dict) else []


@schemathesis.check
def job_lifecycle_invariants(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """Every job in a 2xx response keeps every invariant of the spec's `x-lifecycle`."""
    spec = _spec(case)
    if spec is None or not 200 <= response.status_code < 300:
        return None
    for job in _jobs(_body(response), spec):
        if not isinstance(job, dict):
            continue
        problems = spec.lifecycle.violations(job)
        if problems:
            where = f"job {job.get(JOB.id)!r} in state {job.get(spec.lifecycle.field)!r}"
            raise AssertionError(f"{where} breaks the lifecycle: {'; '.join(problems)}")
    return True


def _is_list(case: Case[Any]) -> bool:
    return bool(case.operation.definition.raw.get("operationId") == LIST_OPERATION)


def _limit(case: Case[Any], spec: Spec) -> int | None:
    raw = (case.query or {}).get("limit")
    if raw is None:
        parameter = next((p for p in spec.operation(LIST_OPERATION).parameters if p.name == "limit"), None)
        default = parameter.schema.get("default") if parameter else None
        return default if isinstance(default, int) else None
    try:
        return int(raw)
    except (TypeError, ValueError):
        return None


@schemathesis.check
def limit_honoured(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A list never answers more jobs than `limit` asked for (or its default)."""
    spec = _spec(case)
    if spec is None or not _is_list(case) or response.status_code != 200:
        return None
    limit, jobs = _limit(case, spec), _jobs(_body(response), spec)
    if limit is not None and len(jobs) > limit:
        raise AssertionError(f"asked for at most {limit} jobs, got {len(jobs)}")
    return True


@schemathesis.check
def newest_first(ctx: CheckContext, response: Response, case: Case[Any]) -> bool | None:
    """A list is ordered by `created_at` descending, ties by `id` descending."""
    spec = _spec(case)
    if spec is None or not _is_list(case) or response.status_code != 200:
        return None
    keys = []
    for job in _jobs(_body(response), spec):
        try:
            keys.append((parse_timestamp(job[JOB.created]), str(job[JOB.id])))
        except (KeyError, TypeError, ValueError):
            return None  # the schema check reports malformed jobs
    for index, (earlier, later) in enumerate(itertools.pairwise(keys)):
        if later > earlier:
            raise AssertionError(
                f"jobs[{index + 1}] ({later[1]}, created {later[0].isoformat()}) comes after "
                f"jobs[{index}] ({earlier[1]}, created {earlier[0].isoformat()}), but is newer"
            )
    return True


OWN_CHECKS = (job_lifecycle_invariants, limit_honoured, newest_first)
ONLY_FOR = {limit_honoured: LIST_OPERATION, newest_first: LIST_OPERATION}
"""Checks that apply to one operation only (by operationId)."""
