"""OpenAPI text -> `Spec`, read fresh with `read_spec(parse_document(...))` (the bundled document
and variants of it): operations, parameters, responses, security, the Job schema and its `x-lifecycle`, and
the errors that name where a document falls short."""

from __future__ import annotations

import copy
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from capymock.core.lifecycle import Bound, Effect, Invariants, Lifecycle, Retry
from capymock.core.operations import Role
from capymock.core.spec import Spec, jobs_in_body, parse_document, read_spec
from capymock.errors import SpecError
from capymock.system.specs import BUNDLED_SPEC, load_spec

TEXT = BUNDLED_SPEC.read_text()
BUNDLED: dict[str, Any] = yaml.safe_load(TEXT)
LIFECYCLE_AT = "<string>: components.schemas.Job.x-lifecycle"
STATES = ("pending", "claimed", "running", "succeeded", "failed", "cancelled")
GET_JOB = ("paths", "/v1/jobs/{jobID}", "get")


def parse_spec(text: str, source: str = "<string>") -> Spec:
    return read_spec(parse_document(text, source), text, source)


def _variant(change: Callable[[dict[str, Any]], object]) -> Spec:
    document = copy.deepcopy(BUNDLED)
    change(document)
    return parse_spec(yaml.safe_dump(document, sort_keys=False))


def _refused(change: Callable[[dict[str, Any]], object]) -> str:
    with pytest.raises(SpecError) as refused:
        _variant(change)
    return str(refused.value)


def _node(document: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        document = document[key]
    return document


def _lifecycle(document: dict[str, Any]) -> dict[str, Any]:
    return _node(document, "components", "schemas", "Job", "x-lifecycle")  # type: ignore[no-any-return]


def _set_lifecycle(raw: Any) -> Callable[[dict[str, Any]], object]:
    return lambda document: _node(document, "components", "schemas", "Job").__setitem__("x-lifecycle", raw)


RETRY = {"to": "pending", "counter": "attempts", "limit": "max_attempts"}

BUNDLED_LIFECYCLE = Lifecycle(
    field="state",
    states=STATES,
    initial="pending",
    transitions={
        "pending": ("claimed", "cancelled"),
        "claimed": ("running", "pending", "failed", "cancelled"),
        "running": ("succeeded", "failed", "pending", "cancelled"),
        "failed": ("pending",),
        "succeeded": (),
        "cancelled": (),
    },
    retry=Retry(to="pending", counter="attempts", limit="max_attempts"),
    on_enter={
        "claimed": Effect(increment=("attempts",), now=("claimed_at",), default={"claimed_by": "worker-1"}),
        "running": Effect(now=("started_at",)),
        "succeeded": Effect(now=("completed_at",)),
        "failed": Effect(now=("completed_at",)),
        "cancelled": Effect(now=("completed_at",)),
        "pending": Effect(clear=("claimed_by", "claimed_at", "started_at", "completed_at")),
    },
    on_change=Effect(now=("updated_at",)),
    invariants=Invariants(
        bounded=(Bound("attempts", 0, "max_attempts"),),
        set_in={
            "claimed_by": frozenset({"claimed", "running"}),
            "claimed_at": frozenset({"claimed", "running"}),
            "started_at": frozenset({"running"}),
        },
        exactly_in={"completed_at": frozenset({"succeeded", "failed", "cancelled"})},
        null_in={
            "claimed_by": frozenset({"pending"}),
            "claimed_at": frozenset({"pending"}),
            "started_at": frozenset({"pending"}),
        },
        ordered=("created_at", "claimed_at", "started_at", "completed_at"),
        not_before={"updated_at": "created_at"},
        exclusive={"locked_resource": frozenset({"running"})},
    ),
)


@pytest.fixture
def bundled() -> Spec:
    return parse_spec(TEXT)


def test_the_bundled_lifecycle_is_read_as_declared(bundled: Spec) -> None:
    assert bundled.lifecycle == BUNDLED_LIFECYCLE


def test_the_bundled_operations_are_read_as_declared(bundled: Spec) -> None:
    error = {"$ref": "#/components/schemas/Error"}
    assert [
        (op.operation_id, op.method, op.path, dict(op.responses), op.security_schemes, op.envelope)
        for op in bundled.operations
    ] == [
        (
            "listProjectJobs",
            "GET",
            "/v1/projects/{projectID}/jobs",
            {200: {"$ref": "#/components/schemas/JobList"}, 400: error, 401: error, 403: error, 404: error},
            ("bearerAuth",),
            "jobs",
        ),
        (
            "getJob",
            "GET",
            "/v1/jobs/{jobID}",
            {200: {"$ref": "#/components/schemas/JobEnvelope"}, 401: error, 403: error, 404: error},
            ("bearerAuth",),
            "job",
        ),
    ]


def test_the_bundled_parameters_are_read_as_declared(bundled: Spec) -> None:
    assert [
        [(p.name, p.location, p.required, dict(p.schema)) for p in op.parameters] for op in bundled.operations
    ] == [
        [
            ("projectID", "path", True, {"type": "string"}),
            ("limit", "query", False, {"type": "integer", "default": 25, "minimum": 1, "maximum": 100}),
        ],
        [("jobID", "path", True, {"type": "string"})],
    ]


def test_the_bundled_job_schema_is_read(bundled: Spec) -> None:
    assert (bundled.title, bundled.source, bundled.text) == ("Capy Jobs API", "<string>", TEXT)
    assert bundled.required_job_fields == (
        "id",
        "project_id",
        "organization_id",
        "type",
        "state",
        "attempts",
        "max_attempts",
        "created_at",
        "updated_at",
    )
    assert bundled.job_fields[:3] == ("attempts", "claimed_at", "claimed_by")
    assert bundled.job_schema is bundled.document["components"]["schemas"]["Job"]


def test_a_spec_without_a_title_or_required_fields() -> None:
    def change(document: dict[str, Any]) -> None:
        del document["info"]["title"]
        del document["components"]["schemas"]["Job"]["required"]

    spec = _variant(change)
    assert (spec.title, spec.required_job_fields) == ("", ())


def test_security_is_per_operation_or_the_documents() -> None:
    def change(document: dict[str, Any]) -> None:
        document["security"] = [{"b": []}, {"a": [], "b": []}]
        _node(document, *GET_JOB)["security"] = []

    spec = _variant(change)
    assert [op.security_schemes for op in spec.operations] == [("a", "b"), ()]


def test_without_security_an_operation_needs_none() -> None:
    assert [op.security_schemes for op in _variant(lambda d: d.pop("security")).operations] == [(), ()]


def test_an_operations_parameter_overrides_the_paths() -> None:
    def change(document: dict[str, Any]) -> None:
        item = document["paths"]["/v1/jobs/{jobID}"]
        item["parameters"] = [
            {"name": "jobID", "in": "path", "schema": {"type": "integer"}},
            {"name": "X-Trace", "in": "header", "required": True},
            {"name": "X-Debug", "in": "header"},
        ]

    operation = _variant(change).operation("getJob")
    assert [(p.name, p.location, p.required, dict(p.schema)) for p in operation.parameters] == [
        ("jobID", "path", True, {"type": "string"}),
        ("X-Trace", "header", True, {}),
        ("X-Debug", "header", False, {}),
    ]


def test_a_path_parameter_is_required_unless_it_says_otherwise() -> None:
    def change(document: dict[str, Any]) -> None:
        del _node(document, *GET_JOB)["parameters"][0]["required"]

    parameter = _variant(change).operation("getJob").parameter("jobID")
    assert parameter is not None and parameter.required


def test_an_operation_may_take_only_its_paths_parameters() -> None:
    def change(document: dict[str, Any]) -> None:
        document["paths"]["/v1/jobs/{jobID}"]["parameters"] = _node(document, *GET_JOB).pop("parameters")

    assert [p.name for p in _variant(change).operation("getJob").parameters] == ["jobID"]


def test_parameters_may_be_references_and_in_a_cookie() -> None:
    def change(document: dict[str, Any]) -> None:
        document["components"]["parameters"] = {
            "Session": {"name": "session", "in": "cookie", "required": True}
        }
        _node(document, *GET_JOB)["parameters"].append({"$ref": "#/components/parameters/Session"})

    assert _variant(change).operation("getJob").parameter("session") is not None


@pytest.mark.parametrize("raw", [{"name": "x", "in": "body"}, {"in": "query"}])
def test_a_parameter_needs_a_name_and_a_location(raw: dict[str, Any]) -> None:
    assert _refused(lambda d: _node(d, *GET_JOB)["parameters"].append(raw)) == (
        f"<string>: paths./v1/jobs/{{jobID}}.get: parameter without a name or location: {raw!r}"
    )


OTHER_JOB = ("paths", "/v1/other/{jobID}", "get")


def _other_read(document: dict[str, Any]) -> dict[str, Any]:
    """A copy of getJob (as `otherJob`) to change, so the spec keeps an operation that reads a job."""
    operation = copy.deepcopy(_node(document, *GET_JOB))
    operation["operationId"] = "otherJob"
    document["paths"]["/v1/other/{jobID}"] = {"get": operation}
    return operation  # type: ignore[no-any-return]


def test_only_numeric_statuses_are_read() -> None:
    def change(document: dict[str, Any]) -> None:
        _other_read(document)["responses"] = {
            "default": {"description": "any"},
            "2XX": {"description": "a range"},
            "204": {"description": "no body"},
            "200": {"description": "text", "content": {"text/plain": {"schema": {"type": "string"}}}},
            "202": {"description": "any JSON", "content": {"application/json": {}}},
            "404": {"$ref": "#/components/responses/NotFound"},
        }

    operation = _variant(change).operation("otherJob")
    assert (dict(operation.responses), operation.envelope) == (
        {204: None, 200: None, 202: {}, 404: {"$ref": "#/components/schemas/Error"}},
        None,
    )


def test_an_operation_needs_a_numeric_status() -> None:
    assert _refused(
        lambda d: _node(d, *GET_JOB).__setitem__("responses", {"default": {"description": "x"}})
    ) == ("<string>: paths./v1/jobs/{jobID}.get: no responses with a numeric status code")


def test_a_body_with_two_required_properties_has_no_envelope() -> None:
    def change(document: dict[str, Any]) -> None:
        envelope = copy.deepcopy(document["components"]["schemas"]["JobEnvelope"])
        document["components"]["schemas"]["TwoEnvelope"] = {**envelope, "required": ["job", "meta"]}
        _other_read(document)["responses"]["200"]["content"]["application/json"]["schema"] = {
            "$ref": "#/components/schemas/TwoEnvelope"
        }

    assert _variant(change).operation("otherJob").envelope is None


def test_an_operation_needs_responses() -> None:
    assert _refused(lambda d: _node(d, *GET_JOB).pop("responses")) == (
        "<string>: paths./v1/jobs/{jobID}.get: no responses with a numeric status code"
    )


def test_a_body_without_required_properties_has_no_envelope_so_no_read() -> None:
    def change(document: dict[str, Any]) -> None:
        del document["components"]["schemas"]["JobEnvelope"]["required"]

    assert "capymock needs an operation that reads a job" in _refused(change)


def test_an_operation_needs_an_operation_id() -> None:
    assert _refused(lambda d: _node(d, *GET_JOB).pop("operationId")) == (
        "<string>: paths./v1/jobs/{jobID}.get: every operation needs an operationId"
    )


def test_an_operation_id_is_used_once() -> None:
    def change(document: dict[str, Any]) -> None:
        document["paths"]["/v1/other/{jobID}"] = copy.deepcopy(document["paths"]["/v1/jobs/{jobID}"])

    assert _refused(change) == "<string>: paths: operationId used twice: getJob"


def test_every_operation_id_used_twice_is_named() -> None:
    def change(document: dict[str, Any]) -> None:
        document["paths"]["/v1/other/{jobID}"] = copy.deepcopy(document["paths"]["/v1/jobs/{jobID}"])
        document["paths"]["/v1/more/{projectID}"] = copy.deepcopy(
            document["paths"]["/v1/projects/{projectID}/jobs"]
        )

    assert _refused(change) == "<string>: paths: operationId used twice: getJob, listProjectJobs"


def test_operations_may_be_references() -> None:
    def change(document: dict[str, Any]) -> None:
        document["components"]["pathItems"] = {"Job": document["paths"].pop("/v1/jobs/{jobID}")}
        document["paths"]["/v1/jobs/{jobID}"] = {"$ref": "#/components/pathItems/Job"}

    assert _variant(change).operation("getJob").path == "/v1/jobs/{jobID}"


def test_a_broken_reference_says_where() -> None:
    assert _refused(lambda d: _node(d, *GET_JOB)["parameters"].append({"$ref": "#/nowhere"})) == (
        "<string>: $ref: '#/nowhere' points at nothing"
    )


def test_the_job_schema_may_be_a_reference() -> None:
    def change(document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        schemas["RealJob"], schemas["Job"] = schemas["Job"], {"$ref": "#/components/schemas/RealJob"}

    assert _variant(change).lifecycle == BUNDLED_LIFECYCLE


def test_a_spec_needs_a_job_schema() -> None:
    assert _refused(lambda d: d["components"]["schemas"].pop("Job")) == (
        "<string>: components.schemas.Job: missing, or has no properties"
    )


def test_a_job_schema_needs_properties() -> None:
    assert _refused(lambda d: d["components"]["schemas"]["Job"].pop("properties")) == (
        "<string>: components.schemas.Job: missing, or has no properties"
    )


def test_a_job_schema_needs_the_fields_capymock_relies_on() -> None:
    def change(document: dict[str, Any]) -> None:
        document["components"]["schemas"]["Job"]["properties"].pop("project_id")

    assert _refused(change) == "<string>: components.schemas.Job: capymock needs the field(s) ['project_id']"


def test_a_lifecycle_with_only_a_retry_takes_the_defaults() -> None:
    assert _variant(_set_lifecycle({"retry": RETRY})).lifecycle == Lifecycle(
        field="state",
        states=STATES,
        initial="pending",
        transitions={},
        retry=Retry("pending", "attempts", "max_attempts"),
        on_enter={},
        on_change=Effect(),
        invariants=Invariants(bounded=(), set_in={}, exactly_in={}, null_in={}, ordered=(), not_before={}),
    )


def test_a_bound_without_a_minimum_starts_at_0() -> None:
    raw = {"retry": RETRY, "invariants": {"bounded": {"attempts": {"maximum_field": "max_attempts"}}}}
    assert _variant(_set_lifecycle(raw)).lifecycle.invariants.bounded == (
        Bound("attempts", 0, "max_attempts"),
    )


def test_a_bound_may_start_above_0() -> None:
    raw = {
        "retry": RETRY,
        "invariants": {"bounded": {"attempts": {"minimum": 1, "maximum_field": "max_attempts"}}},
    }
    assert _variant(_set_lifecycle(raw)).lifecycle.invariants.bounded == (
        Bound("attempts", 1, "max_attempts"),
    )


def test_an_initial_state_and_a_state_field_may_be_named() -> None:
    lifecycle = _variant(_set_lifecycle({"retry": RETRY, "initial": "claimed", "field": "state"})).lifecycle
    assert (lifecycle.initial, lifecycle.field) == ("claimed", "state")


def test_a_spec_needs_a_lifecycle() -> None:
    assert _refused(_set_lifecycle(None)) == f"{LIFECYCLE_AT}: missing: capymock needs the job lifecycle"


def test_a_lifecycle_needs_a_retry() -> None:
    assert _refused(_set_lifecycle({})) == (
        f"{LIFECYCLE_AT}: None is not a state (states: {', '.join(STATES)})"
    )


def test_the_state_field_needs_an_enum() -> None:
    assert _refused(_set_lifecycle({"retry": RETRY, "field": "type"})) == (
        f"{LIFECYCLE_AT}: the 'type' property needs an enum of states"
    )


def test_a_state_field_that_is_no_property_has_no_states() -> None:
    assert _refused(_set_lifecycle({"retry": RETRY, "field": "colour"})) == (
        f"{LIFECYCLE_AT}: the 'colour' property needs an enum of states"
    )


def test_a_lifecycle_names_known_fields_only() -> None:
    raw = {"retry": RETRY, "on_enter": {"running": {"now": ["colour"]}}}
    assert _refused(_set_lifecycle(raw)) == f"{LIFECYCLE_AT}: 'colour' is not a Job field"


def test_a_lifecycle_names_known_states_only() -> None:
    raw = {"retry": RETRY, "transitions": {"pending": ["lost"]}}
    assert (
        _refused(_set_lifecycle(raw))
        == f"{LIFECYCLE_AT}: 'lost' is not a state (states: {', '.join(STATES)})"
    )


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("- a list", "not an OpenAPI document (no 'paths')"),
        ("openapi: 3.1.0", "not an OpenAPI document (no 'paths')"),
    ],
)
def test_what_is_no_openapi_document_is_refused(text: str, problem: str) -> None:
    with pytest.raises(SpecError) as refused:
        parse_spec(text, source="api.yaml")
    assert str(refused.value) == f"api.yaml: {problem}"


def test_what_is_no_yaml_is_refused() -> None:
    with pytest.raises(SpecError, match=r"^api\.yaml: not valid YAML: "):
        parse_spec("paths: [", source="api.yaml")


def test_errors_name_the_source() -> None:
    with pytest.raises(SpecError, match=r"^api\.yaml: components\.schemas\.Job: "):
        parse_spec("paths: {}", source="api.yaml")


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as refused:
        load_spec(tmp_path / "nope.yaml")
    assert (
        str(refused.value)
        == f"{tmp_path / 'nope.yaml'}: cannot read the OpenAPI document (No such file or directory)"
    )


def test_a_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(SpecError) as refused:
        load_spec(tmp_path)
    expected = f"{tmp_path}: cannot read the OpenAPI document (not a regular file: a folder)"
    assert str(refused.value) == expected


def test_a_file_is_loaded_once(tmp_path: Path) -> None:
    path = tmp_path / "api.yaml"
    path.write_text(TEXT)
    spec = load_spec(path)
    assert (spec.source, spec.lifecycle, load_spec(str(path)) is spec) == (str(path), BUNDLED_LIFECYCLE, True)


def test_a_file_changed_in_place_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPYMOCK_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "api.yaml"
    path.write_text(TEXT)
    mtime_ns = path.stat().st_mtime_ns
    load_spec(path)
    path.write_text(TEXT.replace("title: Capy Jobs API", "title: Capy Jobs APX"))  # the same size
    os.utime(path, ns=(mtime_ns, mtime_ns + 1_000_000_000))
    assert load_spec(path).title == "Capy Jobs APX"


def test_a_file_of_another_size_is_read_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CAPYMOCK_CACHE", str(tmp_path / "cache"))
    path = tmp_path / "api.yaml"
    path.write_text(TEXT)
    mtime_ns = path.stat().st_mtime_ns
    load_spec(path)
    path.write_text(TEXT.replace("title: Capy Jobs API", "title: Capy Jobs API 2"))  # the same time
    os.utime(path, ns=(mtime_ns, mtime_ns))
    assert load_spec(path).title == "Capy Jobs API 2"


def test_an_operation_fills_its_path(bundled: Spec) -> None:
    assert bundled.operation("getJob").fill({"jobID": "a b/c"}) == "/v1/jobs/a%20b%2Fc"


def test_an_operation_names_its_parameters(bundled: Spec) -> None:
    operation = bundled.operation("listProjectJobs")
    limit = operation.parameter("limit")
    assert (
        limit.location if limit else None,
        operation.parameter("nope"),
        operation.parameter_for("project_id"),
    ) == (
        "query",
        None,
        "projectID",
    )


def test_an_operation_lists_its_statuses_and_headers(bundled: Spec) -> None:
    operation = bundled.operation("getJob")
    assert (operation.documents(404), operation.documents(400), operation.header_names) == (True, False, ())


@pytest.mark.parametrize(
    ("operation_id", "body", "found"),
    [
        (
            "listProjectJobs",
            {"jobs": [{"id": "a"}, {"id": "b"}]},
            [("jobs[0]", {"id": "a"}), ("jobs[1]", {"id": "b"})],
        ),
        ("getJob", {"job": {"id": "a"}}, [("job", {"id": "a"})]),
        ("getJob", {"job": None}, []),
        ("getJob", {"jobs": [{"id": "a"}]}, []),
        ("listProjectJobs", {"jobs": {"id": "a"}}, []),
        ("listProjectJobs", [{"id": "a"}], []),
        ("otherOperation", {"jobs": [{"id": "a"}]}, []),
        (None, {"job": {"id": "a"}}, []),
    ],
)
def test_the_jobs_a_body_shows(bundled: Spec, operation_id: str | None, body: Any, found: list[Any]) -> None:
    assert list(jobs_in_body(bundled, operation_id, body)) == found


# -- operations by role ----------------------------------------------------------------------


def test_the_bundled_operations_have_roles_and_path_fields(bundled: Spec) -> None:
    assert [(op.operation_id, op.role, dict(op.path_fields)) for op in bundled.operations] == [
        ("listProjectJobs", Role.LISTS, {"projectID": "project_id"}),
        ("getJob", Role.READS, {"jobID": "id"}),
    ]


def test_the_listing_and_the_reading_are_found_by_role(bundled: Spec) -> None:
    assert (bundled.listing.operation_id, bundled.reading.operation_id) == ("listProjectJobs", "getJob")


def test_operations_are_found_by_role(bundled: Spec) -> None:
    assert (
        bundled.with_role(Role.LISTS),
        bundled.with_role(Role.READS),
        bundled.with_role(Role.CHANGES),
    ) == (
        (bundled.listing,),
        (bundled.reading,),
        (),
    )


def test_an_unknown_operation_id_is_a_key_error(bundled: Spec) -> None:
    with pytest.raises(KeyError):
        bundled.operation("nope")


def test_a_spec_without_info_has_no_title() -> None:
    assert _variant(lambda d: d.pop("info")).title == ""


def test_the_first_operation_of_a_role_is_the_one_used() -> None:
    spec = _variant(lambda d: _other_read(d))
    assert (spec.reading.operation_id, [op.operation_id for op in spec.with_role(Role.READS)]) == (
        "getJob",
        ["getJob", "otherJob"],
    )


def test_a_read_whose_path_names_more_than_the_id_is_not_the_reading() -> None:
    def change(document: dict[str, Any]) -> None:
        _other_read(document)
        item = document["paths"].pop("/v1/jobs/{jobID}")
        item["get"]["parameters"].append({"name": "projectID", "in": "path", "schema": {"type": "string"}})
        document["paths"]["/v1/projects/{projectID}/jobs/{jobID}"] = item

    spec = _variant(change)
    assert (spec.reading.operation_id, dict(spec.operation("getJob").path_fields)) == (
        "otherJob",
        {"projectID": "project_id", "jobID": "id"},
    )


def test_a_spec_needs_an_operation_that_reads_a_job() -> None:
    assert _refused(lambda d: d["paths"].pop("/v1/jobs/{jobID}")) == (
        "<string>: paths: capymock needs an operation that reads a job: a GET whose 200 body wraps one "
        "Job, with one path parameter naming the job's id (such as {jobID} for id, {projectID} for "
        "project_id)"
    )


def test_a_spec_needs_an_operation_that_lists_jobs() -> None:
    assert _refused(lambda d: d["paths"].pop("/v1/projects/{projectID}/jobs")) == (
        "<string>: paths: capymock needs an operation that lists jobs: a GET whose 200 body wraps an array "
        "of Job, with one path parameter naming the job's project_id (such as {jobID} for id, {projectID} "
        "for project_id)"
    )


def test_an_unsafe_method_answering_a_job_changes_it() -> None:
    def change(document: dict[str, Any]) -> None:
        operation = copy.deepcopy(_node(document, *GET_JOB))
        operation["operationId"] = "cancelJob"
        document["paths"]["/v1/jobs/{jobID}"]["post"] = operation

    spec = _variant(change)
    assert [(op.operation_id, op.method) for op in spec.with_role(Role.CHANGES)] == [("cancelJob", "POST")]


def test_a_job_may_be_wrapped_through_an_alias_of_its_schema() -> None:
    def change(document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        schemas["Alias"] = {"$ref": "#/components/schemas/Job"}
        schemas["JobEnvelope"]["properties"]["job"] = {"$ref": "#/components/schemas/Alias"}

    assert _variant(change).reading.operation_id == "getJob"


def test_a_list_may_hold_an_alias_of_the_job_schema() -> None:
    def change(document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        schemas["Alias"] = {"$ref": "#/components/schemas/Job"}
        schemas["JobList"]["properties"]["jobs"]["items"] = {"$ref": "#/components/schemas/Alias"}

    assert _variant(change).listing.operation_id == "listProjectJobs"


def test_the_reading_is_the_first_read_not_the_first_operation_naming_the_id() -> None:
    def change(document: dict[str, Any]) -> None:
        operation = copy.deepcopy(_node(document, *GET_JOB))
        operation["operationId"] = "cancelJob"
        document["paths"] = {"/v1/cancel/{jobID}": {"post": operation}, **document["paths"]}

    spec = _variant(change)
    assert (spec.operations[0].operation_id, spec.reading.operation_id) == ("cancelJob", "getJob")


def test_an_envelope_property_referring_to_an_array_of_jobs_is_followed() -> None:
    def change(document: dict[str, Any]) -> None:
        schemas = document["components"]["schemas"]
        schemas["Jobs"] = schemas["JobList"]["properties"]["jobs"]
        schemas["JobList"]["properties"]["jobs"] = {"$ref": "#/components/schemas/Jobs"}

    spec = _variant(change)
    assert (spec.listing.operation_id, spec.listing.envelope) == ("listProjectJobs", "jobs")


def test_a_schema_referring_elsewhere_is_no_job() -> None:
    def change(document: dict[str, Any]) -> None:
        _other_read(document)["responses"]["200"]["content"]["application/json"]["schema"] = {
            "type": "object",
            "required": ["job"],
            "properties": {"job": {"$ref": "#/components/schemas/Error"}},
        }

    operation = _variant(change).operation("otherJob")
    assert (operation.envelope, operation.role) == ("job", Role.OTHER)


@pytest.mark.parametrize("inside", [None, "text", ["a"], {"type": "object"}])
def test_an_envelope_holding_no_schema_of_a_job_shows_none(inside: Any) -> None:
    def change(document: dict[str, Any]) -> None:
        _other_read(document)["responses"]["200"]["content"]["application/json"]["schema"] = {
            "required": ["job"],
            "properties": {"job": inside},
        }

    operation = _variant(change).operation("otherJob")
    assert (operation.envelope, operation.role) == ("job", Role.OTHER)


def test_an_envelope_without_properties_shows_no_job() -> None:
    def change(document: dict[str, Any]) -> None:
        _other_read(document)["responses"]["200"]["content"]["application/json"]["schema"] = {
            "required": ["job"]
        }

    operation = _variant(change).operation("otherJob")
    assert (operation.envelope, operation.role) == ("job", Role.OTHER)


@pytest.mark.parametrize("body", [{"type": "string"}, [1], {"required": []}])
def test_a_body_requiring_no_single_property_has_no_envelope(body: Any) -> None:
    def change(document: dict[str, Any]) -> None:
        _other_read(document)["responses"]["200"]["content"]["application/json"]["schema"] = body

    assert _variant(change).operation("otherJob").envelope is None
