"""Thread-safe in-memory jobs, indexed by id and by project in list order.

A list costs O(limit) however many jobs the store holds: each project keeps its jobs'
sort keys in ascending order, and a list reads the newest `limit` from the end. Readers
get immutable `Job` records, so nothing they hold changes under them.
"""

from __future__ import annotations

import bisect
import threading
from dataclasses import dataclass
from datetime import datetime

from capymock.core.job import Job
from capymock.core.spec import JOB


@dataclass(frozen=True)
class StoreSnapshot:
    """A frozen copy of the whole store, for `Store.restore()`."""

    projects: tuple[tuple[str, str], ...]
    jobs: tuple[Job, ...]


class _ProjectIndex:
    __slots__ = ("keys", "organization_id")

    def __init__(self, organization_id: str) -> None:
        self.organization_id = organization_id
        self.keys: list[tuple[datetime, str]] = []


class Store:
    """The mock's organizations, projects and jobs (empty, or as a snapshot left them)."""

    def __init__(self, snapshot: StoreSnapshot | None = None) -> None:
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._projects: dict[str, _ProjectIndex] = {}
        self.version = 0
        """Counts changes: whatever was read from the store at one version is still true at it."""
        if snapshot is not None:
            self._restore(snapshot)

    def add_project(self, project_id: str, organization_id: str) -> None:
        """Declare a project of an organization (a no-op if it exists)."""
        with self._lock:
            self._project(project_id, organization_id)

    def project_organization(self, project_id: str) -> str | None:
        """The organization owning `project_id`, or None if there is no such project."""
        index = self._projects.get(project_id)
        return index.organization_id if index is not None else None

    def projects(self) -> list[str]:
        """Every project id, in the order declared."""
        return list(self._projects)

    def put(self, job: Job) -> None:
        """Insert `job`, or replace the record with the same id."""
        key = job.sort_key  # computed first: a job that cannot be sorted is never half-stored
        with self._lock:
            index = self._project(job[JOB.project], job[JOB.organization])
            old = self._jobs.get(job.id)
            if old is not None:
                self._unindex(old)
            self._jobs[job.id] = job
            bisect.insort(index.keys, key)
            self.version += 1

    def get(self, job_id: str) -> Job | None:
        """The job with `job_id`, or None."""
        return self._jobs.get(job_id)

    def newest(self, project_id: str, limit: int | None) -> list[Job] | None:
        """Up to `limit` jobs of a project (None: all), newest first; None if there is no such project."""
        with self._lock:
            index = self._projects.get(project_id)
            if index is None:
                return None
            keys = index.keys if limit is None else index.keys[-limit:] if limit > 0 else []
            return [self._jobs[key[1]] for key in reversed(keys)]

    def jobs(self) -> list[Job]:
        """Every job, in no particular order."""
        with self._lock:
            return list(self._jobs.values())

    def __len__(self) -> int:
        return len(self._jobs)

    def snapshot(self) -> StoreSnapshot:
        """A frozen copy of everything, cheap to take and to restore."""
        with self._lock:
            projects = tuple((p, i.organization_id) for p, i in self._projects.items())
            return StoreSnapshot(projects, tuple(self._jobs.values()))

    def _restore(self, snapshot: StoreSnapshot) -> None:
        projects = {p: _ProjectIndex(org) for p, org in snapshot.projects}
        for job in snapshot.jobs:
            projects[job[JOB.project]].keys.append(job.sort_key)
        for index in projects.values():
            index.keys.sort()
        self._jobs, self._projects = {job.id: job for job in snapshot.jobs}, projects

    def _project(self, project_id: str, organization_id: str) -> _ProjectIndex:
        index = self._projects.get(project_id)
        if index is None:
            index = self._projects[project_id] = _ProjectIndex(organization_id)
            self.version += 1
        elif index.organization_id != organization_id:
            raise ValueError(
                f"project {project_id!r} belongs to {index.organization_id!r}, not {organization_id!r}"
            )
        return index

    def _unindex(self, job: Job) -> None:
        keys = self._projects[job[JOB.project]].keys
        position = bisect.bisect_left(keys, job.sort_key)
        if position < len(keys) and keys[position] == job.sort_key:
            del keys[position]
