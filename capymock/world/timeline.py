"""Scripted steps at run time: which come next for each job, and firing them as the clock
moves or as jobs are read.

A time step fires at the moment it was due, even when the clock jumps past several at once;
an `after_polls: N` step fires right after the N-th read since the step before it.
"""

from __future__ import annotations

import heapq
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from capymock.core.clock import Clock, within_range
from capymock.core.job import Job, compose_job
from capymock.core.spec import Spec
from capymock.core.store import Store
from capymock.core.timestamps import format_timestamp
from capymock.core.transitions import transition
from capymock.scenario.model import ScriptedJob, Step
from capymock.world.history import Cause, History


@dataclass(frozen=True)
class Track:
    """The rest of one job's script."""

    job: ScriptedJob
    steps: tuple[Step, ...]
    """Steps still to fire, next first. Until the job exists, the first is its creation."""
    since: datetime
    """When the previous step fired (or the scenario started)."""
    reads: int = 0
    created: bool = True

    @property
    def due(self) -> datetime | None:
        """When the next step fires by time; None if it waits for reads, or nothing is left."""
        if not self.steps or self.steps[0].after_polls is not None:
            return None
        return self.since + (self.steps[0].after or timedelta(0))


@dataclass(frozen=True)
class Fired:
    """A step that fired: which job, into which state, at what time."""

    job_id: str
    state: str
    at: str

    def to_dict(self) -> dict[str, str]:
        return {"job_id": self.job_id, "state": self.state, "at": self.at}


class Timeline:
    """Moves scripted jobs along their steps, in one store by one clock. Thread-safe.

    `lock` is held while steps fire; hold it too to read the store and the clock as one.
    """

    def __init__(
        self,
        spec: Spec,
        store: Store,
        clock: Clock,
        on_error: Callable[[str], None],
        tracks: Mapping[str, Track] | None = None,
        history: History | None = None,
    ) -> None:
        self._spec, self._store, self._clock, self._on_error = spec, store, clock, on_error
        self._history = history if history is not None else History()
        """Where each change a script makes is noted."""
        self.lock = threading.RLock()
        self._tracks: dict[str, Track] = {}
        self._queue: list[tuple[datetime, str]] = []
        """(due, job id) of time steps, soonest first; an entry whose track has moved on is skipped."""
        for job_id, track in (tracks or {}).items():
            self._set(job_id, track)

    def _set(self, job_id: str, track: Track) -> None:
        self._tracks[job_id] = track
        due = track.due
        if due is not None:
            heapq.heappush(self._queue, (due, job_id))

    def use_clock(self, clock: Clock) -> None:
        """Go on with `clock` (a clock that starts running where the old one stood)."""
        with self.lock:
            self._clock = clock

    def has_script(self, job_id: str) -> bool:
        """Whether `job_id` still has scripted steps to come."""
        with self.lock:
            return job_id in self._tracks

    # -- loading ----------------------------------------------------------------------

    def start(self, jobs: Iterable[ScriptedJob], start: datetime) -> None:
        """Add `jobs`' scripts, starting at `start`, and create the jobs due then (their
        projects must be in the store already)."""
        with self.lock:
            for job in jobs:
                if job.first.after:
                    self._set(job.id, Track(job, (job.first, *job.steps), start, created=False))
                    continue
                self._store.put(self._past(job, start))
                if job.steps:
                    self._set(job.id, Track(job, job.steps, start))

    def _past(self, job: ScriptedJob, start: datetime) -> Job:
        """`job` as it stands at `start`: created `age` before it, through the steps of its past,
        each taken at its own time."""
        field = self._spec.lifecycle.field
        made = self._compose(job, start - job.age)
        self._history.changed(made, start - job.age, Cause.SCENARIO, None, field)
        for step in job.history:
            assert step.age is not None
            moved = Job(
                transition(
                    self._spec.lifecycle, made, step.state, format_timestamp(start - step.age), step.fields
                )
            )
            self._history.changed(moved, start - step.age, Cause.SCENARIO, made, field)
            made = moved
        return made

    def _compose(self, job: ScriptedJob, at: datetime) -> Job:
        given = {**job.fields, **job.first.fields, self._spec.lifecycle.field: job.first.state}
        organization_id = self._store.project_organization(job.project_id) or ""
        return compose_job(
            self._spec, given, job_id=job.id, organization_id=organization_id, now=format_timestamp(at)
        )

    # -- moving -----------------------------------------------------------------------

    def settle(self, now: datetime | None = None) -> list[Fired]:
        """Fire every time step due by `now` (default: the clock's now), each at its due time."""
        if not self._tracks:
            return []
        with self.lock:
            return self._fire_until(now or self._clock.now(), move_clock=False)

    def advance(self, delta: timedelta) -> list[Fired]:
        """Move the clock forward by `delta`, firing the steps due on the way, in order."""
        with self.lock:
            target = within_range(self._clock.now(), delta)  # checked before any step fires
            fired = self._fire_until(target, move_clock=True)
            self._clock.move_to(max(target, self._clock.now()))
            return fired

    def next_due(self) -> tuple[datetime, str] | None:
        """The earliest time step still to fire: (when, job id)."""
        with self.lock:
            while self._queue:
                due, job_id = self._queue[0]
                track = self._tracks.get(job_id)
                if track is not None and track.due == due:
                    return due, job_id
                heapq.heappop(self._queue)  # the job's script moved on, or stopped
            return None

    def _fire_until(self, target: datetime, move_clock: bool) -> list[Fired]:
        fired: list[Fired] = []
        while (nxt := self.next_due()) is not None and nxt[0] <= target:
            due, job_id = nxt
            heapq.heappop(self._queue)
            if move_clock and due > self._clock.now():
                self._clock.move_to(due)
            fired.extend(self._fire(job_id, due, Cause.ADVANCE if move_clock else Cause.STEP))
        return fired

    def record_reads(self, jobs: Iterable[Job]) -> list[Fired]:
        """Count one read of each job; fire `after_polls` steps whose count is reached."""
        fired: list[Fired] = []
        if not self._tracks:  # nothing scripted: the common case, without taking the lock
            return fired
        with self.lock:
            for job_id in (job.id for job in jobs):
                track = self._tracks.get(job_id)
                if track is None or not track.created or not track.steps:
                    continue
                polls = track.steps[0].after_polls
                if polls is None:  # only a step that waits for reads counts them; each starts at 0
                    continue
                track = self._tracks[job_id] = replace(track, reads=track.reads + 1)  # due unchanged
                if track.reads >= polls:
                    fired.extend(self._fire(job_id, self._clock.now(), Cause.READS))
        return fired

    def _fire(self, job_id: str, at: datetime, cause: str) -> list[Fired]:
        track = self._tracks[job_id]
        step, rest = track.steps[0], track.steps[1:]
        current = None
        try:
            if track.created:
                current = self._store.get(job_id)
                if current is None:
                    raise KeyError(f"job {job_id!r} is gone")
                new = Job(
                    transition(self._spec.lifecycle, current, step.state, format_timestamp(at), step.fields)
                )
            else:
                new = self._compose(track.job, at)
            self._store.put(new)
            self._history.changed(new, at, cause, current, self._spec.lifecycle.field)
        except Exception as exc:  # a script that cannot continue: stop it, and say so
            self._tracks.pop(job_id)
            self._on_error(f"job {job_id!r}: step to {step.state!r} at {format_timestamp(at)} failed: {exc}")
            return []
        if rest:
            self._set(job_id, Track(track.job, rest, at))
        else:
            self._tracks.pop(job_id)
        return [Fired(job_id, step.state, format_timestamp(at))]

    # -- manual control ---------------------------------------------------------------

    def scheduled(self, job_id: str) -> datetime | None:
        """When the script will create `job_id`, if it has not yet."""
        with self.lock:
            track = self._tracks.get(job_id)
            return track.due if track is not None and not track.created else None

    def forget(self, job_id: str) -> None:
        """Stop scripting `job_id` (it is now under manual control)."""
        with self.lock:
            self._tracks.pop(job_id, None)

    def script(self, job_id: str) -> list[dict[str, Any]]:
        """Every step still to come for `job_id`, next first: each with its due time where time
        decides it (`due_at`), else the reads it waits for (`after_polls`, and `reads` so far for
        the next); a step after one that waits for reads has no time yet."""
        with self.lock:
            track = self._tracks.get(job_id)
            if track is None:
                return []
            rows: list[dict[str, Any]] = []
            due: datetime | None = track.since
            for index, step in enumerate(track.steps):
                row: dict[str, Any] = {"state": step.state}
                if step.after_polls is not None:
                    row["after_polls"] = step.after_polls
                    if index == 0:
                        row["reads"] = track.reads
                    due = None
                elif due is not None:
                    due = due + (step.after or timedelta(0))
                    row["due_at"] = format_timestamp(due)
                elif step.after:
                    row["after"] = step.after.total_seconds()
                rows.append(row)
            return rows

    def pending(self) -> list[dict[str, Any]]:
        """The next step of every scripted job, soonest first."""
        with self.lock:
            rows = []
            for job_id, track in self._tracks.items():
                step = track.steps[0]
                row: dict[str, Any] = {"job_id": job_id, "state": step.state}
                if track.due is not None:
                    row["due_at"] = format_timestamp(track.due)
                else:
                    row["after_polls"] = step.after_polls
                    row["reads"] = track.reads
                rows.append(row)
            return sorted(rows, key=lambda r: (r.get("due_at", "~"), r["job_id"]))

    def snapshot(self) -> Mapping[str, Track]:
        """Every script as it stands (tracks are frozen: a new `Timeline` can start from these)."""
        with self.lock:
            return dict(self._tracks)
