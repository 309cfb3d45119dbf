"""`capymock serve` on granian: HTTP parsed in Rust, the app called on one Python thread.

granian's own servers run each worker in a child process or refuse threads on a GIL build,
and its asyncio interface costs two thirds of the throughput; so this module drives one
granian WSGI worker directly, on a socket bound here. The worker calls `_Adapter` for each
request on one Python thread, and the reply is handed back to Rust whenever it is ready:
a request held back by a fault's delay is answered later by `_Later`, so it never stalls
the requests behind it.

granian's worker API is internal to it, and capymock does not cap granian's version. So a
worker proves itself before anyone is told its URL: `self_test()` sends one real HTTP request
through it, over a socket, and checks the answer. Any failure to load, build, start or answer
raises `Unavailable`, and `serve_until_stopped` serves on waitress instead. A calling
convention that breaks later, while serving, is reported once to `on_broken` (the server
then stops, naming the fallback) instead of answering 500 to every request.
"""

from __future__ import annotations

import heapq
import importlib.machinery
import importlib.util
import itertools
import json
import os
import socket
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

from capymock.web.environ import DEFERRABLE, TAKEN, Environ, HeldBack

WSGI_BASE: Environ = {
    "SCRIPT_NAME": "",
    "SERVER_SOFTWARE": "capymock",
    "wsgi.version": (1, 0),
    "wsgi.errors": sys.stderr,
    "wsgi.multithread": True,
    "wsgi.multiprocess": False,
    "wsgi.run_once": False,
    "wsgi.input_terminated": True,
}
"""What PEP 3333 asks for besides the request itself (never the process's environment)."""


NATIVE = "granian._granian"
"""The module of granian's Rust extension."""


SELF_TEST_TIMEOUT = 10.0
"""Seconds the self-test waits for its answer (generous: the machine may be loaded)."""
SELF_TEST_HEADER = "X-Capymock-Self-Test"
SELF_TEST_PATH = "/_capymock/self-test"


class Unavailable(Exception):
    """granian is missing, or is not a version this module can drive."""


class _Later:
    """Runs functions at a time to come, on one thread, in the order they fall due."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._due: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()
        self._changed = threading.Condition()
        self._stopped = False
        self._thread = threading.Thread(target=self._run, name="capymock-later", daemon=True)
        self._thread.start()

    def after(self, seconds: float, function: Callable[[], None]) -> None:
        with self._changed:
            heapq.heappush(self._due, (self._clock() + seconds, next(self._order), function))
            self._changed.notify()

    def stop(self) -> None:
        with self._changed:
            self._stopped = True
            self._changed.notify()
        self._thread.join()

    def _run(self) -> None:
        while True:
            with self._changed:
                while not self._stopped and (not self._due or self._due[0][0] > self._clock()):
                    self._changed.wait(self._due[0][0] - self._clock() if self._due else None)
                if self._stopped:
                    return
                _, _, function = heapq.heappop(self._due)
            try:
                function()
            except Exception:  # one failed reply must not stop the replies due after it
                traceback.print_exc()


class _Adapter:
    """granian's callback: runs a WSGI app for one request and hands the reply to `proto`.

    An exception from granian's side of the call (a callback called with other arguments, an
    environ that is not one, a `proto` without `response_bytes(status, headers, body)`) means
    the worker's calling convention changed: it is reported once to `on_broken`, and nothing is
    answered (the server stops), instead of a 500 for every request.
    """

    def __init__(self, app: Any, later: _Later, on_broken: Callable[[str], None]) -> None:
        self.app, self.later, self._on_broken = app, later, on_broken
        self._broken = False
        self._busy = 0
        self._idle = threading.Condition()

    def wait_idle(self, timeout: float) -> bool:
        """Wait until no request is inside the app (at most `timeout` seconds); whether none is."""
        with self._idle:
            return self._idle.wait_for(lambda: self._busy == 0, timeout)

    def __call__(self, *args: Any) -> None:
        if len(args) != 2 or not isinstance(args[1], dict) or "REQUEST_METHOD" not in args[1]:
            shapes = ", ".join(type(arg).__name__ for arg in args)
            self.broke(f"the worker called capymock with ({shapes}), not (protocol, environ)")
            return
        proto, environ = args
        environ.update(WSGI_BASE)
        environ[DEFERRABLE] = True
        with self._idle:
            self._busy += 1
        try:
            self.answer(proto, environ)
        finally:
            with self._idle:
                self._busy -= 1
                self._idle.notify_all()

    def answer(self, proto: Any, environ: Environ) -> None:
        reply: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            reply[:] = [int(status[:3]), headers]
            return None

        try:
            chunks = self.app(environ, start_response)
            try:
                body = b"".join(chunks)
            finally:
                if hasattr(chunks, "close"):
                    chunks.close()
        except HeldBack as held:
            del environ[DEFERRABLE]
            environ[TAKEN] = held.fault
            self.later.after(held.seconds, lambda: self.answer(proto, environ))
            return
        except Exception as exc:  # the app's own guard failed: answer JSON, show the traceback
            traceback.print_exc()
            message = json.dumps({"error": f"capymock crashed: {type(exc).__name__}: {exc}"}).encode()
            reply, body = [500, [("Content-Type", "application/json")]], message
        try:
            proto.response_bytes(reply[0], reply[1], body)
        except (AttributeError, TypeError) as exc:  # granian's side of the call, not the app's
            self.broke(f"its protocol object refused response_bytes(status, headers, body): {exc}")

    def broke(self, reason: str) -> None:
        if not self._broken:
            self._broken = True
            self._on_broken(reason)


class _Probe:
    """The app during the self-test: the self-test's request is answered with what the worker
    handed over (method, path, query, body); any other request goes to `app`."""

    def __init__(self, app: Any, nonce: str) -> None:
        self.app, self.nonce = app, nonce

    def __call__(self, environ: Environ, start_response: Any) -> Any:
        if environ.get("HTTP_" + SELF_TEST_HEADER.upper().replace("-", "_")) != self.nonce:
            return self.app(environ, start_response)
        length = int(environ.get("CONTENT_LENGTH") or 0)
        sent = environ["wsgi.input"].read(length) if length else b""
        seen = f"{environ['REQUEST_METHOD']} {environ['PATH_INFO']}?{environ.get('QUERY_STRING', '')} "
        body = seen.encode("latin-1") + sent
        start_response("200 OK", [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
        return [body]


class GranianWorker:
    """One granian worker serving `app` on `listener` (a bound socket; the caller keeps it and
    closes it) from `start()` until `stop()`.

    `threads` Python threads call the app (one is fastest; more only for apps that block,
    such as a proxy). `on_broken(reason)` is called once, from a worker thread, if granian's
    calling convention fails while serving. Raises `Unavailable` when granian cannot serve.
    """

    def __init__(
        self,
        app: Any,
        listener: socket.socket,
        *,
        threads: int,
        connection_limit: int,
        idle_timeout: float,
        on_broken: Callable[[str], None] = lambda reason: None,
    ) -> None:
        native = _native()
        self.version = version()
        self._listener = listener
        self._later = _Later()
        self._signal: Any = None
        self._adapter = _Adapter(app, self._later, on_broken)
        try:
            holder = native.SocketHolder(os.dup(self._listener.fileno()), False, 1024)
            self._signal = native.WorkerSignal()
            self._worker = native.WSGIWorker(
                1,
                (None, holder),
                None,
                threads=1,
                py_threads=threads,
                backpressure=connection_limit,
                http_mode="1",
                # granian reads these by attribute (its own `HTTP1Settings` holds the same four)
                http1_opts=SimpleNamespace(
                    header_read_timeout=int(idle_timeout * 1000),
                    keep_alive=True,
                    max_buffer_size=8192 + 4096 * 100,
                    pipeline_flush=False,
                ),
            )
            self._loop = _NoEventLoop()
            self._scheduler = native.CallbackScheduler(self._loop, self._adapter, None, None, None)
            self._serve = self._worker.serve_str
        except Exception as exc:  # whatever this granian raises: it cannot be driven like this
            self.stop()
            raise Unavailable(f"granian {self.version} cannot be driven: {_said(exc)}") from None

    def start(self) -> None:
        """Serve on granian's own threads; returns at once."""
        try:
            self._serve(self._scheduler, self._loop, self._signal)
        except Exception as exc:
            self.stop()
            raise Unavailable(f"granian {self.version} cannot serve: {_said(exc)}") from None

    def self_test(self, timeout: float = SELF_TEST_TIMEOUT) -> None:
        """Send one HTTP request through the started worker, over a socket to its own listener,
        and check that the app saw it and its answer came back whole.

        Raises `Unavailable` (after stopping the worker) on a wrong answer, none, or an error.
        """
        nonce = os.urandom(8).hex()
        app = self._adapter.app
        self._adapter.app = _Probe(app, nonce)
        body = f"capymock {nonce}".encode()
        query = f"probe={nonce}"
        expected = f"POST {SELF_TEST_PATH}?{query} ".encode() + body
        try:
            status, answer = _ask(self._listener, nonce, query, body, timeout)
            problem = f"answered {status} {_excerpt(answer)} instead of 200 {_excerpt(expected)}"
        except TimeoutError:
            status, answer, problem = 0, b"", f"no answer within {timeout:g}s"
        except (OSError, ValueError) as exc:
            status, answer, problem = 0, b"", f"no answer ({_said(exc)})"
        finally:
            self._adapter.app = app
        if status == 200 and answer == expected:
            return
        self.stop()
        raise Unavailable(f"granian {self.version} failed its self-test: {problem}")

    def stop(self, grace: float = 0.0) -> bool:
        """Stop serving, once no request is inside the app or after `grace` seconds; whether
        none was (granian's threads must not be stopped under a running app: the process
        would have to leave at once, see `servers`)."""
        idle = self._adapter.wait_idle(grace) if grace else True
        if self._signal is not None:
            self._signal.set()
        self._later.stop()
        return idle


def _ask(listener: socket.socket, nonce: str, query: str, body: bytes, timeout: float) -> tuple[int, bytes]:
    """POST `body` to the self-test path at `listener`'s address; the answer's status and body.

    Raises OSError (`socket.timeout` when no answer comes within `timeout`) or ValueError (a
    reply that is not HTTP)."""
    host, port = listener.getsockname()[:2]
    if host in ("0.0.0.0", "::", ""):
        host = "::1" if listener.family == socket.AF_INET6 else "127.0.0.1"
    deadline = time.monotonic() + timeout
    request = (
        f"POST {SELF_TEST_PATH}?{query} HTTP/1.1\r\nHost: localhost\r\n{SELF_TEST_HEADER}: {nonce}\r\n"
        f"Content-Type: text/plain\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    ).encode() + body
    with socket.create_connection((host, port), timeout=timeout) as connection:
        connection.sendall(request)
        received = b""

        def more() -> bool:
            connection.settimeout(max(0.001, deadline - time.monotonic()))
            data = connection.recv(65536)
            nonlocal received
            received += data
            return bool(data)

        while b"\r\n\r\n" not in received:
            if not more():
                raise ValueError(f"the connection closed after {_excerpt(received)}")
        head, _, rest = received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split(" ", 2)
        if len(parts) < 2 or not parts[0].startswith("HTTP/") or not parts[1].isdigit():
            raise ValueError(f"not an HTTP status line: {_excerpt(lines[0].encode('latin-1'))}")
        fields = dict(line.split(":", 1) for line in lines[1:] if ":" in line)
        lengths = [value for name, value in fields.items() if name.strip().lower() == "content-length"]
        if lengths and lengths[0].strip().isdigit():
            size = int(lengths[0])
            while len(received) - len(head) - 4 < size and more():
                pass
            rest = received[len(head) + 4 : len(head) + 4 + size]
        else:
            while more():
                pass
            rest = received[len(head) + 4 :]
        return int(parts[1]), rest


def _excerpt(data: bytes | str, limit: int = 80) -> str:
    text = data if isinstance(data, str) else data.decode("utf-8", "replace")
    return repr(text if len(text) <= limit else text[:limit] + "...")


def _said(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def version() -> str:
    """The loaded granian's version, as its extension or its installed metadata says, else '?'."""
    native = sys.modules.get(NATIVE)
    found = getattr(native, "__version__", None)
    if isinstance(found, str):
        return found
    try:
        from importlib.metadata import version as installed

        return installed("granian")
    except Exception:
        return "?"


class _NoEventLoop:
    """What granian's callback scheduler is built with: a WSGI worker never runs a coroutine."""

    def call_soon(self, *args: object, **kwargs: object) -> None:
        raise RuntimeError("granian asked for an event loop; capymock serves WSGI only")


def _native() -> Any:
    """granian's Rust extension, loaded without running granian's package: that imports its
    process manager, asyncio and logging set-up, a quarter of `capymock serve`'s cold start,
    for nothing a single WSGI worker uses. Typed Any: its stubs do not describe the worker API."""
    loaded = sys.modules.get(NATIVE)
    if loaded is not None:
        return loaded
    try:
        package = importlib.util.find_spec("granian")
    except (ImportError, ValueError) as exc:
        raise Unavailable(f"granian cannot be loaded: {exc}") from None
    folders = package.submodule_search_locations if package is not None else None
    # The import system's own finder: the extension where granian has a wheel for this platform.
    spec = importlib.machinery.PathFinder.find_spec(NATIVE, list(folders or ()))
    if spec is None or spec.loader is None:
        raise Unavailable("granian is not installed")
    try:
        module = importlib.util.module_from_spec(spec)
        sys.modules[NATIVE] = module  # one copy: `import granian` later finds this one
        spec.loader.exec_module(module)
    except Exception as exc:
        sys.modules.pop(NATIVE, None)
        raise Unavailable(f"granian cannot be loaded from {spec.origin}: {_said(exc)}") from None
    return module
