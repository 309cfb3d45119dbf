"""Job transitions as the lifecycle declares them: pure functions over field dicts.

`transition()` moves one job to a legal next state and derives the fields that change;
`shortest_path()` finds the fewest moves from a state to another; `fill_in()` builds the
fields of a job that starts out in any state, as if it had walked that path there.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from capymock.core.lifecycle import Effect, Lifecycle
from capymock.core.spec import JOB
from capymock.errors import IllegalTransition


def legal_targets(lifecycle: Lifecycle, job: Mapping[str, Any]) -> tuple[str, ...]:
    """The states `job` may move to next."""
    return tuple(
        target
        for target in lifecycle.transitions.get(job[lifecycle.field], ())
        if target != lifecycle.retry.to or lifecycle.can_retry(job)
    )


def transition(
    lifecycle: Lifecycle,
    job: Mapping[str, Any],
    target: str,
    now: str,
    explicit: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The fields of `job` after it moves to `target` at `now`.

    Fields in `explicit` win over derived ones.

    Raises:
        IllegalTransition: `target` is not a legal next state of `job`.
    """
    current = job[lifecycle.field]
    legal = legal_targets(lifecycle, job)
    if target not in legal:
        reason = ""
        if target in lifecycle.transitions.get(current, ()):
            retry = lifecycle.retry
            reason = f"{retry.counter} {job[retry.counter]} has reached {retry.limit} {job[retry.limit]}"
        raise IllegalTransition(str(job.get(JOB.id)), current, target, legal, reason)
    return _enter(lifecycle, dict(job), target, now, explicit or {})


def fill_in(
    lifecycle: Lifecycle, defaults: dict[str, Any], given: Mapping[str, Any], now: str
) -> dict[str, Any]:
    """The fields of a new job that starts in `given[state]` (default: the initial state).

    Starting from `defaults` in the initial state, the job walks the shortest path of
    transitions to its state, all at `now`; every field in `given` wins over a derived one.
    """
    target = given.get(lifecycle.field, lifecycle.initial)
    walked = {**defaults, lifecycle.field: lifecycle.initial}
    for state in shortest_path(lifecycle, lifecycle.initial, target) or ():
        walked = _enter(lifecycle, walked, state, now, {})
    walked.update(given)
    return walked


def _enter(
    lifecycle: Lifecycle, fields: dict[str, Any], target: str, now: str, explicit: Mapping[str, Any]
) -> dict[str, Any]:
    _apply(lifecycle.on_enter.get(target, Effect()), fields, now)
    _apply(lifecycle.on_change, fields, now)
    fields[lifecycle.field] = target
    fields.update(explicit)
    return fields


def _apply(effect: Effect, fields: dict[str, Any], now: str) -> None:
    for name in effect.clear:
        fields[name] = None
    for name in effect.increment:
        fields[name] = (fields.get(name) or 0) + 1
    for name in effect.now:
        fields[name] = now
    fields.update(effect.default)


def shortest_path(
    lifecycle: Lifecycle, start: str, goal: str, first: tuple[str, ...] | None = None
) -> list[str] | None:
    """The states to enter, in order, to get from `start` to `goal` by the fewest transitions.

    Empty when `start` is `goal`; None when the lifecycle has no way there. `first` narrows
    the first move (e.g. to `legal_targets()` of a job whose retries are used up).
    """
    if start == goal:
        return []
    previous: dict[str, str] = {}
    queue = deque([start])
    while queue and goal not in previous:
        state = queue.popleft()
        targets = first if state == start and first is not None else lifecycle.transitions.get(state, ())
        for nxt in targets:
            if nxt not in previous and nxt != start:
                previous[nxt] = state
                queue.append(nxt)
    if goal not in previous:
        return None
    path = [goal]
    while previous[path[-1]] != start:
        path.append(previous[path[-1]])
    return path[::-1]
