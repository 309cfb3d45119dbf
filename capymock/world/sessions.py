"""Isolated sessions on one server: each a whole fake API of its own (store, clock, keys, scripts,
faults, journal) under its own base path, ended on request or after an idle time.

The web edge routes `/s/{id}/...` to a session; a session is made by a factory the server
gives (so it shares the server's spec, validation and tokens), and nothing else is shared.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta

from capymock.core.defaults import SESSION_BYTE_BUDGET, SESSION_JOB_BUDGET
from capymock.errors import CapymockError, OverBudget
from capymock.world.fake_api import FakeApi

DEFAULT_TTL = timedelta(minutes=30)
DEFAULT_LIMIT = 1000
DEFAULT_JOB_BUDGET = SESSION_JOB_BUDGET
DEFAULT_BYTE_BUDGET = SESSION_BYTE_BUDGET
PREFIX = "/s/"
"""Sessions live under `/s/{id}`: the API at `/s/{id}/v1/...`, the control API at `/s/{id}/_capymock/...`."""


class TooManySessions(CapymockError):
    """The server holds as many live sessions as it may."""


@dataclass
class Session:
    """One live session: its id, its fake API, and when it was last used (monotonic seconds)."""

    id: str
    fake: FakeApi
    last_used: float
    created: float = field(default=0.0)


class Sessions:
    """The live sessions of one server, at most `limit`, each ended after `ttl` without a request.

    `ttl`, `limit`, `job_budget`, `byte_budget` and `timer` (monotonic seconds: when a session
    was last used, and when it is idle too long) may be set after it is made, before it serves
    (`capymock serve` sets all but the last; a test may give a clock of its own). A session's
    load or new job that would take the jobs of all live sessions past `job_budget`, or the
    bytes of scenario text they were loaded from past `byte_budget`, raises `OverBudget`: the
    number of sessions does not multiply what a server holds.
    """

    def __init__(
        self,
        make: Callable[[float | None], FakeApi],
        *,
        ttl: timedelta = DEFAULT_TTL,
        limit: int = DEFAULT_LIMIT,
        job_budget: int = DEFAULT_JOB_BUDGET,
        byte_budget: int = DEFAULT_BYTE_BUDGET,
        timer: Callable[[], float] = time.monotonic,
    ) -> None:
        self._make, self.ttl, self.limit, self.timer = make, ttl, limit, timer
        self.job_budget, self.byte_budget = job_budget, byte_budget
        self._live: dict[str, Session] = {}
        self._lock = threading.Lock()

    def create(self, speed: float | None = None) -> Session:
        """A new, empty session (its clock virtual, or running at `speed`); load it afterwards.

        Raises:
            TooManySessions: `limit` sessions are live.
        """
        with self._lock:
            self._purge()
            if len(self._live) >= self.limit:
                raise TooManySessions(
                    f"{len(self._live)} sessions are live, the most this server holds (--max-sessions "
                    f"{self.limit}); end one (DELETE /_capymock/sessions/ID) or let one expire "
                    f"({_minutes(self.ttl)} without a request)"
                )
        fake = self._make(speed)
        now = self.timer()
        import secrets  # here: its import (hmac, hashlib) is a twentieth of `serve`'s cold start

        session = Session(f"s_{secrets.token_hex(6)}", fake, now, now)
        fake.admit = lambda jobs, size: self._admit(session, jobs, size)
        with self._lock:
            self._live[session.id] = session
        return session

    def _admit(self, session: Session, jobs: int, size: int) -> None:
        """Let `session` hold `jobs` jobs loaded from `size` bytes of scenario text, or raise `OverBudget`."""
        with self._lock:
            self._purge()
            others = [s.fake for s in self._live.values() if s is not session]
        held_jobs = sum(max(len(f.world.store), f.held_jobs) for f in others)
        held_bytes = sum(f.held_bytes for f in others)
        if held_jobs + jobs > self.job_budget:
            crossed = (
                f"the live sessions hold {held_jobs:,} jobs and this one would hold {jobs:,}: more than "
                f"the {self.job_budget:,} this server's sessions hold together (--max-session-jobs)"
            )
        elif held_bytes + size > self.byte_budget:
            crossed = (
                f"the live sessions were loaded from {held_bytes:,} bytes of scenario text and this one "
                f"from {size:,}: more than the {self.byte_budget:,} this server's sessions hold together "
                "(--max-session-bytes)"
            )
        else:
            return
        raise OverBudget(
            f"{crossed}; end a session (DELETE /_capymock/sessions/ID), let one expire "
            f"({_minutes(self.ttl)} without a request), or load a smaller scenario"
        )

    def get(self, session_id: str) -> Session | None:
        """The live session `session_id`, touched (its idle time starts again); None if there is none.

        Without the lock while the session is live (one dict read, one attribute write: each
        atomic), as every request in a session asks.
        """
        session = self._live.get(session_id)
        if session is None:
            return None
        now = self.timer()
        if now - session.last_used > self.ttl.total_seconds():
            with self._lock:
                if self._live.get(session_id) is session:
                    del self._live[session_id]
            session.fake.release()
            return None
        session.last_used = now
        return session

    def end(self, session_id: str) -> bool:
        """End a session; False if it was not live."""
        with self._lock:
            session = self._live.pop(session_id, None)
        if session is None:
            return False
        session.fake.release()
        return True

    def live(self) -> list[Session]:
        """Every live session, oldest first."""
        with self._lock:
            self._purge()
            return sorted(self._live.values(), key=lambda session: session.created)

    def gone(self, session_id: str) -> str:
        """What a request naming a session that is not live is told."""
        return (
            f"no session {session_id[:64]!r}: it was ended, expired after {_minutes(self.ttl)} without a "
            "request, or never existed; POST /_capymock/sessions starts one"
        )

    def expires_in(self, session: Session) -> float:
        """Seconds until `session` expires unless it is used."""
        return max(0.0, session.last_used + self.ttl.total_seconds() - self.timer())

    def _purge(self) -> None:
        now, ttl = self.timer(), self.ttl.total_seconds()
        for stale in [sid for sid, s in self._live.items() if now - s.last_used > ttl]:
            self._live.pop(stale).fake.release()


def split(path: str) -> tuple[str, str] | None:
    """`/s/{id}/rest` -> (id, `/rest`); None for a path outside every session."""
    if not path.startswith(PREFIX):
        return None
    session_id, slash, rest = path[len(PREFIX) :].partition("/")
    return session_id, "/" + rest if slash else "/"


def _minutes(ttl: timedelta) -> str:
    minutes = ttl.total_seconds() / 60
    return f"{minutes:g} min"
