"""Injected faults at run time: which requests they hit, and how many times they still fire."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from capymock.core.durations import format_duration
from capymock.core.routing import template_pattern
from capymock.scenario.model import Fault


@dataclass(frozen=True)
class ArmedFault:
    """A fault and how many more times it fires (None: always)."""

    fault: Fault
    path: re.Pattern[str] | None
    remaining: int | None

    @classmethod
    def arm(cls, fault: Fault) -> ArmedFault:
        path = template_pattern(fault.path)[0] if fault.path is not None else None
        return cls(fault, path, fault.times)

    def matches(
        self, method: str, path: str, operation_id: str | None, query: Mapping[str, list[str]]
    ) -> bool:
        fault = self.fault
        if fault.method is not None and fault.method != method:
            return False
        if self.path is not None and not self.path.fullmatch(path):
            return False
        if fault.operation is not None and fault.operation != operation_id:
            return False
        return all(value in query.get(name, ()) for name, value in fault.query.items())

    def describe(self) -> dict[str, Any]:
        """As JSON-able data: what it matches, its answer, and how often it still fires."""
        fault = self.fault
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
            "remaining": self.remaining,
        }


class ArmedFaults:
    """The faults a mock injects, in the order they were added."""

    def __init__(self, armed: Iterable[ArmedFault] = ()) -> None:
        self._lock = threading.Lock()
        self._armed = list(armed)

    def add(self, fault: Fault) -> None:
        with self._lock:
            self._armed.append(ArmedFault.arm(fault))

    def take(
        self, method: str, path: str, operation_id: str | None, query: Mapping[str, list[str]]
    ) -> Fault | None:
        """The first fault matching this request, counting it as fired once."""
        if not self._armed:
            return None
        with self._lock:
            for index, armed in enumerate(self._armed):
                if armed.matches(method, path, operation_id, query):
                    if armed.remaining is not None:
                        left = armed.remaining - 1
                        self._armed[index] = ArmedFault(armed.fault, armed.path, left)
                        if left == 0:
                            del self._armed[index]
                    return armed.fault
        return None

    def armed(self) -> bool:
        """Whether any fault is armed."""
        return bool(self._armed)

    def delaying(self) -> bool:
        """Whether an armed fault may hold a request back (the requests held are the server's
        `Holds` to count)."""
        return any(armed.fault.delay for armed in self._armed)

    def snapshot(self) -> tuple[ArmedFault, ...]:
        with self._lock:
            return tuple(self._armed)

    def clear(self) -> None:
        with self._lock:
            self._armed = []

    def describe(self) -> list[dict[str, Any]]:
        """The armed faults as JSON-able dicts."""
        return [armed.describe() for armed in self.snapshot()]
