"""Answers remembered while the state they were computed from stands."""

from __future__ import annotations

from typing import Any

MEMO_SIZE = 512
"""Answers kept per state version; a full memo starts again empty."""


class Memo:
    """Values keyed by what they were computed from, valid for one state version at a time.

    `version` comes from the state the value was computed from, read before computing: a value
    put for an older version than the memo holds is dropped, and a newer version empties it.
    Thread-safe without a lock: the (version, values) pair is replaced whole.
    """

    def __init__(self, size: int = MEMO_SIZE) -> None:
        self.size = size
        self._state: tuple[int, dict[Any, Any]] = (-1, {})

    def get(self, key: Any, version: int) -> Any:
        """The value put for `key` at `version`, or None."""
        held, values = self._state
        return values.get(key) if held == version else None

    def put(self, key: Any, version: int, value: Any) -> None:
        held, values = self._state
        if version < held:
            return
        if version > held or len(values) >= self.size:
            values = {}
            self._state = (version, values)
        values[key] = value
