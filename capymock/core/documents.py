"""What a document of plain values may hold, however it was read: the YAML loader refuses a
file past these bounds, and the document cache refuses an entry past them (then the file is
parsed again), so both give the same documents."""

from __future__ import annotations

import math
from typing import Any

MAX_VALUES = 100_000
"""Values a document may hold once its aliases are expanded (a "billion laughs" stops here);
each key of a mapping counts as one."""
MAX_DEPTH = 64
"""How deeply lists and mappings may nest."""


def plain_document_problem(document: Any) -> str | None:
    """Why `document` is not one the YAML loader could have made, or None: more than
    `MAX_VALUES` values, nested deeper than `MAX_DEPTH`, a number that is not finite, a key
    that is not a string, or a value that is not JSON-shaped."""
    count = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        count += 1
        if count > MAX_VALUES:
            return f"it holds more than {MAX_VALUES:,} values"
        if depth > MAX_DEPTH:
            return f"lists and mappings nest more than {MAX_DEPTH} deep"
        if isinstance(value, dict):
            for key, item in value.items():
                if not isinstance(key, str):
                    return f"a key is not a string: {type(key).__name__}"
                count += 1
                pending.append((item, depth + 1))
        elif isinstance(value, list):
            pending.extend((item, depth + 1) for item in value)
        elif isinstance(value, float):
            if not math.isfinite(value):
                return f"a number is not finite: {value}"
        elif value is not None and not isinstance(value, (str, int)):  # bool is an int
            return f"a value is not plain data: {type(value).__name__}"
    return None
