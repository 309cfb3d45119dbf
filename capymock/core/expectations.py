"""`assert_requested`: did the mock see a request, and how many times; a readable failure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from capymock.core.journal import RecordedRequest

_SHOWN = 20


def matches(entry: RecordedRequest, method: str, path: str, **filters: Any) -> bool:
    """Whether `entry` is `method path` and satisfies every filter.

    `query` and `headers` filters match a subset (header names case-insensitively); any
    other filter compares the entry's attribute of that name.
    """
    if entry.method != method.upper() or entry.path != path:
        return False
    for name, wanted in filters.items():
        if name == "query" and not _subset(wanted, entry.query):
            return False
        if name == "headers" and not _subset(
            {k.lower(): v for k, v in wanted.items()}, {k.lower(): v for k, v in entry.headers.items()}
        ):
            return False
        if name not in ("query", "headers") and getattr(entry, name) != wanted:
            return False
    return True


def _subset(wanted: Mapping[str, Any], seen: Mapping[str, Any]) -> bool:
    return all(name in seen and seen[name] == value for name, value in wanted.items())


def assert_requested(
    entries: Sequence[RecordedRequest], method: str, path: str, times: int | None = None, **filters: Any
) -> None:
    """Raise `AssertionError` unless `method path` was requested `times` times (None: at least once)."""
    __tracebackhide__ = True
    unknown = set(filters) - {"query", "headers", "status", "operation_id"}
    if unknown:
        raise TypeError(
            f"unknown filter(s) {', '.join(sorted(unknown))}; use query, headers, status, operation_id"
        )
    count = sum(matches(entry, method, path, **filters) for entry in entries)
    if (times is None and count > 0) or count == times:
        return
    wanted = f"{method.upper()} {path}" + "".join(f" {k}={v!r}" for k, v in filters.items())
    expected = "at least once" if times is None else f"{times} time{'s' if times != 1 else ''}"
    raise AssertionError(
        f"expected {wanted} {expected}, saw it {count} time{'s' if count != 1 else ''}.\n" + _listing(entries)
    )


def _listing(entries: Sequence[RecordedRequest]) -> str:
    if not entries:
        return "The mock saw no requests."
    shown = entries[-_SHOWN:]
    lines = [
        f"The mock saw {len(entries)} request{'s' if len(entries) != 1 else ''}"
        + (f" (the last {_SHOWN} shown)" if len(entries) > _SHOWN else "")
        + ":"
    ]
    for entry in shown:
        query = "&".join(
            f"{k}={v}" for k, vs in entry.query.items() for v in (vs if isinstance(vs, list) else [vs])
        )
        lines.append(f"  {entry.method} {entry.path}{'?' + query if query else ''} -> {entry.status}")
    return "\n".join(lines)
