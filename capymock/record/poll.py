"""Poll mode: list the project and read each watched job at an interval, politely (one request
at a time, at most `rate` a second), noting every change, until the time is up, every watched
job is finished, or the user stops it (Ctrl-C)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from capymock.core.operations import Operation
from capymock.core.rates import per_second
from capymock.core.spec import JOB, Spec
from capymock.core.transitions import legal_targets
from capymock.errors import CapymockError
from capymock.record.observations import BODY_LIMIT, Recording, json_body, public_url
from capymock.record.upstream import MAX_ANSWER, Unanswered, exchange


@dataclass(frozen=True)
class Target:
    """What to watch, and how often."""

    base_url: str
    token: str
    project_id: str
    job_ids: tuple[str, ...] = ()
    """Watched jobs (none given: every job the project lists at the first poll)."""
    interval: float = 1.0
    duration: float | None = None
    """Stop after this many seconds (None: once every watched job is finished)."""
    rate: str | None = None
    """At most this many requests ("10/s", "300/m"; None: as fast as the interval allows)."""
    timeout: float = 10.0
    """The longest a whole exchange may take (a slower answer is a timeout)."""
    max_answer: int = MAX_ANSWER
    """The largest answer read (a larger one is no answer)."""


PAGE = 100
"""Jobs asked for in one list request when the spec gives `limit` no maximum."""


class RecordError(CapymockError):
    """The recording could not start: the deployment is unreachable or refused the token."""


def record_by_polling(
    target: Target, spec: Spec, on_change: Callable[[str, Mapping[str, Any]], None] | None = None
) -> Recording:
    """Watch `target` and return what it did. Ctrl-C ends the recording, not the program."""
    recording = Recording(datetime.now(UTC), target.base_url)
    recording.keep_out(target.token)
    poller = _Poller(target, spec, recording, on_change)
    with contextlib.suppress(KeyboardInterrupt):
        poller.run()
    return recording


class _Poller:
    def __init__(
        self,
        target: Target,
        spec: Spec,
        recording: Recording,
        on_change: Callable[[str, Mapping[str, Any]], None] | None,
    ) -> None:
        self.target, self.spec, self.recording, self.on_change = target, spec, recording, on_change
        self.began = time.monotonic()
        self.next_request = 0.0
        self.spacing = 1.0 / per_second(target.rate) if target.rate else 0.0
        """Seconds between two requests' starts (0: no limit)."""
        self.watched: tuple[str, ...] = target.job_ids

    def run(self) -> None:
        first = True
        while True:
            round_began = time.monotonic()
            jobs = self.poll_list(first)
            if not self.watched:
                self.watched = tuple(j for j in jobs if isinstance(j, str))
            for job_id in self.watched:
                self.poll_job(job_id, first)
            first = False
            if self.done():
                return
            time.sleep(max(0.0, self.target.interval - (time.monotonic() - round_began)))

    def done(self) -> bool:
        if self.target.duration is not None:
            return time.monotonic() - self.began >= self.target.duration
        latest = [
            sightings[-1].job for job_id, sightings in self.recording.jobs.items() if job_id in self.watched
        ]
        return bool(latest) and len(latest) == len(self.watched) and all(map(self.finished, latest))

    def finished(self, job: Mapping[str, Any]) -> bool:
        """Whether `job` can move no more (a state the lifecycle does not know never finishes)."""
        lifecycle = self.spec.lifecycle
        if job.get(lifecycle.field) not in lifecycle.states:
            return False
        try:
            return not legal_targets(lifecycle, job)
        except (KeyError, TypeError):  # a retry counter that is not a number
            return False

    def poll_list(self, first: bool) -> list[Any]:
        listing = self.spec.listing
        path = listing.fill_fields({JOB.project: self.target.project_id})
        page = f"?{listing.page_size.name}={_page(listing)}" if listing.page_size is not None else ""
        status, body = self.get(path + page)
        # Read here, not by `jobs_in`: an empty list is an answer, another shape is not.
        jobs = body.get(listing.envelope or "") if isinstance(body, dict) else None
        if first and not isinstance(jobs, list) and status is not None and status < 500:
            what = (
                f"answers {status}"
                if status != 200
                else f"does not answer a list of jobs ({listing.envelope})"
            )
            raise RecordError(f"GET {path} {what}: is --project-id {self.target.project_id!r} right?")
        ids = []
        for job in jobs if isinstance(jobs, list) else []:
            if isinstance(job, dict) and (not self.target.job_ids or job.get(JOB.id) in self.target.job_ids):
                self.note(job)
                ids.append(job.get(JOB.id))
        return ids

    def poll_job(self, job_id: str, first: bool) -> None:
        getting = self.spec.reading
        path = getting.fill_fields({JOB.id: job_id})
        status, body = self.get(path)
        job = next((job for _, job in getting.jobs_in(body)), None)
        if isinstance(job, dict):
            self.note(job)
        elif first and status in (403, 404):
            raise RecordError(f"GET {path} answers {status}: is --job-id {job_id!r} a job of this token's?")

    def note(self, job: Mapping[str, Any]) -> None:
        if self.recording.saw(job, time.monotonic() - self.began) and self.on_change is not None:
            self.on_change(str(job.get(JOB.id)), job)

    def get(self, path: str) -> tuple[int | None, Any]:
        """One request, paced, with the token (never shown): its status (None: no answer) and
        JSON body. A failure is noted, not fatal, once the recording has seen a job."""
        if self.spacing:
            wait = self.next_request - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.next_request = max(self.next_request, time.monotonic()) + self.spacing
        url = self.target.base_url + path
        headers = {"Authorization": f"Bearer {self.target.token}", "Accept": "application/json"}
        seen = time.monotonic() - self.began
        try:
            answer = exchange(url, "GET", headers, deadline=self.target.timeout, limit=self.target.max_answer)
        except Unanswered as failure:
            if not self.recording.jobs:
                raise RecordError(
                    f"cannot reach {public_url(self.target.base_url)}: {failure.reason}"
                ) from None
            if failure.timed_out:
                self.recording.failed("GET", path.split("?")[0], None, seen)
            return None, None
        if answer.status == 401 and not self.recording.jobs:
            raise RecordError("the deployment rejected the token (401): is it expired or rotated?")
        if answer.status >= 500:
            self.recording.failed(
                "GET", path.split("?")[0], answer.status, seen, answer.body[: BODY_LIMIT + 1]
            )
        return answer.status, json_body(answer.body)


def _page(listing: Operation) -> int:
    """The most jobs one list request may ask for: the spec's maximum of its page size."""
    parameter = listing.page_size
    maximum = parameter.schema.get("maximum") if parameter is not None else None
    return maximum if isinstance(maximum, int) and not isinstance(maximum, bool) and maximum > 0 else PAGE
