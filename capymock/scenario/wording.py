"""Schema errors in a scenario file, worded for people: place, path, what was expected."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from capymock.core.refs import BrokenRef, follow_refs
from capymock.core.suggest import did_you_mean
from capymock.errors import Problem
from capymock.scenario.located import Located, format_path


def schema_problem(error: Any, schema: Mapping[str, Any], located: Located) -> Problem:
    """One jsonschema-rs error as a `Problem` pointing at the offending value or key."""
    path = tuple(error.instance_path)
    kind = type(error.kind).__name__
    subschema = _subschema(schema, list(error.schema_path)[:-1])
    expected = subschema.get("x-expected") if isinstance(subschema, Mapping) else None
    # x-message words a schema's combined rule (anyOf), not its other keywords' errors.
    combined = list(error.schema_path)[-1:] in (["anyOf"], ["oneOf"])
    verbatim = subschema.get("x-message") if combined and isinstance(subschema, Mapping) else None
    instance = error.instance
    if verbatim:
        return Problem(located.at(path), format_path(path), verbatim)
    if kind == "AdditionalProperties":
        name = error.kind.unexpected[0]
        allowed = list(subschema.get("properties", {})) if isinstance(subschema, Mapping) else []
        message = (
            f"unknown field {name!r}{did_you_mean(name, allowed)}; expected one of: {', '.join(allowed)}"
        )
        return Problem(located.key_at((*path, name)), format_path((*path, name)), message)
    if kind == "Required":
        return Problem(located.at(path), format_path(path), f"missing required field {error.kind.property!r}")
    if kind == "Enum":
        options = [str(o) for o in error.kind.options]
        message = f"{_show(instance)} is not one of {', '.join(options)}{did_you_mean(instance, options)}"
    elif expected:
        message = f"{_show(instance)} is not {expected}"
    elif kind == "Type":
        types = " or ".join(_TYPE_WORDS.get(t, t) for t in _types(error.kind))
        message = f"expected {types}, got {_show(instance)}"
    elif kind == "Format":
        message = f"{_show(instance)} is not a date-time (e.g. 2026-01-01T09:00:00Z)"
    else:
        message = error.message
    return Problem(located.at(path), format_path(path), message)


_TYPE_WORDS = {
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "object": "a mapping",
    "array": "a list",
    "boolean": "true or false",
    "null": "null",
}


def _types(kind: Any) -> list[str]:
    types = getattr(kind, "types", None) or []
    return [str(t) for t in (types if isinstance(types, (list, tuple)) else [types])]


def _show(value: Any) -> str:
    if isinstance(value, str):
        return repr(value)
    text = json.dumps(value, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _subschema(schema: Mapping[str, Any], schema_path: list[Any]) -> Any:
    """The schema node at `schema_path`, following local `$ref`s as jsonschema-rs reports them."""
    node: Any = schema
    try:
        for part in schema_path:
            if isinstance(node, Mapping) and "$ref" in node and part not in node:
                node = follow_refs(node, schema)
            if isinstance(node, Mapping):
                node = node.get(part) if part != "$ref" else follow_refs(node, schema)
            elif isinstance(node, list) and isinstance(part, int) and part < len(node):
                node = node[part]
            else:
                return None
        return follow_refs(node, schema)
    except BrokenRef:
        return None
