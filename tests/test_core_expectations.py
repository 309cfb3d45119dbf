"""`assert_requested` over recorded requests: which match, and what a failure says."""

from __future__ import annotations

from typing import Any

import pytest

from capymock.core.expectations import assert_requested, matches
from capymock.core.journal import RecordedRequest

JOB = "/v1/jobs/job_1"


def _entry(path: str = JOB, status: int = 200, **query: str | list[str]) -> RecordedRequest:
    return RecordedRequest("GET", path, query, status, {"X-Request-Id": "r1"}, "getJob")


def _failure(entries: list[RecordedRequest], times: int | None = None, **filters: Any) -> str:
    with pytest.raises(AssertionError) as failed:
        assert_requested(entries, "get", JOB, times, **filters)
    return str(failed.value)


@pytest.mark.parametrize(
    "filters",
    [
        {},
        {"query": {"a": "1"}},
        {"headers": {"x-request-id": "r1"}},
        {"status": 200},
        {"operation_id": "getJob"},
    ],
)
def test_a_request_matches_its_filters(filters: dict[str, Any]) -> None:
    assert matches(_entry(a="1", b="2"), "get", JOB, **filters)


@pytest.mark.parametrize(
    "filters",
    [
        {"query": {"a": "2"}},
        {"query": {"z": "1"}},
        {"headers": {"X-Request-Id": "r2"}},
        {"status": 404},
        {"query": {"a": "1"}, "status": 404},
        {"headers": {"x-request-id": "r1"}, "status": 404},
    ],
)
def test_a_request_that_fails_a_filter_does_not_match(filters: dict[str, Any]) -> None:
    assert not matches(_entry(a="1", b="2"), "GET", JOB, **filters)


def test_another_path_does_not_match() -> None:
    assert not matches(_entry("/v1/jobs/job_2"), "GET", JOB)


def test_a_request_seen_passes() -> None:
    assert_requested([_entry(), _entry(status=404)], "GET", JOB, times=1, status=404)


def test_every_filter_may_be_given() -> None:
    entries = [_entry(a="1")]
    assert_requested(
        entries, "GET", JOB, query={"a": "1"}, headers={"X-Request-Id": "r1"}, operation_id="getJob"
    )


def test_an_unknown_filter_is_refused() -> None:
    with pytest.raises(TypeError) as refused:
        assert_requested([], "GET", JOB, size=1, colour="red")
    assert str(refused.value) == "unknown filter(s) colour, size; use query, headers, status, operation_id"


def test_a_request_never_seen_fails() -> None:
    assert _failure([]) == f"expected GET {JOB} at least once, saw it 0 times.\nThe mock saw no requests."


def test_a_request_seen_too_few_times_fails() -> None:
    assert _failure([_entry(a="10")], times=2) == (
        f"expected GET {JOB} 2 times, saw it 1 time.\nThe mock saw 1 request:\n  GET {JOB}?a=10 -> 200"
    )


def test_a_request_seen_too_often_fails() -> None:
    assert _failure([_entry(), _entry()], times=1).startswith(f"expected GET {JOB} 1 time, saw it 2 times.\n")


def test_a_failure_names_the_filters() -> None:
    entries = [_entry(path="/v1/jobs/job_2", a=["1", "2"])]
    assert _failure(entries, status=404, query={"a": "1"}) == (
        f"expected GET {JOB} status=404 query={{'a': '1'}} at least once, saw it 0 times.\n"
        "The mock saw 1 request:\n  GET /v1/jobs/job_2?a=1&a=2 -> 200"
    )


def test_twenty_requests_are_all_shown() -> None:
    entries = [_entry("/v1/jobs/other")] * 20
    assert _failure(entries).splitlines()[1] == "The mock saw 20 requests:"


def test_only_the_last_twenty_requests_are_shown() -> None:
    entries = [_entry("/v1/jobs/first")] + [_entry("/v1/jobs/other")] * 20
    lines = _failure(entries).splitlines()
    assert (lines[1], len(lines), "/v1/jobs/first" in lines[2]) == (
        "The mock saw 21 requests (the last 20 shown):",
        22,
        False,
    )
