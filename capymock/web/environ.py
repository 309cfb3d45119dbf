"""What the web edge reads from a WSGI environ, in one place."""

from __future__ import annotations

import http
import threading
from collections.abc import Callable
from typing import Any

StartResponse = Callable[..., Any]
Environ = dict[str, Any]

STATUS_LINES = {status.value: f"{status.value} {status.phrase}" for status in http.HTTPStatus}
"""Status code -> WSGI status line (`404 Not Found`)."""


def request_path(environ: Environ) -> str:
    """The request's path as text (WSGI hands it over as bytes decoded as latin-1)."""
    raw = environ.get("PATH_INFO", "") or "/"
    return str(raw.encode("latin-1").decode("utf-8", "replace"))


def header(environ: Environ, name: str) -> str | None:
    """A request header by name (`Content-Type`), or None."""
    key = name.upper().replace("-", "_")
    value = environ.get(key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key)
    return value if isinstance(value, str) else None


def read_body(environ: Environ, limit: int) -> bytes:
    """The request body, at most `limit` + 1 bytes (more than `limit`: the caller refuses it).

    Content-Length says how much there is; without it, a chunked body is read to its end.
    Raises ValueError when Content-Length is not a number.
    """
    length = environ.get("CONTENT_LENGTH")
    if length:
        size = int(length)
        return bytes(environ["wsgi.input"].read(min(size, limit + 1))) if size > 0 else b""
    if "chunked" in str(environ.get("HTTP_TRANSFER_ENCODING") or "").lower():
        return bytes(environ["wsgi.input"].read(limit + 1))
    return b""


DEFERRABLE = "capymock.deferrable"
"""Environ key set by a server that can answer later: a delayed fault then raises `HeldBack`
instead of sleeping on the server's thread."""
TAKEN = "capymock.taken"
"""Environ key of the fault a held-back request already took (and waited for), when it is run again."""


HOLDS = "capymock.holds"
"""Environ key of the server's `Holds`: how many requests delays hold back, and how many may be."""
HELD = "capymock.held"
"""Environ key set on a request a delay holds back: the `Holds` to give its place back to."""
MAX_HELD = 1000
"""Requests delays may hold back at once, server-wide, by default (`serve --max-held`)."""


class Holds:
    """The requests held back by faults' delays across a server and all its sessions: at most
    `limit` at once (a thread each under waitress, a timer each under granian)."""

    def __init__(self, limit: int = MAX_HELD) -> None:
        self.limit, self.count = limit, 0
        self._lock = threading.Lock()

    def take(self) -> bool:
        """A place for one more held request; False when all `limit` are taken."""
        with self._lock:
            if self.count >= self.limit:
                return False
            self.count += 1
            return True

    def give_back(self) -> None:
        with self._lock:
            self.count -= 1


class HeldBack(Exception):
    """A request held back by a fault's delay: run it again with `TAKEN` after `seconds`."""

    def __init__(self, seconds: float, fault: object) -> None:
        super().__init__(f"held back {seconds:g}s by an injected fault")
        self.seconds, self.fault = seconds, fault
