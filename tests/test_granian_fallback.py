"""`capymock serve` when granian is missing or is a version whose worker API differs.

A broken granian is a fake `granian` package first on the subprocess's PYTHONPATH: its
`_granian` module has the names capymock drives, and either refuses to build a worker, answers
every request wrongly, never answers, or changes its calling convention after the first request. Nothing of
capymock's own is replaced.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from cli_helpers import CAPYMOCK, read_banner, serving
from conftest import http, wait_for

pytestmark = pytest.mark.slow

FAKE_EXTENSION = '''
"""A stand-in for granian's Rust extension, as a later granian might have changed it."""
import socket
import threading

MODE = {mode!r}
__version__ = "9.9.0"


class SocketHolder:
    def __init__(self, fd, uds, backlog):
        self.fd = fd


class WorkerSignal:
    def __init__(self):
        self.event = threading.Event()
        self.done = threading.Event()

    def set(self):
        self.event.set()
        self.done.wait(10)  # a well-behaved worker lets go of the socket before it returns


class CallbackScheduler:
    def __init__(self, loop, callback, *rest):
        self.callback = callback


class WSGIWorker:
    def __init__(self, worker_id, sock, *args, **kwargs):
        if MODE == "refuse":
            raise TypeError("WSGIWorker() got an unexpected keyword argument 'py_threads'")
        self.fd = sock[1].fd

    def serve_str(self, scheduler, loop, signal):
        listener = socket.socket(fileno=self.fd)
        listener.settimeout(0.05)
        threading.Thread(target=self.run, args=(listener, scheduler.callback, signal), daemon=True).start()

    def run(self, listener, callback, signal):
        answered, held = 0, []
        while not signal.event.is_set():
            try:
                connection, _ = listener.accept()
            except OSError:
                continue
            if MODE == "silent":  # reads nothing, answers nothing
                held.append(connection)
                continue
            with connection:
                connection.settimeout(10)
                environ = read_request(connection)
                if MODE == "wrong":
                    Proto(connection).response_bytes(200, [], b"{{}}")
                    continue
                proto = Renamed(connection) if MODE == "break-later" and answered else Proto(connection)
                callback(proto, environ)
                answered += 1
        listener.close()
        signal.done.set()


def read_request(connection):
    data = b""
    while b"\\r\\n\\r\\n" not in data:
        data += connection.recv(65536)
    head, _, body = data.partition(b"\\r\\n\\r\\n")
    lines = head.decode("latin-1").split("\\r\\n")
    method, target, _ = lines[0].split(" ")
    path, _, query = target.partition("?")
    environ = {{"REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query,
               "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "0", "SERVER_PROTOCOL": "HTTP/1.1",
               "REMOTE_ADDR": "127.0.0.1", "wsgi.url_scheme": "http"}}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        key = name.strip().upper().replace("-", "_")
        environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value.strip()
    size = int(environ.get("CONTENT_LENGTH") or 0)
    while len(body) < size:
        body += connection.recv(65536)
    import io
    environ["wsgi.input"] = io.BytesIO(body)
    return environ


class Proto:
    def __init__(self, connection):
        self.connection = connection

    def response_bytes(self, status, headers, body):
        kept = "".join(f"{{k}}: {{v}}\\r\\n" for k, v in headers if k.lower() != "content-length")
        head = f"HTTP/1.1 {{status}} -\\r\\n{{kept}}Content-Length: {{len(body)}}\\r\\n"
        head += "Connection: close\\r\\n\\r\\n"
        self.connection.sendall(head.encode("latin-1") + body)


class Renamed:
    """A later protocol object: `response_bytes` became `response`."""

    def __init__(self, connection):
        self.connection = connection

    def response(self, status, headers, body):
        Proto(self.connection).response_bytes(status, headers, body)
'''


def _fake_granian(tmp_path: Path, mode: str | None) -> dict[str, str]:
    """The environment of a subprocess that finds a fake granian first (none at all for None)."""
    package = tmp_path / "fake" / "granian"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("raise ImportError('capymock must not run granian\\'s package')\n")
    if mode is not None:
        (package / "_granian.py").write_text(FAKE_EXTENSION.format(mode=mode))
    return {**os.environ, "PYTHONPATH": str(package.parent)}


def _server_line(banner: str) -> str:
    return next(line.strip() for line in banner.splitlines() if line.strip().startswith("server "))


def _answers_the_api(served: object) -> None:
    auth = {"Authorization": f"Bearer {served.token}"}  # type: ignore[attr-defined]
    reply = http(served.curl_url, headers=auth)  # type: ignore[attr-defined]
    assert reply.status == 200, reply
    assert reply.body["jobs"], reply.body


def test_granian_passes_its_self_test_and_serves() -> None:
    with serving(["--server", "granian", "--quiet"]) as served:
        assert _server_line(served.banner) == "server    granian"
        _answers_the_api(served)


def test_without_granian_auto_serves_on_waitress_and_says_why(tmp_path: Path) -> None:
    env = _fake_granian(tmp_path, None)
    with serving(["--quiet"], env=env) as served:
        assert _server_line(served.banner) == "server    waitress (granian is not installed)"
        _answers_the_api(served)


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("refuse", "granian 9.9.0 cannot be driven: TypeError: WSGIWorker() got an unexpected keyword"),
        ("wrong", "granian 9.9.0 failed its self-test: answered 200 '{}' instead of 200 'POST /_capymock/"),
    ],
)
def test_a_granian_whose_worker_api_differs_falls_back_to_waitress(
    mode: str, reason: str, tmp_path: Path
) -> None:
    env = _fake_granian(tmp_path, mode)
    with serving(["--quiet"], env=env) as served:
        line = _server_line(served.banner)
        assert line.startswith(f"server    waitress ({reason}"), line
        _answers_the_api(served)  # waitress answers, on the port the banner printed
    asked = subprocess.run(
        [*CAPYMOCK, "serve", "--port", "0", "--server", "granian"],
        capture_output=True, text=True, timeout=60, env=env,
    )  # fmt: skip
    assert asked.returncode == 2, asked.stderr
    assert f"--server granian: {reason}" in asked.stderr
    assert "--server waitress serves without granian" in asked.stderr
    assert "Traceback" not in asked.stderr


def test_a_granian_that_never_answers_is_given_up_after_the_self_tests_deadline(tmp_path: Path) -> None:
    env = _fake_granian(tmp_path, "silent")
    process = subprocess.Popen(
        [*CAPYMOCK, "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**env, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        banner = read_banner(process, timeout=120)  # the self-test waits 10 s, on a machine maybe loaded
        line = _server_line(banner)
        assert line == "server    waitress (granian 9.9.0 failed its self-test: no answer within 10s)", line
        curl = re.search(r"curl -H 'Authorization: Bearer (\S+)' '(\S+)'", banner)
        assert curl is not None, banner
        reply = http(curl.group(2), headers={"Authorization": f"Bearer {curl.group(1)}"})
        assert reply.status == 200 and reply.body["jobs"], reply
    finally:
        process.terminate()
        process.wait(timeout=30)
        assert process.stdout is not None
        process.stdout.close()


def test_a_calling_convention_that_breaks_while_serving_stops_with_one_clear_error(tmp_path: Path) -> None:
    """The self-test passes; the next request meets a protocol object without `response_bytes`."""
    env = _fake_granian(tmp_path, "break-later")
    process = subprocess.Popen(
        [*CAPYMOCK, "serve", "--port", "0", "--quiet"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**env, "PYTHONUNBUFFERED": "1"},
    )  # fmt: skip
    try:
        banner = read_banner(process)
        assert _server_line(banner) == "server    granian"
        url = banner.split("mock at ", 1)[1].split()[0]
        try:
            reply = http(f"{url}/_capymock/state")
        except OSError:
            pass  # the connection closed unanswered: expected
        else:
            raise AssertionError(f"the broken worker answered {reply}")
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert process.returncode == 2, stderr
    errors = [line for line in stderr.splitlines() if line.strip()]
    assert len(errors) == 1, stderr
    assert errors[0].startswith("Error: --server auto: granian 9.9.0 broke while serving: "), errors
    assert "response_bytes" in errors[0] and "--server waitress" in errors[0]


def test_the_self_test_request_is_not_logged_nor_in_the_journal() -> None:
    with serving(["--server", "granian"]) as served:
        assert http(f"{served.url}/_capymock/requests").status == 200
        wait_for(
            lambda: any("/_capymock/requests" in line for line in served.stderr),
            "the request log to show the request",
        )
        assert not any("self-test" in line for line in served.stderr), served.stderr
        journal = http(f"{served.url}/_capymock/requests").body
        assert "self-test" not in str(journal)
