"""Where the mock's time comes from: a virtual clock for tests, real time for `serve`.

Only `SystemClock` reads the system clock; everything else asks a `Clock` for `now()`.
Both clocks move forward with `advance()`/`move_to()`, and `set()` puts them anywhere (a
scenario load or a reset restarts the clock at the scenario's start).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the mock needs of a clock."""

    def now(self) -> datetime: ...

    def set(self, moment: datetime) -> None: ...

    def advance(self, delta: timedelta) -> datetime: ...

    def move_to(self, moment: datetime) -> datetime: ...


class ManualClock:
    """A clock that moves only when told: `advance()` or `move_to()`."""

    def __init__(self, start: datetime) -> None:
        self._now = _utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        """Put the clock at `moment`, earlier or later."""
        self._now = _utc(moment)

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        _forward(delta)
        with self._lock:
            self._now += delta
            return self._now

    def move_to(self, moment: datetime) -> datetime:
        """Jump forward to `moment`."""
        moment = _utc(moment)
        with self._lock:
            _forward(moment - self._now)
            self._now = moment
            return self._now


class SystemClock:
    """Real time, optionally sped up: `speed=10` makes one real second ten virtual ones."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._lock = threading.Lock()
        self._origin = datetime.now(UTC)
        self._started = time.monotonic()
        if start is not None:
            self.set(start)

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._started
        return self._origin + timedelta(seconds=elapsed * self.speed)

    def set(self, moment: datetime) -> None:
        """Continue from `moment`, at the same speed."""
        with self._lock:
            self._origin, self._started = _utc(moment), time.monotonic()

    def advance(self, delta: timedelta) -> datetime:
        """Skip ahead by `delta`."""
        _forward(delta)
        moment = self.now() + delta
        self.set(moment)
        return moment

    def move_to(self, moment: datetime) -> datetime:
        """Skip ahead to `moment` (a moment real time has already passed changes nothing)."""
        moment = _utc(moment)
        with self._lock:
            now = self.now()
            if moment > now:
                self._origin, self._started = moment, time.monotonic()
            return max(moment, now)


def wall_clock_now() -> datetime:
    """The current real time, to the whole second (a natural start for a `ManualClock`)."""
    return datetime.now(UTC).replace(microsecond=0)


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`: whole seconds, or milliseconds when there are any."""
    moment = _utc(moment)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def _forward(delta: timedelta) -> None:
    if delta < timedelta(0):
        raise ValueError(f"a clock cannot go back in time (by {-delta})")


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
