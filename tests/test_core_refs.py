"""Local JSON references inside one document."""

from __future__ import annotations

from typing import Any

import pytest

from capymock.core.refs import MAX_HOPS, BrokenRef, follow_refs, resolve_pointer

DOCUMENT: dict[str, Any] = {
    "paths": {"/v1/jobs": {"get": 1}},
    "a~b": 2,
    "list": [1, 2],
    "none": None,
    "chain": {"$ref": "#/target"},
    "target": {"type": "integer"},
}


@pytest.mark.parametrize(
    ("ref", "node"),
    [
        ("#/paths/~1v1~1jobs/get", 1),
        ("#/a~0b", 2),
        ("#/list/0", None),
        ("#/none/x", None),
        ("#/missing", None),
        ("#/target/type", "integer"),
    ],
)
def test_a_pointer_finds_its_node(ref: str, node: Any) -> None:
    assert resolve_pointer(DOCUMENT, ref) == node


def test_a_chain_of_references_is_followed() -> None:
    assert follow_refs({"$ref": "#/chain"}, DOCUMENT) == {"type": "integer"}


def test_what_is_no_reference_is_itself() -> None:
    assert follow_refs([1], DOCUMENT) == [1]


def _broken(node: Any, document: Any = DOCUMENT) -> str:
    with pytest.raises(BrokenRef) as broken:
        follow_refs(node, document)
    return str(broken.value)


@pytest.mark.parametrize("ref", ["https://example.com/schema", 5])
def test_only_local_references_are_followed(ref: Any) -> None:
    assert _broken({"$ref": ref}) == f"only local references are supported, got {ref!r}"


def test_a_reference_to_nothing_is_broken() -> None:
    assert _broken({"$ref": "#/missing"}) == "'#/missing' points at nothing"


def test_a_loop_is_broken() -> None:
    assert _broken({"$ref": "#/loop"}, {"loop": {"$ref": "#/loop"}}) == (
        f"more than {MAX_HOPS} references in a row (a loop?)"
    )
