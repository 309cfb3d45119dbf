"""What the mock asks of time: the `Clock` protocol, and `ManualClock`, which moves only when told.

Nothing here reads the system clock: `capymock.system.clock.SystemClock` does, for `serve`.
Clocks only move forward (`advance()`, `move_to()`); a scenario load or a reset starts a
new clock of the same kind at the scenario's start (`restarted()`).
"""

from __future__ import annotations

import threading
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
        forward(delta)
        with self._lock:
            self._now = within_range(self._now, delta)
            return self._now

    def move_to(self, moment: datetime) -> datetime:
        """Jump forward to `moment`."""
        moment = as_utc(moment)
        with self._lock:
            forward(moment - self._now)
            self._now = within_range(moment)
            return self._now

    def restarted(self, moment: datetime) -> ManualClock:
        """A new manual clock at `moment`."""
        return ManualClock(moment)


MAX_SPEED = 1_000_000.0


def check_speed(speed: float) -> float:
    """`speed` if it is a speed a clock can run at.

    Raises:
        ValueError: not a number above 0 and at most `MAX_SPEED`.
    """
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0 < speed <= MAX_SPEED:
        raise ValueError(f"a clock's speed is a number above 0 and at most {MAX_SPEED:g}, got {speed!r}")
    return float(speed)


SPAN = (LATEST - datetime(1, 1, 1, tzinfo=UTC)).total_seconds()


def within_range(moment: datetime, delta: timedelta = timedelta(0)) -> datetime:
    """`moment + delta`, if that is not past `LATEST`.

    Raises:
        ValueError: it would be.
    """
    if delta > LATEST - moment:
        raise ValueError(f"the clock cannot go past {LATEST:%Y-%m-%d}")
    return moment + delta


def forward(delta: timedelta) -> None:
    """Raises ValueError when `delta` would move a clock back."""
    if delta < timedelta(0):
        raise ValueError(f"a clock cannot go back in time (by {-delta})")
