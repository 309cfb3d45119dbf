"""The request journal: what it keeps of a request (values cut short, secrets redacted), the newest
`size` only, within the bytes a budget shared by a server's journals leaves."""

from __future__ import annotations

import pytest

from capymock.core.journal import (
    CUT_NAME,
    MAX_HEADERS,
    MAX_PATH,
    MAX_QUERY,
    MAX_VALUE,
    Journal,
    JournalBudget,
    is_secret,
    redact_header,
    redact_query,
    redact_value,
)


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
        (
            "Referer",
            "http://app.test/cb?code=1&access_token=abcdefgh#x",
            "http://app.test/cb?code=1&access_token=abcd…",
        ),
        ("Referer", "http://app.test/?q=token", "http://app.test/?q=token"),
    ],
)
def test_a_secret_header_is_redacted(name: str, value: str, shown: str) -> None:
    assert redact_header(name, value) == shown


@pytest.mark.parametrize(
    "name",
    [
        "X-Access-Token",
        "Authentication",
        "access_token",
        "API_KEY",
        "sessionid",
        "Set-Cookie",
        "X-Signature",
        "client_secret",
        "password",
        "X-Amz-Credential",
        "jwt",
    ],
)
def test_a_name_that_suggests_a_secret_is_redacted(name: str) -> None:
    assert is_secret(name)
    assert redact_header(name, "s3cretvalue") == "s3cr…"
    assert redact_value(name, "s3cretvalue") == "s3cr…"


@pytest.mark.parametrize("name", ["Accept", "X-Request-Id", "limit", "state", "Prefer", "Content-Type"])
def test_other_names_are_shown_as_they_are(name: str) -> None:
    assert not is_secret(name)
    assert redact_header(name, "value one") == "value one"
    assert redact_value(name, "value one") == "value one"


def test_query_parameters_whose_names_suggest_a_secret_are_redacted_in_the_journal() -> None:
    journal = Journal()
    query = "access_token=s3cret-one&limit=2&Api%5FKey=s3cret-two&state=a&state=b&sig=x"
    journal.record("GET", "/v1/jobs", query, 200, {"HTTP_X_ACCESS_TOKEN": "s3cret-three"}, None)
    (entry,) = journal.entries()
    assert entry.query == {
        "access_token": "s3cr…",
        "limit": "2",
        "Api_Key": "s3cr…",
        "state": ["a", "b"],
        "sig": "x",
    }
    assert entry.headers == {"X-Access-Token": "s3cr…"}


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("", ""),
        ("limit=2", "limit=2"),
        ("token=abcdefgh&limit=2", "token=abcd…&limit=2"),
        ("a=1&x%2Dapi%2Dkey=abcdefgh", "a=1&x%2Dapi%2Dkey=abcd…"),
        ("secret&token=ab", "secret&token=…"),
        ("state=token", "state=token"),
    ],
)
def test_a_query_string_keeps_its_shape_with_secrets_redacted(query: str, shown: str) -> None:
    assert redact_query(query) == shown


def test_long_values_are_cut_and_marked() -> None:
    journal = Journal()
    environ = {"HTTP_X_BIG": "a" * 400_000, "HTTP_" + "N" * 300: "v"}
    query = "q=" + "b" * (MAX_QUERY + 10)
    journal.record("GET", "/v1/" + "p" * 5000, query, 404, environ, None)
    (entry,) = journal.entries()
    assert entry.headers["X-Big"] == "a" * MAX_VALUE + f"…[cut {400_000 - MAX_VALUE} chars]"
    assert entry.path == ("/v1/" + "p" * 5000)[:MAX_PATH] + f"…[cut {5004 - MAX_PATH} chars]"
    assert entry.query["q"] == "b" * MAX_VALUE + f"…[cut {MAX_QUERY - 2 - MAX_VALUE} chars]"
    assert entry.query[CUT_NAME] == "[cut 12 more chars of the query]"
    assert len(max(entry.headers, key=len)) < 300


def test_at_most_max_headers_are_kept() -> None:
    journal = Journal()
    environ = {f"HTTP_X_{i}": str(i) for i in range(MAX_HEADERS + 5)}
    journal.record("GET", "/", "", 404, environ, None)
    (entry,) = journal.entries()
    assert len(entry.headers) == MAX_HEADERS + 1
    assert entry.headers[CUT_NAME] == "[cut 5 more headers]"


def test_journals_sharing_a_budget_drop_the_oldest_entry_of_any_of_them() -> None:
    budget = JournalBudget(10_000)
    first, second = Journal(budget=budget), Journal(budget=budget)
    for i in range(40):
        (first if i % 2 else second).record("GET", f"/v1/jobs/{i}", "", 200, {}, None)
        assert budget.used <= budget.max_bytes
    kept = sorted(int(e.path.rsplit("/", 1)[1]) for j in (first, second) for e in j.entries())
    assert kept == list(range(40 - len(kept), 40)) and 0 < len(kept) < 40
    assert first.page().dropped + second.page().dropped == 40 - len(kept)


def test_clearing_a_journal_gives_its_bytes_back() -> None:
    budget = JournalBudget(1_000_000)
    journal = Journal(budget=budget)
    journal.record("GET", "/v1/jobs/x", "", 200, {"HTTP_X": "y" * 100}, None)
    assert budget.used > 100
    epoch = journal.epoch
    journal.clear()
    assert budget.used == 0 and journal.epoch != epoch and journal.page().kept == 0


def test_an_entry_larger_than_the_budget_is_not_kept() -> None:
    journal = Journal(budget=JournalBudget(0))
    journal.record("GET", "/v1/jobs/x", "", 200, {}, None)
    assert journal.entries() == [] and journal.budget.used == 0 and journal.page().dropped == 1


def test_entries_the_count_bound_lets_go_are_not_counted() -> None:
    budget = JournalBudget(10**9)
    journal = Journal(size=1, budget=budget)
    journal.record("GET", "/v1/jobs/x", "", 200, {}, None)
    one = budget.used
    for _ in range(1000):
        journal.record("GET", "/v1/jobs/x", "", 200, {}, None)
    assert len(journal.entries()) == 1 and budget.used == one and journal.page().dropped == 1000


def test_a_journal_is_read_page_by_page() -> None:
    journal = Journal()
    for i in range(5):
        journal.record("GET", f"/v1/jobs/{i}", "", 200, {}, None)
    first = journal.page(limit=2)
    assert [e.path for _, e in first.entries] == ["/v1/jobs/0", "/v1/jobs/1"] and first.more
    cursor = first.entries[-1][0]
    rest = journal.page(since=cursor, limit=10)
    assert [e.path for _, e in rest.entries] == ["/v1/jobs/2", "/v1/jobs/3", "/v1/jobs/4"]
    assert not rest.more and rest.newest == rest.entries[-1][0] and rest.kept == 5
    newest = journal.page(limit=2, newest=True)
    assert [e.path for _, e in newest.entries] == ["/v1/jobs/3", "/v1/jobs/4"] and not newest.more
    assert journal.page(since=newest.newest).entries == []
    with pytest.raises(ValueError, match="1 or more"):
        journal.page(limit=0)


def test_a_budget_is_not_negative() -> None:
    with pytest.raises(ValueError, match="0 or more"):
        JournalBudget(-1)
