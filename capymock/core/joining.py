"""Joining two reads of one job: whether legal moves of the lifecycle (or none) lead from the
earlier read to the later one, counting each counter exactly, re-setting every derived field
that changed and never moving time back; if not, the first impossible step, in one sentence."""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from typing import Any

from capymock.core.abstract_jobs import MAX_NODES, Model
from capymock.core.lifecycle import Effect
from capymock.core.seen import Seen, Verdict


def join(
    model: Model, first: Seen, last: Seen, before: Mapping[str, Any], after: Mapping[str, Any]
) -> Verdict:
    lifecycle = model.lifecycle
    for counter in model.counters:
        if last.counts[counter] < first.counts[counter]:
            return Verdict(
                False,
                f"{counter} went from {first.counts[counter]} to {last.counts[counter]}: it never decreases",
                counter,
            )
    changed = {name for name in model.derived if before.get(name) != after.get(name)}
    path = _path(model, first, last, changed)
    if path is None:
        moved = f"{first.state} to {last.state}"
        if first.state != last.state and not lifecycle.transitions.get(first.state):
            return Verdict(False, f"{moved}: {first.state} is terminal, never left", lifecycle.field)
        counted = ", ".join(f"{c} {first.counts[c]} -> {last.counts[c]}" for c in model.counters)
        fields = f", with {', '.join(sorted(changed))} changed" if changed else ""
        return Verdict(False, f"no legal path leads from {moved} ({counted}){fields}", lifecycle.field)
    last_change = max(first.moments.items(), key=lambda item: item[1], default=None)
    for name in sorted(changed & model.stamps):
        moment = last.moments.get(name)
        if moment is not None and last_change is not None and moment < last_change[1]:
            return Verdict(
                False,
                f"{name} was set to {after.get(name)} after the earlier read, which already showed "
                f"{last_change[0]} {before.get(last_change[0])}: time never goes back",
                name,
            )
    return Verdict(True, walk=path)


def _path(model: Model, first: Seen, last: Seen, changed: set[str]) -> tuple[str, ...] | None:
    """The states of a shortest walk from the first read to the last that re-sets every derived
    field that changed and leaves alone every one that did not (counted exactly), or None."""
    lifecycle = model.lifecycle
    gaps = [last.counts[c] - first.counts[c] for c in model.counters]
    if any(gap > 64 for gap in gaps):
        return (first.state, last.state)  # too many moves to search: nothing is claimed
    Key = tuple[str, tuple[int, ...], frozenset[str]]
    change = lifecycle.on_change  # any change applies it, with a move or without
    anytime = frozenset((*change.now, *change.clear, *change.default))
    start: Key = (first.state, tuple(first.counts[c] for c in model.counters), anytime)
    goal_counts = tuple(last.counts[c] for c in model.counters)
    parents: dict[Key, Key | None] = {start: None}
    queue = deque([start])
    while queue:
        key = queue.popleft()
        state, counts, touched = key
        if state == last.state and counts == goal_counts and changed <= touched:
            return _states(parents, key)
        for target in lifecycle.transitions.get(state, ()):
            retry = lifecycle.retry
            index = model.counters.index(retry.counter) if retry.counter in model.counters else None
            if target == retry.to and index is not None:
                limit = first.maxima[index]
                if limit is not None and counts[index] >= limit:
                    continue
            effect = lifecycle.on_enter.get(target, Effect())
            moved = list(counts)
            for counter in effect.increment:
                moved[model.counters.index(counter)] += 1
            if any(m > g for m, g in zip(moved, goal_counts, strict=True)):
                continue
            marks = touched | set(effect.now) | set(effect.clear) | set(effect.default)
            nxt: Key = (target, tuple(moved), frozenset(marks))
            if nxt not in parents and len(parents) < MAX_NODES:
                parents[nxt] = key
                queue.append(nxt)
    return None


def _states(parents: Mapping[Any, Any], key: Any) -> tuple[str, ...]:
    states = []
    while key is not None:
        states.append(key[0])
        key = parents[key]
    return tuple(reversed(states))
