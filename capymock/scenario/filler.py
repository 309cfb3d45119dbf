"""Filler jobs (`generate: N`) that look like a deployment's: each created one `every` further back
from the start, walked through the lifecycle to its state before the start, with times spread by
how long each state lasts (a run by its type), a share of them retried, all deterministic per
seed. Every one is a walk of the lifecycle, so the oracle explains it.

How long a job stays in a state, by default: a run (the state a claim leads to next,
`running`) by the job's type (`RUN_TIMES`, overridable with `durations: {type: duration}`); any
other state a few seconds to a minute. Each is drawn between half and one and a half times it.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from capymock.core.defaults import GENERATE_EVERY, GENERATED_TYPES
from capymock.core.durations import parse_duration
from capymock.core.job import DEFAULT_MAX_ATTEMPTS, compose_job
from capymock.core.lifecycle import Lifecycle
from capymock.core.spec import JOB, Spec
from capymock.core.transitions import shortest_walk, transition
from capymock.errors import IllegalTransition
from capymock.scenario.model import DocPath, ScriptedJob, Step

RUN_TIMES = {"build": 240.0, "deploy": 120.0, "test": 360.0, "migrate": 60.0, "backup": 600.0}
"""Typical seconds a job of each type runs; other types run `RUN_TIME`."""
RUN_TIME = 60.0
QUEUED, CLAIMED, BACK_OFF, OTHER_DWELL = 20.0, 3.0, 30.0, 5.0
"""Typical seconds a job waits before its next move: in the initial state (queued), in the state
whose entry counts an attempt (claimed, before it runs), in a state a retry leaves (backing off),
and in any other; each state's part read from `x-lifecycle`, not from its name."""
RETRIES = 0.15
"""The share of jobs that could have been retried on the way to their state that were."""
_SAMPLE_TIME = "2026-01-01T00:00:00Z"


def generate(entry: Mapping[str, Any], spec: Spec, origin: DocPath) -> list[ScriptedJob]:
    """The filler jobs of one `generate` entry (already checked by the schema)."""
    lifecycle = spec.lifecycle
    seed = entry.get("seed", 0)
    rng = random.Random(f"{entry['project']}:{origin[-1]}:{seed}")
    states = entry.get("states") or list(lifecycle.states)
    types = entry.get("types") or GENERATED_TYPES
    every = parse_duration(entry.get("every", GENERATE_EVERY))
    max_attempts = entry.get(lifecycle.retry.limit, DEFAULT_MAX_ATTEMPTS)
    runs = {
        **RUN_TIMES,
        **{name: parse_duration(value).total_seconds() for name, value in entry.get("durations", {}).items()},
    }
    retried = entry.get("retries", RETRIES)
    walks = _Walks(spec, max_attempts)
    jobs = []
    for index in range(entry["generate"]):
        state, kind = rng.choice(states), rng.choice(types)
        fields = {
            JOB.id: f"job_{entry['project']}_{origin[-1]}_{index:05d}",
            JOB.project: entry["project"],
            JOB.type: kind,
            lifecycle.retry.limit: max_attempts,
        }
        age = every * (index + 1)
        walk = walks.to(state, retry=rng.random() < retried, rng=rng)
        history = _timed(walk, lifecycle, age, runs.get(kind, RUN_TIME), rng, origin)
        first = Step(lifecycle.initial, origin=origin)
        jobs.append(ScriptedJob(fields, age, first, (), origin, generated=True, history=history))
    return jobs


class _Walks:
    """Walks of the lifecycle from a new job to each state, with as few attempts as it takes, or
    with a retry on the way where one is possible (each found once)."""

    def __init__(self, spec: Spec, max_attempts: int) -> None:
        self.lifecycle, self.max_attempts = spec.lifecycle, max_attempts
        self.new = compose_job(
            spec,
            {spec.lifecycle.retry.limit: max_attempts},
            job_id="_",
            organization_id="_",
            now=_SAMPLE_TIME,
        )
        self._found: dict[tuple[str, int | None], tuple[str, ...]] = {}

    def to(self, state: str, *, retry: bool, rng: random.Random) -> tuple[str, ...]:
        """The states a new job enters on its way to `state` (none: it is created there); most
        that a run may lead to went through the run (a failure mostly fails while running)."""
        chosen = self._walk(state, None)
        attempts = chosen.count(self._claim()) if self._claim() else 0
        if retry and attempts < self.max_attempts:
            more = rng.randint(max(attempts, 1) + 1, self.max_attempts)
            chosen = self._walk(state, more) or chosen
        run = _running(self.lifecycle)
        if (
            run
            and run not in chosen
            and state in self.lifecycle.transitions.get(run, ())
            and rng.random() < 0.8
        ):
            before = self._walk(run, chosen.count(self._claim()) or None) if self._claim() else ()
            if before and self._legal((*before, state)):
                return (*before, state)
        return chosen

    def _legal(self, walk: tuple[str, ...]) -> bool:
        """Whether a new job may take `walk` (each move legal, the retry limit kept)."""
        job: Mapping[str, Any] = self.new
        try:
            for state in walk:
                job = transition(self.lifecycle, job, state, _SAMPLE_TIME)
        except IllegalTransition:
            return False
        return True

    def _claim(self) -> str | None:
        return _claim(self.lifecycle)

    def _walk(self, state: str, attempts: int | None) -> tuple[str, ...]:
        key = (state, attempts)
        if key not in self._found:
            if state == self.lifecycle.initial and attempts is None:
                self._found[key] = ()
            else:
                self._found[key] = tuple(shortest_walk(self.lifecycle, self.new, state, attempts) or ())
        return self._found[key]


def _timed(
    walk: tuple[str, ...],
    lifecycle: Lifecycle,
    age: timedelta,
    run: float,
    rng: random.Random,
    origin: DocPath,
) -> tuple[Step, ...]:
    """`walk` as steps before the start, each `age` from how long the state before it lasted,
    squeezed to fit between the job's creation (`age` before the start) and the start."""
    if not walk:
        return ()
    previous, waits, running, dwell = lifecycle.initial, [], _running(lifecycle), _dwell(lifecycle)
    for state in walk:
        typical = run if previous == running else dwell.get(previous, OTHER_DWELL)
        waits.append(typical * rng.uniform(0.5, 1.5))
        previous = state
    total, room = sum(waits), age.total_seconds()
    scale = min(1.0, 0.9 * room / total) if total else 1.0  # the youngest squeezed, ending before the start
    steps, elapsed = [], 0.0
    for state, wait in zip(walk, waits, strict=True):
        elapsed += wait * scale
        left = max(0.0, room - elapsed)
        steps.append(Step(state, origin=origin, age=timedelta(seconds=round(left, 3))))
    return tuple(steps)


def _claim(lifecycle: Lifecycle) -> str | None:
    """The state whose entry counts an attempt."""
    counter = lifecycle.retry.counter
    return next((s for s, e in lifecycle.on_enter.items() if counter in e.increment), None)


def _dwell(lifecycle: Lifecycle) -> dict[str, float]:
    """How long a job typically waits in the states whose part the lifecycle names."""
    backing_off = {s for s, targets in lifecycle.transitions.items() if lifecycle.retry.to in targets}
    dwell = dict.fromkeys(backing_off, BACK_OFF)
    claim = _claim(lifecycle)
    if claim is not None:
        dwell[claim] = CLAIMED
    return {**dwell, lifecycle.initial: QUEUED}


def _running(lifecycle: Lifecycle) -> str:
    """The state a claim leads to next (the run), named by the lifecycle, not by this module."""
    after = lifecycle.transitions.get(_claim(lifecycle) or "", ())
    return next((s for s in after if s not in (lifecycle.retry.to,) and lifecycle.transitions.get(s)), "")
