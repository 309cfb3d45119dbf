"""What a schema cannot check in a scenario: references, unique ids, and legal step sequences."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

from capymock.core.defaults import GENERATE_EVERY, MAX_JOBS
from capymock.core.durations import LONGEST, format_duration, parse_duration
from capymock.core.job import Job, compose_job
from capymock.core.routing import NoRoute, WrongMethod, router_for
from capymock.core.spec import JOB, Spec
from capymock.core.suggest import did_you_mean
from capymock.core.timestamps import parse_timestamp
from capymock.core.transitions import transition
from capymock.core.validation import validators_for
from capymock.errors import IllegalTransition, Problem, ScenarioError
from capymock.scenario.located import Located, format_path
from capymock.scenario.model import DocPath, Fault, Scenario, ScriptedJob, Step

_SAMPLE_TIME = "2026-01-01T00:00:00Z"

EARLIEST_START = datetime(1970, 1, 1, tzinfo=UTC)
LATEST_START = datetime(8900, 1, 1, tzinfo=UTC)
LONGEST_SCRIPT = timedelta(days=365250)
"""A job's steps add up to at most 1000 years, so its clock stays within datetime's range."""


def _locator(located: Located) -> Callable[[DocPath, str], Problem]:
    def problem(path: DocPath, message: str) -> Problem:
        return Problem(located.at(path), format_path(path), message)

    return problem


def start_problem(moment: datetime) -> str | None:
    """Why a clock cannot start at `moment` (None: it can)."""
    return None if EARLIEST_START <= moment <= LATEST_START else "is outside the years 1970 to 8899"


def check_size(data: dict[str, Any], located: Located, max_jobs: int = MAX_JOBS) -> list[Problem]:
    """A scenario of more than `max_jobs` jobs in all, said at the entry that crosses it, before
    any job is made (an entry an alias repeats is counted each time it appears)."""
    total = 0
    for index, entry in enumerate(data.get("jobs", [])):
        total += entry.get("generate", 1)
        if total > max_jobs:
            path: DocPath = ("jobs", index, "generate") if "generate" in entry else ("jobs", index)
            message = (
                f"expected at most {max_jobs:,} jobs in the whole scenario (aliases and 'generate' "
                f"counted), but there are {total:,} by this entry; lower 'generate', or raise the "
                "limit (--max-jobs)"
            )
            return [Problem(located.at(path), format_path(path), message)]
    return []


def check_values(data: dict[str, Any], located: Located) -> list[Problem]:
    """Values a schema lets through but the mock cannot use: durations, the start, generate spans."""
    problem = _locator(located)
    found = [problem(path, str(exc)) for path, exc in _bad_durations(data)]
    start = data.get("start")
    if isinstance(start, str) and start != "now":
        try:
            moment = parse_timestamp(start)
        except ValueError as exc:
            found.append(problem(("start",), f"{start!r} is not a date-time capymock can use: {exc}"))
        else:
            outside = start_problem(moment)
            if outside:
                found.append(problem(("start",), f"{start!r} {outside}"))
    for index, entry in enumerate(data.get("jobs", [])):
        if "generate" in entry and not found:
            span = parse_duration(entry.get("every", GENERATE_EVERY)) * entry["generate"]
            if span > LONGEST:
                found.append(
                    problem(
                        ("jobs", index),
                        "the generated jobs span more than 100 years; lower 'generate' or 'every'",
                    )
                )
    return found


def _bad_durations(data: dict[str, Any]) -> Iterator[tuple[DocPath, ValueError]]:
    places: list[tuple[DocPath, Any]] = []
    for i, entry in enumerate(data.get("jobs", [])):
        places += [(("jobs", i, key), entry[key]) for key in ("age", "every") if key in entry]
        places += [
            (("jobs", i, "steps", j, key), step[key])
            for j, step in enumerate(entry.get("steps", []))
            for key in ("after", "age")
            if key in step
        ]
    places += [
        (("faults", i, "delay"), f["delay"]) for i, f in enumerate(data.get("faults", [])) if "delay" in f
    ]
    for path, value in places:
        try:
            parse_duration(value)
        except ValueError as exc:
            yield path, exc


def check_semantics(scenario: Scenario, located: Located, spec: Spec) -> list[Problem]:
    """Every problem a valid-by-schema scenario still has, each reported once."""
    problem = _locator(located)
    found = [
        *_check_projects(scenario, problem),
        *_check_tokens(scenario, problem),
        *_check_job_ids(scenario, problem),
        *(p for job in scenario.jobs for p in _check_job(job, scenario, spec, problem)),
        *(p for fault in scenario.faults for p in _check_fault(fault, spec, problem)),
    ]
    return list(dict.fromkeys(found))


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
    first: dict[str, DocPath] = {}
    for job in scenario.jobs:
        if job.id in first:
            path = job.origin if job.generated else (*job.origin, JOB.id)
            yield problem(path, f"job id {job.id!r} is already used by {format_path(first[job.id])}")
        else:
            first[job.id] = job.origin


def _check_job(job: ScriptedJob, scenario: Scenario, spec: Spec, problem: Any) -> Iterator[Problem]:
    project = job.project_id
    if project not in scenario.projects:
        yield problem((*job.origin, "project"), _unknown_project(project, scenario))
        return
    if job.first.after is not None and job.age:
        yield problem(
            (*job.origin, "age"),
            "give 'age' (created before the start) or an 'after' on the first "
            "step (created after it), not both",
        )
        return
    if job.first.after_polls is not None:
        yield problem(
            (*job.first.origin, "after_polls"), "the first step creates the job; it cannot wait for reads"
        )
        return
    past = _past_problem(job)
    if past is not None:
        yield problem(*past)
        return
    yield from _walk_steps(job, scenario, spec, problem)


def _past_problem(job: ScriptedJob) -> tuple[DocPath, str] | None:
    """Why the steps with an `age` (the job's past) cannot be played, if they cannot."""
    if job.first.age is not None:
        return (*job.first.origin, "age"), "the first step creates the job; give the job's 'age' instead"
    later = next((step for step in job.steps if step.age is not None), None)
    if later is not None:
        return (*later.origin, "age"), (
            "a step with an 'age' (taken before the start) comes right after the first step, "
            "before every step with 'after' or 'after_polls'"
        )
    if job.history and job.first.after is not None:
        return (*job.history[0].origin, "age"), (
            "this job is created after the start (its first step has 'after'); it has no steps before it"
        )
    newest, before = job.age, "the job was created"
    for step in job.history:
        assert step.age is not None
        if step.after is not None or step.after_polls is not None:
            return step.origin, "give 'age' (taken before the start) or 'after'/'after_polls', not both"
        if step.age > newest:
            return (*step.origin, "age"), (
                f"{format_duration(step.age)} before the start is earlier than {before} "
                f"({format_duration(newest)} before it); steps before the start go oldest first"
            )
        newest, before = step.age, "the step before it"
    return None


def _walk_steps(job: ScriptedJob, scenario: Scenario, spec: Spec, problem: Any) -> Iterator[Problem]:
    """Play the steps through the lifecycle, as the mock will, and report the first that breaks."""
    lifecycle = spec.lifecycle
    given = {**job.fields, **job.first.fields, lifecycle.field: job.first.state}
    fields = compose_job(spec, given, job_id=job.id, organization_id=scenario.organization, now=_SAMPLE_TIME)
    broken = _broken(dict(fields), spec, job.first)
    if broken:
        yield problem(broken[0], broken[1])
        return
    elapsed = job.first.after or timedelta(0)
    for step in (*job.history, *job.steps):
        elapsed += step.after or timedelta(0)
        if elapsed > LONGEST_SCRIPT:
            yield problem((*step.origin, "after"), "the steps of this job add up to more than 1000 years")
            return
        if step.after is not None and step.after_polls is not None:
            yield problem(step.origin, "give 'after' or 'after_polls', not both")
            return
        try:
            fields = Job(transition(lifecycle, fields, step.state, _SAMPLE_TIME, step.fields))
        except IllegalTransition as exc:
            yield problem((*step.origin, "state"), exc.explanation)
            return
        broken = _broken(dict(fields), spec, step)
        if broken:
            yield problem(broken[0], broken[1])
            return


def _broken(fields: dict[str, Any], spec: Spec, step: Step) -> tuple[DocPath, str] | None:
    problems = validators_for(spec).job_problems(fields)
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


def check_disjoint(scenarios: list[Scenario]) -> None:
    """Scenarios loaded together may not share a job id.

    Raises:
        ScenarioError: naming each shared id and the two files.
    """
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
