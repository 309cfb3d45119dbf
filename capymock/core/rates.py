"""Request rates as the command line takes them: "10/s", "300/m", "2/h", or a bare number per
second; 0 means no limit."""

from __future__ import annotations

SECONDS = {"s": 1.0, "m": 60.0, "h": 3600.0}


def parse_rate(rate: str | float | None) -> str | None:
    """The rate in its normal form ("10/s", "300/m"); None for no limit (None or 0).

    Raises:
        ValueError: not a whole number per second, minute or hour.
    """
    if rate is None:
        return None
    text = str(rate).strip()
    number, _, unit = text.partition("/")
    unit = unit.strip() or "s"
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if unit not in SECONDS or not 0 <= value < 1e9 or value != int(value):
        raise ValueError(f"{text!r}: expected a whole number per second, minute or hour: 10/s, 300/m, 5")
    return f"{int(value)}/{unit}" if value else None


def per_second(rate: str) -> float:
    """Requests a second of a rate in normal form ("300/m" → 5.0)."""
    number, _, unit = rate.partition("/")
    return int(number) / SECONDS[unit]
