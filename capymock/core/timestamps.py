"""Timestamps as the spec's `date-time` format writes them: RFC 3339, in UTC, with a `Z`."""

from __future__ import annotations

from datetime import UTC, datetime


def parse_timestamp(value: str) -> datetime:
    """An RFC 3339 date-time as an aware datetime.

    Raises:
        ValueError: not a date-time Python can represent.
    """
    return datetime.fromisoformat(value.replace("Z", "+00:00").replace("z", "+00:00"))


def aware_timestamp(value: object) -> datetime | None:
    """`value` as an aware datetime, when it is a date-time string with a time zone; else None."""
    if not isinstance(value, str):
        return None
    try:
        moment = parse_timestamp(value)
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def timestamp_problem(value: str) -> str | None:
    """Why `value` is not a date-time capymock can compute with (None: it is one)."""
    try:
        moment = parse_timestamp(value)
    except ValueError as exc:
        return f"is not a date-time capymock can use ({exc})"
    if moment.tzinfo is None:
        return "has no time zone (add Z or an offset such as +02:00)"
    return None


def format_timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC with a `Z`: whole seconds, or milliseconds when there are any."""
    moment = as_utc(moment)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def as_utc(moment: datetime) -> datetime:
    """`moment` in UTC (a naive datetime is taken to be UTC already)."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC)
