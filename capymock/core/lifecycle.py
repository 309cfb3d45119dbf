"""The job lifecycle as the spec's `x-lifecycle` declares it, and its invariants.

Pure data and pure checks: `Lifecycle.violations(job)` names every invariant a job
breaks. The state machine, the strategies and the contract checks all use this one object.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeGuard

from capymock.core.timestamps import aware_timestamp


@dataclass(frozen=True)
class Effect:
    """What entering a state derives, unless the fields are given explicitly."""

    increment: tuple[str, ...] = ()
    now: tuple[str, ...] = ()
    clear: tuple[str, ...] = ()
    default: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Retry:
    """A return to `to` is legal only while `counter` is below `limit`."""

    to: str
    counter: str
    limit: str


@dataclass(frozen=True)
class Bound:
    """`minimum <= job[field] <= job[maximum_field]`."""

    field: str
    minimum: int
    maximum_field: str


@dataclass(frozen=True)
class Invariants:
    bounded: tuple[Bound, ...]
    set_in: Mapping[str, frozenset[str]]
    exactly_in: Mapping[str, frozenset[str]]
    null_in: Mapping[str, frozenset[str]]
    ordered: tuple[str, ...]
    not_before: Mapping[str, str]
    exclusive: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """Field -> the states in which no two jobs may hold the same value (across jobs, not one)."""


@dataclass(frozen=True)
class Lifecycle:
    """States, legal transitions, derived fields and invariants of a job."""

    field: str
    states: tuple[str, ...]
    initial: str
    transitions: Mapping[str, tuple[str, ...]]
    retry: Retry
    on_enter: Mapping[str, Effect]
    on_change: Effect
    invariants: Invariants

    @property
    def effects(self) -> tuple[Effect, ...]:
        """Every effect a change may apply: each state's `on_enter`, then `on_change`."""
        return (*self.on_enter.values(), self.on_change)

    @property
    def stamped(self) -> frozenset[str]:
        """The fields an effect sets to the time of the change (`claimed_at`, `updated_at`, ...)."""
        return frozenset(name for effect in self.effects for name in effect.now)

    @property
    def derived(self) -> frozenset[str]:
        """Every field an effect counts, stamps, clears or defaults."""
        return frozenset(
            name
            for effect in self.effects
            for name in (*effect.increment, *effect.now, *effect.clear, *effect.default)
        )

    def can_retry(self, job: Mapping[str, Any]) -> bool:
        """Whether `job` may still return to the retry state."""
        return bool(job[self.retry.counter] < job[self.retry.limit])

    def violations(self, job: Mapping[str, Any]) -> list[str]:
        """Every invariant `job` breaks, as readable sentences (empty when it holds)."""
        return [sentence for _, sentence in self.broken(job)]

    def broken(self, job: Any) -> list[tuple[str, str]]:
        """Every invariant `job` breaks, as (the field at fault, a readable sentence).

        Any JSON value is taken: what is not a job object, or a field of the wrong type, is for
        the schema to report, so it breaks nothing here.
        """
        if not isinstance(job, Mapping):
            return []
        state = job.get(self.field)
        state = state if isinstance(state, str) else None
        inv = self.invariants
        found = [_check_bound(b, job) for b in inv.bounded]
        found += [_check_set_in(f, states, state, job) for f, states in inv.set_in.items()]
        found += [_check_exactly_in(f, states, state, job) for f, states in inv.exactly_in.items()]
        found += [_check_null_in(f, states, state, job) for f, states in inv.null_in.items()]
        found.append(_check_ordered(inv.ordered, job))
        found += [_check_not_before(f, other, job) for f, other in inv.not_before.items()]
        return [v for v in found if v]


Broken = tuple[str, str] | None


def _check_bound(bound: Bound, job: Mapping[str, Any]) -> Broken:
    value, maximum = job.get(bound.field), job.get(bound.maximum_field)
    if not _is_number(value) or not _is_number(maximum):
        return None  # the schema reports a value that is not a number
    if bound.minimum <= value <= maximum:
        return None
    return bound.field, (
        f"{bound.field} must be between {bound.minimum} and {bound.maximum_field} ({maximum}), got {value}"
    )


def _is_number(value: Any) -> TypeGuard[float]:
    if isinstance(value, bool):
        return False
    # An int of any size is a number (math.isfinite would overflow past 1.8e308); a float must be finite.
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def _check_set_in(field: str, states: frozenset[str], state: str | None, job: Mapping[str, Any]) -> Broken:
    if state in states and job.get(field) is None:
        return field, f"{field} must be set in state {state!r}"
    return None


def _check_exactly_in(
    field: str, states: frozenset[str], state: str | None, job: Mapping[str, Any]
) -> Broken:
    if state is None:
        return None  # no state the schema allows: the schema says so
    if state in states and job.get(field) is None:
        return field, f"{field} must be set in state {state!r}"
    if state not in states and job.get(field) is not None:
        return field, f"{field} must be null in state {state!r} (set only in {', '.join(sorted(states))})"
    return None


def _check_null_in(field: str, states: frozenset[str], state: str | None, job: Mapping[str, Any]) -> Broken:
    if state in states and job.get(field) is not None:
        return field, f"{field} must be null in state {state!r}"
    return None


def _check_ordered(chain: tuple[str, ...], job: Mapping[str, Any]) -> Broken:
    earlier: tuple[str, datetime] | None = None
    for name in chain:
        moment = _timestamp(job, name)
        if moment is None:
            continue
        if earlier is not None and moment < earlier[1]:
            return name, f"{name} ({job[name]}) is before {earlier[0]} ({job[earlier[0]]})"
        earlier = (name, moment)
    return None


def _check_not_before(field: str, other: str, job: Mapping[str, Any]) -> Broken:
    moment, floor = _timestamp(job, field), _timestamp(job, other)
    if moment is None or floor is None or moment >= floor:
        return None
    return field, f"{field} ({job[field]}) is before {other} ({job[other]})"


def _timestamp(job: Mapping[str, Any], field: str) -> datetime | None:
    return aware_timestamp(job.get(field))  # None for what is no date-time: the schema says so
