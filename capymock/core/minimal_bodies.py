"""The smallest body a JSON Schema accepts, for answers the mock makes up (`Prefer: code=`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from capymock.core.refs import follow_refs


def minimal_body(schema: Mapping[str, Any], document: Mapping[str, Any], note: str) -> Any:
    """A small value valid under `schema` (local `$ref`s resolved in `document`).

    Strings carry `note`, so a made-up `{"error": ...}` says why it was made up.
    """
    schema = follow_refs(schema, document)
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "example" in schema:
        return schema["example"]
    kind = schema.get("type", "object" if "properties" in schema else "string")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object":
        properties = schema.get("properties", {})
        return {
            name: minimal_body(properties.get(name, {}), document, note)
            for name in schema.get("required", [])
        }
    if kind == "array":
        count = int(schema.get("minItems", 0))
        return [minimal_body(schema.get("items", {}), document, note) for _ in range(count)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 0)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _FORMATTED.get(str(schema.get("format")), note)


_FORMATTED = {"date-time": "1970-01-01T00:00:00Z", "date": "1970-01-01", "time": "00:00:00Z"}
"""Strings of a format get a valid value of it, not the note."""
