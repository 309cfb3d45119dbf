"""The request journal and the request log against a hostile client: floods of huge headers and
URLs (a web page can send the latter cross-origin, without a preflight), secrets under names no
list foresaw, and control characters that would forge log lines or drive the terminal.

Driven from outside: `capymock serve` as a subprocess, HTTP over sockets. Memory is the RSS of
the server process; availability is a request answered while a flood is under way; the journal is
read only through `GET /_capymock/requests` and the `RemoteMock` handle; the log is every byte the
server wrote.
"""

from __future__ import annotations

import http.client
import json
import re
import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from capymock.remote import RemoteMock
from cli_helpers import CAPYMOCK, Served, serving
from conftest import wait_for

POLL_BYTES = 1_000_000
FLOOD = 1000
WIDE = {f"X-Wide-{i}": f"{i:02d}" + "w" * 6000 for i in range(60)}
"""60 headers of 6 KB: about 360 KB a request."""
SECRETS = {
    "header": {
        "X-Access-Token": "s3cret-access-token-7f2a91",
        "Authentication": "Bearer s3cret-authentication-44b0c3",
        "X-Api-Key": "s3cret-api-key-9e8d7c",
        "X-Session-Id": "s3cret-session-id-5a4b3c",
        "Cookie": "sid=s3cret-cookie-2d1e0f",
        "X-Hub-Signature": "sha256=s3cret-signature-6c5d4e",
        "X-Client-Secret": "s3cret-client-secret-3f2e1d",
        "X-Password": "s3cret-password-8b7a6c",
        "Referer": "http://app.test/callback?state=1&access_token=s3cret-referer-0e9f8a",
    },
    "query": {
        "access_token": "s3cret-query-access-token-1a2b3c",
        "api_key": "s3cret-query-api-key-4d5e6f",
        "SessionID": "s3cret-query-session-7a8b9c",
        "password": "s3cret-query-password-0d1e2f",
        "X-Amz-Signature": "s3cret-query-signature-3a4b5c",
        "client_secret": "s3cret-query-client-secret-6d7e8f",
        "refresh-token": "s3cret-query-refresh-9a0b1c",
    },
}
SECRET_VALUES = [value.split("=")[-1].split(" ")[-1] for kind in SECRETS.values() for value in kind.values()]


def rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    return int(next(line for line in status.splitlines() if line.startswith("VmRSS:")).split()[1]) / 1024


class Client:
    """One keep-alive connection to a served mock."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        assert parts.hostname is not None and parts.port is not None
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
        self.received = bytearray()
        """Every body this client got back."""

    def call(self, method: str, target: str, headers: dict[str, str] | None = None, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        sent = dict(headers or {})
        if data is not None:
            sent["Content-Type"] = "application/json"
        self.connection.request(method, target, data, sent)
        response = self.connection.getresponse()
        raw = response.read()
        self.received += raw
        return response.status, raw

    def json(self, method: str, target: str, body: Any = None) -> Any:
        status, raw = self.call(method, target, body=body)
        assert 200 <= status < 300, (status, raw[:500])
        return json.loads(raw)

    def close(self) -> None:
        self.connection.close()


def journal_pages(client: Client, base: str = "", limit: int = 1000) -> Iterator[tuple[int, dict[str, Any]]]:
    """Every page of a journal, oldest first, with its size in bytes."""
    since = 0
    while True:
        status, raw = client.call("GET", f"{base}/_capymock/requests?limit={limit}&since={since}")
        assert status == 200, raw[:500]
        page = json.loads(raw)
        yield len(raw), page
        if not page["more"]:
            return
        assert page["next"] > since
        since = page["next"]


def flood(url: str, target: str, headers: dict[str, str], stop: threading.Event, sent: list[Any]) -> None:
    """Send `target` with `headers` on one connection until `stop` is set and `FLOOD` were sent;
    `sent`: [how many, the answers that were not a 404]."""
    client = Client(url)
    try:
        while not (stop.is_set() and sent[0] >= FLOOD):
            status, raw = client.call("GET", target, headers)
            if status != 404:
                sent[1].append((status, raw[:300]))
                return
            sent[0] += 1
    finally:
        client.close()


def stop_and_read_everything(served: Served) -> str:
    """Stop the server; every byte it wrote to stdout and stderr, as text."""
    served.process.send_signal(signal.SIGTERM)
    served.process.wait(60)
    assert served.process.stdout is not None
    rest = served.process.stdout.read()
    return served.banner + rest + served.read_stderr_to_the_end()


def test_a_flood_of_huge_headers_stays_within_the_journal_budget_and_never_blocks_the_api() -> None:
    with serving(["--quiet", "--journal-bytes", "4MB"]) as served:
        client = Client(served.url)
        auth = {"Authorization": f"Bearer {served.token}"}
        for i in range(20):  # warm: the code paths and the allocator have seen a wide request
            client.call("GET", f"/v1/jobs/warm_{i}", {**auth, **WIDE})
        before = rss_mb(served.process.pid)
        stop, sent = threading.Event(), [0, []]
        flooding = threading.Thread(
            target=flood, args=(served.url, "/v1/jobs/flood", {**auth, **WIDE}, stop, sent)
        )
        flooding.start()
        try:
            wait_for(lambda: sent[0] >= 50 or sent[1], "the flood under way")
            # While the flood goes on (it stops only when told), the API and the journal answer.
            status, _ = client.call("GET", f"/v1/projects/{served.project}/jobs", auth)
            assert status == 200
            sizes = [size for size, _ in journal_pages(client)]
        finally:
            stop.set()
            flooding.join(120)
        assert not flooding.is_alive() and sent[1] == [] and sent[0] >= FLOOD
        after = rss_mb(served.process.pid)
        pages = list(journal_pages(client))
        newest = client.json("GET", "/_capymock/requests?newest=true&limit=1000")
        client.close()
    sent_mb = sent[0] * sum(map(len, WIDE.values())) / 2**20
    assert sent_mb > 300  # kept whole, the journal would hold this much
    assert after - before < 40, f"RSS grew {after - before:.0f} MB for {sent_mb:.0f} MB of headers"
    assert max(sizes) <= POLL_BYTES and all(size <= POLL_BYTES for size, _ in pages)
    entries = [entry for _, page in pages for entry in page["requests"]]
    assert 0 < len(entries) < FLOOD and pages[-1][1]["dropped"] > 0  # the oldest went first
    assert entries[-1]["path"] == "/v1/jobs/flood"
    assert (
        entries[-1]["headers"]["X-Wide-0"].startswith("00www")
        and "…[cut " in entries[-1]["headers"]["X-Wide-0"]
    )
    assert len(newest["requests"]) >= 1 and newest["more"] is False


def test_cross_origin_gets_with_long_urls_leave_every_journal_poll_under_a_megabyte() -> None:
    with serving(["--quiet"]) as served:
        client = Client(served.url)
        long_query = "q=" + "u" * 65_000
        page_origin = {"Origin": "http://attacker.example"}  # a "simple" GET: no preflight
        for i in range(FLOOD):
            status, _ = client.call("GET", f"/v1/jobs/job_{i}?{long_query}", page_origin)
            assert status == 401
        before = len(client.received)
        dashboard = client.json("GET", "/_capymock/requests?newest=true&limit=1000&since=0")
        dashboard_bytes = len(client.received) - before
        default = client.call("GET", "/_capymock/requests")[1]
        pages = list(journal_pages(client))
        follow_up = client.json(
            "GET", f"/_capymock/requests?newest=true&limit=1000&since={dashboard['next']}"
        )
        client.close()
    assert dashboard_bytes <= POLL_BYTES and len(default) <= POLL_BYTES
    assert all(size <= POLL_BYTES for size, _ in pages)
    assert sum(len(page["requests"]) for _, page in pages) == pages[-1][1]["kept"] == FLOOD
    assert dashboard["requests"][-1]["path"] == f"/v1/jobs/job_{FLOOD - 1}"  # the newest, oldest first
    assert follow_up["requests"] == [] and follow_up["next"] == dashboard["next"]
    query = dashboard["requests"][-1]["query"]
    assert query["q"].startswith("uuu") and len(query["q"]) < 300 and "…" in query


def test_sessions_share_one_journal_budget_and_the_oldest_entries_go_first() -> None:
    with serving(["--quiet", "--journal-bytes", "4MB"]) as served:
        client = Client(served.url)
        bases, tokens = [], []
        for _ in range(10):
            session = client.json("POST", "/_capymock/sessions", {"scenario": "demo"})
            bases.append(urlsplit(session["base_url"]).path)
            tokens.append(session["token"])
        client.call("GET", f"{bases[0]}/v1/jobs/warm", {**WIDE})
        before = rss_mb(served.process.pid)
        for base, token in zip(bases, tokens, strict=True):
            for i in range(FLOOD // len(bases)):
                status, _ = client.call(
                    "GET", f"{base}/v1/jobs/x_{i}", {"Authorization": f"Bearer {token}", **WIDE}
                )
                assert status == 404
        after = rss_mb(served.process.pid)
        kept = []
        for base in bases:
            pages = list(journal_pages(client, base))
            assert all(size <= POLL_BYTES for size, _ in pages)
            kept.append(pages[-1][1]["kept"])
        client.close()
    assert after - before < 40, f"RSS grew {after - before:.0f} MB"
    assert sum(kept) < FLOOD // 4, kept  # one budget for all: 100 a session would be 1000
    assert kept[0] == 0 and kept[-1] > 0, kept  # the first session's entries were the oldest


def test_no_secret_reaches_the_journal_or_the_log() -> None:
    with serving() as served:  # the request log on
        client = Client(served.url)
        session = client.json("POST", "/_capymock/sessions", {"scenario": "demo"})
        remote = RemoteMock(served.url)
        query = "&".join(f"{quote(name)}={quote(value)}" for name, value in SECRETS["query"].items())
        for base in ("", urlsplit(session["base_url"]).path, urlsplit(remote.url).path):
            for target in (f"{base}/v1/jobs/job_1?{query}&limit=2", f"{base}/v1/jobs/job_1?{query}"):
                client.call("GET", target, SECRETS["header"])
        entries = [e for _, page in journal_pages(client) for e in page["requests"]]
        entries += [
            e
            for _, page in journal_pages(client, urlsplit(session["base_url"]).path)
            for e in page["requests"]
        ]
        entries += [r.to_dict() for r in remote.requests]
        client.call("GET", "/_capymock/requests?newest=true")
        client.close()
        wait_for(lambda: sum("/v1/jobs/job_1?" in line for line in served.stderr) >= 6, "six log lines")
        written = stop_and_read_everything(served)
    assert len(entries) == 6
    for entry in entries:  # the names stay, the values go
        assert set(SECRETS["header"]) <= set(entry["headers"]) and set(SECRETS["query"]) <= set(
            entry["query"]
        )
        assert entry["query"].get("limit", "2") == "2"
    got_back = client.received.decode("utf-8", "replace") + json.dumps(entries, ensure_ascii=False)
    for secret in SECRET_VALUES:  # redacted, a value shows at most its first 4 characters
        assert secret[4:] not in got_back, f"{secret} in what the journal answered"
        assert secret[4:] not in written, f"{secret} in what the server wrote"
    assert "access_token=s3cr…" in written  # a redacted query keeps its shape in the log


FORGERIES = [
    "/v1/jobs/a%1b[2J%1b[H",  # clear the screen
    "/v1/jobs/b%1b]0;pwned%07",  # the terminal's title
    "/v1/jobs/c%0d%0aGET%20/v1/forged%20200",  # a line of its own
    "/v1/jobs/d%c2%9b31m%7f%00",  # C1 CSI, DEL, NUL
    "/v1/jobs/e%e2%80%a8f",  # a line separator
    "/v1/jobs/g?x=%1b[2J%0d%0a&token=s3cret-log-token-000111",
]


def test_control_characters_in_a_request_are_escaped_in_its_one_log_line() -> None:
    with serving() as served:
        client = Client(served.url)
        for target in FORGERIES:
            status, _ = client.call("GET", target)
            assert 400 <= status < 500
        client.close()
        parts = urlsplit(served.url)
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as raw:
            raw.sendall(b"GET /v1/jobs/h\x1b[2J\x9b HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            answer = raw.recv(65536)
            while chunk := raw.recv(65536):
                answer += chunk
        assert answer.startswith(b"HTTP/1.1 4")  # refused by the server, or by the app
        wait_for(lambda: sum("/v1/jobs/g?" in line for line in served.stderr) == 1, "the last one logged")
        written = stop_and_read_everything(served)
    logged = [line for line in written.splitlines() if line.startswith("GET /v1/")]
    assert len(FORGERIES) <= len(logged) <= len(FORGERIES) + 1, logged  # one line each (+ the raw one)
    assert not any(line.startswith("GET /v1/forged") for line in logged)
    assert not re.search("[\x00-\x09\x0b-\x1f\x7f-\x9f\u2028\u2029]", written), "a raw control character"
    for shown in [
        "GET /v1/jobs/a\\x1b[2J\\x1b[H 4",
        "GET /v1/jobs/b\\x1b]0;pwned\\x07 4",
        "GET /v1/jobs/c\\x0d\\x0aGET /v1/forged 200 4",
        "GET /v1/jobs/d\\x9b31m\\x7f\\x00 4",
        "GET /v1/jobs/e\\u2028f 4",
        "GET /v1/jobs/g?x=%1b[2J%0d%0a&token=s3cr… 4",
    ]:
        assert any(line.startswith(shown) for line in logged), (shown, logged)
    assert "s3cret-log-token" not in written


def test_a_bad_journal_poll_is_a_400_that_says_why() -> None:
    with serving(["--quiet"]) as served:
        client = Client(served.url)
        for query, says in [
            ("limit=0", "limit is a whole number from 1 to 1000"),
            ("limit=1001", "limit is a whole number from 1 to 1000"),
            ("since=-1", "since is a whole number"),
            ("since=1e3", "since is a whole number"),
            ("newest=maybe", "newest is true or false"),
            ("limit=1&limit=2", "limit is given 2 times"),
            ("_=1700000000", "takes since, limit, newest"),
        ]:
            status, raw = client.call("GET", f"/_capymock/requests?{query}")
            assert status == 400 and says in json.loads(raw)["error"], (query, raw)
        client.close()


def test_a_remote_handle_reads_its_whole_journal_page_by_page() -> None:
    with serving(["--quiet"]) as served:
        remote = RemoteMock(served.url, "demo")
        client = Client(served.url)
        base = urlsplit(remote.url).path
        headers = {"Authorization": f"Bearer {remote.token}", **{f"X-Pad-{i}": "p" * 300 for i in range(16)}}
        for i in range(300):  # about 1.4 MB of entries: more than one poll answers
            client.call("GET", f"{base}/v1/jobs/job_{i}", headers)
        first = client.json("GET", f"{base}/_capymock/requests?limit=1000")
        client.close()
        requests = remote.requests
        remote.assert_requested("GET", "/v1/jobs/job_299", times=1)
        remote.reset()
        assert remote.requests == []
    assert first["more"] is True and len(first["requests"]) < 300
    assert [r.path for r in requests] == [f"/v1/jobs/job_{i}" for i in range(300)]


def test_a_journal_budget_that_is_not_a_size_is_refused() -> None:
    result = subprocess.run(
        [*CAPYMOCK, "serve", "--port", "0", "--journal-bytes", "lots"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert (
        result.returncode == 2 and "Invalid value for --journal-bytes: 'lots' is not a size" in result.stderr
    )
