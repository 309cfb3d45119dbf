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
    """Real time, optionally sped up (`speed=10`: one real second is ten virtual ones), and paused
    or re-paced while it runs (`pause()`, `resume()`, `set_speed()`)."""

    def __init__(self, speed: float = 1.0, start: datetime | None = None, *, paused: bool = False) -> None:
        self.speed = check_speed(speed)
        self.paused = paused
        self._lock = threading.Lock()
        self._origin = as_utc(start) if start is not None else datetime.now(UTC)
        self._started = time.monotonic()

    def now(self) -> datetime:
        if self.paused:
            return self._origin
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

    def pause(self) -> None:
        """Stop where it is; `advance()` still moves it."""
        with self._lock:
            self._origin, self._started, self.paused = self.now(), time.monotonic(), True

    def resume(self) -> None:
        """Run on from where it stands, at its speed."""
        with self._lock:
            self._origin, self._started, self.paused = self.now(), time.monotonic(), False

    def set_speed(self, speed: float) -> None:
        """Run at `speed` from now on (what has passed stays passed)."""
        with self._lock:
            self._origin, self._started, self.speed = self.now(), time.monotonic(), check_speed(speed)

    def restarted(self, moment: datetime) -> SystemClock:
        """A new clock at the same speed, paused or not, running from `moment`."""
        return SystemClock(self.speed, moment, paused=self.paused)


MAX_SPEED = 1_000_000.0


def check_speed(speed: float) -> float:
    """`speed` if it is a speed a clock can run at.

    Raises:
        ValueError: not a number above 0 and at most `MAX_SPEED`.
    """
    if isinstance(speed, bool) or not isinstance(speed, (int, float)) or not 0 < speed <= MAX_SPEED:
        raise ValueError(f"a clock's speed is a number above 0 and at most {MAX_SPEED:g}, got {speed!r}")
    return float(speed)


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
