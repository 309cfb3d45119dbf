"""Judging one job: whether an abstract job of the graph (`core/abstract_jobs.py`) matches what
a job shows (its state, counters, the derived fields set, the order of its timestamps), and if
none does, the first of these that no walk produces, said in one sentence with the field at
fault."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from capymock.core.abstract_jobs import TOP, ZERO, Count, Counting, Graph, Levels, Model, Node, classify
from capymock.core.lifecycle import Lifecycle
from capymock.core.seen import Seen, Verdict


def judge(model: Model, graph: Graph, seen: Seen, counting: Counting) -> Verdict:
    lifecycle = model.lifecycle
    classes = counting.of(tuple(seen.counts[c] for c in model.counters), seen.maxima)
    candidates = [node for node in graph if node.state == seen.state and node.counters == classes]
    if not candidates:
        return _no_count(model, graph, seen, classes)
    shaped = [node for node in candidates if node.set_fields == seen.set_fields & model.derived]
    if not shaped:
        return _no_shape(model, candidates, seen)
    for node in shaped:
        if _ordered(node.levels, seen.moments) is None:
            return Verdict(True, walk=_walk(graph, node))
    return _no_order(lifecycle, shaped, seen)


def out_of_bounds(model: Model, seen: Seen) -> Verdict:
    for counter, maximum in zip(model.counters, seen.maxima, strict=True):
        value, low = seen.counts[counter], model.minima.get(counter, 0)
        if value < low or (maximum is not None and value > maximum):
            if maximum is None:
                return Verdict(False, f"{counter} must be at least {low}, got {value}", counter)
            bound = f"between {low} and {model.maxima[counter]} ({maximum})"
            return Verdict(False, f"{counter} must be {bound}, got {value}", counter)
    raise AssertionError("a counter out of bounds was not found")  # pragma: no cover


def _no_count(model: Model, graph: Mapping[Node, Any], seen: Seen, target: tuple[Count, ...]) -> Verdict:
    lifecycle = model.lifecycle
    reached = {node.counters for node in graph if node.state == seen.state}
    for index, counter in enumerate(model.counters):
        if any(c[index] == target[index] for c in reached):
            continue
        value, maximum = seen.counts[counter], seen.maxima[index]
        limit = f" of {model.maxima[counter]} {maximum}" if maximum is not None else ""
        cls = classify(value, maximum)
        counting = sorted(s for s, e in lifecycle.on_enter.items() if counter in e.increment)
        if cls == ZERO:
            why = f"every walk to {seen.state} enters {' or '.join(counting)}, which adds 1 to {counter}"
        elif seen.state == lifecycle.retry.to and cls == TOP:
            retry = lifecycle.retry
            why = f"the only way back to {seen.state} is a retry, legal while {retry.counter} < {retry.limit}"
        else:
            most = max((c[index] for c in reached if isinstance(c[index], int)), default=None)
            why = f"no walk reaches {seen.state} with {counter} {value}" + (
                f" (at most {most})" if most is not None else ""
            )
        return Verdict(False, f"{seen.state} with {counter} {value}{limit}: {why}", counter)
    shown = " and ".join(f"{c} {seen.counts[c]}" for c in model.counters)
    return Verdict(False, f"no walk reaches {seen.state} with {shown} together", model.counters[0])


def _no_shape(model: Model, candidates: list[Node], seen: Seen) -> Verdict:
    lifecycle = model.lifecycle
    for name in sorted(model.derived):
        shown = name in seen.set_fields
        if any((name in node.set_fields) == shown for node in candidates):
            continue
        setters = sorted(s for s, e in lifecycle.on_enter.items() if name in (*e.now, *e.default))
        clearers = sorted(s for s, e in lifecycle.on_enter.items() if name in e.clear)
        how = []
        if setters:
            how.append(f"entering {' or '.join(setters)} sets it")
        if clearers:
            how.append(f"entering {' or '.join(clearers)} clears it")
        because = f": {'; '.join(how)}" if how else ""
        if shown:
            return Verdict(False, f"{name} must be null in state {seen.state!r}{because}", name)
        return Verdict(False, f"{name} must be set in state {seen.state!r}{because}", name)
    return Verdict(False, f"no walk to {seen.state} leaves these fields set", "")


def _ordered(levels: Levels, moments: Mapping[str, datetime]) -> tuple[str, str] | None:
    """The first pair of fields whose times break the levels (one level: the same time; a later
    level: never earlier), as (the one set first, the other); None when none does."""
    previous: tuple[str, datetime] | None = None
    for level in levels:
        present = sorted((moments[name], name) for name in level if name in moments)
        if not present:
            continue
        if present[0][0] != present[-1][0]:
            return present[0][1], present[-1][1]
        if previous is not None and present[0][0] < previous[1]:
            return previous[0], present[0][1]
        previous = (present[0][1], present[0][0])
    return None


def _no_order(lifecycle: Lifecycle, shaped: list[Node], seen: Seen) -> Verdict:
    earlier, later = _ordered(shaped[0].levels, seen.moments) or ("", "")
    raw = seen.raw
    if any({earlier, later} <= level for level in shaped[0].levels):
        return Verdict(
            False,
            f"{earlier} ({raw.get(earlier)}) and {later} ({raw.get(later)}) are set by one move, at one time",
            later,
        )
    setter = "every change" if later in lifecycle.on_change.now else "the move that sets it"
    return Verdict(
        False,
        f"{later} ({raw.get(later)}) is before {earlier} ({raw.get(earlier)}): in every walk to "
        f"{seen.state!r}, {setter} comes after {earlier} is set",
        later,
    )


def _walk(graph: Graph, node: Node) -> tuple[str, ...]:
    """The states of the walk that reached `node`, from the initial state (changes left out)."""
    states: list[str] = []
    current: Node | None = node
    while current is not None:
        parent = graph[current]
        if parent is None or parent.state != current.state:
            states.append(current.state)
        current = parent
    return tuple(reversed(states))
