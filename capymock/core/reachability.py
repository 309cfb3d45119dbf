"""Which jobs the lifecycle can produce: a reachability oracle computed from `x-lifecycle` alone.

A deployment promises that every job it shows is one some walk of its lifecycle produces: a
job created in `initial`, moved by legal transitions (each applying its `on_enter` and the
`on_change` effects), and changed in between (each change applying `on_change`), at times that
never go back. `Oracle.explain(job)` decides whether such a walk ends in the job's state, with
its counters, the nullness of every derived field and the order of its timestamps, and if not,
says why in one sentence. `Oracle.join(before, after)` decides whether legal moves lead from
one observation of a job to a later one, and names the first impossible step.

The oracle is this module's; its parts are below it: the abstract jobs walks reach and their
graph (`core/abstract_jobs.py`), a job as the oracle reads it and its `Verdict`
(`core/seen.py`), judging one job (`core/explaining.py`) and joining two reads
(`core/joining.py`). Their public names are importable from here too.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from typing import Any

from capymock.core import explaining, joining
from capymock.core.abstract_jobs import (
    BELOW,
    EXACT,
    MAX_NODES,
    TOP,
    ZERO,
    Count,
    Counting,
    Graph,
    Levels,
    Model,
    Node,
    reached,
)
from capymock.core.lifecycle import Lifecycle
from capymock.core.seen import Seen, Verdict
from capymock.core.spec import JOB, Spec

__all__ = [
    "BELOW",
    "EXACT",
    "MAX_NODES",
    "TOP",
    "ZERO",
    "Count",
    "Counting",
    "Graph",
    "Levels",
    "Model",
    "Node",
    "Oracle",
    "Verdict",
    "oracle_for",
]


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
        seen = Seen.of(self.model, job)
        if seen is None:
            return Verdict(True)
        if seen.counter_classes(self.model) is None:
            return explaining.out_of_bounds(self.model, seen)
        counting = Counting.fit(seen.maxima, tuple(seen.counts[c] for c in self.model.counters))
        graph = self.graph(counting)
        if graph is None:
            return Verdict(True)
        return explaining.judge(self.model, graph, seen, counting)

    def graph(self, counting: Counting) -> Graph | None:
        """The abstract jobs walks reach, counting as `counting` says (each graph built once)."""
        if counting not in self._graphs:
            if len(self._graphs) >= 256:
                self._graphs.clear()
            self._graphs[counting] = reached(self.model, counting)
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
        first, last = Seen.of(self.model, before), Seen.of(self.model, after)
        if first is None or last is None or first.maxima != last.maxima:
            return Verdict(True)  # a maximum that changed is the schema's or another check's
        return joining.join(self.model, first, last, before, after)


@functools.lru_cache(maxsize=8)
def oracle_for(spec: Spec) -> Oracle:
    """The oracle of `spec`'s lifecycle, built once (its graphs are kept as they are explored)."""
    fixed = (JOB.id, JOB.project, JOB.organization, JOB.created)
    return Oracle(spec.lifecycle, JOB.created, fixed)
