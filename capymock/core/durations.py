"""Durations as users write them: "250ms", "2s", "1.5s", "3m", "1h", seconds, or a timedelta."""

from __future__ import annotations

import re
from datetime import timedelta

_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_DURATION = re.compile(r"\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s|m|h)\s*\Z")

PATTERN = r"^\s*[0-9]+(\.[0-9]+)?\s*(ms|s|m|h)\s*$"
"""The same grammar as a JSON Schema pattern (for the scenario schema)."""
EXPECTED = "a duration such as 250ms, 2s, 1.5s, 3m, 1h, or a number of seconds"
LONGEST = timedelta(days=36525)
"""No duration is longer than 100 years: the clock must stay within datetime's range."""


def parse_duration(value: timedelta | float | int | str) -> timedelta:
    """The timedelta a duration stands for.

    Raises:
        ValueError: not a duration, or a negative one.
    """
    shown = _show(value)
    try:
        if isinstance(value, timedelta):
            seconds = value.total_seconds()
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            seconds = float(value)
        elif isinstance(value, str) and len(value) <= 64 and (found := _DURATION.match(value)):
            seconds = float(found.group(1)) * _UNITS[found.group(2)]
        else:
            raise ValueError(f"{shown} is not {EXPECTED}")
    except OverflowError:
        raise ValueError(f"{shown} is longer than 100 years") from None
    if seconds != seconds:
        raise ValueError(f"{shown} is not a number")
    if seconds < 0:
        raise ValueError(f"{shown} is negative; durations go forward")
    if seconds > LONGEST.total_seconds():
        raise ValueError(f"{shown} is longer than 100 years")
    return timedelta(seconds=seconds)


def _show(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def format_duration(delta: timedelta) -> str:
    """A short human form: "250ms", "2s", "1.5s", "3m", "1h30m"."""
    seconds = delta.total_seconds()
    if seconds < 1 and seconds != 0:
        return f"{seconds * 1000:g}ms"
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    parts = [
        f"{int(hours)}h" if hours else "",
        f"{int(minutes)}m" if minutes else "",
        f"{secs:g}s" if secs else "",
    ]
    return "".join(parts) or "0s"
