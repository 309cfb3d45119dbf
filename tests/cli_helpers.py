"""Run `capymock serve` as a subprocess and read its banner."""

from __future__ import annotations

import http.server as web_server
import os
import queue
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from conftest import wait_for

CAPYMOCK = [sys.executable, "-m", "capymock"]


@dataclass
class Served:
    process: subprocess.Popen[str]
    banner: str
    url: str
    token: str
    project: str
    curl_url: str
    stderr: list[str]
    """Lines the server wrote to stderr so far (a reader thread appends them)."""
    stderr_reader: threading.Thread

    def wait_for_stderr(self, text: str, after: int = 0, timeout: float = 30.0) -> int:
        """Wait for a stderr line containing `text` (looking from line `after`); return its index."""

        def found() -> int | None:
            return next((i + 1 for i in range(after, len(self.stderr)) if text in self.stderr[i]), None)

        try:
            return wait_for(found, f"a stderr line with {text!r}", timeout) - 1
        except AssertionError:
            raise AssertionError(f"no stderr line with {text!r}; got {self.stderr[after:]!r}") from None

    def read_stderr_to_the_end(self, timeout: float = 30.0) -> str:
        """All the server wrote to stderr, once it closed it (it has exited)."""
        self.stderr_reader.join(timeout)
        assert not self.stderr_reader.is_alive(), f"stderr still open after {timeout:g} s"
        return "".join(self.stderr)


def read_banner(process: subprocess.Popen[str], timeout: float = 30.0) -> str:
    """Stdout up to and including the 'Press Ctrl-C' line."""
    lines: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:
        assert process.stdout is not None
        for line in iter(process.stdout.readline, ""):
            lines.put(line)
            if line.startswith("Press Ctrl-C"):
                return
        lines.put(None)  # stdout closed: the process ended without its banner

    threading.Thread(target=pump, daemon=True).start()
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))  # the next line, or the end
        except queue.Empty:
            break
        if line is None:
            process.wait(60)
            break
        seen.append(line)
        if line.startswith("Press Ctrl-C"):
            return "".join(seen)
    raise AssertionError(f"no banner within {timeout}s; got {''.join(seen)!r}; exit {process.poll()}")


@contextmanager
def serving(
    args: Sequence[str] = (),
    command: Sequence[str] = CAPYMOCK,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[Served]:
    """`capymock serve --port 0 ARGS` for the block; stopped with SIGTERM afterwards."""
    process = subprocess.Popen(
        [*command, "serve", "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=cwd,
        env={**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"},
    )
    try:
        banner = read_banner(process)
        errors: list[str] = []
        reader = threading.Thread(target=_pump, args=(process.stderr, errors), daemon=True)
        reader.start()
        curl = re.search(r"curl -H 'Authorization: Bearer (\S+)' '(\S+)'", banner)
        assert curl is not None, banner
        yield Served(
            process=process,
            banner=banner,
            url=re.search(r"mock at (http://\S+)", banner).group(1),  # type: ignore[union-attr]
            token=re.search(r"token +(\S+)", banner).group(1),  # type: ignore[union-attr]
            project=re.search(r"project +(\S+)", banner).group(1),  # type: ignore[union-attr]
            curl_url=curl.group(2),
            stderr=errors,
            stderr_reader=reader,
        )
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=60)  # a busy machine may take a while to stop it
        finally:
            if process.poll() is None:
                process.kill()
            for stream in (process.stdout, process.stderr):
                if stream is not None:
                    stream.close()


def _pump(stream: Any, into: list[str]) -> None:
    for line in iter(stream.readline, ""):
        into.append(line)


@contextmanager
def page_server(html: str) -> Iterator[str]:
    """A page of `html` at a URL of its own (another loopback port: another origin) for the block."""

    class Page(web_server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = html.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = web_server.ThreadingHTTPServer(("127.0.0.1", 0), Page)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def iter_until(stream: Any, text: str) -> Iterator[str]:
    for line in iter(stream.readline, ""):
        yield line
        if text in line:
            return


@contextmanager
def proxying(target: str, output: Path, *more: str) -> Iterator[tuple[str, subprocess.Popen[str], list[str]]]:
    process = subprocess.Popen(
        [*CAPYMOCK, "record", "--proxy", "--target", target, "--port", "0", "-o", str(output), *more],
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stderr is not None
    lines = list(iter_until(process.stderr, "forwarding"))
    found = re.search(r"forwarding (http://\S+) to", "".join(lines))
    assert found, lines
    try:
        yield found.group(1), process, lines
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
        lines += process.communicate(timeout=60)[1].splitlines()
