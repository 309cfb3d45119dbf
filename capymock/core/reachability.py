"""Which jobs the lifecycle can produce: a reachability oracle computed from `x-lifecycle` alone.

A deployment promises that every job it shows is one some walk of its lifecycle produces: a
job created in `initial`, moved by legal transitions (each applying its `on_enter` and the
`on_change` effects), and changed in between (each change applying `on_change`), at times that
never go back. `Oracle.explain(job)` decides whether such a walk ends in the job's state, with
its counters, the nullness of every derived field and the order of its timestamps, and if not,
says why in one sentence. `Oracle.join(before, after)` decides whether legal moves lead from
one observation of a job to a later one, and names the first impossible step.

The walks are explored on an abstract job: its state, each counter as one of "zero", "below
its maximum" or "at its maximum" (judged against the job's own maximum), the derived fields
that are set, and the timestamps set as levels of a weak order (fields set by one effect of one
move share a level and a time; a later effect's fields sit above, never earlier). Counters up
to `EXACT` are counted exactly. The graph is finite, so it is explored whole, once for each
maximum and count seen.
"""

from __future__ import annotations

import functools
import math
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from capymock.core.lifecycle import Effect, Lifecycle
from capymock.core.spec import JOB, Spec
from capymock.core.timestamps import aware_timestamp

ZERO, BELOW, TOP = "zero", "below", "top"
Levels = tuple[frozenset[str], ...]
"""Timestamp fields set, oldest level first: fields of one level were set by one effect."""


Count = int | str
"""A counter's value, counted exactly, or its class ("zero", "below", "top")."""
EXACT = 64
"""Counters up to this are counted exactly; past it, by class (which may explain a job that no
walk produces, but never refuses one that a walk does)."""


@dataclass(frozen=True)
class Node:
    """An abstract job: state, counters (in `Model.counters` order), set fields, timestamp levels."""

    state: str
    counters: tuple[Count, ...]
    set_fields: frozenset[str]
    levels: Levels


@dataclass(frozen=True)
class Verdict:
    """Whether a walk explains what was seen; if not, why (and the field at fault)."""

    explained: bool
    reason: str = ""
    field: str = ""
    walk: tuple[str, ...] = ()
    """The states of a shortest walk that explains it, from the initial state."""


@dataclass(frozen=True)
class Model:
    """What the oracle reads from a lifecycle: counters, their maxima, derived and timestamp fields."""

    lifecycle: Lifecycle
    created: str
    counters: tuple[str, ...]
    maxima: Mapping[str, str]
    derived: frozenset[str]
    stamps: frozenset[str]
    minima: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def of(cls, lifecycle: Lifecycle, created: str) -> Model:
        counters = tuple(dict.fromkeys(name for e in lifecycle.effects for name in e.increment))
        bounds = {b.field: b for b in lifecycle.invariants.bounded}
        maxima = {c: bounds[c].maximum_field for c in counters if c in bounds}
        if lifecycle.retry.counter in counters:
            maxima.setdefault(lifecycle.retry.counter, lifecycle.retry.limit)
        stamps = lifecycle.stamped | {created}
        derived = lifecycle.derived - set(counters)
        minima = {c: bounds[c].minimum for c in counters if c in bounds}
        return cls(lifecycle, created, counters, maxima, derived | stamps, stamps, minima)


class Oracle:
    """Decides whether jobs, and pairs of reads of one job, are explained by the lifecycle."""

    def __init__(self, lifecycle: Lifecycle, created: str, fixed: tuple[str, ...] = ()) -> None:
        self.model = Model.of(lifecycle, created)
        self._graphs: dict[Counting, Graph | None] = {}
        self.fixed = fixed
        """Fields no move changes (id, project, organization, created_at)."""

    # -- one job -------------------------------------------------------------------------

    def explain(self, job: Mapping[str, Any]) -> Verdict:
        """Whether some walk produces `job`; what is not a job, or a field of the wrong type, is
        the schema's to report, so it is explained here."""
        seen = _Seen.of(self.model, job)
        if seen is None:
            return Verdict(True)
        if seen.counter_classes(self.model) is None:
            return _out_of_bounds(self.model, seen)
        counting = Counting.fit(seen.maxima, tuple(seen.counts[c] for c in self.model.counters))
        graph = self.graph(counting)
        if graph is None:
            return Verdict(True)
        return _judge(self.model, graph, seen, counting)

    def graph(self, counting: Counting) -> Graph | None:
        """The abstract jobs walks reach, counting as `counting` says (each graph built once)."""
        if counting not in self._graphs:
            if len(self._graphs) >= 256:
                self._graphs.clear()
            self._graphs[counting] = _graph(self.model, counting)
        return self._graphs[counting]

    # -- two reads of one job ------------------------------------------------------------

    def join(self, before: Mapping[str, Any], after: Mapping[str, Any]) -> Verdict:
        """Whether legal moves (or none) lead from `before` to the later read `after`."""
        for name in self.fixed:
            if before.get(name) != after.get(name):
                return Verdict(
                    False,
                    f"{name} changed from {before.get(name)!r} to {after.get(name)!r}: it never changes",
                    name,
                )
        first, last = _Seen.of(self.model, before), _Seen.of(self.model, after)
        if first is None or last is None or first.maxima != last.maxima:
            return Verdict(True)  # a maximum that changed is the schema's or another check's
        return _join(self.model, first, last, before, after)


# -- what a job shows ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Seen:
    state: str
    counts: Mapping[str, int]
    maxima: tuple[int | None, ...]
    set_fields: frozenset[str]
    moments: Mapping[str, datetime]
    raw: Mapping[str, Any]

    @classmethod
    def of(cls, model: Model, job: Mapping[str, Any]) -> _Seen | None:
        lifecycle = model.lifecycle
        state = job.get(lifecycle.field) if isinstance(job, Mapping) else None
        if state not in lifecycle.states:
            return None
        counts, maxima = {}, []
        for counter in model.counters:
            value = _as_int(job.get(counter))
            limit = _as_int(job.get(model.maxima[counter])) if counter in model.maxima else None
            if value is None or (counter in model.maxima and limit is None):
                return None
            counts[counter] = value
            maxima.append(limit)
        moments = {}
        for name in model.stamps:
            if job.get(name) is None:
                continue
            moment = aware_timestamp(job.get(name))
            if moment is None:
                return None
            moments[name] = moment
        set_fields = frozenset(name for name in model.derived if job.get(name) is not None)
        return cls(state, counts, tuple(maxima), set_fields, moments, job)

    def counter_classes(self, model: Model) -> tuple[str, ...] | None:
        """Each counter's class, or None when one is outside its bounds."""
        found = []
        for counter, maximum in zip(model.counters, self.maxima, strict=True):
            value = self.counts[counter]
            if value < model.minima.get(counter, 0) or (maximum is not None and value > maximum):
                return None
            found.append(_classify(value, maximum))
        return tuple(found)


def _classify(value: int, maximum: int | None) -> str:
    if maximum is not None and value == maximum:
        return TOP
    return ZERO if value == 0 else BELOW


def _as_int(value: Any) -> int | None:
    """`value` as a whole number, if it is one (JSON may write 3 as 3.0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None


# -- the abstract graph -------------------------------------------------------------------

MAX_NODES = 20_000
Graph = dict[Node, Node | None]
"""Each abstract job reached, and the one it was reached from (None: the job as created)."""


@dataclass(frozen=True)
class Counting:
    """How a graph counts: exactly, up to the counts of the job judged (`caps`), or by class."""

    maxima: tuple[int | None, ...]
    caps: tuple[int, ...] | None = None

    @classmethod
    def fit(cls, maxima: tuple[int | None, ...], counts: tuple[int, ...]) -> Counting:
        """Exact counting for counts up to `EXACT`, else classes (the same graph for every
        maximum from 3 on)."""
        if all(count <= EXACT for count in counts):
            return cls(maxima, counts)
        return cls(tuple(None if m is None else min(m, 3) for m in maxima))

    def start(self) -> tuple[Count, ...]:
        return tuple(0 if self.caps is not None else _classify(0, m) for m in self.maxima)

    def of(self, counts: tuple[int, ...], maxima: tuple[int | None, ...]) -> tuple[Count, ...]:
        """The counts as this graph counts them: exactly, or by class against the job's own
        `maxima` (a graph counting by class holds them only up to 3)."""
        if self.caps is not None:
            return counts
        return tuple(_classify(c, m) for c, m in zip(counts, maxima, strict=True))

    def more(self, index: int, value: Count) -> tuple[Count, ...]:
        """The values a counter may have one count later (none past its maximum or cap)."""
        maximum = self.maxima[index]
        if self.caps is None:
            return _incremented(str(value), maximum)
        after = int(value) + 1
        return (after,) if after <= self.caps[index] and (maximum is None or after <= maximum) else ()

    def below(self, index: int, value: Count) -> bool:
        """Whether the counter is below its maximum."""
        maximum = self.maxima[index]
        if self.caps is None:
            return value != TOP
        return maximum is None or int(value) < maximum


def _graph(model: Model, counting: Counting) -> Graph | None:
    """Every abstract job some walk reaches, with the node and state it was reached from (a
    change without a move is reached from its node with the state unchanged); None if the
    graph is larger than `MAX_NODES` (the oracle then cannot tell, and says nothing)."""
    parents: Graph = {}
    queue: deque[tuple[Node, Node | None]] = deque((start, None) for start in _created(model, counting))
    while queue:
        node, parent = queue.popleft()
        if node in parents:
            continue
        if len(parents) >= MAX_NODES:
            return None
        parents[node] = parent
        queue.extend((nxt, node) for nxt in _moves(model, counting, node) if nxt not in parents)
    return parents


def _created(model: Model, counting: Counting) -> list[Node]:
    """The job as created: in the initial state, its counters at zero, its creation time set."""
    lifecycle = model.lifecycle
    stamp = frozenset({model.created})
    node = Node(lifecycle.initial, counting.start(), stamp, (stamp,))
    entered = _apply(node, lifecycle.on_enter.get(lifecycle.initial, Effect()), model, counting)
    return [done for one in entered for done in _apply(one, lifecycle.on_change, model, counting)]


def _moves(model: Model, counting: Counting, node: Node) -> list[Node]:
    """The abstract jobs one step after `node`: a change without a move, or a legal move."""
    lifecycle = model.lifecycle
    found = _apply(node, lifecycle.on_change, model, counting)
    retry = lifecycle.retry
    for target in lifecycle.transitions.get(node.state, ()):
        if target == retry.to and retry.counter in model.counters:
            index = model.counters.index(retry.counter)
            if not counting.below(index, node.counters[index]):
                continue
        there = Node(target, node.counters, node.set_fields, node.levels)
        for entered in _apply(there, lifecycle.on_enter.get(target, Effect()), model, counting):
            found += _apply(entered, lifecycle.on_change, model, counting)
    return found


def _apply(node: Node, effect: Effect, model: Model, counting: Counting) -> list[Node]:
    """`node` after `effect`: one job for each class its counters may reach (none when one would
    pass its maximum)."""
    choices: list[tuple[Count, ...]] = [node.counters]
    for counter in effect.increment:
        index = model.counters.index(counter)
        choices = [
            (*c[:index], moved, *c[index + 1 :]) for c in choices for moved in counting.more(index, c[index])
        ]
    cleared = set(effect.clear) | set(effect.now)
    levels = tuple(level - cleared for level in node.levels)
    if effect.now:
        levels = (*levels, frozenset(effect.now))
    levels = tuple(level for level in levels if level)
    set_fields = frozenset((node.set_fields - set(effect.clear)) | set(effect.default) | set(effect.now))
    return [Node(node.state, counters, set_fields, levels) for counters in choices]


def _incremented(cls: str, maximum: int | None) -> tuple[str, ...]:
    """The classes a counter may be in one count later: "below" a maximum of 3 or more may stay
    below it or reach it; nothing goes past it."""
    if cls == TOP:
        return ()
    if maximum is None:
        return (BELOW,)
    if cls == ZERO:
        return (TOP,) if maximum == 1 else (BELOW,) if maximum >= 2 else ()
    return (TOP, BELOW) if maximum >= 3 else (TOP,)


# -- judging one job ----------------------------------------------------------------------


def _judge(model: Model, graph: Graph, seen: _Seen, counting: Counting) -> Verdict:
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


def _out_of_bounds(model: Model, seen: _Seen) -> Verdict:
    for counter, maximum in zip(model.counters, seen.maxima, strict=True):
        value, low = seen.counts[counter], model.minima.get(counter, 0)
        if value < low or (maximum is not None and value > maximum):
            if maximum is None:
                return Verdict(False, f"{counter} must be at least {low}, got {value}", counter)
            bound = f"between {low} and {model.maxima[counter]} ({maximum})"
            return Verdict(False, f"{counter} must be {bound}, got {value}", counter)
    raise AssertionError("a counter out of bounds was not found")  # pragma: no cover


def _no_count(model: Model, graph: Mapping[Node, Any], seen: _Seen, target: tuple[Count, ...]) -> Verdict:
    lifecycle = model.lifecycle
    reached = {node.counters for node in graph if node.state == seen.state}
    for index, counter in enumerate(model.counters):
        if any(c[index] == target[index] for c in reached):
            continue
        value, maximum = seen.counts[counter], seen.maxima[index]
        limit = f" of {model.maxima[counter]} {maximum}" if maximum is not None else ""
        cls = _classify(value, maximum)
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


def _no_shape(model: Model, candidates: list[Node], seen: _Seen) -> Verdict:
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


def _no_order(lifecycle: Lifecycle, shaped: list[Node], seen: _Seen) -> Verdict:
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


# -- two reads ----------------------------------------------------------------------------


def _join(
    model: Model, first: _Seen, last: _Seen, before: Mapping[str, Any], after: Mapping[str, Any]
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


def _path(model: Model, first: _Seen, last: _Seen, changed: set[str]) -> tuple[str, ...] | None:
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


@functools.lru_cache(maxsize=8)
def oracle_for(spec: Spec) -> Oracle:
    """The oracle of `spec`'s lifecycle, built once (its graphs are kept as they are explored)."""
    fixed = (JOB.id, JOB.project, JOB.organization, JOB.created)
    return Oracle(spec.lifecycle, JOB.created, fixed)
