"""When a recorded job did what it did, in seconds from the deployment's time when recording
began, read from the deployment's own timestamps (the local time of a read where it shows none)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from capymock.core.lifecycle import Effect, Lifecycle
from capymock.core.spec import JOB
from capymock.core.timestamps import aware_timestamp
from capymock.record.observations import Recording, Sighting


def reference_time(recording: Recording) -> datetime | None:
    """The deployment's time when the recording began: the latest `updated_at` of the first sightings."""
    moments = [aware_timestamp(s[0].job.get(JOB.updated)) for s in recording.jobs.values() if s]
    known = [m for m in moments if m is not None]
    return max(known) if known else None


def placement(
    first: Mapping[str, Any], sighting: Sighting, reference: datetime | None
) -> tuple[float, float]:
    """(age, delay): how long before the recording began the job was created, or how long after."""
    moment = aware_timestamp(first.get(JOB.created))
    if reference is None or moment is None:
        return 0.0, sighting.seen
    offset = (moment - reference).total_seconds()
    return (max(0.0, -offset), 0.0) if offset <= 0 else (0.0, offset)


def when(sighting: Sighting, reference: datetime | None) -> float:
    """When the deployment last changed the job of `sighting`."""
    moment = aware_timestamp(sighting.job.get(JOB.updated))
    if reference is None or moment is None:
        return sighting.seen
    return (moment - reference).total_seconds()


def entered_at(
    path: list[str],
    shown: Mapping[str, Any],
    lifecycle: Lifecycle,
    reference: datetime | None,
    began: float,
    ended: float,
) -> list[float]:
    """When each state of `path` was entered: at the time its own stamp shows (`claimed_at`),
    where the job still shows it; else the last at `ended` (its last change), and a missed one
    evenly between its neighbours."""
    known: list[float | None] = [None] * len(path)
    for name in _stamps(lifecycle):
        index = _stamped_by(path, name, lifecycle)
        moment = _stamp(shown.get(name), reference)
        if index is not None and moment is not None and began <= moment <= ended and known[index] is None:
            known[index] = moment
    if known[-1] is None:
        known[-1] = ended
    return _spread(_in_order(known, began), began)


def _stamps(lifecycle: Lifecycle) -> list[str]:
    return list(dict.fromkeys(name for effect in lifecycle.on_enter.values() for name in effect.now))


def _stamped_by(path: list[str], name: str, lifecycle: Lifecycle) -> int | None:
    """The state of `path` whose entry stamps `name` last, if no later state stamps or clears it
    again."""
    for index in range(len(path) - 1, -1, -1):
        effect = lifecycle.on_enter.get(path[index], Effect())
        later = [lifecycle.on_enter.get(s, Effect()) for s in path[index + 1 :]]
        if name in effect.now and not any(name in (*e.now, *e.clear) for e in later):
            return index
    return None


def _stamp(value: Any, reference: datetime | None) -> float | None:
    moment = aware_timestamp(value)
    return (moment - reference).total_seconds() if reference is not None and moment is not None else None


def _in_order(known: list[float | None], began: float) -> list[float | None]:
    """`known` without the moments out of order (a stamp out of order says nothing)."""
    floor = began
    for index, moment in enumerate(known[:-1]):
        if moment is not None and moment >= floor:
            floor = moment
        else:
            known[index] = None
    return known


def _spread(known: list[float | None], began: float) -> list[float]:
    """Each unknown moment evenly between the known ones around it (the last is known)."""
    entered: list[float] = []
    previous, index = began, 0
    while index < len(known):
        end = next(i for i in range(index, len(known)) if known[i] is not None)
        anchor = known[end]
        assert anchor is not None
        count = end - index + 1
        entered += [previous + (anchor - previous) * (k + 1) / count for k in range(count)]
        previous, index = anchor, end + 1
    return entered
