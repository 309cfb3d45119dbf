"""Poll mode: list the project and read each watched job at an interval, politely (one request
at a time, at most `rate` a second), noting every change, until the time is up, every watched
job is finished, or the user stops it (Ctrl-C)."""

from __future__ import annotations

import contextlib
import json
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from capymock.core.rates import per_second
from capymock.core.spec import GET_JOB, JOB, LIST_JOBS, Spec
from capymock.core.transitions import legal_targets
from capymock.errors import CapymockError
from capymock.record.observations import BODY_LIMIT, Recording


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


class RecordError(CapymockError):
    """The recording could not start: the deployment is unreachable or refused the token."""


def record_by_polling(
    target: Target, spec: Spec, on_change: Callable[[str, Mapping[str, Any]], None] | None = None
) -> Recording:
    """Watch `target` and return what it did. Ctrl-C ends the recording, not the program."""
    recording = Recording(datetime.now(UTC), target.base_url)
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
        self.watched: tuple[str, ...] = target.job_ids

    def run(self) -> None:
        while True:
            round_began = time.monotonic()
            jobs = self.poll_list()
            if not self.watched:
                self.watched = tuple(j for j in jobs if isinstance(j, str))
            for job_id in self.watched:
                self.poll_job(job_id)
            if self.done():
                return
            time.sleep(max(0.0, self.target.interval - (time.monotonic() - round_began)))

    def done(self) -> bool:
        if self.target.duration is not None:
            return time.monotonic() - self.began >= self.target.duration
        lifecycle = self.spec.lifecycle
        latest = [
            sightings[-1].job for job_id, sightings in self.recording.jobs.items() if job_id in self.watched
        ]
        return (
            bool(latest)
            and len(latest) == len(self.watched)
            and not any(legal_targets(lifecycle, j) for j in latest)
        )

    def poll_list(self) -> list[Any]:
        listing = self.spec.operation(LIST_JOBS)
        path = listing.path.replace(
            "{" + listing.path_parameter + "}", quote(self.target.project_id, safe="")
        )
        body = self.get(f"{path}?limit=100")
        jobs = body.get(listing.envelope or "") if isinstance(body, dict) else None
        ids = []
        for job in jobs if isinstance(jobs, list) else []:
            if isinstance(job, dict) and (not self.target.job_ids or job.get(JOB.id) in self.target.job_ids):
                self.note(job)
                ids.append(job.get(JOB.id))
        return ids

    def poll_job(self, job_id: str) -> None:
        getting = self.spec.operation(GET_JOB)
        body = self.get(getting.path.replace("{" + getting.path_parameter + "}", quote(job_id, safe="")))
        job = body.get(getting.envelope or "") if isinstance(body, dict) else None
        if isinstance(job, dict):
            self.note(job)

    def note(self, job: Mapping[str, Any]) -> None:
        if self.recording.saw(job, time.monotonic() - self.began) and self.on_change is not None:
            self.on_change(str(job.get(JOB.id)), job)

    def get(self, path: str) -> Any:
        """One request, paced, with the token (never shown); a failure is noted, not fatal."""
        if self.target.rate:
            wait = self.next_request - time.monotonic()
            if wait > 0:
                time.sleep(wait)
            self.next_request = max(self.next_request, time.monotonic()) + 1.0 / per_second(self.target.rate)
        url = self.target.base_url + path
        request = urllib.request.Request(url, headers={"Authorization": f"Bearer {self.target.token}"})
        seen = time.monotonic() - self.began
        try:
            with urllib.request.urlopen(request, timeout=self.target.timeout) as response:
                return json.loads(response.read() or b"null")
        except urllib.error.HTTPError as failure:
            with failure:
                if failure.code == 401 and not self.recording.jobs:
                    raise RecordError(
                        "the deployment rejected the token (401): is it expired or rotated?"
                    ) from None
                if failure.code >= 500:
                    body = failure.read(BODY_LIMIT + 1)
                    self.recording.failed("GET", path.split("?")[0], failure.code, seen, body)
                return None
        except (urllib.error.URLError, TimeoutError, OSError) as failure:
            if not self.recording.jobs:
                reason = getattr(failure, "reason", failure)
                raise RecordError(f"cannot reach {self.target.base_url}: {reason}") from None
            self.recording.failed("GET", path.split("?")[0], None, seen)
            return None
        except ValueError:
            return None
