"""A bounded record of the requests a mock has answered, tokens redacted."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

DEFAULT_SIZE = 1000


@dataclass(frozen=True)
class RecordedRequest:
    """One answered request."""

    method: str
    path: str
    """The path without the query string."""
    query: Mapping[str, str | list[str]]
    """Query parameters; a name given more than once maps to the list of its values."""
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    """Request headers, with the bearer token redacted."""
    operation_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "method": self.method,
            "path": self.path,
            "query": dict(self.query),
            "status": self.status,
            "headers": dict(self.headers),
            "operation_id": self.operation_id,
        }


class Journal:
    """The newest `size` requests, oldest first; older ones are dropped."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._entries: deque[RecordedRequest] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(self, entry: RecordedRequest) -> None:
        with self._lock:
            self._entries.append(entry)

    def entries(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
