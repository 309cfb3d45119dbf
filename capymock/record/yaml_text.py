"""How a recorded scenario file writes a value: as YAML flow text, inside a comment, or as a
duration. JSON is YAML, so values are written as JSON, escaped where a YAML file needs it."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from typing import Any

from capymock.core.durations import format_duration

_NOT_YAML = re.compile("[\x7f-\x9f\u2028\u2029\ud800-\udfff\ufffe\uffff]")
"""Characters JSON leaves as they are but a YAML file may not hold, or reads as line breaks (NEL,
LS, PS: one would end a comment, and be folded into a space in a quoted value): escaped."""


def flow(value: Any) -> str:
    """`value` as YAML flow text: JSON (which YAML reads), readable, and safe in any file."""
    text = json.dumps(value, ensure_ascii=False)
    return _NOT_YAML.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def comment(text: str) -> str:
    """`text` on one line, fit for a YAML comment."""
    return flow(text)[1:-1]


def seconds(value: float | None) -> str:
    """A duration in seconds as scenario files write it, to the millisecond: 250ms, 2.5s, 90s, 10m."""
    return format_duration(timedelta(milliseconds=round((value or 0.0) * 1000)))


def is_entry(block: list[str]) -> bool:
    """Whether the lines of a job or of the faults hold an entry (not only comments)."""
    return any(line.startswith("  - ") for line in block)
