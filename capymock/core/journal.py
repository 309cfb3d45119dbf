"""A bounded record of the requests a mock has answered, every header that can carry a secret
redacted."""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from capymock.core.auth import redact

DEFAULT_SIZE = 1000
SECRET_HEADERS = frozenset(
    ("authorization", "proxy-authorization", "cookie", "x-api-key", "x-auth-token", "x-capymock-token")
)
"""Headers kept only as `redact()` shows them."""


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
    """Request headers; those that can carry a secret are redacted (`Bearer capy_live_abcd…`)."""
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


@dataclass(frozen=True)
class _Raw:
    """A request as the app saw it; turned into a `RecordedRequest` only when someone looks."""

    method: str
    path: str
    query: str
    status: int
    environ_headers: list[tuple[str, str]]
    operation_id: str | None

    def recorded(self) -> RecordedRequest:
        named = ((key[5:].replace("_", "-").title(), value) for key, value in self.environ_headers)
        headers = {name: redact_header(name, value) for name, value in named}
        parsed = parse_qs(self.query, keep_blank_values=True)
        query = {name: values[0] if len(values) == 1 else list(values) for name, values in parsed.items()}
        return RecordedRequest(self.method, self.path, query, self.status, headers, self.operation_id)


def redact_header(name: str, value: str) -> str:
    """`value` as it may be shown: a secret-carrying header's credential cut to a few characters
    (`Bearer capy_live_abcd…`), a scheme name kept; any other header as it is."""
    if name.lower() not in SECRET_HEADERS:
        return value
    scheme, space, credential = value.strip().partition(" ")
    if space and scheme.isalpha() and len(scheme) <= 20:
        return f"{scheme} {redact(credential.strip())}"
    return redact(value.strip())


class Journal:
    """The newest `size` requests, oldest first; older ones are dropped."""

    def __init__(self, size: int = DEFAULT_SIZE) -> None:
        self._entries: deque[_Raw] = deque(maxlen=size)
        self._lock = threading.Lock()

    def record(
        self,
        method: str,
        path: str,
        query: str,
        status: int,
        environ: Mapping[str, Any],
        operation_id: str | None,
    ) -> None:
        """Keep one answered request (`query`: its query string; `environ` for its `HTTP_*` headers)."""
        headers = [(key, value) for key, value in environ.items() if key.startswith("HTTP_")]
        with self._lock:
            self._entries.append(_Raw(method, path, query, status, headers, operation_id))

    def entries(self) -> list[RecordedRequest]:
        with self._lock:
            raw = list(self._entries)
        return [entry.recorded() for entry in raw]

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
