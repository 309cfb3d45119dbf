"""The reachability oracle agrees with brute force: every job some walk produces, and no other.

The brute force walks concrete jobs with the mock's own `transition()` (a move to each legal
state, or a change without a move that applies `on_change`), at times that stay or tick on,
until no new job appears (times renumbered densely, so the walks close). Its ground truth is
the set of shapes reached: state, counters, which derived fields are set, and the order of the
timestamps. The oracle must call every shape of the whole shape space explained exactly when
brute force reached it, for the real spec and for synthetic lifecycles; and every job it
explains keeps every invariant `x-lifecycle` writes down (they are special cases of the model).
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Iterator, Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import capymock
from capymock.core.lifecycle import Bound, Effect, Lifecycle
from capymock.core.reachability import Oracle
from capymock.core.transitions import legal_targets, transition

BASE = datetime(2026, 1, 1, tzinfo=UTC)
CREATED, UPDATED = "created_at", "updated_at"
Shape = tuple[Any, ...]


def at(rank: int) -> str:
    return (BASE + timedelta(seconds=rank)).strftime("%Y-%m-%dT%H:%M:%SZ")


def rank_of(value: str) -> int:
    return int((datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) - BASE).total_seconds())


class World:
    """The fields a lifecycle touches: counters and their maxima, derived fields, timestamps."""

    def __init__(self, lifecycle: Lifecycle) -> None:
        self.lifecycle = lifecycle
        effects = [*lifecycle.on_enter.values(), lifecycle.on_change]
        self.counters = tuple(dict.fromkeys(n for e in effects for n in e.increment))
        self.maxima = {b.field: b.maximum_field for b in lifecycle.invariants.bounded}
        self.stamps = tuple(sorted({CREATED, *(n for e in effects for n in e.now)}))
        plain = {n for e in effects for n in (*e.clear, *e.default)} - set(self.stamps)
        self.plain = tuple(sorted(plain))

    def created(self, maxima: Mapping[str, int]) -> dict[str, Any]:
        job: dict[str, Any] = {self.lifecycle.field: self.lifecycle.initial}
        job.update({name: 0 for name in self.counters})
        job.update({self.maxima[name]: maxima[name] for name in self.counters if name in self.maxima})
        job.update({name: None for name in (*self.stamps, *self.plain)})
        job[CREATED] = job[UPDATED] = at(0)
        return job

    def shape(self, job: Mapping[str, Any]) -> Shape:
        """State, counters, which plain fields are set, and the dense order of set timestamps."""
        times = {name: rank_of(job[name]) for name in self.stamps if job[name] is not None}
        dense = {value: index for index, value in enumerate(sorted(set(times.values())))}
        return (
            job[self.lifecycle.field],
            tuple(job[name] for name in self.counters),
            tuple(job[name] is not None for name in self.plain),
            tuple(dense.get(times.get(name, -1)) for name in self.stamps),
        )

    def job_of(self, shape: Shape, maxima: Mapping[str, int]) -> dict[str, Any]:
        state, counts, plain, ranks = shape
        job = self.created(maxima)
        job[self.lifecycle.field] = state
        job.update(dict(zip(self.counters, counts, strict=True)))
        job.update({name: ("x" if is_set else None) for name, is_set in zip(self.plain, plain, strict=True)})
        job.update(
            {
                name: (None if rank is None else at(rank))
                for name, rank in zip(self.stamps, ranks, strict=True)
            }
        )
        return job

    def within_bounds(self, job: Mapping[str, Any]) -> bool:
        return all(0 <= job[name] <= job[self.maxima[name]] for name in self.counters if name in self.maxima)


def walked_shapes(world: World, maxima: Mapping[str, int]) -> set[Shape]:
    """Every shape a walk reaches: breadth-first over concrete jobs, times renumbered densely."""
    start = (world.shape(world.created(maxima)), 0)
    seen = {start}
    queue = deque([start])
    while queue:
        shape, now = queue.popleft()
        job = world.job_of(shape, maxima)
        for tick in (0, 1):
            for moved in _steps(world, job, now + tick):
                if not world.within_bounds(moved):
                    continue
                key = _renumbered(world, moved, now + tick)
                if key not in seen:
                    seen.add(key)
                    queue.append(key)
    return {shape for shape, _ in seen}


def _steps(world: World, job: dict[str, Any], now: int) -> Iterator[dict[str, Any]]:
    lifecycle = world.lifecycle
    touched = dict(job)
    touched.update({name: at(now) for name in lifecycle.on_change.now})
    yield touched  # a change without a move
    for target in legal_targets(lifecycle, job):
        yield transition(lifecycle, job, target, at(now))


def _renumbered(world: World, job: dict[str, Any], now: int) -> tuple[Shape, int]:
    times = sorted({rank_of(job[n]) for n in world.stamps if job[n] is not None} | {now})
    dense = {value: index for index, value in enumerate(times)}
    job = {**job, **{n: at(dense[rank_of(job[n])]) for n in world.stamps if job[n] is not None}}
    return world.shape(job), dense[now]


def every_shape(world: World, maxima: Mapping[str, int]) -> Iterator[Shape]:
    """The whole shape space: every state, counter up to one past its maximum, set or not, order."""
    counts = [range(maxima.get(name, 2) + 2) for name in world.counters]
    for state in world.lifecycle.states:
        for numbers in itertools.product(*counts):
            for plain in itertools.product((False, True), repeat=len(world.plain)):
                for ranks in _weak_orders(len(world.stamps)):
                    yield state, numbers, plain, ranks


def _weak_orders(size: int) -> Iterator[tuple[int | None, ...]]:
    """Each field null or at a rank, ranks dense from 0."""
    for ranks in itertools.product([None, *range(size)], repeat=size):
        used = sorted({r for r in ranks if r is not None})
        if used == list(range(len(used))):
            yield ranks


def disagreements(lifecycle: Lifecycle, maxima: Mapping[str, int]) -> list[str]:
    world = World(lifecycle)
    truth = walked_shapes(world, maxima)
    oracle = Oracle(lifecycle, CREATED)
    wrong = []
    for shape in every_shape(world, maxima):
        job = world.job_of(shape, maxima)
        verdict = oracle.explain(job)
        if verdict.explained and lifecycle.violations(job):  # the written invariants are special cases
            wrong.append(f"{shape}: explained, but breaks {lifecycle.violations(job)}")
        if verdict.explained != (shape in truth):
            wrong.append(
                f"{shape}: oracle {verdict.explained} ({verdict.reason}), brute force {shape in truth}"
            )
    assert truth, "brute force reached nothing"
    return wrong


SPEC = capymock.load_spec().lifecycle


def with_paused_state(lifecycle: Lifecycle) -> Lifecycle:
    """A new state: a running job may pause (stamping `paused_at`) and resume."""
    transitions = {**lifecycle.transitions, "running": (*lifecycle.transitions["running"], "paused")}
    transitions["paused"] = ("running", "cancelled")
    on_enter = {**lifecycle.on_enter, "paused": Effect(now=("paused_at",))}
    pending = on_enter["pending"]
    on_enter["pending"] = replace(pending, clear=(*pending.clear, "paused_at"))
    return replace(
        lifecycle, states=(*lifecycle.states, "paused"), transitions=transitions, on_enter=on_enter
    )


def with_second_counter(lifecycle: Lifecycle) -> Lifecycle:
    """A second counter: entering running counts a run, at most `max_runs`."""
    on_enter = {**lifecycle.on_enter}
    on_enter["running"] = replace(on_enter["running"], increment=("runs",))
    bounded = (*lifecycle.invariants.bounded, Bound("runs", 0, "max_runs"))
    return replace(lifecycle, on_enter=on_enter, invariants=replace(lifecycle.invariants, bounded=bounded))


@pytest.mark.parametrize("limit", [1, 2, 3, 4])
def test_the_oracle_explains_exactly_the_jobs_walks_of_the_spec_reach(limit: int) -> None:
    assert disagreements(SPEC, {"attempts": limit}) == []


def test_the_oracle_agrees_on_a_lifecycle_with_a_new_state() -> None:
    assert disagreements(with_paused_state(SPEC), {"attempts": 2}) == []


@pytest.mark.parametrize(("attempts", "runs"), [(2, 1), (3, 2), (2, 3)])
def test_the_oracle_agrees_on_a_lifecycle_with_a_second_counter(attempts: int, runs: int) -> None:
    assert disagreements(with_second_counter(SPEC), {"attempts": attempts, "runs": runs}) == []
