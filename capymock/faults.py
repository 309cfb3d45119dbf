"""Injected faults at run time: which requests they hit, and how many times they still fire."""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from capymock.duration import format_duration
from capymock.routing import template_pattern
from capymock.scenarios import Fault


@dataclass(frozen=True)
class _Armed:
    fault: Fault
    path: re.Pattern[str] | None
    remaining: int | None


def _path_pattern(path: str | None) -> re.Pattern[str] | None:
    return template_pattern(path)[0] if path is not None else None


class Faults:
    """The faults a mock injects, in the order they were added."""

    def __init__(self, faults: tuple[Fault, ...] = ()) -> None:
        self._lock = threading.Lock()
        self._armed = [_Armed(f, _path_pattern(f.path), f.times) for f in faults]

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(_Armed(fault, _path_pattern(fault.path), fault.times))

    def take(
        self, method: str, path: str, operation_id: str | None, query: Mapping[str, list[str]]
    ) -> Fault | None:
        """The first fault matching this request, counting it as fired once."""
        with self._lock:
            for index, armed in enumerate(self._armed):
                if _matches(armed, method, path, operation_id, query):
                    if armed.remaining is not None:
                        left = armed.remaining - 1
                        self._armed[index] = _Armed(armed.fault, armed.path, left)
                        if left == 0:
                            del self._armed[index]
                    return armed.fault
        return None

    def delaying(self) -> bool:
        """Whether an armed fault holds its requests back (a `delay`)."""
        return any(armed.fault.delay for armed in self._armed)

    def snapshot(self) -> tuple[_Armed, ...]:
        with self._lock:
            return tuple(self._armed)

    def restore(self, snapshot: tuple[_Armed, ...]) -> None:
        with self._lock:
            self._armed = list(snapshot)

    def clear(self) -> None:
        self.restore(())

    def describe(self) -> list[dict[str, Any]]:
        """The armed faults as JSON-able dicts."""
        return [_describe(armed) for armed in self.snapshot()]


def _matches(
    armed: _Armed, method: str, path: str, operation_id: str | None, query: Mapping[str, list[str]]
) -> bool:
    fault = armed.fault
    if fault.method is not None and fault.method != method:
        return False
    if armed.path is not None and not armed.path.fullmatch(path):
        return False
    if fault.operation is not None and fault.operation != operation_id:
        return False
    return all(value in query.get(name, ()) for name, value in fault.query.items())


def _describe(armed: _Armed) -> dict[str, Any]:
    fault = armed.fault
    match = {
        "method": fault.method,
        "path": fault.path,
        "operation": fault.operation,
        "query": dict(fault.query),
    }
    return {
        "match": {k: v for k, v in match.items() if v},
        "status": fault.status,
        "delay": format_duration(fault.delay) if fault.delay else None,
        "remaining": armed.remaining,
    }
