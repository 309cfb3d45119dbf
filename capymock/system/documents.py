"""Files read once, within bounds; and their parsed YAML documents kept on disk as JSON, so a
start with unchanged files neither imports nor runs PyYAML (a tenth of `capymock serve`'s cold
start).

`read_file` reads a spec or scenario file whole, once: only a regular file (a named pipe, a
device such as `/dev/zero` or a folder is refused before anything is read, symlinks followed)
of at most `MAX_FILE_BYTES`.

Each document is kept in the cache folder (`CAPYMOCK_CACHE`, else `$XDG_CACHE_HOME/capymock`,
else `~/.cache/capymock`; `CAPYMOCK_CACHE=off` keeps none) under a hash of the bytes it was
parsed from, its kind and capymock's version: content-addressed, so an edit is a miss whatever
its size and modification time. An entry is untrusted input: one that is not a regular file, is
larger than `MAX_ENTRY_BYTES`, is not JSON, or holds what the YAML loader would refuse (more
than `MAX_VALUES` values, deeper than `MAX_DEPTH`, a number that is not finite; see
`core.documents`) is a miss, and the file is parsed again. Only a document JSON holds exactly is
kept (not one with a YAML timestamp or a number as a key). Writing is best effort, atomic, and
never an error: a read-only home only costs the time it would have saved.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from pathlib import Path
from typing import Any

from capymock.core.documents import plain_document_problem
from capymock.version import __version__

try:  # hashlib.blake2b itself, without hashlib's OpenSSL import (a fiftieth of serve's cold start)
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - an interpreter without the module
    from hashlib import blake2b

CACHE_ENV = "CAPYMOCK_CACHE"
MAX_FILE_BYTES = 16 * 1024 * 1024
"""The largest spec or scenario file read (16 MiB)."""
MAX_ENTRY_BYTES = 64 * 1024 * 1024
"""The largest cache entry read; a larger one is a miss."""


_NONBLOCK: int = getattr(os, "O_NONBLOCK", 0)


class UnreadableFile(Exception):
    """A file that is not read: not a regular file, too large, or the system refused it."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = str(path), reason


def read_file(path: str | os.PathLike[str], limit: int = MAX_FILE_BYTES) -> bytes:
    """The bytes of the regular file at `path` (symlinks followed), read once.

    Raises:
        UnreadableFile: a named pipe, device, socket or folder (refused before reading), a file
            larger than `limit` bytes, or one the system cannot open or read.
    """
    try:
        # O_NONBLOCK: opening a named pipe returns at once (nothing is read from it) instead of
        # waiting for a writer (POSIX; Windows has neither the flag nor such pipes).
        handle = os.open(
            path, os.O_RDONLY | _NONBLOCK | getattr(os, "O_BINARY", 0) | getattr(os, "O_CLOEXEC", 0)
        )
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read: {exc.strerror or exc}") from None
    try:
        found = os.fstat(handle)
        if not stat.S_ISREG(found.st_mode):
            raise UnreadableFile(path, f"not a regular file: {_kind(found.st_mode)}; give a YAML file")
        if found.st_size > limit:
            raise UnreadableFile(path, f"{found.st_size:,} bytes, more than the {limit:,} a file may have")
        if _NONBLOCK:
            os.set_blocking(handle, True)
        chunks, total = [], 0
        while total <= limit:
            chunk = os.read(handle, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
        if total > limit:  # grown since it was looked at
            raise UnreadableFile(path, f"more than the {limit:,} bytes a file may have")
        return b"".join(chunks)
    except OSError as exc:
        raise UnreadableFile(path, f"cannot read: {exc.strerror or exc}") from None
    finally:
        os.close(handle)


def not_regular(path: str | os.PathLike[str]) -> str | None:
    """What is wrong with reading `path` as a file (symlinks followed), without opening it; None
    for a regular file."""
    try:
        mode = os.stat(path).st_mode
    except OSError as exc:
        return f"{path}: cannot read: {exc.strerror or exc}"
    return None if stat.S_ISREG(mode) else f"{path}: not a regular file: {_kind(mode)}; give a YAML file"


def digest(source: bytes) -> str:
    """A hash of `source` (hex): what names its document in the cache."""
    return blake2b(source, digest_size=32, person=b"capymock-doc").hexdigest()


def _kind(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a file"


def cache_folder() -> Path | None:
    """Where documents are kept; None when keeping is turned off."""
    chosen = os.environ.get(CACHE_ENV, "")
    if chosen.lower() == "off":
        return None
    if chosen:
        return Path(chosen)
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "capymock"


def recall(kind: str, source: bytes) -> Any:
    """The `kind` document kept for a file of these bytes, or None (nothing kept, or an entry
    that is not what the YAML loader would have made of them)."""
    key = _key(kind, source)
    entry = _entry(kind, key)
    if entry is None:
        return None
    try:
        kept = json.loads(read_file(entry, MAX_ENTRY_BYTES), parse_constant=_no_constant)
    except (UnreadableFile, ValueError, RecursionError):
        return None
    if not isinstance(kept, dict) or set(kept) != {"key", "document"} or kept["key"] != key:
        return None
    document = kept["document"]
    if document is None or plain_document_problem(document) is not None:
        return None
    return document


def keep(kind: str, source: bytes, document: Any) -> None:
    """Keep `document`, parsed from a file of these bytes (best effort; only a document `recall`
    would give back exactly)."""
    key = _key(kind, source)
    entry = _entry(kind, key)
    if entry is None or document is None or plain_document_problem(document) is not None:
        return
    try:
        text = json.dumps({"key": key, "document": document}, ensure_ascii=False, allow_nan=False)
        data = text.encode("utf-8")
    except (TypeError, ValueError):  # a timestamp, a number too large
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


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _entry(kind: str, key: str) -> Path | None:
    folder = cache_folder()
    return None if folder is None else folder / f"{kind}-{key[:32]}.json"


def _key(kind: str, source: bytes) -> str:
    hashed = blake2b(source, digest_size=32, person=b"capymock-doc")
    hashed.update(f"\0{kind}\0{__version__}".encode())
    return hashed.hexdigest()
