"""RFC 3339 timestamps: read, checked and written in UTC."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from capymock.core.timestamps import (
    as_utc,
    aware_timestamp,
    format_timestamp,
    parse_timestamp,
    timestamp_problem,
)

NINE = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
PARIS = timezone(timedelta(hours=1))


@pytest.mark.parametrize(
    "text", ["2026-01-01T09:00:00Z", "2026-01-01T09:00:00z", "2026-01-01T10:00:00+01:00"]
)
def test_a_timestamp_is_read_with_its_zone(text: str) -> None:
    assert parse_timestamp(text) == NINE


def test_a_timestamp_without_a_zone_is_not_aware() -> None:
    assert aware_timestamp("2026-01-01T09:00:00") is None


@pytest.mark.parametrize("value", [None, 5, "yesterday"])
def test_what_is_no_timestamp_is_not_aware(value: object) -> None:
    assert aware_timestamp(value) is None


def test_an_aware_timestamp_is_read() -> None:
    assert aware_timestamp("2026-01-01T09:00:00z") == NINE


def test_a_timestamp_without_a_zone_is_a_problem() -> None:
    assert timestamp_problem("2026-01-01T09:00:00") == "has no time zone (add Z or an offset such as +02:00)"


def test_a_timestamp_that_is_no_date_is_a_problem() -> None:
    assert (
        timestamp_problem("noon") == "is not a date-time capymock can use (Invalid isoformat string: 'noon')"
    )


def test_a_sound_timestamp_is_no_problem() -> None:
    assert timestamp_problem("2026-01-01T09:00:00Z") is None


def test_a_naive_moment_is_taken_as_utc() -> None:
    moment = as_utc(datetime(2026, 1, 1, 9, 0))
    assert (moment, moment.utcoffset()) == (NINE, timedelta(0))


def test_an_aware_moment_is_moved_to_utc() -> None:
    moment = as_utc(datetime(2026, 1, 1, 10, 0, tzinfo=PARIS))
    assert (moment.hour, moment.utcoffset()) == (9, timedelta(0))


@pytest.mark.parametrize(
    ("moment", "text"),
    [
        (NINE, "2026-01-01T09:00:00Z"),
        (datetime(2026, 1, 1, 10, 0, 0, 250_000, tzinfo=PARIS), "2026-01-01T09:00:00.250Z"),
        (datetime(2026, 1, 1, 9, 0, 0, 1_000), "2026-01-01T09:00:00.001Z"),
    ],
)
def test_a_moment_is_written_in_utc_with_a_z(moment: datetime, text: str) -> None:
    assert format_timestamp(moment) == text
