"""What happened to each job of a world: every change, with its time on the world's clock and
its cause, and the API's reads of it, both bounded (the oldest go first).

A test asks `mock.history("job_1").reads_in("running")` to know whether the app polled while
the job was running; the dashboard's timeline draws the same data.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from capymock.core.job import Job
from capymock.core.timestamps import format_timestamp, parse_timestamp

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
    state: str | None = None
    """The state the answer showed the job in."""

    def to_dict(self) -> dict[str, Any]:
        shown = {"state": self.state} if self.state is not None else {}
        return {"at": format_timestamp(self.at), "operation": self.operation, **shown}


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
        return sum(1 for read in self.reads if (read.state or self.state_at(read.at)) == state)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], state_field: str = "state") -> JobHistory:
        """A history as `to_dict` wrote it (a served mock's, read over HTTP)."""
        changes = tuple(
            Change(parse_timestamp(c["at"]), Job(c["job"]), c["cause"], c.get("from"))
            for c in data["changes"]
        )
        reads = tuple(Read(parse_timestamp(r["at"]), r["operation"], r.get("state")) for r in data["reads"])
        return cls(str(data["job_id"]), changes, reads, state_field, tuple(data.get("to_come", ())))

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

    def __init__(self, changes: Iterable[Change] = (), kept: int | None = MAX_CHANGES) -> None:
        self._changes: deque[Change] = deque(changes, maxlen=kept)
        self._reads: deque[tuple[datetime, str, Sequence[Job]]] = deque(maxlen=MAX_READS)

    def changed(self, job: Job, at: datetime, cause: str, before: Job | None, field: str) -> None:
        """Note that `job` is what a change (`cause`, at `at`) made of `before`."""
        self._changes.append(Change(at, job, cause, before[field] if before is not None else None))

    def read(self, at: datetime, operation: str, jobs: Sequence[Job]) -> None:
        """Note an API answer that showed `jobs`."""
        self._reads.append((at, operation, jobs))

    def snapshot(self) -> tuple[Change, ...]:
        return tuple(self._changes)

    def latest(self) -> tuple[Change, ...]:
        """The newest `MAX_CHANGES` changes by their time, oldest first (a load makes its jobs'
        pasts in the scenario's order, not in time's: the bound keeps the newest in time)."""
        return tuple(sorted(self._changes, key=lambda change: change.at)[-MAX_CHANGES:])

    def of(self, job_id: str, state_field: str) -> JobHistory:
        """`job_id`'s changes and reads, oldest first."""
        changes = tuple(change for change in list(self._changes) if change.job.id == job_id)
        reads = tuple(
            Read(at, operation, job[state_field])
            for at, operation, jobs in list(self._reads)
            for job in _first(jobs, job_id)
        )
        return JobHistory(job_id, changes, reads, state_field)

    def of_many(self, job_ids: Iterable[str], state_field: str) -> dict[str, JobHistory]:
        """The histories of `job_ids` (each as `of` gives it), in one pass over what is kept."""
        changes: dict[str, list[Change]] = {job_id: [] for job_id in job_ids}
        reads: dict[str, list[Read]] = {job_id: [] for job_id in changes}
        for change in list(self._changes):
            if change.job.id in changes:
                changes[change.job.id].append(change)
        for at, operation, jobs in list(self._reads):
            shown = {job.id: job for job in reversed(jobs) if job.id in reads}
            for job_id, job in shown.items():
                reads[job_id].append(Read(at, operation, job[state_field]))
        return {
            job_id: JobHistory(job_id, tuple(changes[job_id]), tuple(reads[job_id]), state_field)
            for job_id in changes
        }


def _first(jobs: Sequence[Job], job_id: str) -> tuple[Job, ...]:
    """The first of `jobs` that is `job_id`, if any (an answer shows a job at most once)."""
    return next(((job,) for job in jobs if job.id == job_id), ())
