"""Answers remembered while the state they were computed from stands, in one budget of bytes
for the whole process.

Every world (a served mock, each of its sessions, each in-process `Mock`) remembers its answers
in a `Memo` of its own, but all memos draw on one `Budget`: a stranger who sends a new query
string to each of a thousand sessions fills the budget, not a thousand memos. Past the budget,
the memos used least recently are emptied first.
"""

from __future__ import annotations

import itertools
import threading
import weakref
from typing import Any

MEMO_SIZE = 512
"""Answers kept per state version; a full memo starts again empty."""
MEMO_BYTES = 32 << 20
"""The bytes all memos of the process may hold together, by default (`serve --answer-cache`)."""
ENTRY_BYTES = 512
"""What an entry costs beyond its own bytes (its key and record), as counted."""


class Budget:
    """The bytes the memos that share it may hold together; the least recently used memos are
    emptied to make room. Changes to memos happen under its lock; reads take none."""

    def __init__(self, limit: int = MEMO_BYTES) -> None:
        self.limit = limit
        self.used = 0
        self.lock = threading.RLock()
        """Reentrant: a memo collected while the lock is held (garbage collection runs anywhere,
        its finalizer on the same thread) gives its bytes back under it."""
        self._memos: weakref.WeakSet[Memo] = weakref.WeakSet()
        self.ticks = itertools.count()
        """Moments of use: a memo's latest says how recently it answered."""

    def join(self, memo: Memo) -> None:
        with self.lock:
            self._memos.add(memo)
        weakref.finalize(memo, self._release, memo.held)

    def _release(self, held: list[int]) -> None:
        with self.lock:
            self.used -= held[0]
            held[0] = 0

    def make_room(self, cost: int, asking: Memo) -> bool:
        """Whether `cost` bytes fit, after emptying the memos used least recently (`asking`'s
        own entries last). Called with the lock held."""
        if cost > self.limit:
            return False
        if self.used + cost <= self.limit:
            return True
        others = sorted((m for m in self._memos if m is not asking and m.held[0]), key=lambda m: m.touched)
        for memo in [*others, asking]:
            memo.empty()
            if self.used + cost <= self.limit:
                return True
        return self.used + cost <= self.limit


SHARED = Budget()
"""The process's budget: every memo draws on it unless given another."""


class Memo:
    """Values keyed by what they were computed from, valid for one state version at a time.

    `version` comes from the state the value was computed from, read before computing: a value
    put for an older version than the memo holds is dropped, and a newer version empties it.
    Reads take no lock: the (version, values) pair is replaced whole.
    """

    def __init__(self, size: int = MEMO_SIZE, budget: Budget | None = None) -> None:
        self.size = size
        self.budget = budget or SHARED
        self._state: tuple[int, dict[Any, Any]] = (-1, {})
        self.held = [0]
        """The bytes this memo's values cost (a list: the budget's finalizer holds it too)."""
        self.touched = 0
        self.budget.join(self)

    def get(self, key: Any, version: int) -> Any:
        """The value put for `key` at `version`, or None."""
        held, values = self._state
        if held != version:
            return None
        found = values.get(key)
        if found is not None:
            self.touched = next(self.budget.ticks)
        return found[0] if found is not None else None

    def put(self, key: Any, version: int, value: Any, cost: int = 0) -> None:
        """Remember `value` for `key` at `version`; it costs `cost` bytes (and `ENTRY_BYTES`)."""
        cost += ENTRY_BYTES
        budget = self.budget
        with budget.lock:
            held, values = self._state
            if version < held:
                return
            if version > held or len(values) >= self.size:
                self.empty()
                values = {}
                self._state = (version, values)
            if key in values or not budget.make_room(cost, self):
                return
            if self._state[1] is not values:  # emptied to make room: start its version again
                values = {}
                self._state = (version, values)
            values[key] = (value, cost)
            self.held[0] += cost
            budget.used += cost
            self.touched = next(budget.ticks)

    def empty(self) -> None:
        """Forget every value (called with the budget's lock held)."""
        self._state = (self._state[0], {})
        self.budget.used -= self.held[0]
        self.held[0] = 0
