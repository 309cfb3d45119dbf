"""A job as the reachability oracle reads it (`Seen`: its state, counters, maxima, the derived
fields set and the moments of its timestamps), and the oracle's answer about it (`Verdict`)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from capymock.core.abstract_jobs import Model, classify
from capymock.core.timestamps import aware_timestamp


@dataclass(frozen=True)
class Verdict:
    """Whether a walk explains what was seen; if not, why (and the field at fault)."""

    explained: bool
    reason: str = ""
    field: str = ""
    walk: tuple[str, ...] = ()
    """The states of a shortest walk that explains it, from the initial state."""


@dataclass(frozen=True)
class Seen:
    """What the oracle reads from a job; `Seen.of` is None for what is not one it can judge (the
    schema's to report)."""

    state: str
    counts: Mapping[str, int]
    maxima: tuple[int | None, ...]
    set_fields: frozenset[str]
    moments: Mapping[str, datetime]
    raw: Mapping[str, Any]

    @classmethod
    def of(cls, model: Model, job: Mapping[str, Any]) -> Seen | None:
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
            found.append(classify(value, maximum))
        return tuple(found)


def _as_int(value: Any) -> int | None:
    """`value` as a whole number, if it is one (JSON may write 3 as 3.0)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and math.isfinite(value) and value.is_integer():
        return int(value)
    return None
