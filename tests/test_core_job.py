"""Job records: equality, JSON encoding, ids, and new jobs with defaults filled in."""

from __future__ import annotations

import pytest

import capymock
from capymock.core.job import Job, compose_job, encode, plain, segment_problem

SPEC = capymock.load_spec()
NOW = "2026-01-01T09:00:00Z"


def test_a_new_job_is_created_when_given() -> None:
    job = compose_job(
        SPEC, {"created_at": "2025-12-31T09:00:00Z"}, job_id="job_1", organization_id="org_a", now=NOW
    )
    assert (job["created_at"], job["updated_at"]) == ("2025-12-31T09:00:00Z", "2025-12-31T09:00:00Z")


def test_a_new_job_has_the_defaults() -> None:
    job = compose_job(SPEC, {}, job_id="job_1", organization_id="org_a", now=NOW)
    assert {k: job[k] for k in ("id", "organization_id", "type", "state", "attempts", "max_attempts")} == {
        "id": "job_1",
        "organization_id": "org_a",
        "type": "task",
        "state": "pending",
        "attempts": 0,
        "max_attempts": 3,
    }


def test_jobs_with_the_same_fields_are_equal() -> None:
    assert (Job({"id": "a"}) == Job({"id": "a"}), Job({"id": "a"}) == Job({"id": "b"})) == (True, False)


def test_a_job_equals_a_mapping_of_its_fields() -> None:
    assert (Job({"id": "a"}) == {"id": "a"}, Job({"id": "a"}) == {"id": "b"}) == (True, False)


def test_a_job_is_not_equal_to_what_is_no_mapping() -> None:
    assert (Job({"id": "a"}) == ["id"], Job({"id": "a"}) != "a") == (False, True)


def test_encode_writes_compact_json_and_keeps_unicode() -> None:
    value = {"jobs": [Job({"id": "a", "name": "café"})], "note": "naïve", "n": (1, None)}
    assert encode(value) == '{"jobs":[{"id":"a","name":"café"}],"note":"naïve","n":[1,null]}'.encode()


def test_plain_is_what_encode_writes() -> None:
    value = {"jobs": [Job({"id": "a"})], "n": (1, 2)}
    assert plain(value) == {"jobs": [{"id": "a"}], "n": [1, 2]}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("job_1", None),
        ("", "must be a non-empty string"),
        (5, "must be a non-empty string"),
        ("a/b", "cannot contain '/' (it goes in a URL path)"),
    ],
)
def test_what_can_be_an_id(value: object, problem: str | None) -> None:
    assert segment_problem(value) == problem
