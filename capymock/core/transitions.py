"""Job transitions as the lifecycle declares them: pure functions over field dicts.

`transition()` moves one job to a legal next state and derives the fields that change;
`shortest_path()` finds the fewest moves from a state to another; `shortest_walk()` the fewest
legal moves of one job to a state, its retry counter counted (the states a poll missed);
`fill_in()` builds the fields of a job that starts out in any state, as if it had walked that
path there. Both searches are one breadth-first search.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import Any, TypeVar

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

    def moves(state: str) -> Iterable[tuple[str, str]]:
        targets = first if state == start and first is not None else lifecycle.transitions.get(state, ())
        return ((target, target) for target in targets)

    return _breadth_first(start, moves, lambda state: state, lambda state: state == goal)


WALK_LIMIT = 10_000
"""(state, counter) pairs `shortest_walk` tries before it gives up (a counter of 10⁹ would
otherwise be walked to)."""


def shortest_walk(
    lifecycle: Lifecycle, job: Mapping[str, Any], goal: str, count: int | None = None
) -> list[str] | None:
    """The states `job` enters, in order, to reach `goal` by the fewest legal moves, with its
    retry counter then at `count` (None: at any value).

    The search is over (state, counter), so the retry limit holds on the way, and a walk the
    poll missed entirely (`running` with attempts 1, then `running` with attempts 2) is the
    retry it must have been. Never empty: `job` itself is not a walk to its own state. None
    when no legal walk gets there within `WALK_LIMIT` (state, counter) pairs.
    """
    counter = lifecycle.retry.counter

    def moves(fields: Mapping[str, Any]) -> Iterable[tuple[str, Mapping[str, Any]]]:
        return ((t, transition(lifecycle, fields, t, _UNTIMED)) for t in legal_targets(lifecycle, fields))

    def arrived(fields: Mapping[str, Any]) -> bool:
        return bool(fields[lifecycle.field] == goal and (count is None or fields.get(counter) == count))

    def below_count(fields: Mapping[str, Any]) -> bool:
        reached = fields.get(counter)
        return not isinstance(count, int) or not isinstance(reached, int) or reached <= count

    def key(fields: Mapping[str, Any]) -> Hashable:
        return fields[lifecycle.field], fields.get(counter)

    return _breadth_first(job, moves, key, arrived, below_count, WALK_LIMIT)


_UNTIMED = ""
"""The moment the search's moves are taken at: only states and counters are compared."""

_Node = TypeVar("_Node")


def _breadth_first(
    start: _Node,
    moves: Callable[[_Node], Iterable[tuple[str, _Node]]],
    key: Callable[[_Node], Hashable],
    arrived: Callable[[_Node], bool],
    followed: Callable[[_Node], bool] = lambda _: True,
    limit: int | None = None,
) -> list[str] | None:
    """The names of the fewest `moves` from `start` to a node `arrived` accepts (`start` itself
    never counts); None when there is none. Nodes are told apart by `key`; the search goes on
    only from nodes `followed` accepts, and gives up once `limit` nodes are known."""
    came_from: dict[Hashable, tuple[Hashable, str] | None] = {key(start): None}
    queue = deque([start])
    while queue and (limit is None or len(came_from) < limit):
        node = queue.popleft()
        for name, reached in moves(node):
            if key(reached) in came_from:
                continue
            came_from[key(reached)] = (key(node), name)
            if arrived(reached):
                return _walked_back(came_from, key(reached))
            if followed(reached):
                queue.append(reached)
    return None


def _walked_back(came_from: Mapping[Hashable, tuple[Hashable, str] | None], end: Hashable) -> list[str]:
    walk = []
    while (link := came_from[end]) is not None:
        end, name = link
        walk.append(name)
    return walk[::-1]
