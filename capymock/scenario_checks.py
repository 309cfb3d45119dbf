"""What a schema cannot check in a scenario: references, unique ids, and legal step sequences."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from capymock.errors import IllegalTransition, Problem
from capymock.job import Job, compose_job
from capymock.routing import NoRoute, WrongMethod, router_for
from capymock.scenario_errors import did_you_mean
from capymock.spec import Spec
from capymock.statemachine import transition
from capymock.validation import validators_for
from capymock.yamlsource import DocPath, Located, format_path

if TYPE_CHECKING:
    from capymock.scenarios import Fault, Scenario, ScriptedJob, Step

_SAMPLE_TIME = "2026-01-01T00:00:00Z"


def check_semantics(scenario: Scenario, located: Located, spec: Spec) -> list[Problem]:
    """Every problem a valid-by-schema scenario still has."""

    def problem(path: DocPath, message: str, key: bool = False) -> Problem:
        where = located.key_at(path) if key else located.at(path)
        return Problem(where, format_path(path), message)

    return [
        *_check_projects(scenario, problem),
        *_check_tokens(scenario, problem),
        *_check_job_ids(scenario, problem),
        *(p for job in scenario.jobs for p in _check_job(job, scenario, spec, problem)),
        *(p for fault in scenario.faults for p in _check_fault(fault, spec, problem)),
    ]


def _check_projects(scenario: Scenario, problem: Any) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, project in enumerate(scenario.projects):
        if project in seen:
            yield problem(("projects", index), f"project {project!r} is declared twice")
        seen.add(project)


def _unknown_project(project: str, scenario: Scenario) -> str:
    hint = did_you_mean(project, scenario.projects)
    return f"{project!r} is not a declared project{hint}; projects: {', '.join(scenario.projects)}"


def _check_tokens(scenario: Scenario, problem: Any) -> Iterator[Problem]:
    seen: set[str] = set()
    for index, grant in enumerate(scenario.tokens):
        if grant.project is not None and grant.project not in scenario.projects:
            yield problem(("tokens", index, "project"), _unknown_project(grant.project, scenario))
        if grant.token in seen:
            yield problem(("tokens", index, "token"), "this token is declared twice")
        seen.add(grant.token)


def _check_job_ids(scenario: Scenario, problem: Any) -> Iterator[Problem]:
    counts = Counter(job.id for job in scenario.jobs)
    reported: set[str] = set()
    for job in scenario.jobs:
        if counts[job.id] > 1 and job.id not in reported:
            reported.add(job.id)
            path = job.origin if job.generated else (*job.origin, "id")
            yield problem(path, f"job id {job.id!r} is used {counts[job.id]} times; ids must be unique")


def _check_job(job: ScriptedJob, scenario: Scenario, spec: Spec, problem: Any) -> Iterator[Problem]:
    project = job.fields["project_id"]
    if project not in scenario.projects:
        yield problem((*job.origin, "project"), _unknown_project(project, scenario))
        return
    if job.first.after_polls is not None:
        yield problem(
            (*job.first.origin, "after_polls"), "the first step creates the job; it cannot wait for reads"
        )
        return
    yield from _walk_steps(job, scenario, spec, problem)


def _walk_steps(job: ScriptedJob, scenario: Scenario, spec: Spec, problem: Any) -> Iterator[Problem]:
    """Play the steps through the lifecycle, as the mock will, and report the first that breaks."""
    lifecycle = spec.lifecycle
    given = {**job.fields, **job.first.fields, lifecycle.field: job.first.state}
    fields = compose_job(spec, given, job_id=job.id, organization_id=scenario.organization, now=_SAMPLE_TIME)
    broken = _broken(dict(fields), spec, job.first)
    if broken:
        yield problem(broken[0], broken[1])
        return
    for step in job.steps:
        if step.after is not None and step.after_polls is not None:
            yield problem(step.origin, "give 'after' or 'after_polls', not both")
            return
        try:
            fields = Job(transition(lifecycle, fields, step.state, _SAMPLE_TIME, step.fields))
        except IllegalTransition as exc:
            yield problem((*step.origin, "state"), _illegal(exc))
            return
        broken = _broken(dict(fields), spec, step)
        if broken:
            yield problem(broken[0], broken[1])
            return


def _illegal(exc: IllegalTransition) -> str:
    targets = ", ".join(exc.legal) if exc.legal else "none, it is final"
    why = f"; {exc.reason}" if exc.reason else ""
    return f"cannot go from {exc.from_state!r} to {exc.to_state!r}{why}; legal next states: {targets}"


def _broken(fields: dict[str, Any], spec: Spec, step: Step) -> tuple[DocPath, str] | None:
    problems = validators_for(spec).job_errors(fields) or spec.lifecycle.violations(fields)
    if not problems:
        return None
    return step.origin, f"the job would break the lifecycle in state {step.state!r}: {'; '.join(problems)}"


def _check_fault(fault: Fault, spec: Spec, problem: Any) -> Iterator[Problem]:
    operations = {op.operation_id: op for op in spec.operations}
    if fault.operation is not None and fault.operation not in operations:
        hint = did_you_mean(fault.operation, operations)
        yield problem(
            (*fault.origin, "match", "operation"),
            f"{fault.operation!r} is not an operation{hint}; operations: {', '.join(operations)}",
        )
    if fault.path is None:
        return
    sample = fault.path.replace("{", "").replace("}", "")
    try:
        router_for(spec).match(fault.method or "GET", sample)
    except NoRoute:
        paths = ", ".join(sorted({op.path for op in spec.operations}))
        yield problem(
            (*fault.origin, "match", "path"), f"no operation has the path {fault.path!r}; paths: {paths}"
        )
    except WrongMethod as exc:
        if fault.method is not None:
            yield problem(
                (*fault.origin, "match", "method"),
                f"{fault.path} does not answer {fault.method}; it answers {', '.join(exc.allowed)}",
            )
