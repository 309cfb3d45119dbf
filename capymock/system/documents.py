"""Parsed YAML documents kept on disk as JSON, so a start with unchanged files neither imports
nor runs PyYAML (a tenth of `capymock serve`'s cold start).

Each document is kept in the cache folder (`CAPYMOCK_CACHE`, else `$XDG_CACHE_HOME/capymock`,
else `~/.cache/capymock`; `CAPYMOCK_CACHE=off` keeps none) with the path, size, modification
time and capymock version of the file it was read from: any difference, a missing, unreadable
or corrupt entry is a miss, and the file is parsed again. Only a document JSON holds exactly is
kept (not one with a YAML timestamp or a number as a key). Writing is best effort, atomic, and
never an error: a read-only home only costs the time it would have saved.
"""

from __future__ import annotations

import contextlib
import json
import os
import zlib
from pathlib import Path
from typing import Any

from capymock.version import __version__

CACHE_ENV = "CAPYMOCK_CACHE"


def cache_folder() -> Path | None:
    """Where documents are kept; None when keeping is turned off."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "capymock"


def recall(kind: str, path: str, size: int, mtime_ns: int) -> Any:
    """The `kind` document kept for the file at `path` of this size and modification time, or None."""
    entry = _entry(kind, path)
    if entry is None:
        return None
    try:
        kept = json.loads(entry.read_bytes())
    except (OSError, ValueError):
        return None
    if not isinstance(kept, dict) or kept.get("key") != _key(kind, path, size, mtime_ns):
        return None
    return kept.get("document")


def keep(kind: str, path: str, size: int, mtime_ns: int, document: Any) -> None:
    """Keep `document`, parsed from the file at `path` of this size and modification time (best effort)."""
    entry = _entry(kind, path)
    if entry is None or document is None:
        return
    try:
        text = json.dumps({"key": _key(kind, path, size, mtime_ns), "document": document}, ensure_ascii=False)
        data = text.encode("utf-8")
    except (TypeError, ValueError):  # a timestamp, a number too large, a file name that is no text
        return
    if json.loads(text)["document"] != document:  # a number as a mapping key comes back a string
        return
    partial = entry.with_name(f"{entry.name}.{os.getpid()}.tmp")
    try:
        entry.parent.mkdir(parents=True, exist_ok=True)
        partial.write_bytes(data)
        os.replace(partial, entry)
    except OSError:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)


def _entry(kind: str, path: str) -> Path | None:
    folder = cache_folder()
    if folder is None:
        return None
    where = os.path.abspath(path).encode("utf-8", "surrogateescape")
    return folder / f"{kind}-{zlib.crc32(where):08x}.json"


def _key(kind: str, path: str, size: int, mtime_ns: int) -> list[Any]:
    return [kind, os.path.abspath(path), size, mtime_ns, __version__]
