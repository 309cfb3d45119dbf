"""Operations by role (`capymock.core.operations`): what `classify` reads from a method and a 200
envelope, which `Job` field each path parameter names, and what an `Operation` answers from
its declaration (safety, parameters, page size, filled paths, the jobs a body shows)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from capymock.core.operations import SAFE_METHODS, Operation, Parameter, Role, classify, path_fields

JOB_REF = {"$ref": "#/components/schemas/Job"}
FIELDS = ("id", "project_id", "organization_id", "state")


def is_job(schema: Any) -> bool:
    return schema == JOB_REF


def role_of(method: str, envelope: Any) -> Role:
    return classify(method, envelope, is_job, "/v1/things", "Job", FIELDS)[0]


def operation(
    *,
    method: str = "GET",
    path: str = "/v1/projects/{projectID}/jobs",
    parameters: tuple[Parameter, ...] = (),
    role: Role = Role.LISTS,
    envelope: str | None = "jobs",
    path_fields: Mapping[str, str] | None = None,
) -> Operation:
    return Operation(
        operation_id="op",
        method=method,
        path=path,
        parameters=parameters,
        responses={200: {}, 404: None},
        security_schemes=(),
        envelope=envelope,
        role=role,
        path_fields={"projectID": "project_id"} if path_fields is None else path_fields,
    )


def query(name: str, schema: Mapping[str, Any], location: str = "query") -> Parameter:
    return Parameter(name=name, location=location, required=False, schema=schema)


LIMIT = query("limit", {"type": "integer", "maximum": 100})


# -- roles -------------------------------------------------------------------------------


def test_the_safe_methods_are_those_of_rfc_9110() -> None:
    assert frozenset({"GET", "HEAD", "OPTIONS", "TRACE"}) == SAFE_METHODS


@pytest.mark.parametrize("method", ["GET", "HEAD", "OPTIONS", "TRACE"])
def test_a_safe_method_answering_a_job_reads_it(method: str) -> None:
    assert role_of(method, JOB_REF) is Role.READS


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "get"])
def test_an_unsafe_method_answering_a_job_changes_it(method: str) -> None:
    assert role_of(method, JOB_REF) is Role.CHANGES


def test_a_safe_method_answering_an_array_of_jobs_lists_them() -> None:
    assert role_of("GET", {"type": "array", "items": JOB_REF}) is Role.LISTS


def test_an_unsafe_method_answering_an_array_of_jobs_shows_none() -> None:
    assert role_of("POST", {"type": "array", "items": JOB_REF}) is Role.OTHER


@pytest.mark.parametrize(
    "envelope",
    [
        None,
        {"type": "object", "items": JOB_REF},
        {"type": "array", "items": {"type": "string"}},
        {"type": "array"},
        [("type", "array"), ("items", JOB_REF)],
    ],
)
def test_an_envelope_without_a_job_or_array_of_them_shows_none(envelope: Any) -> None:
    assert role_of("GET", envelope) is Role.OTHER


def test_roles_say_what_they_do() -> None:
    assert [role.value for role in Role] == ["lists jobs", "reads a job", "changes a job", "shows no job"]


def test_classify_also_names_the_path_fields() -> None:
    assert classify("GET", JOB_REF, is_job, "/v1/jobs/{jobID}", "Job", FIELDS) == (
        Role.READS,
        {"jobID": "id"},
    )


# -- path fields -------------------------------------------------------------------------


def test_a_path_parameter_names_a_field_by_letters_and_digits_ignoring_case() -> None:
    assert path_fields("/v1/{projectID}/{Organization-Id}/{state}", "Job", FIELDS) == {
        "projectID": "project_id",
        "Organization-Id": "organization_id",
        "state": "state",
    }


@pytest.mark.parametrize("name", ["jobID", "job_id", "JOBID", "id"])
def test_the_schemas_name_and_id_names_the_jobs_id(name: str) -> None:
    assert path_fields(f"/v1/jobs/{{{name}}}", "Job", FIELDS) == {name: "id"}


def test_a_field_of_the_job_wins_over_the_schema_name() -> None:
    assert path_fields("/v1/{jobid}", "Job", (*FIELDS, "jobid")) == {"jobid": "jobid"}


def test_without_an_id_field_the_schema_name_names_nothing() -> None:
    assert path_fields("/v1/jobs/{jobID}", "Job", ("project_id",)) == {}


def test_a_parameter_naming_no_field_is_left_out() -> None:
    assert path_fields("/v1/{projectID}/{colour}/x{", "Job", FIELDS) == {"projectID": "project_id"}


def test_a_path_without_parameters_names_no_field() -> None:
    assert path_fields("/v1/jobs", "Job", FIELDS) == {}


# -- one operation -----------------------------------------------------------------------


@pytest.mark.parametrize(("method", "safe"), [("GET", True), ("HEAD", True), ("POST", False), ("get", False)])
def test_an_operation_is_safe_by_its_method(method: str, safe: bool) -> None:
    assert operation(method=method).safe is safe


def test_an_operation_documents_the_statuses_it_lists() -> None:
    assert [operation().documents(status) for status in (200, 404, 500)] == [True, True, False]


def test_header_names_are_its_header_parameters_in_order() -> None:
    parameters = (query("X-B", {}, "header"), LIMIT, query("X-A", {}, "header"), query("c", {}, "cookie"))
    assert operation(parameters=parameters).header_names == ("X-B", "X-A")


def test_a_parameter_is_found_by_name() -> None:
    cookie = query("limit", {}, "cookie")
    op = operation(parameters=(LIMIT, cookie))
    assert (op.parameter("limit"), op.parameter("Limit")) == (LIMIT, None)


def test_the_parameter_for_a_field_is_the_path_parameter_naming_it() -> None:
    op = operation(path_fields={"orgID": "organization_id", "projectID": "project_id"})
    assert [op.parameter_for(f) for f in ("project_id", "organization_id", "id")] == [
        "projectID",
        "orgID",
        None,
    ]


@pytest.mark.parametrize(
    "schema",
    [
        {"type": "integer", "maximum": 100},
        {"type": "integer", "minimum": 1},
        {"type": "integer", "default": 25},
    ],
)
def test_a_lists_page_size_is_an_integer_query_parameter_with_a_bound_or_default(
    schema: Mapping[str, Any],
) -> None:
    limit = query("limit", schema)
    assert operation(parameters=(query("q", {"type": "string"}), limit)).page_size is limit


@pytest.mark.parametrize(
    "parameter",
    [
        query("limit", {"type": "integer"}),
        query("limit", {"type": "number", "maximum": 100}),
        query("limit", {"type": "integer", "maximum": 100}, "header"),
        query("limit", {"maximum": 100}),
    ],
)
def test_what_is_no_page_size(parameter: Parameter) -> None:
    assert operation(parameters=(parameter,)).page_size is None


def test_the_first_page_size_parameter_wins() -> None:
    other = query("size", {"type": "integer", "default": 5})
    assert operation(parameters=(LIMIT, other)).page_size is LIMIT


def test_only_a_list_has_a_page_size() -> None:
    assert operation(parameters=(LIMIT,), role=Role.READS).page_size is None


def test_fill_percent_encodes_every_value() -> None:
    op = operation(path="/v1/{a}/{b}/{a}")
    assert op.fill({"a": "x/y z", "b": "é?"}) == "/v1/x%2Fy%20z/%C3%A9%3F/x%2Fy%20z"


def test_fill_fields_fills_each_parameter_from_the_field_it_names() -> None:
    op = operation(
        path="/v1/{orgID}/{projectID}", path_fields={"orgID": "organization_id", "projectID": "project_id"}
    )
    assert op.fill_fields({"project_id": "p/1", "state": "x"}) == "/v1/{orgID}/p%2F1"


# -- the jobs a body shows ----------------------------------------------------------------


def test_a_list_shows_each_job_of_its_envelope() -> None:
    assert list(operation().jobs_in({"jobs": [{"id": "a"}, None]})) == [
        ("jobs[0]", {"id": "a"}),
        ("jobs[1]", None),
    ]


@pytest.mark.parametrize(
    "body", [{"jobs": {"id": "a"}}, {"job": [{"id": "a"}]}, [{"id": "a"}], {"jobs": None}]
)
def test_a_list_of_another_shape_shows_no_job(body: Any) -> None:
    assert list(operation().jobs_in(body)) == []


@pytest.mark.parametrize("role", [Role.READS, Role.CHANGES])
def test_a_read_or_write_shows_its_one_job(role: Role) -> None:
    op = operation(role=role, envelope="job")
    assert (list(op.jobs_in({"job": [1]})), list(op.jobs_in({"job": None})), list(op.jobs_in({}))) == (
        [("job", [1])],
        [],
        [],
    )


def test_an_operation_that_shows_no_job_shows_none_in_any_body() -> None:
    assert list(operation(role=Role.OTHER, envelope="jobs").jobs_in({"jobs": [{"id": "a"}]})) == []


def test_an_operation_without_an_envelope_shows_no_job() -> None:
    assert list(operation(envelope=None, role=Role.READS).jobs_in({"None": {"id": "a"}})) == []
