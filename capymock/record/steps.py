"""A recorded job's sightings as the steps that replay them: each observed state a step, the
states polling missed filled in by the lifecycle's shortest walk, and the fields each step
changed that the replay would not derive by itself."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from capymock.core.job import Job
from capymock.core.lifecycle import Effect, Lifecycle
from capymock.core.spec import Spec
from capymock.core.transitions import shortest_walk, transition
from capymock.core.validation import validators_for
from capymock.errors import IllegalTransition
from capymock.record.observations import Sighting
from capymock.record.timing import entered_at, when
from capymock.record.yaml_text import seconds

SOME_TIME = "2999-01-01T00:00:00Z"
"""When the replay's steps are taken, for checking them: derived timestamps are skipped when
comparing, and a time later than any the deployment showed keeps them in order."""


@dataclass
class Step:
    state: str
    after: float
    fields: dict[str, Any] = field(default_factory=dict)
    comment: str = ""
    at: float = 0.0
    """When the step was taken, in seconds from the recording's reference time."""
    age: float | None = None
    """For a step taken before the reference time: how long before it (written as `age`)."""


def replay_steps(
    sightings: list[Sighting],
    spec: Spec,
    reference: datetime | None,
    skipped: set[str],
    replayed: Job,
    born: float,
    witness: tuple[str, ...] = (),
) -> tuple[list[Step], list[str]]:
    """The steps after the first, and notes on what could not be replayed.

    `replayed` is the job as the first step creates it, `born` seconds from the reference time;
    its steps to the state of the first sighting follow `witness` (the states after the
    first), or the lifecycle's shortest walk. Those taken before the reference time carry their
    `age`. Each step carries the fields the deployment showed that the replay would not derive
    by itself (the lifecycle already counts attempts and stamps times)."""
    lifecycle = spec.lifecycle
    counter = lifecycle.retry.counter
    replay = _Replay(spec, reference, skipped, replayed, born)
    previous_state, previous_count = replayed[lifecycle.field], replayed.get(counter)
    steps: list[Step] = []
    for index, sighting in enumerate(sightings):
        new, count = sighting.job.get(lifecycle.field), sighting.job.get(counter)
        if new != previous_state or count != previous_count:
            followed = replay.follow(sighting, list(witness[1:]) if index == 0 else None, index == 0)
            if isinstance(followed, str):
                return steps, [followed]
            if index == 0 and born <= 0:
                for step in followed:  # the job's past: the replay starts with them done
                    step.age = max(0.0, -step.at)
            steps += followed
            previous_state, previous_count = new, count
        if index == 0 and born <= 0:
            replay.at = 0.0  # the replay's later steps count from its start, the reference time
    return steps, replay.unreplayed(sightings[-1])


class _Replay:
    """The job as the replay has made it so far, and when (seconds from the reference time)."""

    def __init__(
        self, spec: Spec, reference: datetime | None, skipped: set[str], job: Job, at: float
    ) -> None:
        self.lifecycle, self.validators, self.reference = spec.lifecycle, validators_for(spec), reference
        self.skipped = skipped | {spec.lifecycle.field}
        self.job, self.at = job, at

    def follow(
        self, sighting: Sighting, witness: list[str] | None = None, first: bool = False
    ) -> list[Step] | str:
        """The steps that take the replay to the state `sighting` shows (through `witness`, else
        by the shortest walk), or why none can; `first`: the first read, whose walk is the job's
        past."""
        lifecycle, shown = self.lifecycle, dict(sighting.job)
        new, count = shown.get(lifecycle.field), shown.get(lifecycle.retry.counter)
        ended = when(sighting, self.reference)
        if not isinstance(new, str) or new not in lifecycle.states:
            return f"then {new!r}, which is not a state: not replayed"
        path = witness or shortest_walk(lifecycle, self.job, new, count if isinstance(count, int) else None)
        if path is None:
            move = f"{self.job[lifecycle.field]!r} → {new!r} (+{seconds(max(0.0, ended - self.at))})"
            return f"then {move}, which no legal path explains: not replayed"
        entered = entered_at(path, shown, lifecycle, self.reference, self.at, ended)
        try:
            walked = _walked(lifecycle, self.job, path)
        except IllegalTransition as exc:
            return f"then {new!r}, but the replay {exc.explanation}: not replayed"
        note = _before_first_read(new) if first else _filled(path[:-1]) if len(path) > 1 else ""
        steps = self._walk(path, entered, _differences(shown, walked, self.skipped), note)
        self.at = ended
        return steps

    def _walk(
        self, path: list[str], entered: list[float], fields: Mapping[str, Any], note: str
    ) -> list[Step]:
        """One step per state of `path`, each with the `fields` it owns; the first with `note`."""
        owners = _owners(path, fields, self.lifecycle)
        steps = []
        for index, state in enumerate(path):
            step = Step(state, max(0.0, entered[index] - (entered[index - 1] if index else self.at)))
            step.at = entered[index]
            step.fields = {name: value for name, value in fields.items() if owners[name] == index}
            self._take(step, [note] if index == 0 and note else [])
            steps.append(step)
        return steps

    def _take(self, step: Step, notes: list[str]) -> None:
        """Move the replay by `step`, without its fields if they would break the lifecycle."""
        moved = Job(transition(self.lifecycle, self.job, step.state, SOME_TIME, step.fields))
        if step.fields and self.validators.job_problems(moved):
            notes.append(f"not replayed (they would break the lifecycle): {', '.join(step.fields)}")
            step.fields = {}
            moved = Job(transition(self.lifecycle, self.job, step.state, SOME_TIME))
        step.comment = "; ".join(notes)
        self.job = moved

    def unreplayed(self, last: Sighting) -> list[str]:
        """A note on the changes `last` shows within the state the replay ended in."""
        if last.job.get(self.lifecycle.field) == self.job[self.lifecycle.field]:
            later = _differences(dict(last.job), self.job, self.skipped)
            if later:
                return [f"later changes of {', '.join(later)} in the same state: not replayed"]
        return []


def _before_first_read(shown: str) -> str:
    return (
        f"before the first read, which saw it {shown}: the lifecycle's walk there, timed by the job's stamps"
    )


def _filled(missed: list[str]) -> str:
    return (
        f"filled: {', '.join(missed)} not seen between two reads; the lifecycle passes "
        f"through {'it' if len(missed) == 1 else 'them'}"
    )


def _walked(lifecycle: Lifecycle, job: Job, path: list[str]) -> Job:
    """`job` after the replay walks `path` with nothing given but the states."""
    for state in path:
        job = Job(transition(lifecycle, job, state, SOME_TIME))
    return job


def _owners(path: list[str], fields: Mapping[str, Any], lifecycle: Lifecycle) -> dict[str, int]:
    """Which step of `path` each field belongs on: the last state whose entry sets it (a claim
    sets `claimed_by`), else the last step (what was seen when the walk ended)."""
    return {name: _owner(path, name, lifecycle) for name in fields}


def _owner(path: list[str], name: str, lifecycle: Lifecycle) -> int:
    for index in range(len(path) - 1, -1, -1):
        effect = lifecycle.on_enter.get(path[index], Effect())
        if name in effect.clear:
            break  # cleared on the way: it was set after
        if name in (*effect.increment, *effect.now, *effect.default):
            return index
    return len(path) - 1


def _differences(shown: Mapping[str, Any], replayed: Mapping[str, Any], skipped: set[str]) -> dict[str, Any]:
    """The fields the deployment showed differently from the replay (None where it showed none)."""
    names = [k for k in dict.fromkeys([*shown, *replayed]) if k not in skipped]
    return {k: shown.get(k) for k in names if shown.get(k) != replayed.get(k)}
