"""A record of the requests a mock has answered: bounded in count per journal and in bytes across
every journal of a server (its sessions' too), each value cut short, and every header and query
parameter whose name suggests a secret redacted.

A request is kept as little text: each header or query value cut to `MAX_VALUE` characters, the
path to `MAX_PATH`, the query string to `MAX_QUERY`, at most `MAX_HEADERS` headers; what was cut
is marked (`…[cut 399744 chars]`, and a `…` entry for the headers or query left out). The
journals of one server share a `JournalBudget`: once their entries together count more than its
bytes, the oldest entry of any of them is dropped first.
"""

from __future__ import annotations

import re
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, NamedTuple
from urllib.parse import parse_qs, unquote_plus

from capymock.core.auth import redact

DEFAULT_SIZE = 1000
"""Entries one journal keeps."""
DEFAULT_BYTES = 16 << 20
"""Bytes the journals of one server keep between them (16MB)."""
MAX_VALUE = 256
"""Characters kept of a header's or a query parameter's value (and of a header's name)."""
MAX_PATH = 1024
"""Characters kept of a path."""
MAX_QUERY = 2048
"""Characters kept of a query string."""
MAX_HEADERS = 64
"""Headers kept of one request."""
ENTRY_COST = 420
"""Bytes an entry is counted beyond the characters of its path, query and headers (the objects
that hold them, the path's and the query's string headers included)."""
HEADER_COST = 160
"""Bytes a header is counted beyond the characters of its name and value (its tuple and the two
strings' headers)."""
CUT_NAME = "…"
"""The header or query name that stands for what was left out."""
SECRET_WORDS = (
    "token", "key", "auth", "secret", "passw", "pwd", "session", "cookie", "signature", "credential", "jwt"
)  # fmt: skip
"""A header or query parameter whose name contains one of these (in any case) is shown only as
`redact()` does."""


def is_secret(name: str) -> bool:
    """Whether a header or query parameter called `name` may carry a secret (case-insensitive
    substring: `X-Access-Token`, `Authentication`, `api_key`, `sessionid`, ...)."""
    return _names_a_secret(name.lower())


_SECRET = re.compile("|".join(SECRET_WORDS))


def _names_a_secret(lowered: str) -> bool:
    return _SECRET.search(lowered) is not None


def cut(text: str, limit: int = MAX_VALUE) -> str:
    """`text`, or its first `limit` characters marked as cut (`abc…[cut 12 chars]`)."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}…[cut {len(text) - limit} chars]"


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


class _Raw(NamedTuple):
    """A request as kept (values cut short); turned into a `RecordedRequest` only when someone
    looks (a named tuple: made on every request, it is the cheapest record to make)."""

    method: str
    path: str
    query: str
    query_cut: int
    """Characters cut from the end of the query string."""
    status: int
    environ_headers: tuple[tuple[str, str], ...]
    headers_cut: int
    """Headers left out."""
    operation_id: str | None

    def recorded(self) -> RecordedRequest:
        named = ((key[5:].replace("_", "-").title(), value) for key, value in self.environ_headers)
        headers = {name: redact_header(name, value) for name, value in named}
        if self.headers_cut:
            headers[CUT_NAME] = f"[cut {self.headers_cut} more headers]"
        return RecordedRequest(
            self.method, self.path, self.parsed_query(), self.status, headers, self.operation_id
        )

    def parsed_query(self) -> dict[str, str | list[str]]:
        parsed = parse_qs(self.query, keep_blank_values=True)
        query: dict[str, str | list[str]] = {}
        for name, values in parsed.items():
            shown = [redact_value(name, value) for value in values]
            query[cut(name)] = shown[0] if len(shown) == 1 else shown
        if self.query_cut:
            query[CUT_NAME] = f"[cut {self.query_cut} more chars of the query]"
        return query


def redact_value(name: str, value: str) -> str:
    """A query parameter's value as it may be shown: redacted when its name suggests a secret,
    else cut to `MAX_VALUE` characters."""
    return redact(value) if is_secret(name) else cut(value)


def redact_header(name: str, value: str) -> str:
    """`value` as it may be shown: a secret-carrying header's credential cut to a few characters
    (`Bearer capy_live_abcd…`), a scheme name kept; any other header as it is, but for the
    secrets of a query in it (a `Referer` of `…?access_token=…`)."""
    if not is_secret(name):
        address, mark, query = value.partition("?")
        return f"{address}?{redact_query(query)}" if mark else value
    scheme, space, credential = value.strip().partition(" ")
    if space and scheme.isalpha() and len(scheme) <= 20:
        return f"{scheme} {redact(credential.strip())}"
    return redact(value.strip())


def redact_query(query: str) -> str:
    """A raw query string with each value whose parameter name suggests a secret redacted
    (`?access_token=abcd…&limit=2`); the rest as it was."""
    if not query or not _names_a_secret((unquote_plus(query) if "%" in query else query).lower()):
        return query
    parts = []
    for part in query.split("&"):
        name, equals, value = part.partition("=")
        if equals and is_secret(unquote_plus(name)):
            part = f"{name}={redact(unquote_plus(value))}"
        parts.append(part)
    return "&".join(parts)


class _Entry:
    """One kept request in its journal and in the server's order of arrival."""

    __slots__ = ("journal", "raw", "seq", "size")

    def __init__(self, journal: Journal, raw: _Raw, seq: int, size: int) -> None:
        self.journal, self.seq, self.size = journal, seq, size
        self.raw: _Raw | None = raw
        """None once the entry has left its journal."""


class JournalBudget:
    """The bytes the journals of one server keep between them: past `max_bytes`, the oldest entry
    of any of them is dropped first. Each journal counts its entries' text plus a fixed cost.

    One lock guards every journal that shares it.
    """

    def __init__(self, max_bytes: int = DEFAULT_BYTES) -> None:
        if max_bytes < 0:
            raise ValueError(f"a journal budget of {max_bytes} bytes: expected 0 or more")
        self.max_bytes = max_bytes
        self.lock = threading.Lock()
        self._order: deque[_Entry] = deque()
        self._bytes = 0
        self._kept = 0
        self.seq = 0
        """The number of the latest entry (or journal epoch) in this server's order; under `lock`."""

    @property
    def used(self) -> int:
        """Bytes the journals' entries count now."""
        return self._bytes

    def next_seq(self) -> int:
        """The next number in this server's order (of entries, and of journals' epochs); under `lock`."""
        self.seq += 1
        return self.seq

    def add(self, entry: _Entry) -> None:
        """Count `entry` (under `lock`), dropping the oldest entries of any journal past `max_bytes`."""
        self._order.append(entry)
        self._bytes += entry.size
        self._kept += 1
        while self._bytes > self.max_bytes:
            oldest = self._order.popleft()
            if oldest.raw is not None:
                oldest.journal.drop_oldest()
        if len(self._order) > 2 * self._kept + 64:  # forget entries their journals let go
            self._order = deque(entry for entry in self._order if entry.raw is not None)

    def release(self, entry: _Entry) -> None:
        """Stop counting `entry`, which has left its journal (under `lock`)."""
        entry.raw = None
        self._bytes -= entry.size
        self._kept -= 1


@dataclass(frozen=True)
class Page:
    """Part of a journal: its entries after a cursor, each with its number in the server's order."""

    entries: list[tuple[int, RecordedRequest]]
    more: bool
    """Whether entries newer than the last of these are kept."""
    newest: int
    """The number of the newest entry kept (0: none)."""
    kept: int
    """How many entries the journal keeps."""
    dropped: int
    """How many entries the journal has dropped (count or budget) since it was last cleared."""
    epoch: int
    """Changes whenever the journal is cleared."""


class Journal:
    """The newest `size` requests, oldest first, within the bytes `budget` leaves (a budget of its
    own unless one is shared); older ones are dropped."""

    def __init__(self, size: int = DEFAULT_SIZE, budget: JournalBudget | None = None) -> None:
        self.size = size
        self.budget = budget if budget is not None else JournalBudget()
        self._lock = self.budget.lock
        self._entries: deque[_Entry] = deque()
        self._dropped = 0
        with self._lock:
            self._epoch = self.budget.next_seq()

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
        headers: list[tuple[str, str]] = []
        left_out = 0
        size = 0
        for key, value in environ.items():
            if key.startswith("HTTP_"):
                if len(headers) == MAX_HEADERS:
                    left_out += 1
                    continue
                if len(value) > MAX_VALUE or len(key) > MAX_VALUE:
                    key, value = cut(key), cut(value)
                headers.append((key, value))
                size += len(key) + len(value)
        if len(path) > MAX_PATH:
            path = cut(path, MAX_PATH)
        query_cut = max(0, len(query) - MAX_QUERY)
        if query_cut:
            query = query[:MAX_QUERY]
        # A text's length stands for its memory (an ASCII str is its length and a fixed header,
        # which the per-entry and per-header costs hold).
        size += ENTRY_COST + len(path) + len(query) + HEADER_COST * len(headers)
        raw = _Raw(method, path, query, query_cut, status, tuple(headers), left_out, operation_id)
        budget = self.budget
        with self._lock:
            budget.seq += 1
            entry = _Entry(self, raw, budget.seq, size)
            self._entries.append(entry)
            budget.add(entry)
            while len(self._entries) > self.size:
                self.drop_oldest()

    def drop_oldest(self) -> None:
        """Let the oldest entry go (under the budget's lock)."""
        self.budget.release(self._entries.popleft())
        self._dropped += 1

    def entries(self) -> list[RecordedRequest]:
        with self._lock:
            raw = [entry.raw for entry in self._entries]
        return [entry.recorded() for entry in raw if entry is not None]

    def page(self, since: int = 0, limit: int = DEFAULT_SIZE, *, newest: bool = False) -> Page:
        """At most `limit` entries numbered after `since`, oldest first: the oldest of them, or,
        with `newest`, the newest."""
        if limit < 1:
            raise ValueError(f"a page of {limit} entries: expected 1 or more")
        with self._lock:
            after = [(entry.seq, entry.raw) for entry in self._entries if entry.seq > since]
            last = self._entries[-1].seq if self._entries else 0
            kept, dropped, epoch = len(self._entries), self._dropped, self._epoch
        chosen = after[-limit:] if newest else after[:limit]
        entries = [(seq, raw.recorded()) for seq, raw in chosen if raw is not None]
        more = bool(chosen) and chosen[-1][0] < last
        return Page(entries, more, last, kept, dropped, epoch)

    @property
    def epoch(self) -> int:
        """Changes whenever the journal is cleared (no two journals of a server share one)."""
        return self._epoch

    def clear(self) -> None:
        with self._lock:
            while self._entries:
                self.budget.release(self._entries.popleft())
            self._dropped = 0
            self._epoch = self.budget.next_seq()
