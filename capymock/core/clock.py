"""Where the mock's time comes from: a virtual clock for tests, real time for `serve`.

Only `SystemClock` reads the system clock; everything else asks a `Clock` for `now()`.
Clocks only move forward (`advance()`, `move_to()`); a scenario load or a reset starts a
new clock of the same kind at the scenario's start (`restarted()`).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol

from capymock.core.timestamps import as_utc

LATEST = datetime(9990, 1, 1, tzinfo=UTC)
"""No clock goes past this moment (Python's datetimes end with the year 9999)."""


class Clock(Protocol):
    """What the mock needs of a clock."""

    def now(self) -> datetime: ...

    def advance(self, delta: timedelta) -> datetime: ...

    def move_to(self, moment: datetime) -> datetime: ...

    def restarted(self, moment: datetime) -> Clock: ...


class ManualClock:
    """A clock that moves only when told: `advance()` or `move_to()`."""

    def __init__(self, start: datetime) -> None:
        self._now = as_utc(start)
        self._lock = threading.Lock()

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward by `delta` and return the new time."""
        _forward(delta)
        with self._lock:
            self._now = within_range(self._now, delta)
            return self._now

    def move_to(self, moment: datetime) -> datetime:
        """Jump forward to `moment`."""
        moment = as_utc(moment)
        with self._lock:
            _forward(moment - self._now)
            self._now = within_range(moment)
            return self._now

    def restarted(self, moment: datetime) -> ManualClock:
        """A new manual clock at `moment`."""
        return ManualClock(moment)


class SystemClock:
    """Real time, optionally sped up: `speed=10` makes one real second ten virtual ones."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be positive, got {speed}")
        self.speed = speed
        self._lock = threading.Lock()
        self._origin = as_utc(start) if start is not None else datetime.now(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        elapsed = time.monotonic() - self._started
        return min(self._origin + timedelta(seconds=min(elapsed * self.speed, _SPAN)), LATEST)

    def advance(self, delta: timedelta) -> datetime:
        """Skip ahead by `delta`."""
        _forward(delta)
        with self._lock:
            moment = within_range(self.now(), delta)
            self._origin, self._started = moment, time.monotonic()
            return moment

    def move_to(self, moment: datetime) -> datetime:
        """Skip ahead to `moment` (a moment real time has already passed changes nothing)."""
        moment = as_utc(moment)
        with self._lock:
            now = self.now()
            if moment > now:
                self._origin, self._started = within_range(moment), time.monotonic()
            return max(moment, now)

    def restarted(self, moment: datetime) -> SystemClock:
        """A new clock at the same speed, running from `moment`."""
        return SystemClock(self.speed, moment)


def wall_clock_now() -> datetime:
    """The current real time, to the whole second (a natural start for a `ManualClock`)."""
    return datetime.now(UTC).replace(microsecond=0)


_SPAN = (LATEST - datetime(1, 1, 1, tzinfo=UTC)).total_seconds()


def within_range(moment: datetime, delta: timedelta = timedelta(0)) -> datetime:
    """`moment + delta`, if that is not past `LATEST`.

    Raises:
        ValueError: it would be.
    """
    if delta > LATEST - moment:
        raise ValueError(f"the clock cannot go past {LATEST:%Y-%m-%d}")
    return moment + delta


def _forward(delta: timedelta) -> None:
    if delta < timedelta(0):
        raise ValueError(f"a clock cannot go back in time (by {-delta})")
