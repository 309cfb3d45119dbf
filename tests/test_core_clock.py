"""Clocks: the manual one moves only when told; the system one is checked while paused, and
only for order while it runs (no test asserts on real time)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from capymock.core.clock import (
    LATEST,
    MAX_SPEED,
    ManualClock,
    check_speed,
    within_range,
)
from capymock.system.clock import SystemClock, wall_clock_now

NINE = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


def test_a_manual_clock_starts_in_utc() -> None:
    clock = ManualClock(datetime(2026, 1, 1, 10, 0, tzinfo=timezone(HOUR)))
    assert (clock.now(), clock.now().utcoffset()) == (NINE, timedelta(0))


def test_a_manual_clock_advances() -> None:
    clock = ManualClock(NINE)
    assert (clock.advance(HOUR), clock.now()) == (NINE + HOUR, NINE + HOUR)


def test_a_manual_clock_moves_to_a_moment() -> None:
    clock = ManualClock(NINE)
    assert (clock.move_to(NINE + HOUR), clock.now()) == (NINE + HOUR, NINE + HOUR)


def test_a_clock_cannot_go_back() -> None:
    with pytest.raises(ValueError) as refused:
        ManualClock(NINE).advance(-HOUR)
    assert str(refused.value) == "a clock cannot go back in time (by 1:00:00)"


def test_a_clock_cannot_move_back() -> None:
    with pytest.raises(ValueError, match=r"^a clock cannot go back in time \(by 1:00:00\)$"):
        ManualClock(NINE).move_to(NINE - HOUR)


def test_a_restarted_manual_clock_starts_anew() -> None:
    clock = ManualClock(NINE).restarted(NINE + HOUR)
    assert (type(clock), clock.now()) == (ManualClock, NINE + HOUR)


def test_the_latest_moment_is_reachable() -> None:
    assert within_range(LATEST - HOUR, HOUR) == LATEST


def test_no_clock_goes_past_the_latest_moment() -> None:
    with pytest.raises(ValueError) as refused:
        within_range(LATEST - HOUR, HOUR + timedelta(microseconds=1))
    assert str(refused.value) == "the clock cannot go past 9990-01-01"


def test_a_paused_system_clock_stands_still() -> None:
    clock = SystemClock(start=NINE, paused=True)
    assert (clock.now(), clock.now()) == (NINE, NINE)


def test_a_paused_system_clock_advances() -> None:
    clock = SystemClock(start=NINE, paused=True)
    assert (clock.advance(HOUR), clock.now()) == (NINE + HOUR, NINE + HOUR)


def test_a_paused_system_clock_moves_forward_only() -> None:
    clock = SystemClock(start=NINE, paused=True)
    assert (clock.move_to(NINE - HOUR), clock.now()) == (NINE, NINE)
    assert (clock.move_to(NINE + HOUR), clock.now()) == (NINE + HOUR, NINE + HOUR)


def test_a_system_clock_moves_to_a_moment_in_utc() -> None:
    clock = SystemClock(start=NINE, paused=True)
    later = datetime(2026, 1, 1, 11, 0, tzinfo=timezone(HOUR))
    assert clock.move_to(later).utcoffset() == timedelta(0)


def test_a_system_clock_cannot_go_back() -> None:
    with pytest.raises(ValueError, match="cannot go back"):
        SystemClock(start=NINE, paused=True).advance(-HOUR)


def test_a_system_clock_starts_in_utc() -> None:
    clock = SystemClock(start=datetime(2026, 1, 1, 10, 0, tzinfo=timezone(HOUR)), paused=True)
    assert (clock.now(), clock.now().utcoffset()) == (NINE, timedelta(0))


def test_a_system_clock_runs_at_real_speed_unless_told() -> None:
    assert SystemClock(paused=True).speed == 1.0


def test_a_system_clock_without_a_start_starts_now_in_utc() -> None:
    assert SystemClock(paused=True).now().utcoffset() == timedelta(0)


def test_a_running_system_clock_never_goes_back() -> None:
    clock = SystemClock(speed=1000, start=NINE)
    first = clock.now()
    assert NINE <= first <= clock.now()


def test_a_running_system_clock_stops_at_the_latest_moment() -> None:
    clock = SystemClock(speed=MAX_SPEED, start=LATEST - timedelta(microseconds=1))
    assert clock.now() == LATEST


def test_a_slow_system_clock_does_not_jump_to_the_latest_moment() -> None:
    clock = SystemClock(speed=1, start=LATEST - HOUR)
    assert clock.now() < LATEST


def test_a_running_system_clock_advances_from_where_it_stands() -> None:
    clock = SystemClock(speed=1, start=NINE)
    assert NINE + HOUR <= clock.advance(HOUR) <= clock.now()


def test_a_running_system_clock_moves_to_a_later_moment() -> None:
    clock = SystemClock(speed=1, start=NINE)
    assert clock.move_to(NINE + HOUR) == NINE + HOUR
    assert clock.now() >= NINE + HOUR


def test_a_paused_system_clock_resumes_where_it_stood() -> None:
    clock = SystemClock(speed=1, start=NINE, paused=True)
    clock.resume()
    assert (clock.paused, clock.now() >= NINE) == (False, True)


def test_a_system_clock_pauses_where_it_stands() -> None:
    clock = SystemClock(speed=1, start=NINE)
    clock.pause()
    stood = clock.now()
    assert (clock.paused, stood >= NINE, clock.now()) == (True, True, stood)


def test_a_new_speed_keeps_the_time_reached() -> None:
    clock = SystemClock(start=NINE, paused=True)
    clock.set_speed(5)
    assert (clock.speed, clock.now()) == (5.0, NINE)


def test_a_restarted_system_clock_keeps_its_speed_and_pause() -> None:
    clock = SystemClock(speed=3, start=NINE, paused=True).restarted(NINE + HOUR)
    assert (type(clock), clock.speed, clock.paused, clock.now()) == (SystemClock, 3.0, True, NINE + HOUR)


def test_a_restarted_running_clock_runs() -> None:
    assert SystemClock(speed=3, start=NINE).restarted(NINE).paused is False


@pytest.mark.parametrize(("speed", "kept"), [(1, 1.0), (0.5, 0.5), (MAX_SPEED, MAX_SPEED)])
def test_a_speed_a_clock_can_run_at(speed: float, kept: float) -> None:
    assert (check_speed(speed), type(check_speed(speed))) == (kept, float)


@pytest.mark.parametrize("speed", [0, -1, MAX_SPEED * 2, True, "2"])
def test_a_speed_a_clock_cannot_run_at(speed: object) -> None:
    with pytest.raises(ValueError) as refused:
        check_speed(speed)  # type: ignore[arg-type]
    assert str(refused.value) == f"a clock's speed is a number above 0 and at most 1e+06, got {speed!r}"


def test_a_system_clock_refuses_a_speed_it_cannot_run_at() -> None:
    with pytest.raises(ValueError, match="a clock's speed"):
        SystemClock(speed=0)


def test_the_wall_clock_is_in_utc_to_the_second() -> None:
    moment = wall_clock_now()
    assert (moment.utcoffset(), moment.microsecond) == (timedelta(0), 0)
