"""What happened to each job of a world: every change, with its time on the world's clock and
its cause, and the API's reads of it, both bounded (the oldest go first).

A test asks `mock.history("job_1").reads_in("running")` to know whether the app polled while
the job was running; the dashboard's timeline draws the same data.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from capymock.core.job import Job
from capymock.core.timestamps import format_timestamp

MAX_CHANGES = 10_000
"""Changes a world keeps, of all its jobs together (scripts, loads and the control API make
them; a stranger's requests to the API change nothing)."""
MAX_READS = 1_000
"""API answers that showed jobs a world keeps, the latest (a list of 25 jobs is one): any page
can send reads, so they stay few per world, about 100 KB a session at most."""


class Cause:
    """Why a job changed."""

    SCENARIO = "scenario"
    """Created by a load (and moved by its steps before the start)."""
    STEP = "step"
    """A scripted step, due as the clock ran."""
    ADVANCE = "advance"
    """A scripted step `advance` fired."""
    READS = "reads"
    """A scripted step that waited for reads (`after_polls`), fired by a read."""
    ADDED = "added"
    """`add_job` (the handle, `POST /_capymock/jobs`, the dashboard)."""
    SET = "set"
    """`set_state` (the handle, `PATCH /_capymock/jobs/{id}`, the dashboard)."""
    API = "api"
    """An API operation that changes a job."""


@dataclass(frozen=True)
class Change:
    """A job as a change left it, when, why, and the state it left (None: it was created)."""

    at: datetime
    job: Job
    cause: str
    before: str | None = None

    def to_dict(self, field: str) -> dict[str, Any]:
        return {
            "at": format_timestamp(self.at),
            "state": self.job[field],
            "from": self.before,
            "cause": self.cause,
            "job": self.job.to_dict(),
        }


@dataclass(frozen=True)
class Read:
    """An API answer that showed the job: when, and by which operation."""

    at: datetime
    operation: str

    def to_dict(self) -> dict[str, Any]:
        return {"at": format_timestamp(self.at), "operation": self.operation}


@dataclass(frozen=True)
class JobHistory:
    """One job's changes and reads, oldest first (`History.of`)."""

    job_id: str
    changes: tuple[Change, ...]
    reads: tuple[Read, ...]
    state_field: str = "state"
    to_come: tuple[dict[str, Any], ...] = ()
    """The scripted steps still to come (`Timeline.script`), next first."""

    def state_at(self, moment: datetime) -> str | None:
        """The job's state at `moment` (None: it did not exist yet)."""
        state = None
        for change in self.changes:
            if change.at > moment:
                break
            state = change.job[self.state_field]
        return state

    def reads_in(self, state: str) -> int:
        """How many reads saw the job in `state` (each read counts the state it was in then)."""
        return sum(1 for read in self.reads if self.state_at(read.at) == state)

    def to_dict(self) -> dict[str, Any]:
        return {
            "job_id": self.job_id,
            "changes": [change.to_dict(self.state_field) for change in self.changes],
            "reads": [read.to_dict() for read in self.reads],
            "to_come": list(self.to_come),
        }


class History:
    """The changes and reads of one world, each bounded; appends take no lock (a deque's are
    atomic), so reading the API stays as fast as it was."""

    def __init__(self, changes: Iterable[Change] = ()) -> None:
        self._changes: deque[Change] = deque(changes, maxlen=MAX_CHANGES)
        self._reads: deque[tuple[datetime, str, Sequence[Job]]] = deque(maxlen=MAX_READS)

    def changed(self, job: Job, at: datetime, cause: str, before: Job | None, field: str) -> None:
        """Note that `job` is what a change (`cause`, at `at`) made of `before`."""
        self._changes.append(Change(at, job, cause, before[field] if before is not None else None))

    def read(self, at: datetime, operation: str, jobs: Sequence[Job]) -> None:
        """Note an API answer that showed `jobs`."""
        self._reads.append((at, operation, jobs))

    def snapshot(self) -> tuple[Change, ...]:
        return tuple(self._changes)

    def of(self, job_id: str, state_field: str) -> JobHistory:
        """`job_id`'s changes and reads, oldest first."""
        changes = tuple(change for change in list(self._changes) if change.job.id == job_id)
        reads = tuple(
            Read(at, operation)
            for at, operation, jobs in list(self._reads)
            if any(j.id == job_id for j in jobs)
        )
        return JobHistory(job_id, changes, reads, state_field)
