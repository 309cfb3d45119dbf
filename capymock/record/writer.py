"""A `Recording` as a scenario file: each job's observed states as steps, `after` the gaps the
deployment's own timestamps show, and the fields each step changed.

Polling can miss states (seen `pending`, then `running`): the gap is filled with the
lifecycle's shortest legal path, marked by a comment, so the file always validates. A move no
legal path explains ends that job's script, as a comment, never as an illegal step. Pure:
text in, text out.
"""

from __future__ import annotations

import functools
import json
import re
import secrets
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import unquote

from capymock.core.auth import API_KEY_PREFIX
from capymock.core.durations import format_duration
from capymock.core.job import Job, compose_job
from capymock.core.lifecycle import Effect, Lifecycle
from capymock.core.routing import NoRoute, WrongMethod, router_for
from capymock.core.spec import JOB, Spec
from capymock.core.timestamps import aware_timestamp, format_timestamp
from capymock.core.transitions import legal_targets, transition
from capymock.core.validation import validators_for
from capymock.errors import IllegalTransition, ScenarioError
from capymock.record.observations import Failure, Recording, Sighting, public_url
from capymock.scenario.loader import parse_scenario
from capymock.scenario.schema import managed_fields

REDACTED = "[redacted]"


@dataclass(frozen=True)
class Options:
    """How to write: fields to redact, ids to replace with placeholders, and the schema's location."""

    redact: tuple[str, ...] = ()
    rename: bool = False
    schema: str = "scenario.schema.json"
    interval: float | None = None
    """The polling interval, for the file's header (None: recorded as a proxy)."""
    timeout: float = 10.0


@dataclass
class _Step:
    state: str
    after: float
    fields: dict[str, Any] = field(default_factory=dict)
    comment: str = ""


def write_scenario(recording: Recording, spec: Spec, options: Options = Options()) -> str:
    """The scenario that replays `recording`, as YAML text with comments. It always validates:
    a job or fault the checks refuse is written again more simply, or as a comment."""
    return write_checked(recording, spec, options)[0]


def write_checked(
    recording: Recording, spec: Spec, options: Options = Options(), *, shown_as: str = "recorded"
) -> tuple[str, ScenarioError | None]:
    """`write_scenario`'s text, and why it does not validate after all (None: it does; else a
    defect of the writer), its problems located in a file called `shown_as`."""
    names = _Names(options.rename)
    reference = _reference_time(recording)
    jobs = [(job_id, sightings) for job_id, sightings in recording.jobs.items() if sightings]
    first_jobs = [s[0].job for _, s in jobs]
    organization = next((str(o) for j in first_jobs if _segment(o := j.get(JOB.organization))), None)
    projects = list(dict.fromkeys(str(p) for j in first_jobs if _segment(p := j.get(JOB.project))))
    names.register(organization, projects, [job_id for job_id, _ in jobs])
    source = _comment(public_url(recording.source))
    header = [
        f"# yaml-language-server: $schema={options.schema}",
        f"# Recorded by capymock record from {source}",
        f"# on {format_timestamp(recording.started)}"
        + (f", polled every {_seconds(options.interval)}." if options.interval else ", as a proxy."),
        "# `after` is the gap the deployment's own timestamps show between two states.",
        "name: recorded",
        f"description: {_flow(f'What {source} did, recorded by capymock')}",
    ]
    if reference is not None:
        header.append(
            f'start: "{format_timestamp(reference)}"   # the deployment\'s time when recording began'
        )
    if organization is not None:
        header.append(f"organization: {_flow(names.organization(organization))}")
    header.append(
        "projects: [" + ", ".join(_flow(names.project(p)) for p in projects or ["proj_recorded"]) + "]"
    )
    token = f"{API_KEY_PREFIX}recorded_{secrets.token_hex(8)}"
    header += ["tokens:", f"  - {{token: {token}}}   # an organization-wide key of this file's own"]
    writers = [_JobWriter(job_id, sightings, spec, reference, names, options) for job_id, sightings in jobs]
    blocks = [writer.lines(_Fallback.FULL) for writer in writers]
    faults = _fault_lines(recording, spec, names, options) if recording.failures else []
    for _ in range(len(blocks) * _Fallback.COMMENT + len(faults) + 1):  # each round simplifies one
        text = _assemble(header, blocks, faults)
        problem = _problem(text, spec, shown_as)
        if problem is None or not _simplify(problem, blocks, writers, faults):
            return text, problem  # a problem no job or fault explains: the caller reports it
    text = _assemble(header, blocks, faults)
    return text, _problem(text, spec, shown_as)


def _problem(text: str, spec: Spec, shown_as: str) -> ScenarioError | None:
    try:
        parse_scenario(text, spec, source=shown_as)
    except ScenarioError as exc:
        return exc
    return None


def _assemble(header: list[str], blocks: list[list[str]], faults: list[str]) -> str:
    lines = [*header, "jobs:" if any(_is_entry(b) for b in blocks) else "jobs: []"]
    for block in blocks:
        lines += block
    if faults:
        lines += ["faults:" if _is_entry(faults) else "faults: []", *faults]
    return "\n".join(lines) + "\n"


def _is_entry(block: list[str]) -> bool:
    return any(line.startswith("  - ") for line in block)


def _simplify(
    exc: ScenarioError, blocks: list[list[str]], writers: list[_JobWriter], faults: list[str]
) -> bool:
    """Write each job or fault a problem names more simply; False when a problem names neither."""
    entries = [index for index, block in enumerate(blocks) if _is_entry(block)]
    fault_entries = [index for index, line in enumerate(faults) if line.startswith("  - ")]
    simplified = False
    for problem in exc.problems:
        found = _INDEXED.match(problem.path)
        if found is None:
            return False
        kind, index = found.group(1), int(found.group(2))
        if kind == "jobs" and index < len(entries):
            block = entries[index]
            writer = writers[block]
            writer.level = min(writer.level + 1, _Fallback.COMMENT)
            blocks[block] = writer.lines(writer.level, problem.message)
            simplified = True
        elif kind == "faults" and index < len(fault_entries):
            line = fault_entries[index]
            faults[line] = f"  # {_comment(faults[line].strip())}: not replayed ({_comment(problem.message)})"
            simplified = True
    return simplified


_INDEXED = re.compile(r"^(jobs|faults)\[(\d+)\]")


class _Fallback:
    FULL, PLAIN, COMMENT = 0, 1, 2


def _segment(value: Any) -> bool:
    """Whether `value` can be an id in a scenario (and a URL path)."""
    return isinstance(value, str) and bool(value) and "/" not in value


class _Names:
    """Stable placeholders for organization, project and job ids (`--rename`), in first-seen order."""

    def __init__(self, rename: bool) -> None:
        self.rename = rename
        self._given: dict[tuple[str, str], str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._by_id: dict[str, str] = {}

    def _name(self, kind: str, value: str, first: str | None = None) -> str:
        if not self.rename:
            return value
        key = (kind, value)
        if key not in self._given:
            count = sum(1 for k in self._given if k[0] == kind) + 1
            self._given[key] = first if first and count == 1 else f"{kind}_{count}"
        return self._given[key]

    def register(self, organization: str | None, projects: list[str], jobs: list[str]) -> None:
        """Hand out every placeholder up front, so ids are replaced the same everywhere."""
        if organization is not None:
            self.organization(organization)
        for project in projects:
            self.project(project)
        for job in jobs:
            self.job(job)
        self._pattern = None

    def scrub(self, value: Any) -> Any:
        """`value` with every registered id inside its strings replaced (`--rename`), at any depth."""
        if not self.rename or not self._given:
            return value
        if isinstance(value, str):
            if self._pattern is None:
                ids = sorted({real for _, real in self._given}, key=len, reverse=True)
                self._pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])")
                self._by_id = {real: name for (_, real), name in self._given.items()}
            return self._pattern.sub(lambda found: self._by_id[found.group(1)], value)
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub(item) for key, item in value.items()}
        return value

    def organization(self, value: str) -> str:
        return self._name("org", value, "org_recorded")

    def project(self, value: str) -> str:
        return self._name("proj", value)

    def job(self, value: str) -> str:
        return self._name("job", value)


def _reference_time(recording: Recording) -> datetime | None:
    """The deployment's time when the recording began: the latest `updated_at` of the first sightings."""
    moments = [aware_timestamp(s[0].job.get(JOB.updated)) for s in recording.jobs.values() if s]
    known = [m for m in moments if m is not None]
    return max(known) if known else None


class _JobWriter:
    """One job's entry, at a level of detail: everything seen (FULL); its states and timing only
    (PLAIN); or a comment saying why it is not replayed (COMMENT)."""

    def __init__(
        self,
        job_id: str,
        sightings: list[Sighting],
        spec: Spec,
        reference: datetime | None,
        names: _Names,
        options: Options,
    ) -> None:
        self.job_id, self.sightings, self.spec = job_id, sightings, spec
        self.reference, self.names, self.options = reference, names, options
        self.level = _Fallback.FULL
        self.skipped = set(managed_fields(spec)) | _derived_timestamps(spec)
        """Fields the replay sets by itself: never written."""

    @functools.cached_property
    def fixed(self) -> tuple[dict[str, Any], str]:
        """`_fixed_fields` of the first sighting (only for a usable job: it composes one)."""
        return _fixed_fields(self.sightings[0].job, self.spec, self.skipped)

    def lines(self, level: int, why: str = "") -> list[str]:
        lifecycle, first = self.spec.lifecycle, dict(self.sightings[0].job)
        shown_id = _comment(self.job_id[:100])
        unusable = self._unusable(first)
        if unusable or level >= _Fallback.COMMENT:
            return [f"  # job {shown_id}: not replayed ({_comment(unusable or why)})"]
        names, options = self.names, self.options
        lines = [
            f"  - id: {_flow(names.job(self.job_id))}",
            f"    project: {_flow(names.project(str(first[JOB.project])))}",
        ]
        if level == _Fallback.FULL:
            fixed, dropped = self.fixed
            if dropped:
                lines.append(
                    f"    # not replayed (the spec has no such field, or refuses the value): {dropped}"
                )
            lines += [f"    {name}: {_value(name, value, options, names)}" for name, value in fixed.items()]
        else:
            lines.append(f"    # written without its fields: {_comment(why)}")
        age, delay = _placement(first, self.sightings[0], self.reference)
        if age:
            lines.append(f"    age: {_seconds(age)}")
        steps, notes = _steps(self.sightings, self.spec, self.reference, self.skipped, self._replayed(level))
        lines.append("    steps:")
        for step in [_Step(str(first[lifecycle.field]), delay), *steps]:
            if level != _Fallback.FULL:
                step.fields = {}
            if step.comment:
                lines.append(f"      # {_comment(step.comment)}")
            lines.append("      - " + _step_text(step, options, names))
        lines += [f"      # {_comment(note)}" for note in notes]
        return lines

    def _unusable(self, first: Mapping[str, Any]) -> str:
        """Why this job cannot be an entry at all ("" when it can)."""
        if not _segment(self.job_id) and not self.names.rename:
            return "its id does not fit in a URL path; --rename replaces it"
        if not _segment(first.get(JOB.project)):
            return "it shows no usable project id"
        if first.get(self.spec.lifecycle.field) not in self.spec.lifecycle.states:
            return f"it shows state {first.get(self.spec.lifecycle.field)!r}, which is not a state"
        return ""

    def _replayed(self, level: int) -> Job:
        """The job as the replay creates it."""
        first = self.sightings[0].job
        given = self.fixed[0] if level == _Fallback.FULL else {}
        lifecycle = self.spec.lifecycle
        return compose_job(
            self.spec,
            {**given, lifecycle.field: first[lifecycle.field], JOB.project: first[JOB.project]},
            job_id=self.job_id,
            organization_id=str(first.get(JOB.organization)),
            now=_SOME_TIME,
        )


def _fixed_fields(first: Mapping[str, Any], spec: Spec, skipped: set[str]) -> tuple[dict[str, Any], str]:
    """The fields of a job's entry (those the spec has, with values its schema takes), and the
    names of those left out."""
    validators, lifecycle = validators_for(spec), spec.lifecycle
    state = first.get(lifecycle.field)
    plain = compose_job(spec, {lifecycle.field: state}, job_id="_", organization_id="_", now=_SOME_TIME)
    fixed, dropped = {}, []
    for name, value in first.items():
        same = type(value) is type(plain.get(name)) and value == plain.get(name)
        if name in skipped or value is None or same:
            continue  # managed, derived, absent, or what the replay has anyway
        if name not in spec.job_fields or validators.field_errors({name: value}):
            dropped.append(name)
        else:
            fixed[name] = value
    return fixed, _comment(", ".join(dropped)[:300])


def _derived_timestamps(spec: Spec) -> set[str]:
    lifecycle = spec.lifecycle
    effects = [*lifecycle.on_enter.values(), lifecycle.on_change]
    return {name for effect in effects for name in effect.now}


def _placement(
    first: Mapping[str, Any], sighting: Sighting, reference: datetime | None
) -> tuple[float, float]:
    """(age, delay): how long before the recording began the job was created, or how long after."""
    moment = aware_timestamp(first.get(JOB.created))
    if reference is None or moment is None:
        return 0.0, sighting.seen
    offset = (moment - reference).total_seconds()
    return (max(0.0, -offset), 0.0) if offset <= 0 else (0.0, offset)


def _steps(
    sightings: list[Sighting], spec: Spec, reference: datetime | None, skipped: set[str], replayed: Job
) -> tuple[list[_Step], list[str]]:
    """The steps after the first, and notes on what could not be replayed.

    Each step carries the fields the deployment showed that the replay would not derive by
    itself (the lifecycle already counts attempts and stamps times)."""
    lifecycle, validators = spec.lifecycle, validators_for(spec)
    steps: list[_Step] = []
    at = _when(sightings[0], reference)
    counter = lifecycle.retry.counter
    previous_state, previous_count = replayed[lifecycle.field], replayed.get(counter)
    for sighting in sightings[1:]:
        current = dict(sighting.job)
        new, count = current.get(lifecycle.field), current.get(counter)
        if new == previous_state and count == previous_count:
            continue  # a change within a state: carried by the next step that moves
        when = _when(sighting, reference)
        gap = max(0.0, when - at)
        if not isinstance(new, str) or new not in lifecycle.states:
            return steps, [f"then {new!r}, which is not a state: not replayed"]
        path = _legal_walk(lifecycle, replayed, new, count if isinstance(count, int) else None)
        if path is None:
            move = f"{previous_state!r} → {new!r} (+{_seconds(gap)})"
            return steps, [f"then {move}, which no legal path explains: not replayed"]
        entered = _entered_at(path, current, lifecycle, reference, at, when)
        try:
            walked = _walked(lifecycle, replayed, path)
        except IllegalTransition as exc:
            return steps, [f"then {new!r}, but the replay {exc.explanation}: not replayed"]
        fields = _differences(current, walked, skipped | {lifecycle.field})
        owners = _owners(path, fields, lifecycle)
        for index, state in enumerate(path):
            since = entered[index - 1] if index else at
            step = _Step(state, max(0.0, entered[index] - since))
            step.fields = {name: value for name, value in fields.items() if owners[name] == index}
            notes = []
            if index == 0 and len(path) > 1:
                missed = path[:-1]
                notes.append(
                    f"filled: {', '.join(missed)} not seen between two reads; the lifecycle passes "
                    f"through {'it' if len(missed) == 1 else 'them'}"
                )
            moved = Job(transition(lifecycle, replayed, state, _SOME_TIME, step.fields))
            if step.fields and validators.job_problems(moved):
                notes.append(f"not replayed (they would break the lifecycle): {', '.join(step.fields)}")
                step.fields = {}
                moved = Job(transition(lifecycle, replayed, state, _SOME_TIME))
            step.comment = "; ".join(notes)
            steps.append(step)
            replayed = moved
        previous_state, previous_count, at = new, count, when
    last = dict(sightings[-1].job)
    if sightings[-1].job.get(lifecycle.field) == replayed[lifecycle.field]:
        later = _differences(last, replayed, skipped | {lifecycle.field})
        if later:
            return steps, [f"later changes of {', '.join(later)} in the same state: not replayed"]
    return steps, []


def _walked(lifecycle: Lifecycle, job: Job, path: list[str]) -> Job:
    """`job` after the replay walks `path` with nothing given but the states."""
    for state in path:
        job = Job(transition(lifecycle, job, state, _SOME_TIME))
    return job


def _owners(path: list[str], fields: Mapping[str, Any], lifecycle: Lifecycle) -> dict[str, int]:
    """Which step of `path` each field belongs on: the last state whose entry sets it (a claim
    sets `claimed_by`), else the last step (what was seen when the walk ended)."""
    owners = {}
    for name in fields:
        owner = len(path) - 1
        for index in range(len(path) - 1, -1, -1):
            effect = lifecycle.on_enter.get(path[index], Effect())
            if name in effect.clear:
                break  # cleared on the way: it was set after
            if name in (*effect.increment, *effect.now, *effect.default):
                owner = index
                break
        owners[name] = owner
    return owners


def _entered_at(
    path: list[str],
    shown: Mapping[str, Any],
    lifecycle: Lifecycle,
    reference: datetime | None,
    began: float,
    ended: float,
) -> list[float]:
    """When each state of `path` was entered (seconds from `reference`): the last at `ended`;
    a missed one at the time its own stamp shows (`claimed_at`), where the job still shows it,
    else evenly between its neighbours."""
    known: list[float | None] = [None] * (len(path) - 1) + [ended]
    for name in _stamps(lifecycle):
        for index in range(len(path) - 2, -1, -1):
            effect = lifecycle.on_enter.get(path[index], Effect())
            later = [lifecycle.on_enter.get(s, Effect()) for s in path[index + 1 :]]
            if name in effect.now and not any(name in (*e.now, *e.clear) for e in later):
                moment = _stamp(shown.get(name), reference)
                if moment is not None and began <= moment <= ended and known[index] is None:
                    known[index] = moment
                break
    floor = began
    for index, moment in enumerate(known[:-1]):
        if moment is not None and moment >= floor:
            floor = moment
        else:
            known[index] = None  # a stamp out of order says nothing
    entered: list[float] = []
    previous, index = began, 0
    while index < len(known):
        end = next(i for i in range(index, len(known)) if known[i] is not None)
        anchor = known[end]
        assert anchor is not None
        count = end - index + 1
        entered += [previous + (anchor - previous) * (k + 1) / count for k in range(count)]
        previous, index = anchor, end + 1
    return entered


def _stamps(lifecycle: Lifecycle) -> list[str]:
    return list(dict.fromkeys(name for effect in lifecycle.on_enter.values() for name in effect.now))


def _stamp(value: Any, reference: datetime | None) -> float | None:
    moment = aware_timestamp(value)
    return (moment - reference).total_seconds() if reference is not None and moment is not None else None


WALK_LIMIT = 10_000
"""(state, counter) pairs tried before a move counts as unexplained (a counter of 10⁹ would
otherwise be walked to)."""


def _legal_walk(lifecycle: Lifecycle, job: Job, goal: str, count: int | None) -> list[str] | None:
    """The fewest legal moves that take `job` to `goal` with its retry counter at `count`.

    Breadth-first over (state, counter), so a walk the poll missed entirely (`running` with
    attempts 1, then `running` with attempts 2) is filled with the retry it must have been.
    None when no legal walk gets there.
    """
    counter = lifecycle.retry.counter

    def key(fields: Mapping[str, Any]) -> tuple[Any, Any]:
        return fields[lifecycle.field], fields.get(counter)

    came_from: dict[tuple[Any, Any], tuple[tuple[Any, Any], str] | None] = {key(job): None}
    queue: deque[Mapping[str, Any]] = deque([job])
    while queue and len(came_from) < WALK_LIMIT:
        fields = queue.popleft()
        for target in legal_targets(lifecycle, fields):
            moved = transition(lifecycle, fields, target, _SOME_TIME)
            if key(moved) in came_from:
                continue
            came_from[key(moved)] = (key(fields), target)
            if target == goal and (count is None or moved.get(counter) == count):
                walk, at = [], key(moved)
                while (link := came_from[at]) is not None:
                    at, state = link
                    walk.append(state)
                return walk[::-1]
            if (
                not isinstance(count, int)
                or not isinstance(moved.get(counter), int)
                or moved[counter] <= count
            ):
                queue.append(moved)
    return None


_SOME_TIME = "2999-01-01T00:00:00Z"
"""When the replay's steps are taken, for checking them: derived timestamps are skipped when
comparing, and a time later than any the deployment showed keeps them in order."""


def _differences(shown: Mapping[str, Any], replayed: Mapping[str, Any], skipped: set[str]) -> dict[str, Any]:
    """The fields the deployment showed differently from the replay (None where it showed none)."""
    names = [k for k in dict.fromkeys([*shown, *replayed]) if k not in skipped]
    return {k: shown.get(k) for k in names if shown.get(k) != replayed.get(k)}


def _when(sighting: Sighting, reference: datetime | None) -> float:
    moment = aware_timestamp(sighting.job.get(JOB.updated))
    if reference is None or moment is None:
        return sighting.seen
    return (moment - reference).total_seconds()


def _step_text(step: _Step, options: Options, names: _Names) -> str:
    parts = []
    if step.after:
        parts.append(f"after: {_seconds(step.after)}")
    parts.append(f"state: {step.state}")
    parts += [f"{name}: {_value(name, value, options, names)}" for name, value in step.fields.items()]
    return "{" + ", ".join(parts) + "}"


def _value(name: str, value: Any, options: Options, names: _Names) -> str:
    if name in options.redact and value is not None:
        value = REDACTED
    return _flow(names.scrub(value))


_NOT_YAML = re.compile("[\x7f-\x84\x86-\x9f\ud800-\udfff\ufffe\uffff]")
"""Characters JSON leaves as they are but a YAML file may not hold (escaped instead)."""


def _flow(value: Any) -> str:
    """`value` as YAML flow text: JSON (which YAML reads), readable, and safe in any file."""
    text = json.dumps(value, ensure_ascii=False)
    return _NOT_YAML.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def _comment(text: str) -> str:
    """`text` on one line, fit for a YAML comment."""
    return _flow(text)[1:-1]


def _seconds(value: float | None) -> str:
    """A duration in seconds as scenario files write it, to the millisecond: 250ms, 2.5s, 90s, 10m."""
    return format_duration(timedelta(milliseconds=round((value or 0.0) * 1000)))


def _fault_lines(recording: Recording, spec: Spec, names: _Names, options: Options) -> list[str]:
    """One fault per (method, path, status) the deployment failed, as often as it did, with the
    first such answer's body. Failures outside the spec's operations are noted, not replayed."""
    counted: dict[tuple[str, str, int | None], list[Failure]] = {}
    for failure in recording.failures:
        counted.setdefault((failure.method, failure.path, failure.status), []).append(failure)
    lines = []
    for (method, given, status), failures in counted.items():
        path, times = _spec_path(method, given, spec, names), len(failures)
        if path is None:
            what = f"{status} answers" if status else "timeouts"
            lines.append(
                f"  # {times} {what} to {method} {given[:200]!r}, not an operation of the spec: not replayed"
            )
            continue
        match = f"{{method: {method}, path: {_flow(path)}}}"
        body = failures[0].body
        if status is not None and body is not None:
            shown = _flow(names.scrub(body))
            lines.append(f"  - {{match: {match}, status: {status}, times: {times}, body: {shown}}}")
            continue
        if status is None:
            delay = _seconds(options.timeout)
            lines.append(
                f"  - {{match: {match}, status: 504, delay: {delay}, times: {times}}}   # no answer in time"
            )
        else:
            lines.append(f"  - {{match: {match}, status: {status}, times: {times}}}")
    return lines


def _spec_path(method: str, path: str, spec: Spec, names: _Names) -> str | None:
    """`path` with its ids renamed, if it is a path of one of the spec's operations for `method`."""
    try:
        found = router_for(spec).match(method, path)
    except (NoRoute, WrongMethod):
        return None
    operation = found.operation
    if operation.method != method:
        return None  # HEAD, which the router serves as GET: not an operation of its own
    values = {
        name: _renamed_id(operation.path_fields.get(name), value, names)
        for name, value in found.path_parameters.items()
    }
    return _PARAMETER.sub(lambda parameter: values[parameter.group(1)], operation.path)


_PARAMETER = re.compile(r"\{([^{}]+)\}")


def _renamed_id(job_field: str | None, value: str, names: _Names) -> str:
    """A path parameter's value renamed as the `Job` field it names (a project, a job)."""
    if not names.rename:
        return value
    name = unquote(value)
    return (
        names.project(name) if job_field == JOB.project else names.job(name) if job_field == JOB.id else value
    )
