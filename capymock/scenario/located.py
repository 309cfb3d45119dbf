"""A scenario document as plain data, with where in its file each value and key came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from capymock.errors import SourceLocation
from capymock.scenario.model import DocPath


@dataclass(frozen=True)
class Located:
    """A YAML document as plain data, with the source location of each node."""

    data: Any
    values: dict[DocPath, SourceLocation]
    keys: dict[DocPath, SourceLocation]

    def at(self, path: DocPath) -> SourceLocation | None:
        """Where the value at `path` starts; for a path that does not exist, its nearest parent."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return None

    def key_at(self, path: DocPath) -> SourceLocation | None:
        """Where the key naming `path` starts (falls back to `at`)."""
        return self.keys.get(path) or self.at(path)


def format_path(path: DocPath) -> str:
    """`("jobs", 0, "steps", 3, "state")` -> `jobs[0].steps[3].state`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")
