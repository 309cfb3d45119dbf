"""openapi.yaml: a valid OpenAPI 3.1 document that matches the vendor reference."""

from __future__ import annotations

import json

import pytest
import yaml
from openapi_spec_validator import validate

import capymock
from conftest import DATA, ORACLE, SPEC_PATH

REFERENCE_JOB = json.loads((DATA / "reference_job.json").read_text())


def test_spec_is_valid_openapi_3_1() -> None:
    document = yaml.safe_load(SPEC_PATH.read_text())
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_reference_example_job_validates_against_job() -> None:
    ORACLE.validator("/components/schemas/Job").validate(REFERENCE_JOB)


def test_job_has_exactly_the_reference_fields() -> None:
    assert set(capymock.load_spec().job_fields) == set(REFERENCE_JOB)
    assert len(REFERENCE_JOB) == 21


def test_operations_and_parameters() -> None:
    spec = capymock.load_spec()
    assert {(op.operation_id, op.method, op.path) for op in spec.operations} == {
        ("listProjectJobs", "GET", "/v1/projects/{projectID}/jobs"),
        ("getJob", "GET", "/v1/jobs/{jobID}"),
    }
    limit = next(p for p in spec.operation("listProjectJobs").parameters if p.name == "limit")
    assert (limit.location, limit.required) == ("query", False)
    assert dict(limit.schema) == {"type": "integer", "default": 25, "minimum": 1, "maximum": 100}
    assert set(spec.operation("listProjectJobs").responses) == {200, 400, 401, 403, 404}
    assert set(spec.operation("getJob").responses) == {200, 401, 403, 404}


def test_bearer_scheme_carries_the_reference_description() -> None:
    scheme = yaml.safe_load(SPEC_PATH.read_text())["components"]["securitySchemes"]["bearerAuth"]
    assert scheme == {
        "type": "http",
        "scheme": "bearer",
        "description": "Org or project-scoped API key, format capy_live_...; "
        "Clerk session tokens also accepted.",
    }
    assert all(op.security_schemes == ("bearerAuth",) for op in capymock.load_spec().operations)


def test_required_fields_and_nullability() -> None:
    job = yaml.safe_load(SPEC_PATH.read_text())["components"]["schemas"]["Job"]
    required = {
        "id",
        "project_id",
        "organization_id",
        "type",
        "state",
        "attempts",
        "max_attempts",
        "created_at",
        "updated_at",
    }
    assert set(job["required"]) == required
    for name, schema in job["properties"].items():
        nullable = isinstance(schema.get("type"), list) and "null" in schema["type"]
        assert nullable == (name not in required), name
        if name.endswith("_at"):
            assert schema["format"] == "date-time", name


def test_lifecycle_extension_is_read() -> None:
    lifecycle = capymock.load_spec().lifecycle
    assert lifecycle.states == ("pending", "claimed", "running", "succeeded", "failed", "cancelled")
    assert lifecycle.initial == "pending"
    assert (lifecycle.transitions["succeeded"], lifecycle.transitions["cancelled"]) == ((), ())
    assert lifecycle.transitions["failed"] == ("pending",)
    assert lifecycle.transitions["claimed"] == ("running", "pending", "failed", "cancelled")


@pytest.mark.parametrize(
    ("job", "violation"),
    [
        ({"state": "running", "started_at": None}, "started_at must be set in state 'running'"),
        ({"state": "pending", "claimed_by": "w"}, "claimed_by must be null in state 'pending'"),
        ({"state": "succeeded", "completed_at": None}, "completed_at must be set in state 'succeeded'"),
        ({"attempts": 4, "max_attempts": 3}, "attempts must be between 0 and max_attempts (3), got 4"),
        ({"claimed_at": "2026-01-01T08:00:00Z"}, "claimed_at (2026-01-01T08:00:00Z) is before created_at"),
        ({"updated_at": "2026-01-01T08:59:59Z"}, "updated_at (2026-01-01T08:59:59Z) is before created_at"),
    ],
)
def test_lifecycle_invariants_name_what_breaks(job: dict[str, object], violation: str) -> None:
    base = {
        "state": "running",
        "attempts": 1,
        "max_attempts": 3,
        "created_at": "2026-01-01T09:00:00Z",
        "updated_at": "2026-01-01T09:00:02Z",
        "claimed_at": "2026-01-01T09:00:01Z",
        "claimed_by": "w",
        "started_at": "2026-01-01T09:00:02Z",
        "completed_at": None,
    }
    problems = capymock.load_spec().lifecycle.violations({**base, **job})
    assert any(p.startswith(violation) for p in problems), problems
    assert capymock.load_spec().lifecycle.violations(base) == []


def test_a_lifecycle_naming_an_unknown_state_is_a_spec_error(tmp_path) -> None:
    text = SPEC_PATH.read_text().replace("failed: [pending]", "failed: [pendng]")
    broken = tmp_path / "openapi.yaml"
    broken.write_text(text)
    with pytest.raises(capymock.SpecError, match=r"'pendng' is not a state \(states: pending, claimed"):
        capymock.load_spec(broken)


def test_a_missing_spec_file_is_a_spec_error(tmp_path) -> None:
    with pytest.raises(capymock.SpecError, match="cannot read the OpenAPI document"):
        capymock.load_spec(tmp_path / "nope.yaml")
