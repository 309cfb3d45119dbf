"""`capymock serve` on granian: HTTP parsed in Rust, the app called on one Python thread.

granian's own servers run each worker in a child process or refuse threads on a GIL build,
and its asyncio interface costs two thirds of the throughput; so this module drives one
granian WSGI worker directly, on a socket bound here. The worker calls `_Adapter` for each
request on one Python thread, and the reply is handed back to Rust whenever it is ready:
a request held back by a fault's delay is answered later by `_Later`, so it never stalls
the requests behind it.

granian's worker API is internal to it: the version is pinned in pyproject.toml, and any
mismatch raises `Unavailable` before a socket is served, so `serve_until_stopped` can fall
back to waitress.
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


class Unavailable(Exception):
    """granian is missing, or is not the version this module drives."""


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
    """granian's callback: runs a WSGI app for one request and hands the reply to `proto`."""

    def __init__(self, app: Any, later: _Later) -> None:
        self.app, self.later = app, later

    def __call__(self, proto: Any, environ: Environ) -> None:
        environ.update(WSGI_BASE)
        environ[DEFERRABLE] = True
        self.answer(proto, environ)

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
        proto.response_bytes(reply[0], reply[1], body)


class GranianWorker:
    """One granian worker serving `app` on `listener` (a bound socket it then owns) from
    `start()` until `stop()`.

    `threads` Python threads call the app (one is fastest; more only for apps that block,
    such as a proxy). Raises `Unavailable` when granian cannot serve.
    """

    def __init__(
        self, app: Any, listener: socket.socket, *, threads: int, connection_limit: int, idle_timeout: float
    ) -> None:
        native = _native()
        self._listener = listener
        self._later = _Later()
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
            self._scheduler = native.CallbackScheduler(
                self._loop, _Adapter(app, self._later), None, None, None
            )
            self._serve = self._worker.serve_str
        except (AttributeError, TypeError, ValueError) as exc:
            self.close()
            raise Unavailable(
                f"granian {getattr(native, '__version__', '?')} cannot be driven: {exc}"
            ) from None

    def start(self) -> None:
        """Serve on granian's own threads; returns at once."""
        try:
            self._serve(self._scheduler, self._loop, self._signal)
        except (RuntimeError, TypeError, ValueError) as exc:
            self.close()
            raise Unavailable(
                f"granian {getattr(_native(), '__version__', '?')} cannot serve: {exc}"
            ) from None

    def stop(self) -> None:
        self._signal.set()
        self.close()

    def close(self) -> None:
        self._later.stop()
        self._listener.close()


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
    found = [
        os.path.join(folder, "_granian" + suffix)
        for folder in folders or ()
        for suffix in importlib.machinery.EXTENSION_SUFFIXES
        if os.path.isfile(os.path.join(folder, "_granian" + suffix))
    ]
    if not found:
        raise Unavailable("granian is not installed (no wheel for this platform?)")
    spec = importlib.util.spec_from_file_location(NATIVE, found[0])
    if spec is None or spec.loader is None:
        raise Unavailable(f"granian cannot be loaded from {found[0]}")
    try:
        module = importlib.util.module_from_spec(spec)
        sys.modules[NATIVE] = module  # one copy: `import granian` later finds this one
        spec.loader.exec_module(module)
    except ImportError as exc:
        sys.modules.pop(NATIVE, None)
        raise Unavailable(f"granian cannot be loaded: {exc}") from None
    return module
