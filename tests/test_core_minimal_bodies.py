"""The smallest body a schema accepts, for the answers the mock makes up (`Prefer: code=`)."""

from __future__ import annotations

from typing import Any

import pytest

from capymock.core.minimal_bodies import minimal_body

NOTE = "made up"
DOCUMENT = {"defs": {"two": {"type": "integer", "minimum": 2}, "word": {"type": "string"}}}


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        ({"const": 3, "type": "integer"}, 3),
        ({"enum": ["a", "b"], "type": "string"}, "a"),
        ({"example": "ex", "type": "string"}, "ex"),
        ({"type": "integer"}, 0),
        ({"type": "integer", "minimum": 5}, 5),
        ({"type": "number"}, 0),
        ({"type": "number", "minimum": 1.5}, 1.5),
        ({"type": "boolean"}, False),
        ({"type": "null"}, None),
        ({"type": ["integer", "null"]}, 0),
        ({"type": ["null", "boolean"]}, False),
        ({"type": ["null"]}, None),
        ({"type": "string"}, NOTE),
        ({}, NOTE),
        ({"type": "string", "format": "date-time"}, "1970-01-01T00:00:00Z"),
        ({"type": "string", "format": "date"}, "1970-01-01"),
        ({"type": "string", "format": "time"}, "00:00:00Z"),
        ({"type": "string", "format": "email"}, NOTE),
        ({"$ref": "#/defs/two"}, 2),
    ],
)
def test_the_smallest_value(schema: dict[str, Any], body: Any) -> None:
    assert minimal_body(schema, DOCUMENT, NOTE) == body


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        ({"properties": {"a": {"type": "integer"}}, "required": ["a"]}, {"a": 0}),
        ({"type": "object", "properties": {"a": {"type": "integer"}}}, {}),
        ({"type": "object", "required": ["x"]}, {"x": NOTE}),
        ({"type": "object", "properties": {"a": {"type": "integer"}}, "required": ["b"]}, {"b": NOTE}),
        ({"type": "object", "properties": {"a": {"$ref": "#/defs/two"}}, "required": ["a"]}, {"a": 2}),
    ],
)
def test_an_object_has_its_required_properties_only(schema: dict[str, Any], body: Any) -> None:
    assert minimal_body(schema, DOCUMENT, NOTE) == body


@pytest.mark.parametrize(
    ("schema", "body"),
    [
        ({"type": "array"}, []),
        ({"type": "array", "minItems": 1}, [NOTE]),
        ({"type": "array", "items": {"$ref": "#/defs/two"}, "minItems": 2}, [2, 2]),
        ({"type": "array", "items": {"$ref": "#/defs/word"}, "minItems": 1}, [NOTE]),
    ],
)
def test_an_array_has_its_fewest_items(schema: dict[str, Any], body: Any) -> None:
    assert minimal_body(schema, DOCUMENT, NOTE) == body
