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
    """The duration in one unit, as `parse_duration` reads it back exactly: "250ms", "1.5s",
    "90s", "10m", "2h" (to the microsecond: "0.5ms", "2.000001s")."""
    micro = delta // timedelta(microseconds=1)
    if micro < 0:
        return "-" + format_duration(-delta)
    if micro % 1_000_000:
        return f"{_decimal(micro, 1000)}ms" if micro < 1_000_000 else f"{_decimal(micro, 1_000_000)}s"
    seconds = micro // 1_000_000
    if seconds and seconds % 3600 == 0:
        return f"{seconds // 3600}h"
    return f"{seconds // 60}m" if seconds and seconds % 60 == 0 else f"{seconds}s"


def _decimal(number: int, unit: int) -> str:
    """`number / unit` as a decimal without trailing zeros (`unit` a power of ten)."""
    whole, part = divmod(number, unit)
    return f"{whole}.{part:0{len(str(unit)) - 1}d}".rstrip("0").rstrip(".")
