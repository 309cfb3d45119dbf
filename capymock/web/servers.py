"""The servers that run the WSGI app: `BackgroundServer` (werkzeug's threaded server on a
background thread, for tests) and `serve_until_stopped` (granian, or waitress where granian
cannot serve, for `capymock serve`).

The background server stops within milliseconds: its loop waits on the listening socket and
on a wake-up socket, instead of polling for a shutdown flag. Each server's package is
imported only when it serves (werkzeug's import alone is tens of milliseconds).
"""

from __future__ import annotations

import contextlib
import functools
import os
import re
import selectors
import signal
import socket
import sys
import threading
from collections.abc import Callable
from typing import Any

from capymock.core.journal import cut, redact_query
from capymock.web.environ import request_path

CONNECTION_LIMIT = 4000
"""Open connections `capymock serve` holds at once; idle browsers and scripts never exhaust it."""
IDLE_TIMEOUT = 60
"""Seconds a connection may sit idle before it is closed."""


@functools.lru_cache(maxsize=1)
def _quiet_handler() -> type:
    from werkzeug.serving import WSGIRequestHandler

    class QuietHandler(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:
            pass

    return QuietHandler


class BackgroundServer:
    """A threaded werkzeug server for `app` on `host:port` (port 0: a free one)."""

    def __init__(self, app: Any, host: str = "127.0.0.1", port: int = 0, *, quiet: bool = True) -> None:
        from werkzeug.serving import WSGIRequestHandler, make_server  # only when serving: a slow import

        handler = _quiet_handler() if quiet else WSGIRequestHandler
        # Bind here, so a port in use is an OSError for the caller (werkzeug would exit).
        with _listen(host, port) as listener:
            self._server = make_server(
                host, port, app, threaded=True, request_handler=handler, fd=listener.fileno()
            )
        # Join request threads on close, so nothing outlives `stop()`.
        self._server.daemon_threads = False  # type: ignore[attr-defined]
        # handle_request() is only called once the socket is readable; never let it block.
        self._server.timeout = 0
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"capymock-server-{self.port}", daemon=True)

    @property
    def host(self) -> str:
        return str(self._server.server_address[0])

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return _url(self.host, self.port)

    def start(self) -> BackgroundServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop accepting, finish the requests in flight, and release the port."""
        self._stopping.set()
        self._wake_writer.send(b"x")
        if self._thread.is_alive() and self._thread is not threading.current_thread():
            self._thread.join()
        self._server.server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _run(self) -> None:
        with selectors.DefaultSelector() as selector:
            selector.register(self._server.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while not self._stopping.is_set():
                for key, _ in selector.select():
                    if key.fileobj is self._server.socket and not self._stopping.is_set():
                        self._server.handle_request()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()


def _listen(host: str, port: int, backlog: int = 128) -> socket.socket:
    """A socket listening on `host:port`. Raises OSError when the address cannot be bound."""
    return socket.create_server((host, port), family=_family(host, port), backlog=backlog)


def _family(host: str, port: int) -> socket.AddressFamily:
    """The address family of `host`: an IP address is read as such (resolving a name imports
    the IDNA codec, a few milliseconds of the cold start)."""
    for family in (socket.AF_INET, socket.AF_INET6):
        try:
            socket.inet_pton(family, host)
        except OSError:
            continue
        return family
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0][0]


MAX_LOGGED_TARGET = 1024
"""Characters of a request's path and query a log line shows."""
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def log_line(method: str, path: str, query: str, status: str) -> str:
    """One request as one line of the log: each query value whose name suggests a secret
    redacted, the target cut to `MAX_LOGGED_TARGET` characters, and every control character
    (C0, DEL, C1, line separators) escaped, so a request can neither forge lines nor drive the
    terminal."""
    target = cut(path + (f"?{redact_query(query)}" if query else ""), MAX_LOGGED_TARGET)
    line = f"{method[:32]} {target} {status}"
    return (line if line.isprintable() else _CONTROL.sub(_escape, line)) + "\n"


def printable(text: str) -> str:
    """`text` with every control character but the line break escaped (a defect's traceback
    names a request's path, which any page can choose)."""
    return "\n".join(line if line.isprintable() else _CONTROL.sub(_escape, line) for line in text.split("\n"))


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


class _RequestLog:
    """WSGI middleware: one line per answered request (no headers, so no token; the query's
    secrets redacted, control characters escaped: see `log_line`).

    On a terminal each line is written at once; to a file or pipe, lines are written in
    batches every `interval` seconds, since a write per request costs a fifth of the throughput.
    """

    def __init__(self, app: Any, stream: Any, interval: float = 0.2) -> None:
        self.app, self.stream = app, stream
        self._batched = not (hasattr(stream, "isatty") and stream.isatty())
        self._lines: list[str] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        if self._batched:
            threading.Thread(
                target=self._flush_every, args=(interval,), name="capymock-log", daemon=True
            ).start()

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        seen: list[str] = []

        def record(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
            seen.append(status.split(" ", 1)[0])
            return start_response(status, headers, exc_info) if exc_info else start_response(status, headers)

        body = self.app(environ, record)
        query = environ.get("QUERY_STRING") or ""
        line = log_line(environ["REQUEST_METHOD"], request_path(environ), query, seen[0] if seen else "-")
        if self._batched:
            with self._lock:
                self._lines.append(line)
        else:
            self.stream.write(line)
            self.stream.flush()
        return body

    def flush(self) -> None:
        with self._lock:
            lines, self._lines = self._lines, []
        if lines:
            self.stream.write("".join(lines))
            self.stream.flush()

    def close(self) -> None:
        self._stopped.set()
        self.flush()

    def _flush_every(self, interval: float) -> None:
        while not self._stopped.wait(interval):
            self.flush()


SERVERS = ("auto", "granian", "waitress")
"""What `serve_until_stopped` may serve with; auto: granian, else waitress."""


class NoServer(Exception):
    """The serving layer asked for cannot serve here, or broke while serving."""


def serve_until_stopped(
    app: Any,
    host: str,
    port: int,
    *,
    on_ready: Callable[[str, str], None],
    log: Any = None,
    threads: int | Callable[[], int] = 1,
    server: str = "auto",
) -> None:
    """Serve `app` (keep-alive, one process) until SIGINT or SIGTERM.

    `server` is one of `SERVERS`. granian calls the app on `threads` Python threads (one when
    `threads` is a function) and answers requests held back by a fault's delay later, so they
    never stall the others; waitress runs `threads` workers, asking the function every 0.2 s
    how many there should be. granian serves only once one real request through it came back
    right (`GranianWorker.self_test`); under auto, waitress serves on the same socket when it
    cannot, and the layer says why: `waitress (granian 2.9.0 failed its self-test: ...)`.

    `on_ready(url, layer)` is called once the socket listens and answers; `log`, a text stream,
    gets a line per request. Raises OSError when the address cannot be bound, NoServer when
    `server` cannot serve, or when granian's calling convention broke while serving (it then
    stops at once rather than answer 500 to every request).
    """
    request_log = _RequestLog(app, log) if log is not None else None
    served = request_log or app
    _allow_many_connections()
    listener = _listen(host, port, backlog=1024)
    try:
        layer = "waitress"
        if server != "waitress":
            try:
                _serve_granian(served, host, listener, on_ready, threads)
                return
            except _NotStarted as exc:
                if server == "granian":
                    raise NoServer(str(exc)) from None
                layer = f"waitress ({exc})"
        _serve_waitress(served, host, listener, on_ready, threads, layer)
    finally:
        listener.close()
        if request_log is not None:
            request_log.close()


STOP_GRACE = 3.0
"""How long a stop waits for the requests inside the app (a scenario being loaded) to end."""
_GRANIAN_SERVED = threading.Event()


def leave_if_granian_served(code: int) -> None:
    """End the process now, with `code`, if granian served in it. granian's threads may still
    call into Python after it stopped (a request that arrived as it stopped); a normal exit
    tears the interpreter down under them, and Python then ends such a thread by unwinding it
    through granian's Rust frames: a panic and an abort. Everything is written and flushed by
    then; only that tear-down is skipped."""
    if _GRANIAN_SERVED.is_set():
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)


class _NotStarted(NoServer):
    """granian could not serve; nothing was answered yet, so another server may take over."""


def _serve_granian(app: Any, host: str, listener: socket.socket, on_ready: Any, threads: Any) -> None:
    from capymock.web.granian_worker import GranianWorker, Unavailable

    stopping = threading.Event()
    broken: list[str] = []

    def on_broken(reason: str) -> None:
        broken.append(reason)
        stopping.set()

    try:
        worker = GranianWorker(
            app,
            listener,
            threads=1 if callable(threads) else threads,
            connection_limit=CONNECTION_LIMIT,
            idle_timeout=IDLE_TIMEOUT,
            on_broken=on_broken,
        )
        _GRANIAN_SERVED.set()  # from here on granian's threads may call in
        worker.start()
        worker.self_test()
    except Unavailable as exc:  # nothing served yet: the caller may serve with waitress instead
        raise _NotStarted(str(exc)) from None
    if broken:  # the self-test's request broke the protocol (it answered nothing)
        worker.stop()
        raise _NotStarted(f"granian {worker.version} failed its self-test: {broken[0]}")
    previous = {sig: signal.signal(sig, lambda *_: stopping.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        on_ready(_url(host, listener.getsockname()[1]), "granian")
        while not stopping.wait(0.5):
            pass
    finally:
        idle = worker.stop(grace=STOP_GRACE)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    if not idle:
        print("capymock: stopped while a request was still being answered", file=sys.stderr)
    if broken:
        raise NoServer(f"granian {worker.version} broke while serving: {broken[0]}; stopped")


def _serve_waitress(
    app: Any, host: str, listener: socket.socket, on_ready: Any, threads: Any, layer: str = "waitress"
) -> None:
    import logging

    try:
        from waitress.server import create_server
    except ImportError as exc:
        raise NoServer(f"waitress cannot be imported: {exc}") from None

    logging.getLogger("waitress.queue").setLevel(logging.ERROR)  # "task queue depth" under load
    count = threads() if callable(threads) else threads
    server = create_server(
        app,
        sockets=[listener],
        threads=count,
        ident="capymock",
        # Browsers keep idle connections open (six per tab and host): a dev server must not
        # run out of them. poll() because select() stops at 1,024 descriptors.
        connection_limit=CONNECTION_LIMIT,
        asyncore_use_poll=True,
        channel_timeout=IDLE_TIMEOUT,
        # Reading a connection's next request while one is answered: without it, 64 busy
        # connections on one thread answer ~100 requests a second instead of thousands.
        channel_request_lookahead=5,
    )
    on_ready(_url(host, listener.getsockname()[1]), layer)
    resized = threading.Event()
    if callable(threads):
        threading.Thread(target=_resize, args=(server, threads, count, resized), daemon=True).start()

    def stop(*_: object) -> None:
        raise KeyboardInterrupt

    # Both handlers are installed whatever was inherited: a `capymock serve &` in a script
    # starts with SIGINT ignored, and Python then leaves it so.
    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        server.run()  # returns after closing itself on KeyboardInterrupt
    finally:
        resized.set()
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        server.close()


def _url(host: str, port: int) -> str:
    return f"http://{host if ':' not in host else f'[{host}]'}:{port}"


def _allow_many_connections() -> None:
    """Raise this process's open-file limit so `CONNECTION_LIMIT` connections fit (where allowed)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = CONNECTION_LIMIT + 256
    if soft != resource.RLIM_INFINITY and soft < wanted:
        ceiling = wanted if hard == resource.RLIM_INFINITY else min(wanted, hard)
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (ceiling, hard))


def _resize(server: Any, wanted: Callable[[], int], current: int, stop: threading.Event) -> None:
    """Keep the worker pool at `wanted()` threads until `stop` is set."""
    while not stop.wait(0.2):
        count = wanted()
        if count != current:
            server.task_dispatcher.set_thread_count(count)
            current = count
