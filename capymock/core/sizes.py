"""Sizes in bytes as people write them: `16MB`, `512KB`, `1GB`, or a plain number of bytes
(units of 1024)."""

from __future__ import annotations

import re

_UNITS = {
    "": 1,
    "B": 1,
    "K": 1 << 10,
    "KB": 1 << 10,
    "M": 1 << 20,
    "MB": 1 << 20,
    "G": 1 << 30,
    "GB": 1 << 30,
}
_SIZE = re.compile(r"\s*(\d{1,15})\s*([KMG]?B?)\s*", re.IGNORECASE)
EXPECTED = "a size such as 16MB, 512KB or 1048576"


def parse_size(text: str) -> int:
    """`text` as a number of bytes (at least 1).

    Raises:
        ValueError: it is not a size.
    """
    found = _SIZE.fullmatch(text)
    if found is None or int(found.group(1)) == 0:
        raise ValueError(f"{text!r} is not {EXPECTED}")
    return int(found.group(1)) * _UNITS[found.group(2).upper()]


def format_size(size: int) -> str:
    """`size` in the largest unit that writes it whole: 16777216 -> "16MB"."""
    for unit in ("GB", "MB", "KB"):
        if size % _UNITS[unit] == 0:
            return f"{size // _UNITS[unit]}{unit}"
    return f"{size}B"
