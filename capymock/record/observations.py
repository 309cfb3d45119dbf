"""What a recording saw: each job's bodies in the order they changed, and the deployment's
failures (5xx answers, timeouts). Pure data; the poller and the proxy fill it in.

Nothing secret is kept: every string seen has the callers' tokens, and anything shaped like a
Capy API key or a JWT, replaced by `HIDDEN` before it is stored, so no file, comment or
progress line can show one."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from capymock.core.auth import API_KEY_PREFIX
from capymock.core.spec import JOB

HIDDEN = "[token]"
SHAPED = re.escape(API_KEY_PREFIX) + r"[\w.~+/=-]*|eyJ[\w-]+\.[\w-]+\.[\w-]*"
"""Strings shaped like a Capy API key or a JWT (a Clerk session token)."""
MAX_SECRETS = 256
"""Callers' tokens kept out by their exact value: the first ones seen (a flood of new ones
cannot push out the caller's own; past them, the shapes above still apply)."""


@dataclass(frozen=True)
class Sighting:
    """A job as the deployment showed it, and when capymock saw it (seconds since the recording began)."""

    job: Mapping[str, Any]
    seen: float


@dataclass(frozen=True)
class Failure:
    """A request the deployment failed: a 5xx (`status`), or no answer in time (`status` None)."""

    method: str
    path: str
    status: int | None
    seen: float
    body: Any = None
    """The answer's JSON body, if it had a small one."""


@dataclass
class Recording:
    """Everything seen, keyed by job id in the order jobs were first seen."""

    started: datetime
    """The real time the recording began (for the file's header)."""
    source: str
    """Where it was recorded from (a URL; never a token)."""
    jobs: dict[str, list[Sighting]] = field(default_factory=dict)
    failures: list[Failure] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _secrets: dict[str, None] = field(default_factory=dict)
    _pattern: re.Pattern[str] = field(default_factory=lambda: re.compile(SHAPED))

    def keep_out(self, credential: str) -> None:
        """Never keep `credential` (an Authorization header's value, or a bare token), nor the
        token inside it."""
        words = [credential, *credential.split()[1:]]
        with self._lock:
            fresh = [w for w in words if len(w) >= 8 and w not in self._secrets]
            if not fresh or len(self._secrets) >= MAX_SECRETS:
                return
            self._secrets.update(dict.fromkeys(fresh))
            exact = sorted(self._secrets, key=len, reverse=True)
            self._pattern = re.compile("|".join([*map(re.escape, exact), SHAPED]))

    def hide(self, value: Any) -> Any:
        """`value` with every secret in its strings (keys too, at any depth) replaced by `HIDDEN`."""
        if isinstance(value, str):
            return self._pattern.sub(HIDDEN, value)
        if isinstance(value, list):
            return [self.hide(item) for item in value]
        if isinstance(value, Mapping):
            return {self.hide(key): self.hide(item) for key, item in value.items()}
        return value

    def saw(self, job: Any, seen: float) -> bool:
        """Note one job body; True when it differs from the last one seen of that job."""
        if not isinstance(job, Mapping) or not isinstance(job.get(JOB.id), str):
            return False
        job = self.hide(job)
        with self._lock:
            sightings = self.jobs.setdefault(job[JOB.id], [])
            if sightings and dict(sightings[-1].job) == dict(job):
                return False
            sightings.append(Sighting(dict(job), seen))
            return True

    def failed(self, method: str, path: str, status: int | None, seen: float, body: bytes = b"") -> None:
        with self._lock:
            kept = self.hide(json_body(body)) if len(body) <= BODY_LIMIT else None
            self.failures.append(Failure(self.hide(method), self.hide(path), status, seen, kept))

    def changes(self) -> int:
        """State or field changes seen, beyond each job's first sighting."""
        with self._lock:
            return sum(len(sightings) - 1 for sightings in self.jobs.values())


BODY_LIMIT = 4096
"""Failure bodies longer than this are not kept (a gateway's HTML page, a stack trace)."""


def json_body(body: bytes) -> Any:
    """An answer's body as JSON (None: empty, or not JSON)."""
    try:
        return json.loads(body or b"null")
    except ValueError:
        return None


def public_url(url: str) -> str:
    """`url` without user, password, query or fragment: what a file or a terminal may show."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError:
        port = None
    netloc = host + (f":{port}" if port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
