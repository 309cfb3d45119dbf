"""`core.documents`: what a document of plain values may hold, however it was read."""

from __future__ import annotations

from typing import Any

import pytest

from capymock.core.documents import MAX_DEPTH, MAX_VALUES, plain_document_problem


def nested(depth: int) -> Any:
    """A list holding a list ... `depth` levels below the top."""
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize(
    "document",
    [None, "text", 0, -(10**400), 1.5, True, [], {}, {"a": [1, None, {"b": "c"}]}, nested(MAX_DEPTH)],
)
def test_plain_data_within_the_bounds_is_taken(document: Any) -> None:
    assert plain_document_problem(document) is None


def test_the_values_are_counted_keys_included() -> None:
    assert plain_document_problem(list(range(MAX_VALUES - 1))) is None  # the list is one value
    assert plain_document_problem(list(range(MAX_VALUES))) == "it holds more than 100,000 values"
    keys = {str(i): None for i in range(MAX_VALUES // 2 - 1)}  # one for the mapping, two a pair
    assert plain_document_problem(keys) is None
    assert plain_document_problem({**keys, "x": None}) == "it holds more than 100,000 values"


def test_nesting_deeper_than_the_bound_is_refused() -> None:
    assert plain_document_problem(nested(MAX_DEPTH + 1)) == "lists and mappings nest more than 64 deep"
    assert plain_document_problem({"a": nested(MAX_DEPTH)}) == "lists and mappings nest more than 64 deep"
    assert plain_document_problem({"a": nested(MAX_DEPTH - 1)}) is None


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ({"n": float("nan")}, "a number is not finite: nan"),
        ([float("inf")], "a number is not finite: inf"),
        ({1: "a"}, "a key is not a string: int"),
        ({"a": (1, 2)}, "a value is not plain data: tuple"),
        ([b"bytes"], "a value is not plain data: bytes"),
    ],
)
def test_what_yaml_would_not_give_is_refused(document: Any, problem: str) -> None:
    assert plain_document_problem(document) == problem
