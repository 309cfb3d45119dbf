"""What the web edge reads from a WSGI environ, in one place."""

from __future__ import annotations

import http
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
