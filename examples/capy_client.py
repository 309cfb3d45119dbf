"""A small client of the Capy Jobs API: the kind of code capymock helps you test.

`wait_for_job` polls a job until it is done, retrying server errors. Its `sleep` is
injectable, so a test can hand it `capy_mock.advance` and wait without waiting.
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from typing import Any

DONE = {"succeeded", "cancelled"}


class CapyError(Exception):
    """The API answered with an error."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"HTTP {status}: {message}")
        self.status = status


class NotFound(CapyError):
    pass


class Unauthorized(CapyError):
    pass


def is_done(job: dict[str, Any]) -> bool:
    """Succeeded, cancelled, or failed with no retry left."""
    if job["state"] in DONE:
        return True
    return job["state"] == "failed" and job["attempts"] >= job["max_attempts"]


class CapyClient:
    def __init__(
        self, base_url: str, token: str, *, sleep: Callable[[float], object] = time.sleep, retries: int = 3
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.token = token
        self.sleep = sleep
        self.retries = retries

    def list_jobs(self, project_id: str, limit: int | None = None) -> list[dict[str, Any]]:
        query = f"?limit={limit}" if limit is not None else ""
        return self._get(f"/v1/projects/{urllib.parse.quote(project_id)}/jobs{query}")["jobs"]

    def get_job(self, job_id: str) -> dict[str, Any]:
        return self._get(f"/v1/jobs/{urllib.parse.quote(job_id)}")["job"]

    def wait_for_job(self, job_id: str, timeout: float = 60.0, interval: float = 1.0) -> dict[str, Any]:
        """Poll until the job is done; raise TimeoutError after `timeout` seconds of waiting."""
        waited = 0.0
        while True:
            job = self.get_job(job_id)
            if is_done(job):
                return job
            if waited >= timeout:
                raise TimeoutError(f"job {job_id} still {job['state']} after {timeout:g}s")
            self.sleep(interval)
            waited += interval

    def _get(self, path: str) -> Any:
        for attempt in range(self.retries + 1):
            try:
                return self._request(path)
            except CapyError as exc:
                if exc.status < 500 or attempt == self.retries:
                    raise
                self.sleep(0.5 * 2**attempt)
        raise AssertionError("unreachable")

    def _request(self, path: str) -> Any:
        request = urllib.request.Request(
            self.base_url + path, headers={"Authorization": f"Bearer {self.token}"}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return json.load(response)
        except urllib.error.HTTPError as error:
            with error:
                message = json.load(error).get("error", "")
            kind = {401: Unauthorized, 404: NotFound}.get(error.code, CapyError)
            raise kind(error.code, message) from None
