"""The timeline's data: the lanes of many jobs in one answer (`GET /_capymock/history`,
`FakeApi.lanes`), so a page showing a thousand jobs asks once a poll for the lanes it shows.

A lane is a job's history (`world/history.py`) with its current fields and the armed faults
that would hit a read of it; the answer also says the time span of every matched lane (the
axis), how many jobs matched, and the projects, types and states to filter by.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from capymock.core.job import Job
from capymock.core.operations import Role
from capymock.core.spec import JOB, Spec
from capymock.core.timestamps import format_timestamp, parse_timestamp
from capymock.world.faults import ArmedFault
from capymock.world.world import World

LANES_LIMIT = 100
"""Lanes an answer holds unless it asks for `limit`."""
MAX_LANES = 1000
"""The most lanes one answer holds (each carries its job's history)."""


@dataclass(frozen=True)
class LaneFilter:
    """Which jobs' lanes to answer: by project, type and current state (None: any), a page of
    them (`offset`, `limit`) in the mock's order, newest first."""

    project: str | None = None
    type: str | None = None
    state: str | None = None
    offset: int = 0
    limit: int = LANES_LIMIT

    def keeps(self, job: Mapping[str, Any], state_field: str) -> bool:
        return (
            (self.project is None or job.get(JOB.project) == self.project)
            and (self.type is None or job.get(JOB.type) == self.type)
            and (self.state is None or job.get(state_field) == self.state)
        )


def lanes(world: World, spec: Spec, wanted: LaneFilter) -> dict[str, Any]:
    """The lanes `wanted` names, as of one moment of `world`, with the axis and the filters'
    choices: `{"now", "scenario", "start", "end", "total", "offset", "limit", "projects", "types",
    "states", "state_field", "faults", "lanes"}`; each lane `{"job_id", "job", "changes", "reads",
    "to_come", "faults"}` (`faults`: indexes into the answer's `faults`). A job its script
    creates later has a lane too, its `job` the fields the script gives (state None)."""
    field = spec.lifecycle.field
    with world.timeline.lock:  # one moment: no step fires while the lanes are read
        now = world.clock.now()
        world.timeline.settle(now)
        # Jobs a script creates later come first (they are the newest), with the fields it gives.
        unborn = sorted(
            (
                {**track.job.fields, field: None}
                for track in world.timeline.snapshot().values()
                if not track.created
            ),
            key=lambda fields: str(fields[JOB.id]),
        )
        every: list[Mapping[str, Any]] = [
            *unborn,
            *sorted(world.store.jobs(), key=lambda job: job.sort_key, reverse=True),
        ]
        matched = [job for job in every if wanted.keeps(job, field)]
        page = matched[wanted.offset : wanted.offset + wanted.limit]
        scripts = {_id(job): world.timeline.script(_id(job)) for job in matched}
    armed = world.faults.snapshot()
    ids = set(scripts)
    start, end = now, now
    for change in world.history.snapshot():
        if change.job.id in ids:
            start, end = min(start, change.at), max(end, change.at)
    for rows in scripts.values():
        for row in rows:
            if "due_at" in row:
                end = max(end, parse_timestamp(row["due_at"]))
    histories = world.history.of_many([_id(job) for job in page], field)
    return {
        "now": format_timestamp(now),
        "scenario": world.scenario,
        "start": format_timestamp(start),
        "end": format_timestamp(end),
        "total": len(matched),
        "offset": wanted.offset,
        "limit": wanted.limit,
        "projects": sorted({str(job.get(JOB.project)) for job in every}),
        "types": sorted({str(job.get(JOB.type)) for job in every if job.get(JOB.type) is not None}),
        "states": list(spec.lifecycle.states),
        "state_field": field,
        "faults": [fault.describe() for fault in armed],
        "lanes": [
            {
                **histories[_id(job)].to_dict(),
                "to_come": scripts[_id(job)],
                "job": dict(job),
                "faults": _hitting(job, armed, spec) if isinstance(job, Job) else [],
            }
            for job in page
        ],
    }


def _id(job: Mapping[str, Any]) -> str:
    return str(job[JOB.id])


def _hitting(job: Job, armed: tuple[ArmedFault, ...], spec: Spec) -> list[int]:
    """The indexes of the faults in `armed` that a read of `job` would meet: a read or a list of
    the spec whose path, filled in with the job's fields, the fault matches."""
    values: Mapping[str, str] = {name: str(value) for name, value in job.to_dict().items()}
    reads = [op for op in spec.operations if op.role in (Role.READS, Role.LISTS)]
    hits = []
    for index, fault in enumerate(armed):
        query = {name: [value] for name, value in fault.fault.query.items()}
        if any(fault.matches(op.method, op.fill_fields(values), op.operation_id, query) for op in reads):
            hits.append(index)
    return hits
