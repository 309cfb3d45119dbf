"""`capymock record` against a hostile deployment: one that answers a gigabyte, drips its bytes,
redirects to another host, echoes the caller's token, or does not speak HTTP. Driven from
outside: the recorder as a subprocess (proxy and poll mode), the deployment a raw socket server
on a port of its own. Bounds are asserted by the recorder's peak RSS and by the answers it
gives, never by a wall clock."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from cli_helpers import CAPYMOCK, proxying

TOKEN = "capy_live_victim_5b7e0c2d9a1f4e36"
OTHER_KEY = "capy_live_someone_else_0011223344"
JWT = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1c2VyXzEyMyJ9.c2lnbmF0dXJlLWJ5dGVz"
Answer = Callable[[socket.socket, bytes], None]


@contextmanager
def deployment(answer: Answer) -> Iterator[tuple[str, list[bytes]]]:
    """A deployment at a URL of its own: each request's head is kept, then `answer(connection,
    head)` writes whatever it likes. Yields (url, heads received)."""
    listener = socket.create_server(("127.0.0.1", 0))
    heads: list[bytes] = []

    def handle(connection: socket.socket) -> None:
        with connection:
            connection.settimeout(60)
            head = b""
            try:
                while b"\r\n\r\n" not in head:
                    chunk = connection.recv(65536)
                    if not chunk:
                        return
                    head += chunk
                heads.append(head)
                answer(connection, head)
            except OSError:
                pass  # the recorder hung up: what a bounded reader does

    def accept() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(connection,), daemon=True).start()

    threading.Thread(target=accept, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}", heads
    finally:
        listener.close()


def request_to(url: str, path: str, token: str = TOKEN) -> tuple[int, dict[str, str], bytes]:
    """One GET through the proxy at `url`, redirects not followed: (status, headers, body)."""
    parts = urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=120)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        return response.status, {k.lower(): v for k, v in response.getheaders()}, response.read()
    finally:
        connection.close()


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text(encoding="utf-8")
    line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
    return int(line.split()[1]) / 1024


def job(**fields: object) -> dict[str, object]:
    return {
        "id": "job_x",
        "project_id": "proj_x",
        "organization_id": "org_x",
        "type": "deploy",
        "state": "succeeded",
        "attempts": 1,
        "max_attempts": 3,
        "created_at": "2026-03-01T10:00:00Z",
        "updated_at": "2026-03-01T10:00:09Z",
        "claimed_by": "worker-1",
        "claimed_at": "2026-03-01T10:00:01Z",
        "started_at": "2026-03-01T10:00:02Z",
        "completed_at": "2026-03-01T10:00:09Z",
        **fields,
    }


def json_answer(status: int, body: object) -> bytes:
    data = json.dumps(body).encode()
    reason = {200: "OK", 500: "Internal Server Error"}[status]
    head = f"HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {len(data)}\r\n"
    return head.encode() + b"Connection: close\r\n\r\n" + data


def record_polling(url: str, output: Path, *more: str) -> subprocess.CompletedProcess[str]:
    args = ["record", "--base-url", url, "--project-id", "proj_x", "--rate-limit", "0", "-o", str(output)]
    return subprocess.run(
        [*CAPYMOCK, *args, *more],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "CAPY_TOKEN": TOKEN},
    )


# -- memory and time ------------------------------------------------------------------


def endless(connection: socket.socket, head: bytes) -> None:
    """64 MB of answer with no Content-Length, as fast as the reader takes it."""
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nConnection: close\r\n\r\n")
    chunk = b"a" * 65536
    for _ in range(1024):
        connection.sendall(chunk)


def declared_gigabyte(connection: socket.socket, head: bytes) -> None:
    connection.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 1073741824\r\n\r\n" + b"a" * 65536)


@pytest.mark.parametrize("answer", [endless, declared_gigabyte], ids=["streamed", "declared"])
def test_an_answer_past_max_answer_is_a_502_and_the_recorder_stays_small(
    answer: Answer, tmp_path: Path
) -> None:
    with (
        deployment(answer) as (target, _),
        proxying(target, tmp_path / "big.yaml", "--max-answer", "1MB") as (
            url,
            process,
            _,
        ),
    ):
        status, _, body = request_to(url, "/v1/jobs/job_x")
        peak = peak_rss_mb(process.pid)
    assert status == 502, body
    assert "larger than 1048576 bytes (--max-answer)" in json.loads(body)["error"]
    assert peak < 150, f"the recorder peaked at {peak:.0f} MB"


def test_poll_mode_refuses_an_answer_past_max_answer(tmp_path: Path) -> None:
    with deployment(endless) as (target, _):
        done = record_polling(target, tmp_path / "big.yaml", "--max-answer", "1MB")
    assert done.returncode == 2, done.stderr
    assert "larger than 1048576 bytes" in done.stderr and "Traceback" not in done.stderr


def drip(connection: socket.socket, head: bytes) -> None:
    """A status line, then one byte of a header every 0.2 s, forever."""
    connection.sendall(b"HTTP/1.1 200 OK\r\n")
    while True:
        connection.sendall(b"X")
        threading.Event().wait(0.2)


def test_a_dripping_deployment_is_cut_at_the_timeout_and_recorded_as_a_504_fault(tmp_path: Path) -> None:
    output = tmp_path / "drip.yaml"
    with deployment(drip) as (target, _), proxying(target, output, "--timeout", "1s") as (url, _, _):
        status, _, body = request_to(url, "/v1/jobs/job_x")
    assert status == 504, body
    assert "did not answer within 1s" in json.loads(body)["error"]
    assert "status: 504, delay: 1s" in output.read_text(encoding="utf-8")


# -- leaks ----------------------------------------------------------------------------


def test_a_redirect_is_passed_back_and_never_followed_with_the_token(tmp_path: Path) -> None:
    with deployment(lambda c, h: c.sendall(json_answer(200, {"job": job()}))) as (other, other_heads):

        def redirect(connection: socket.socket, head: bytes) -> None:
            location = f"{other}/v1/jobs/job_x"
            connection.sendall(
                f"HTTP/1.1 302 Found\r\nLocation: {location}\r\nContent-Length: 0\r\n\r\n".encode()
            )

        with deployment(redirect) as (target, _):
            with proxying(target, tmp_path / "moved.yaml") as (url, _, _):
                status, headers, _ = request_to(url, "/v1/jobs/job_x")
            polled = record_polling(target, tmp_path / "polled.yaml", "--job-id", "job_x")
    assert status == 302 and headers["location"].startswith(other)  # the caller decides
    assert polled.returncode == 2 and "answers 302" in polled.stderr, polled.stderr
    assert other_heads == []  # the other host never got a request, so never the token


def echoing(connection: socket.socket, head: bytes) -> None:
    """A deployment that echoes what it was sent: the caller's Authorization in a job's
    `last_stdout` and in a 500's body, with another key and a JWT in the job's fields."""
    authorization = next(
        line.split(b":", 1)[1].strip().decode()
        for line in head.split(b"\r\n")
        if line.lower().startswith(b"authorization:")
    )
    path = head.split(b" ")[1].decode()
    if path.startswith("/v1/projects/"):
        connection.sendall(json_answer(500, {"error": f"upstream refused {authorization}"}))
        return
    shown = job(
        last_stdout=f"curl -H 'Authorization: {authorization}'",
        error=f"key {OTHER_KEY} revoked",
        last_stderr=JWT,
    )
    connection.sendall(json_answer(200, {"job": shown}))


def test_no_token_is_written_even_when_the_deployment_echoes_it(tmp_path: Path) -> None:
    proxied, polled = tmp_path / "proxied.yaml", tmp_path / "polled.yaml"
    with deployment(echoing) as (target, _):
        with proxying(target, proxied) as (url, _, lines):
            assert request_to(url, "/v1/jobs/job_x")[0] == 200
            assert request_to(url, "/v1/projects/proj_x/jobs")[0] == 500
        done = record_polling(target, polled, "--job-id", "job_x", "--duration", "1s", "--interval", "100ms")
    written = proxied.read_text(encoding="utf-8") + polled.read_text(encoding="utf-8")
    said = "".join(lines) + done.stdout + done.stderr
    for secret in (TOKEN, OTHER_KEY, JWT):
        assert secret not in written + said, secret
    assert written.count("[token]") >= 4  # the echoes are there, with the tokens hidden
    assert "Authorization: Bearer [token]" in written


# -- what is not HTTP -----------------------------------------------------------------


def ssh(connection: socket.socket, head: bytes) -> None:
    connection.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")


def many_headers(connection: socket.socket, head: bytes) -> None:
    headers = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    connection.sendall(b"HTTP/1.1 200 OK\r\n" + headers + b"Content-Length: 0\r\n\r\n")


def short_body(connection: socket.socket, head: bytes) -> None:
    connection.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"job":')


@pytest.mark.parametrize("answer", [ssh, many_headers, short_body], ids=["ssh", "150-headers", "short-body"])
def test_an_answer_that_is_not_http_is_a_502_with_a_one_line_reason(answer: Answer, tmp_path: Path) -> None:
    with deployment(answer) as (target, _), proxying(target, tmp_path / "odd.yaml") as (url, process, lines):
        status, _, body = request_to(url, "/v1/jobs/job_x")
        alive = process.poll() is None
    assert status == 502, body
    error = json.loads(body)["error"]
    assert error.startswith("capymock record: the deployment's answer is unusable: ") and "\n" not in error
    assert alive and "Traceback" not in "".join(lines)


def test_a_request_for_no_path_is_a_400(tmp_path: Path) -> None:
    with deployment(ssh) as (target, heads), proxying(target, tmp_path / "star.yaml") as (url, _, _):
        parts = urlsplit(url)
        with socket.create_connection((parts.hostname, parts.port), timeout=30) as raw:
            raw.sendall(f"GET * HTTP/1.1\r\nHost: {parts.netloc}\r\nConnection: close\r\n\r\n".encode())
            answer = b""
            while chunk := raw.recv(65536):
                answer += chunk
    assert answer.startswith(b"HTTP/1.1 400"), answer[:200]
    assert heads == []
