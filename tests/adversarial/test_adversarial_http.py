"""HTTP a stranger may send to a served mock, on raw sockets, on both servers: pipelined
requests, a body with both `Content-Length` and `Transfer-Encoding`, hundreds of half-sent
requests, oversize URLs and headers, session paths that try to climb out to the server's own
control API, and absolute-form requests to another host (to the mock and to the recording
proxy). Each is answered as HTTP says, and the server keeps answering others."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cli_helpers import Served, proxying, serving
from conftest import http

SERVERS = ["granian", "waitress"]


def address(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    assert parts.hostname is not None and parts.port is not None
    return parts.hostname, parts.port


def exchange(url: str, data: bytes, timeout: float = 10) -> bytes:
    """Send `data` on a new connection and read until the server closes it (or `timeout`)."""
    with socket.create_connection(address(url), timeout=timeout) as connection:
        connection.sendall(data)
        answer = b""
        try:
            while chunk := connection.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    return answer


def statuses(answer: bytes) -> list[int]:
    return [int(code) for code in re.findall(rb"HTTP/1\.[01] (\d{3})", answer)]


def get(served: Served, path: str, *, last: bool = True) -> bytes:
    close = b"Connection: close\r\n" if last else b""
    head = f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {served.token}\r\n"
    return head.encode() + close + b"\r\n"


@pytest.fixture(params=SERVERS)
def served(request: pytest.FixtureRequest) -> Iterator[Served]:
    with serving(["--quiet", "--paused", "--server", request.param]) as running:
        yield running


def test_pipelined_requests_are_answered_in_order(served: Served) -> None:
    answer = exchange(
        served.url, get(served, "/v1/jobs/job_demo_deploy", last=False) + get(served, "/v1/jobs/nope")
    )
    assert statuses(answer) == [200, 404]


def test_a_body_with_both_lengths_is_read_as_chunked_and_never_swallows_the_next_request(
    served: Served,
) -> None:
    smuggled = (
        b"POST /_capymock/reset HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
        b"Content-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"
        b"GET /_capymock/state HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    )
    answers = statuses(exchange(served.url, smuggled))
    # Read by its length (4 bytes), the rest would be a broken request: a 400. Read as chunked
    # (HTTP's rule), the reset is whole and the next request is one of its own, or is dropped.
    assert answers in ([200], [200, 200]), answers


def test_hundreds_of_half_sent_requests_leave_a_whole_one_answered(served: Served) -> None:
    held = []
    try:
        for _ in range(300):
            connection = socket.create_connection(address(served.url), timeout=10)
            connection.sendall(b"GET /v1/jobs/job_demo_deploy HTTP/1.1\r\nHost: 127.0")
            held.append(connection)
        assert statuses(exchange(served.url, get(served, "/v1/jobs/job_demo_deploy"))) == [200]
    finally:
        for connection in held:
            connection.close()


@pytest.mark.parametrize("part", ["url", "header"])
def test_an_oversize_url_or_header_is_refused_or_answered_and_the_server_goes_on(
    served: Served, part: str
) -> None:
    if part == "url":
        data = b"GET /v1/jobs/" + b"a" * 70_000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
    else:
        data = (
            b"GET /v1/jobs/x HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: "
            + b"a" * 200_000
            + b"\r\nConnection: close\r\n\r\n"
        )
    answer = statuses(exchange(served.url, data))
    assert len(answer) <= 1 and all(400 <= status < 500 for status in answer), answer  # or closed
    assert statuses(exchange(served.url, get(served, "/v1/jobs/job_demo_deploy"))) == [200]


@pytest.mark.parametrize(
    "path",
    [
        "/s/../_capymock/reset",
        "/s/%2e%2e/_capymock/reset",
        "/s/x%2f..%2f_capymock/reset",
        "/s//_capymock/reset",
    ],
)
def test_a_session_path_never_climbs_to_the_servers_own_control_api(served: Served, path: str) -> None:
    assert http(f"{served.url}/_capymock/advance", "POST", None, {"seconds": 60}).status == 200
    moved = http(f"{served.url}/_capymock/clock").body["now"]
    request = f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
    answer = exchange(served.url, request.encode() + b"Content-Length: 2\r\nConnection: close\r\n\r\n{}")
    assert statuses(answer) in ([404], [400]), answer[:300]
    assert http(f"{served.url}/_capymock/clock").body["now"] == moved  # the server's mock was not reset


def test_an_absolute_form_request_for_another_host_is_misdirected(served: Served) -> None:
    answer = exchange(
        served.url,
        b"GET http://evil.example/v1/jobs/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n",
    )
    assert statuses(answer) == [421]


@contextmanager
def listening() -> Iterator[tuple[str, list[bytes]]]:
    """A server that notes every request it gets (and answers none)."""
    listener = socket.create_server(("127.0.0.1", 0))
    got: list[bytes] = []

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            with connection:
                connection.settimeout(5)
                with suppress(OSError):
                    got.append(connection.recv(65536))

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", got
    finally:
        listener.close()


def test_the_recording_proxy_is_no_open_proxy(tmp_path: Path) -> None:
    with (
        listening() as (target, to_target),
        listening() as (elsewhere, to_elsewhere),
        proxying(target, tmp_path / "open.yaml") as (url, _, _),
    ):
        other = urlsplit(elsewhere).netloc
        foreign = (
            b"GET http://evil.example/v1/jobs/x HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n"
        )
        refused = exchange(url, foreign)
        request = f"GET {elsewhere}/v1/jobs/x HTTP/1.1\r\nHost: {other}\r\nConnection: close\r\n\r\n"
        exchange(url, request.encode())
    assert statuses(refused) == [421]
    assert to_elsewhere == []  # an absolute URL never picks the host: only the target is asked
    assert len(to_target) == 1 and to_target[0].startswith(b"GET /v1/jobs/x ")
