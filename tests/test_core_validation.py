"""Compiled validators: parameters typed from their strings, response bodies, and jobs checked
against the schema, date-times capymock can compute with, and the lifecycle. Each test builds
its own `Validators` (they compile lazily)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
import yaml

import capymock
from capymock.core.job import compose_job
from capymock.core.operations import Operation
from capymock.core.spec import Spec, parse_document, read_spec
from capymock.core.validation import BadParameter, BodyMismatch, Validators
from capymock.system.specs import BUNDLED_SPEC

EXTRA_PARAMETERS = [
    {"name": "since", "in": "query", "schema": {"type": "string", "format": "date-time"}},
    {"name": "ratio", "in": "query", "schema": {"type": "number"}},
    {"name": "mine", "in": "query", "schema": {"type": "boolean"}},
    {"name": "page", "in": "query", "schema": {"type": ["null", "integer"]}},
    {"name": "tag", "in": "query", "schema": {"type": ["null"]}},
    {"name": "note", "in": "query"},
]


def _wider_spec() -> Spec:
    """The bundled spec with more kinds of query parameters, a 204 without a body, and an
    error property whose name starts with an X."""
    document: dict[str, Any] = copy.deepcopy(yaml.safe_load(BUNDLED_SPEC.read_text()))
    document["paths"]["/v1/projects/{projectID}/jobs"]["get"]["parameters"] += EXTRA_PARAMETERS
    document["paths"]["/v1/jobs/{jobID}"]["get"]["responses"]["204"] = {"description": "No body."}
    document["components"]["schemas"]["Error"]["properties"]["Xcode"] = {"type": "integer"}
    text = yaml.safe_dump(document)
    return read_spec(parse_document(text, "<string>"), text, "<string>")


WIDER = _wider_spec()
SPEC = capymock.load_spec()


@pytest.fixture
def validators() -> Validators:
    return Validators(SPEC)


@pytest.fixture
def wider() -> Validators:
    return Validators(WIDER)


def _job(**fields: Any) -> dict[str, Any]:
    job = compose_job(
        SPEC, {"project_id": "proj_a"}, job_id="job_1", organization_id="org_a", now="2026-01-01T09:00:00Z"
    )
    return {**job.to_dict(), **fields}


def _list(spec: Spec) -> Operation:
    return spec.operation("listProjectJobs")


def _get(spec: Spec) -> Operation:
    return spec.operation("getJob")


def _bad(validators: Validators, operation: Operation, raw: dict[str, str | None]) -> str:
    with pytest.raises(BadParameter) as bad:
        validators.parse_parameters(operation, raw)
    return str(bad.value)


def test_an_absent_parameter_takes_its_default(validators: Validators) -> None:
    assert validators.parse_parameters(_list(SPEC), {"projectID": "proj_a"}) == {
        "projectID": "proj_a",
        "limit": 25,
    }


def test_a_required_parameter_must_be_given(validators: Validators) -> None:
    assert _bad(validators, _list(SPEC), {"limit": "5"}) == "invalid path parameter 'projectID': required"


def test_parameters_after_an_absent_one_are_read(wider: Validators) -> None:
    values = wider.parse_parameters(_list(WIDER), {"projectID": "p", "ratio": "1.5", "mine": "true"})
    assert values == {"projectID": "p", "limit": 25, "ratio": 1.5, "mine": True}


@pytest.mark.parametrize(
    ("name", "text", "value"),
    [
        ("limit", "7", 7),
        ("ratio", "-2.5", -2.5),
        ("mine", "true", True),
        ("mine", "false", False),
        ("page", "3", 3),
        ("note", "12", "12"),
        ("since", "2026-01-01T09:00:00Z", "2026-01-01T09:00:00Z"),
    ],
)
def test_a_parameter_is_typed_by_its_schema(wider: Validators, name: str, text: str, value: Any) -> None:
    assert wider.parse_parameters(_list(WIDER), {"projectID": "p", name: text})[name] == value


@pytest.mark.parametrize(
    ("name", "text", "problem"),
    [
        ("limit", "ten", "'ten' is not an integer"),
        ("limit", "1" * 41, f"'{'1' * 37}...' is not an integer"),
        ("ratio", "x" * 40, f"'{'x' * 40}' is not a number"),
        ("ratio", "x" * 41, f"'{'x' * 37}...' is not a number"),
        ("ratio", "nan", "'nan' is not a finite number"),
        ("ratio", "inf", "'inf' is not a finite number"),
        ("ratio", "-inf", "'-inf' is not a finite number"),
        ("mine", "TRUE", "'TRUE' is not true or false"),
        ("page", "two", "'two' is not an integer"),
        ("tag", "x", '"x" is not of type "null"'),
    ],
)
def test_a_parameter_of_the_wrong_type_is_refused(
    wider: Validators, name: str, text: str, problem: str
) -> None:
    assert (
        _bad(wider, _list(WIDER), {"projectID": "p", name: text})
        == f"invalid query parameter {name!r}: {problem}"
    )


def test_an_integer_of_40_digits_is_read_then_checked(validators: Validators) -> None:
    problem = _bad(validators, _list(SPEC), {"projectID": "p", "limit": "1" * 40})
    assert problem.startswith("invalid query parameter 'limit': ") and "not an integer" not in problem


def test_a_parameter_out_of_range_is_refused(validators: Validators) -> None:
    assert _bad(validators, _list(SPEC), {"projectID": "p", "limit": "0"}) == (
        "invalid query parameter 'limit': 0 is less than the minimum of 1"
    )


def test_a_parameter_format_is_checked(wider: Validators) -> None:
    assert _bad(wider, _list(WIDER), {"projectID": "p", "since": "yesterday"}) == (
        'invalid query parameter \'since\': "yesterday" is not a "date-time"'
    )


def _mismatch(validators: Validators, operation: Operation, status: int, body: Any) -> str:
    with pytest.raises(BodyMismatch) as mismatch:
        validators.check_body(operation, status, body)
    return str(mismatch.value)


def test_a_sound_body_passes(validators: Validators) -> None:
    validators.check_body(_get(SPEC), 200, {"job": _job()})


def test_a_sound_body_as_json_bytes_passes(validators: Validators) -> None:
    validators.check_body(
        _get(SPEC), 200, b'{"jobs": []}'.replace(b"jobs", b"x") if False else _json({"job": _job()})
    )


def _json(value: Any) -> bytes:
    return json.dumps(value).encode()


def test_a_body_that_breaks_its_schema_says_where(validators: Validators) -> None:
    assert _mismatch(validators, _get(SPEC), 200, {"job": _job(state="lost")}) == (
        'getJob 200: job.state: "lost" is not one of "pending", "claimed" or 4 other candidates'
    )


def test_a_body_of_json_bytes_is_checked(validators: Validators) -> None:
    assert _mismatch(validators, _get(SPEC), 200, b"[]") == 'getJob 200: body: [] is not of type "object"'


def test_a_list_item_is_named_by_its_index(validators: Validators) -> None:
    body = {"jobs": [_job(), _job(attempts="one")]}
    assert _mismatch(validators, _list(SPEC), 200, body) == (
        'listProjectJobs 200: jobs[1].attempts: "one" is not of type "integer"'
    )


def test_a_property_is_named_in_full(wider: Validators) -> None:
    assert _mismatch(wider, _get(WIDER), 404, {"error": "no job", "Xcode": "one"}) == (
        'getJob 404: Xcode: "one" is not of type "integer"'
    )


def test_a_body_that_is_not_json_is_refused(validators: Validators) -> None:
    assert _mismatch(validators, _get(SPEC), 200, b"{").startswith("getJob 200: body is not JSON (")


def test_an_undocumented_status_is_refused(validators: Validators) -> None:
    assert _mismatch(validators, _get(SPEC), 418, {}) == "getJob does not document status 418"


def test_a_status_without_a_body_takes_any(wider: Validators) -> None:
    wider.check_body(_get(WIDER), 204, b"")
    assert wider.body_errors(_get(WIDER), 204, "anything") == []


def test_each_status_has_its_own_schema(validators: Validators) -> None:
    validators.check_body(_get(SPEC), 404, {"error": "no job"})
    assert _mismatch(validators, _get(SPEC), 200, {"error": "no job"}).startswith("getJob 200: body: ")


def test_body_errors_lists_every_place(validators: Validators) -> None:
    body = {"job": _job(state="lost", attempts="one")}
    assert sorted(path for path, _ in validators.body_errors(_get(SPEC), 200, body)) == [
        ("job", "attempts"),
        ("job", "state"),
    ]


def test_a_sound_body_has_no_errors(validators: Validators) -> None:
    assert validators.body_errors(_list(SPEC), 200, {"jobs": [_job()]}) == []


def test_job_errors_name_the_field(validators: Validators) -> None:
    assert validators.job_errors(_job(created_at="yesterday")) == [
        'created_at: "yesterday" is not a "date-time"'
    ]


def test_a_sound_job_has_no_problems(validators: Validators) -> None:
    assert validators.job_problems(_job()) == []


def test_schema_errors_come_before_other_problems(validators: Validators) -> None:
    job = _job(attempts=9, created_at="yesterday")
    assert validators.job_problems(job) == validators.job_errors(job)


def test_a_leap_second_is_a_problem(validators: Validators) -> None:
    job = _job(created_at="2026-06-30T23:59:60Z", updated_at="2026-06-30T23:59:60Z")
    assert validators.job_problems(job) == [
        "created_at: '2026-06-30T23:59:60Z' is not a date-time capymock can use (second must be in 0..59)",
        "updated_at: '2026-06-30T23:59:60Z' is not a date-time capymock can use (second must be in 0..59)",
    ]


def test_a_broken_invariant_is_a_problem(validators: Validators) -> None:
    assert validators.job_problems(_job(attempts=9)) == [
        "attempts must be between 0 and max_attempts (3), got 9"
    ]


def test_field_errors_check_known_fields_only(validators: Validators) -> None:
    fields = {"state": "lost", "attempts": 1, "colour": "red", "claimed_by": 5}
    assert validators.field_errors(fields) == [
        'state: "lost" is not one of "pending", "claimed" or 4 other candidates',
        'claimed_by: 5 is not of types "null", "string"',
    ]


def test_field_errors_are_checked_again(validators: Validators) -> None:
    validators.field_errors({"state": "pending"})
    assert validators.field_errors({"state": "lost"}) != []


def test_sound_fields_have_no_errors(validators: Validators) -> None:
    assert validators.field_errors({"state": "running", "claimed_by": None}) == []
