"""The shipped scenario schema is the one built from the spec, and editors can use it."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema

import capymock
from capymock.scenario.schema import build_scenario_schema

SHIPPED = Path(capymock.__file__).with_name("schemas") / "scenario.schema.json"


def test_the_shipped_schema_is_built_from_the_bundled_spec() -> None:
    expected = build_scenario_schema(capymock.load_spec())
    assert json.loads(SHIPPED.read_text()) == expected, (
        "regenerate it: python -m capymock schema > capymock/schemas/scenario.schema.json"
    )


def test_the_shipped_schema_is_a_valid_json_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(json.loads(SHIPPED.read_text()))


def test_states_in_the_schema_come_from_the_lifecycle() -> None:
    schema = json.loads(SHIPPED.read_text())
    assert schema["$defs"]["state"]["enum"] == list(capymock.load_spec().lifecycle.states)


def test_every_bundled_scenario_points_editors_at_the_schema() -> None:
    for name, path in capymock.bundled_scenarios().items():
        first = path.read_text().splitlines()[0]
        assert first == "# yaml-language-server: $schema=../schemas/scenario.schema.json", name
        assert (path.parent / "../schemas/scenario.schema.json").resolve() == SHIPPED.resolve()
