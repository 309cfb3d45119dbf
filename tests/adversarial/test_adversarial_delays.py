"""Requests held back by a fault's delay, on either server: however many there are, the API and
the control API keep answering, and past `--max-held` a new one is a 503 at once. Driven from
outside: `capymock serve` as a subprocess, requests on raw sockets that wait for nothing."""

from __future__ import annotations

import json
import select
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import urlsplit

import pytest

from cli_helpers import Served, serving
from conftest import http, wait_for

DELAYED = {"match": {"method": "GET", "path": "/v1/jobs/{jobID}"}, "delay": "600s", "status": 200}


@contextmanager
def sent(served: Served, count: int) -> Iterator[list[socket.socket]]:
    """`count` GETs of a job sent on connections of their own; their answers are not awaited."""
    parts = urlsplit(served.url)
    connections = []
    try:
        for _ in range(count):
            connection = socket.create_connection((parts.hostname, parts.port), timeout=30)
            request = f"GET /v1/jobs/job_demo_deploy HTTP/1.1\r\nHost: {parts.netloc}\r\n"
            connection.sendall(f"{request}Authorization: Bearer {served.token}\r\n\r\n".encode())
            connections.append(connection)
        yield connections
    finally:
        for connection in connections:
            connection.close()


def remaining(served: Served) -> int | None:
    faults = http(f"{served.url}/_capymock/faults").body["faults"]
    return faults[0]["remaining"] if faults else 0


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_twenty_held_requests_leave_the_api_and_the_control_api_answering(server: str) -> None:
    with serving(["--quiet", "--server", server]) as served:
        assert http(f"{served.url}/_capymock/faults", "POST", None, {**DELAYED, "times": 20}).status == 201
        with sent(served, 20):
            # every one of the 20 has taken the fault: each is held, none waits for a thread
            wait_for(lambda: remaining(served) == 0, "the 20 requests to be held back")
            listed = http(
                f"{served.url}/v1/projects/proj_demo/jobs",
                headers={"Authorization": f"Bearer {served.token}"},
            )
            assert listed.status == 200
            assert http(f"{served.url}/_capymock/faults", "DELETE").status in (200, 204)


@pytest.mark.parametrize("server", ["waitress", "granian"])
def test_past_max_held_a_delayed_request_is_a_503_at_once(server: str) -> None:
    with serving(["--quiet", "--server", server, "--max-held", "5"]) as served:
        assert http(f"{served.url}/_capymock/faults", "POST", None, {**DELAYED, "times": 10}).status == 201
        with sent(served, 10) as connections:
            wait_for(lambda: remaining(served) == 0, "the 10 requests to take the fault")

            def answered() -> list[socket.socket]:
                return select.select(connections, [], [], 0)[0]

            wait_for(lambda: len(answered()) >= 5, "five requests to be refused")
            refused = [connection.recv(65536) for connection in answered()]  # the held ones say nothing
    assert len(refused) == 5, refused
    for answer in refused:
        assert answer.startswith(b"HTTP/1.1 503")
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert "(--max-held 5)" in body["error"]
