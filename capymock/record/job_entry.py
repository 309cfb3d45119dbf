"""One recorded job's entry in the scenario file, at a level of detail: everything seen (FULL);
its states and timing only (PLAIN); or a comment saying why it is not replayed (COMMENT)."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from capymock.core.job import Job, compose_job
from capymock.core.reachability import oracle_for
from capymock.core.spec import JOB, Spec
from capymock.core.validation import validators_for
from capymock.record.naming import Names, segment
from capymock.record.observations import Sighting
from capymock.record.steps import SOME_TIME, Step, replay_steps
from capymock.record.timing import placement
from capymock.record.yaml_text import comment, flow, seconds
from capymock.scenario.schema import managed_fields


class Fallback:
    FULL, PLAIN, COMMENT = 0, 1, 2


class JobWriter:
    """One job's entry, written at `level` (a `Fallback`), one level simpler each time a
    problem names it."""

    def __init__(
        self, job_id: str, sightings: list[Sighting], spec: Spec, reference: datetime | None, names: Names
    ) -> None:
        self.job_id, self.sightings, self.spec = job_id, sightings, spec
        self.reference, self.names = reference, names
        self.level = Fallback.FULL
        self.skipped = set(managed_fields(spec)) | spec.lifecycle.stamped
        """Fields the replay sets by itself: never written."""

    @functools.cached_property
    def fixed(self) -> tuple[dict[str, Any], str]:
        """`_fixed_fields` of the first sighting (only for a usable job: it composes one); when
        the replay walks the job's past, without those a step of that walk sets."""
        fields, dropped = _fixed_fields(self.sightings[0].job, self.spec, self.skipped)
        if self.witness:
            fields = {k: v for k, v in fields.items() if k not in self.spec.lifecycle.derived}
        return fields, dropped

    @functools.cached_property
    def witness(self) -> tuple[str, ...]:
        """The states of the lifecycle's walk to the first sighting (only for a usable job),
        from the initial state; () when no walk explains it (the replay then creates the job in
        the state the first read saw)."""
        return oracle_for(self.spec).explain(self.sightings[0].job).walk

    def lines(self, level: int, why: str = "") -> list[str]:
        """The entry's lines at `level`; `why` says what made it simpler than FULL."""
        first = dict(self.sightings[0].job)
        unusable = self._unusable(first)
        if unusable or level >= Fallback.COMMENT:
            return [f"  # job {comment(self.job_id[:100])}: not replayed ({comment(unusable or why)})"]
        lines = [
            f"  - id: {flow(self.names.job(self.job_id))}",
            f"    project: {flow(self.names.project(str(first[JOB.project])))}",
            *self._field_lines(level, why),
        ]
        age, delay = placement(first, self.sightings[0], self.reference)
        if age:
            lines.append(f"    age: {seconds(age)}")
        created = self.witness[0] if self.witness else str(first[self.spec.lifecycle.field])
        return lines + self._step_lines(level, Step(created, delay), delay or -age)

    def _field_lines(self, level: int, why: str) -> list[str]:
        if level != Fallback.FULL:
            return [f"    # written without its fields: {comment(why)}"]
        fixed, dropped = self.fixed
        lines = [f"    # not replayed (the spec has no such field, or refuses the value): {dropped}"]
        return (lines if dropped else []) + [
            f"    {name}: {flow(self.names.shown(name, value))}" for name, value in fixed.items()
        ]

    def _step_lines(self, level: int, start: Step, born: float) -> list[str]:
        steps, notes = replay_steps(
            self.sightings, self.spec, self.reference, self.skipped, self._replayed(level), born, self.witness
        )
        lines = ["    steps:"]
        for step in [start, *steps]:
            if level != Fallback.FULL:
                step.fields = {}
            if step.comment:
                lines.append(f"      # {comment(step.comment)}")
            lines.append("      - " + self._step_text(step))
        return lines + [f"      # {comment(note)}" for note in notes]

    def _step_text(self, step: Step) -> str:
        if step.age is not None:
            parts = [f"age: {seconds(step.age)}"]
        else:
            parts = [f"after: {seconds(step.after)}"] if step.after else []
        parts.append(f"state: {step.state}")
        parts += [f"{name}: {flow(self.names.shown(name, value))}" for name, value in step.fields.items()]
        return "{" + ", ".join(parts) + "}"

    def _unusable(self, first: Mapping[str, Any]) -> str:
        """Why this job cannot be an entry at all ("" when it can)."""
        if not segment(self.job_id) and not self.names.rename:
            return "its id does not fit in a URL path; --rename replaces it"
        if not segment(first.get(JOB.project)):
            return "it shows no usable project id"
        if first.get(self.spec.lifecycle.field) not in self.spec.lifecycle.states:
            return f"it shows state {first.get(self.spec.lifecycle.field)!r}, which is not a state"
        return ""

    def _replayed(self, level: int) -> Job:
        """The job as the replay creates it."""
        first = self.sightings[0].job
        given = self.fixed[0] if level == Fallback.FULL else {}
        lifecycle = self.spec.lifecycle
        return compose_job(
            self.spec,
            {
                **given,
                lifecycle.field: self.witness[0] if self.witness else first[lifecycle.field],
                JOB.project: first[JOB.project],
            },
            job_id=self.job_id,
            organization_id=str(first.get(JOB.organization)),
            now=SOME_TIME,
        )


def _fixed_fields(first: Mapping[str, Any], spec: Spec, skipped: set[str]) -> tuple[dict[str, Any], str]:
    """The fields of a job's entry (those the spec has, with values its schema takes), and the
    names of those left out."""
    validators, lifecycle = validators_for(spec), spec.lifecycle
    state = first.get(lifecycle.field)
    plain = compose_job(spec, {lifecycle.field: state}, job_id="_", organization_id="_", now=SOME_TIME)
    fixed, dropped = {}, []
    for name, value in first.items():
        same = type(value) is type(plain.get(name)) and value == plain.get(name)
        if name in skipped or value is None or same:
            continue  # managed, derived, absent, or what the replay has anyway
        if name not in spec.job_fields or validators.field_errors({name: value}):
            dropped.append(name)
        else:
            fixed[name] = value
    return fixed, comment(", ".join(dropped)[:300])
