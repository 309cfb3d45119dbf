"""The clock that reads real time (`capymock serve`, sessions with a speed), and the real time
a `ManualClock` starts from."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta

from capymock.core.clock import LATEST, SPAN, check_speed, forward, within_range
from capymock.core.timestamps import as_utc


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
        return min(self._origin + timedelta(seconds=min(elapsed * self.speed, SPAN)), LATEST)

    def advance(self, delta: timedelta) -> datetime:
        """Skip ahead by `delta`."""
        forward(delta)
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


def wall_clock_now() -> datetime:
    """The current real time, to the whole second (a natural start for a `ManualClock`)."""
    return datetime.now(UTC).replace(microsecond=0)
