"""The request journal: what it keeps of a request (values cut short, secrets redacted), the newest
`size` only, within the bytes a budget shared by a server's journals leaves."""

from __future__ import annotations

import pytest

from capymock.core.journal import (
    CUT_NAME,
    ENTRY_COST,
    HEADER_COST,
    MAX_HEADERS,
    MAX_PATH,
    MAX_QUERY,
    MAX_VALUE,
    Journal,
    JournalBudget,
    Page,
    cut,
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


def test_cut_keeps_a_text_of_its_limit_and_marks_what_it_cuts() -> None:
    assert cut("abc", 3) == "abc"
    assert cut("abcdef", 2) == "ab…[cut 4 chars]"
    assert cut("a" * MAX_VALUE) == "a" * MAX_VALUE
    assert cut("a" * (MAX_VALUE + 1)) == "a" * MAX_VALUE + "…[cut 1 chars]"


@pytest.mark.parametrize(
    ("name", "value", "shown"),
    [
        ("Authorization", "Bearer    abcdefgh", "Bearer abcd…"),
        ("Authorization", "Bearer abc def", "Bearer abc …"),
        ("X-Token", "abcdefgh", "abcd…"),
        ("Referer", "http://app.test/?x=1?token=abcdefgh", "http://app.test/?x=1?token=abcdefgh"),
        ("Referer", "http://app.test/?TOKEN=abcdefgh", "http://app.test/?TOKEN=abcd…"),
        ("Referer", "http://app.test/", "http://app.test/"),
    ],
)
def test_a_header_keeps_its_scheme_and_the_shape_of_its_address(name: str, value: str, shown: str) -> None:
    assert redact_header(name, value) == shown


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("TOKEN=abcdefgh", "TOKEN=abcd…"),
        ("a=1&to%6Ben=abcdefgh", "a=1&to%6Ben=abcd…"),
        ("a=1&to%6ben=abcdefgh&b=2", "a=1&to%6ben=abcd…&b=2"),
        ("a%20b=1&api+key=abcdefgh", "a%20b=1&api+key=abcd…"),
        ("token=abcd=efgh", "token=abcd…"),
        ("token=%41%42%43%44efgh", "token=ABCD…"),
        ("token=a+b+cdefgh", "token=a b …"),
        ("x=%25&limit=2", "x=%25&limit=2"),
    ],
)
def test_a_query_string_is_redacted_by_its_decoded_names(query: str, shown: str) -> None:
    assert redact_query(query) == shown


def test_an_entry_counts_its_text_and_fixed_costs_exactly() -> None:
    budget = JournalBudget(10**6)
    journal = Journal(budget=budget)
    environ = {"HTTP_X_A": "bb", "HTTP_X_CCC": "dddd", "REQUEST_METHOD": "GET"}
    journal.record("GET", "/v1/jobs/x", "limit=2", 200, environ, None)
    one = ENTRY_COST + len("/v1/jobs/x") + len("limit=2") + 2 * HEADER_COST + len("HTTP_X_A") + 2
    one += len("HTTP_X_CCC") + 4
    assert budget.used == one
    journal.record("GET", "/", "", 200, {}, None)
    assert budget.used == one + ENTRY_COST + 1
    journal.clear()
    assert budget.used == 0


def test_a_cut_entry_counts_what_is_kept_of_it() -> None:
    budget = JournalBudget(10**6)
    journal = Journal(budget=budget)
    key = "HTTP_" + "K" * 300
    environ = {key: "v" * 1000}
    journal.record("GET", "/" + "p" * 2000, "q" * 3000, 200, environ, None)
    kept_header = len(cut(key)) + len(cut("v" * 1000))
    assert (
        budget.used
        == ENTRY_COST + len(cut("/" + "p" * 2000, MAX_PATH)) + MAX_QUERY + HEADER_COST + kept_header
    )


def test_a_budget_keeps_an_entry_of_exactly_its_bytes() -> None:
    exact = Journal(budget=JournalBudget(ENTRY_COST + 2))
    exact.record("GET", "/x", "", 200, {}, None)
    assert [e.path for e in exact.entries()] == ["/x"] and exact.budget.used == ENTRY_COST + 2
    short = Journal(budget=JournalBudget(ENTRY_COST + 1))
    short.record("GET", "/x", "", 200, {}, None)
    assert short.entries() == [] and short.budget.used == 0 and short.page().dropped == 1


def test_the_oldest_entry_of_any_journal_goes_first_even_after_count_drops() -> None:
    budget = JournalBudget(2 * (ENTRY_COST + 2))
    small, other = Journal(size=1, budget=budget), Journal(budget=budget)
    small.record("GET", "/a", "", 200, {}, None)
    small.record("GET", "/b", "", 200, {}, None)  # /a goes: the count bound
    other.record("GET", "/c", "", 200, {}, None)
    assert budget.used == 2 * (ENTRY_COST + 2)
    other.record("GET", "/d", "", 200, {}, None)  # /b goes: the oldest kept
    assert [e.path for e in small.entries()] == [] and small.page().dropped == 2
    other.record("GET", "/e", "", 200, {}, None)  # /c goes
    assert [e.path for e in other.entries()] == ["/d", "/e"] and other.page().dropped == 1
    assert budget.used == 2 * (ENTRY_COST + 2)


@pytest.mark.parametrize("size", [1, 3])
def test_the_budget_forgets_the_entries_its_journals_let_go(size: int) -> None:
    budget = JournalBudget(10**9)
    journal = Journal(size=size, budget=budget)
    lengths = []
    for _ in range(200):
        journal.record("GET", "/x", "", 200, {}, None)
        lengths.append(len(budget._order))
    # Past twice the entries kept (size + 1 while the newest is counted and the oldest not yet let
    # go) plus 64, the order is rebuilt of those still kept.
    counted = size + 1
    assert max(lengths) == 2 * counted + 64 and lengths[2 * counted + 64] == counted
    assert lengths[:3] == [1, 2, 3]
    journal.clear()
    for _ in range(3):
        journal.record("GET", "/x", "", 200, {}, None)
    assert len(journal.entries()) == min(3, size) and budget.used == min(3, size) * (ENTRY_COST + 2)


def test_entries_and_epochs_are_numbered_in_the_servers_order() -> None:
    budget = JournalBudget()
    first, second = Journal(budget=budget), Journal(budget=budget)
    assert (first.epoch, second.epoch, budget.seq) == (1, 2, 2)
    first.record("GET", "/a", "", 200, {}, None)
    second.record("GET", "/b", "", 200, {}, None)
    first.record("GET", "/c", "", 200, {}, None)
    assert [seq for seq, _ in first.page().entries] == [3, 5]
    assert [seq for seq, _ in second.page().entries] == [4]
    first.clear()
    assert first.epoch == 6 and budget.next_seq() == 7 and budget.seq == 7


def test_a_fresh_or_cleared_journal_pages_as_empty() -> None:
    journal = Journal()
    assert journal.page() == Page([], False, 0, 0, 0, journal.epoch)
    journal.record("GET", "/a", "", 200, {}, None)
    page = journal.page()
    assert (page.more, page.newest, page.kept, page.dropped) == (False, 2, 1, 0)
    journal.clear()
    assert journal.page() == Page([], False, 0, 0, 0, 3)


def test_a_cleared_journal_counts_its_drops_again() -> None:
    journal = Journal(size=1)
    for _ in range(3):
        journal.record("GET", "/a", "", 200, {}, None)
    assert journal.page().dropped == 2
    journal.clear()
    journal.record("GET", "/a", "", 200, {}, None)
    assert journal.page().dropped == 0


def test_pages_of_one_entry_and_their_cursors() -> None:
    journal = Journal()
    for path in ("/a", "/b", "/c"):
        journal.record("GET", path, "", 200, {}, None)
    one = journal.page(limit=1)
    assert [(seq, e.path) for seq, e in one.entries] == [(2, "/a")] and one.more and one.newest == 4
    newest = journal.page(limit=1, newest=True)
    assert [(seq, e.path) for seq, e in newest.entries] == [(4, "/c")] and not newest.more
    middle = journal.page(since=2, limit=1)
    assert [(seq, e.path) for seq, e in middle.entries] == [(3, "/b")] and middle.more
    last = journal.page(since=3, limit=2, newest=True)
    assert [seq for seq, _ in last.entries] == [4] and not last.more
    assert journal.page(since=4) == Page([], False, 4, 3, 0, 1)


def test_a_page_or_a_budget_out_of_bounds_is_refused_with_its_number() -> None:
    with pytest.raises(ValueError, match=r"^a page of 0 entries: expected 1 or more$"):
        Journal().page(limit=0)
    with pytest.raises(ValueError, match=r"^a journal budget of -1 bytes: expected 0 or more$"):
        JournalBudget(-1)
    assert JournalBudget(0).max_bytes == 0


def test_a_header_exactly_at_the_limits_is_kept_whole() -> None:
    journal = Journal()
    key = "HTTP_" + "N" * (MAX_VALUE - 5)
    journal.record(
        "GET", "/" + "p" * (MAX_PATH - 1), "q=" + "v" * (MAX_QUERY - 2), 200, {key: "v" * MAX_VALUE}, None
    )
    (entry,) = journal.entries()
    assert entry.headers == {"N" + "n" * (MAX_VALUE - 6): "v" * MAX_VALUE}
    assert entry.path == "/" + "p" * (MAX_PATH - 1) and CUT_NAME not in entry.query
