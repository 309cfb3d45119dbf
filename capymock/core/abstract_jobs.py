"""The abstract jobs that walks of a lifecycle reach: the finite graph the reachability oracle
(`core/reachability.py`) explores.

An abstract job is a job's state, each counter as one of "zero", "below its maximum" or "at its
maximum" (judged against the job's own maximum), the derived fields that are set, and the
timestamps set as levels of a weak order (fields set by one effect of one move share a level
and a time; a later effect's fields sit above, never earlier). Counters up to `EXACT` are
counted exactly. The graph is finite, so it is explored whole, once for each maximum and count
seen.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field

from capymock.core.lifecycle import Effect, Lifecycle

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


def classify(value: int, maximum: int | None) -> str:
    """A counter's class: "top" at its maximum, else "zero" or "below"."""
    if maximum is not None and value == maximum:
        return TOP
    return ZERO if value == 0 else BELOW


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
        return tuple(0 if self.caps is not None else classify(0, m) for m in self.maxima)

    def of(self, counts: tuple[int, ...], maxima: tuple[int | None, ...]) -> tuple[Count, ...]:
        """The counts as this graph counts them: exactly, or by class against the job's own
        `maxima` (a graph counting by class holds them only up to 3)."""
        if self.caps is not None:
            return counts
        return tuple(classify(c, m) for c, m in zip(counts, maxima, strict=True))

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


def reached(model: Model, counting: Counting) -> Graph | None:
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
