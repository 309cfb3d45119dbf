"""Where the mock's time comes from: a virtual clock for tests, real time for `serve`.

Only `SystemClock` reads the system clock; everything else asks a `Clock` for `now()`.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime, timedelta, timezone
from typing import Protocol


class Clock(Protocol):
    """Anything with `now()` returning an aware UTC datetime."""

    def now(self) -> datetime: ...


class ManualClock:
    """A clock that moves only when told: `advance()` or `move_to()`."""

    def __init__(self, start: datetime) -> None:
        self._now = _utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` (never backwards) and return the new time."""
        if delta < timedelta(0):
            raise ValueError(f"a clock cannot go back in time (advance by {delta})")
        with self._lock:
            self._now += delta
            return self._now

    def move_to(self, moment: datetime) -> datetime:
        """Jump to `moment`, which may not be earlier than now."""
        moment = _utc(moment)
        with self._lock:
            if moment < self._now:
                raise ValueError(
                    f"a clock cannot go back in time ({moment.isoformat()} < {self._now.isoformat()})"
                )
            self._now = moment
            return self._now


class SystemClock:
    """Real time, optionally sped up: `speed=10` makes one real second ten virtual ones."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if speed <= 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._origin = _utc(start) if start is not None else datetime.now(timezone.utc)
        self._started = time.monotonic()

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._started
        return self._origin + timedelta(seconds=elapsed * self.speed)


def wall_clock_now() -> datetime:
    """The current real time, to the whole second (a natural start for a `ManualClock`)."""
    return datetime.now(timezone.utc).replace(microsecond=0)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`: whole seconds, or milliseconds when there are any."""
    moment = _utc(moment)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)
