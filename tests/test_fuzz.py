"""Fuzzing the two ways input gets in: scenario YAML (mutated bundled files and generated
documents, tags and aliases included) must load or fail with located problems; control-API
bodies must be answered 2xx or 4xx, never a 500 or a defect of the mock."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

import capymock

SPEC = capymock.load_spec()
BUNDLED = {name: path.read_text() for name, path in capymock.bundled_scenarios().items()}
FUZZ = settings(
    max_examples=400,
    deadline=None,  # no time limit per example: a busy machine is slow, not wrong
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    database=None,
)

# -- scenario files -----------------------------------------------------------------------------

HOSTILE_SCALARS = [
    "lol",
    "proj_web",
    "job_1",
    "pending",
    "claimed",
    "running",
    "succeeded",
    "failed",
    "bogus",
    "0",
    "-1",
    "40.0",
    "40.5",
    "1e308",
    "1.0e308",
    "9" * 5000,
    ".inf",
    "-.inf",
    ".nan",
    "~",
    "null",
    "true",
    "2s",
    "-2s",
    "1000000h",
    "250ms",
    '"2026-06-30T23:59:60Z"',
    "2026-06-30T23:59:60Z",
    "2026-01-01T09:00:00Z",
    '"2026-01-01 09:00:00"',
    "!foo x",
    "!!binary aGk=",
    "!!python/name:os.system",
    "!!set {a, b}",
    "!!omap [a: 1]",
    '"\\0"',
    '"a/b"',
    '""',
    "*a",
    "&a x",
    "<<",
    "{}",
    "[]",
    "'\\x00'",
    '"' + "x" * 10_000 + '"',
]
KEYS = [
    "name",
    "description",
    "start",
    "organization",
    "projects",
    "tokens",
    "jobs",
    "faults",
    "id",
    "project",
    "age",
    "steps",
    "state",
    "after",
    "after_polls",
    "generate",
    "states",
    "types",
    "every",
    "seed",
    "max_attempts",
    "attempts",
    "claimed_by",
    "claimed_at",
    "token",
    "match",
    "method",
    "path",
    "status",
    "delay",
    "times",
    "body",
    "query",
    "<<",
    "operation",
    "type",
    "error",
]

yaml_values = st.recursive(
    st.sampled_from(HOSTILE_SCALARS),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4).map(lambda items: "[" + ", ".join(items) + "]"),
        st.dictionaries(st.sampled_from(KEYS), inner, max_size=4).map(
            lambda mapping: "{" + ", ".join(f"{k}: {v}" for k, v in mapping.items()) + "}"
        ),
        st.tuples(st.sampled_from(["&a ", "&b ", "!foo ", "!!seq ", "!!map ", ""]), inner).map("".join),
    ),
    max_leaves=25,
)
documents = st.dictionaries(st.sampled_from(KEYS), yaml_values, min_size=1, max_size=6).map(
    lambda mapping: "".join(f"{key}: {value}\n" for key, value in mapping.items())
)


def _mutate(text: str, data: st.DataObject) -> str:
    lines = text.splitlines()
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, max(len(lines) - 1, 0)))
        action = data.draw(st.sampled_from(["drop", "copy", "value", "insert", "indent"]))
        line = lines[index] if lines else ""
        if action == "drop" and lines:
            del lines[index]
        elif action == "copy":
            lines.insert(index, line)
        elif action == "value" and ":" in line:
            lines[index] = line.split(":", 1)[0] + ": " + data.draw(yaml_values)
        elif action == "insert":
            lines.insert(index, data.draw(documents).rstrip("\n"))
        else:
            lines[index] = " " * data.draw(st.integers(0, 7)) + line.lstrip()
    return "\n".join(lines) + "\n"


def _loads_or_says_where(text: str) -> None:
    try:
        capymock.parse_scenario(text, SPEC, source="fuzz.yaml")
    except capymock.ScenarioError as exc:
        assert exc.problems, "a ScenarioError names at least one problem"
        for problem in exc.problems:
            assert problem.message and "Traceback" not in problem.message
            if problem.location is not None:
                assert problem.location.path == "fuzz.yaml" and problem.location.line >= 1


@FUZZ
@given(data=st.data(), name=st.sampled_from(sorted(BUNDLED)))
def test_mutated_bundled_scenarios_load_or_say_where(data: st.DataObject, name: str) -> None:
    _loads_or_says_where(_mutate(BUNDLED[name], data))


@FUZZ
@given(text=documents)
def test_generated_documents_load_or_say_where(text: str) -> None:
    _loads_or_says_where(text)


@FUZZ
@given(raw=st.binary(max_size=300))
def test_arbitrary_bytes_load_or_say_where(raw: bytes) -> None:
    _loads_or_says_where(raw.decode("utf-8", "replace"))


# -- control-API bodies ---------------------------------------------------------------------------

json_values = st.recursive(
    st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**70), max_value=2**70),
        st.floats(allow_nan=False, allow_infinity=False),
        st.sampled_from(
            ["", "a/b", "running", "runing", "2026-06-30T23:59:60Z", "5s", "next_step", "x" * 5000]
        ),
        st.text(max_size=20),
    ),
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=20,
)
FIELDS = [*SPEC.job_fields, "seconds", "duration", "to", "name", "names", "match", "status", "times", "delay"]
bodies = st.one_of(
    json_values,
    st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=5),
)
WRITES = [
    ("POST", "/_capymock/advance"),
    ("POST", "/_capymock/jobs"),
    ("POST", "/_capymock/faults"),
    ("POST", "/_capymock/scenario"),
    ("PATCH", "/_capymock/jobs/job_deploy_1"),
    ("PATCH", "/_capymock/jobs/nope"),
]


@pytest.fixture(scope="module")
def steered() -> capymock.Mock:
    return capymock.Mock(scenario="retry-then-succeed")


@FUZZ
@given(route=st.sampled_from(WRITES), body=bodies)
def test_control_bodies_get_2xx_or_4xx(steered: capymock.Mock, route: tuple[str, str], body: Any) -> None:
    method, path = route
    client = Client(steered.wsgi_app)
    response = client.open(path, method=method, data=json.dumps(body), content_type="application/json")
    assert response.status_code < 500, (method, path, body, response.get_data(as_text=True)[:500])
    steered.check()
    assert client.get("/_capymock/state").status_code == 200
    steered.reset()


@FUZZ
@given(route=st.sampled_from(WRITES), raw=st.binary(max_size=200))
def test_control_bytes_get_2xx_or_4xx(steered: capymock.Mock, route: tuple[str, str], raw: bytes) -> None:
    method, path = route
    response = Client(steered.wsgi_app).open(path, method=method, data=raw, content_type="application/json")
    assert response.status_code < 500, (method, path, raw, response.get_data(as_text=True)[:500])
    steered.check()
    steered.reset()
