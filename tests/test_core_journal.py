"""The request journal: what it keeps of a request, secrets redacted, newest `size` only."""

from __future__ import annotations

import pytest

from capymock.core.journal import Journal, redact_header


def test_a_request_is_kept_with_its_query_and_headers() -> None:
    journal = Journal()
    environ = {
        "HTTP_AUTHORIZATION": "Bearer capy_live_0123456789",
        "HTTP_X_REQUEST_ID": "r1",
        "REQUEST_METHOD": "GET",
    }
    journal.record("GET", "/v1/jobs/job_1", "a=1&b=2&b=3&c=", 200, environ, "getJob")
    assert [entry.to_dict() for entry in journal.entries()] == [
        {
            "method": "GET",
            "path": "/v1/jobs/job_1",
            "query": {"a": "1", "b": ["2", "3"], "c": ""},
            "status": 200,
            "headers": {"Authorization": "Bearer capy_live_0123…", "X-Request-Id": "r1"},
            "operation_id": "getJob",
        }
    ]


def test_only_the_newest_requests_are_kept() -> None:
    journal = Journal(size=2)
    for status in (200, 401, 404):
        journal.record("GET", "/v1/jobs/x", "", status, {}, None)
    assert [entry.status for entry in journal.entries()] == [401, 404]


def test_a_cleared_journal_is_empty() -> None:
    journal = Journal()
    journal.record("GET", "/v1/jobs/x", "", 200, {}, None)
    journal.clear()
    assert journal.entries() == []


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Authorization", "Bearer capy_live_0123456789", "Bearer capy_live_0123…"),
        ("authorization", "Bearer capy_live_x y z", "Bearer capy_live_x y …"),
        ("Authorization", "tok3n secretvalue", "tok3…"),
        ("Authorization", "A" * 20 + " secretvalue", "A" * 20 + " secr…"),
        ("Authorization", "A" * 21 + " secretvalue", "AAAA…"),
        ("Cookie", "session=abcdefgh", "sess…"),
        ("X-Api-Key", "  abcdefgh ", "abcd…"),
        ("X-Request-Id", "r1 r2", "r1 r2"),
    ],
)
def test_a_secret_header_is_redacted(name: str, value: str, shown: str) -> None:
    assert redact_header(name, value) == shown
