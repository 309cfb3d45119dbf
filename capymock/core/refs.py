"""Local JSON references (`#/components/schemas/Job`) inside one document."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

MAX_HOPS = 32
"""A `$ref` chain longer than this is a loop."""

_MISSING = object()


class BrokenRef(ValueError):
    """A `$ref` that is not local, points at nothing, or loops."""


def resolve_pointer(document: Any, ref: str) -> Any:
    """The node a local `$ref` (`#/components/schemas/Job`) points at in `document`, or None."""
    node = document
    for part in ref.removeprefix("#/").split("/"):
        part = part.replace("~1", "/").replace("~0", "~")
        node = node.get(part, _MISSING) if isinstance(node, Mapping) else _MISSING
        if node is _MISSING:
            return None
    return node


def follow_refs(node: Any, document: Any) -> Any:
    """`node` with its `$ref`s followed until it is not a reference.

    Raises:
        BrokenRef: a reference that is not local, points at nothing, or loops.
    """
    for _ in range(MAX_HOPS):
        if not isinstance(node, Mapping) or "$ref" not in node:
            return node
        ref = node["$ref"]
        if not isinstance(ref, str) or not ref.startswith("#/"):
            raise BrokenRef(f"only local references are supported, got {ref!r}")
        node = resolve_pointer(document, ref)
        if node is None:
            raise BrokenRef(f"{ref!r} points at nothing")
    raise BrokenRef(f"more than {MAX_HOPS} references in a row (a loop?)")
