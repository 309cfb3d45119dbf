"""Serve one WSGI app on one server until killed: a helper that `peers.py` runs as a subprocess.

    python benchmarks/serve_app.py --server granian --app capymock --scenario S.yaml --port 4011
    python benchmarks/serve_app.py --server werkzeug --app bare --body BODY.json --port 4012

`--app bare` answers every request with the bytes of `--body` (`application/json`), nothing
else: the ceiling of a server. `--app capymock` is `capymock.Mock(scenario=...).wsgi_app`,
with response validation on unless `--no-validate`. Servers, all on 127.0.0.1, all quiet
(no per-request log line):

- `granian`: granian as `capymock serve` runs it, through capymock's own
  `capymock.web.servers.serve_until_stopped(server="granian", threads=N)` (one granian WSGI
  worker in this process, the app called on N Python threads);
- `granian-embed`: granian's public embedding API instead (`granian.server.embed.Server`,
  in this process on an asyncio loop): it refuses the WSGI interface, so the app is called
  through a small WSGI-over-RSGI shim, on the loop's thread (`--threads` is ignored;
  `GRANIAN_TASK_IMPL=rust` runs it with granian's Rust task implementation);
- `werkzeug`: `werkzeug.serving.make_server(threaded=True)`, the server of `capymock.serve()`
  in tests;
- `waitress`: waitress as `capymock serve --server waitress` runs it, through the same entry
  point (`threads=N`; `capymock serve` runs 1);
- `pytest-httpserver`: `pytest_httpserver.HTTPServer` with one permanent
  `respond_with_data(body, content_type="application/json")` handler (bare app only).

The process runs until SIGTERM or SIGINT; `peers.py` kills its whole process group.
"""

from __future__ import annotations

import argparse
import sys
import threading
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]
HOST = "127.0.0.1"
LIST_PATH = "/v1/projects/p1/jobs"


def bare_app(body: bytes) -> WSGIApp:
    """A WSGI app that answers every request 200 with `body` as JSON."""
    headers = [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]

    def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        start_response("200 OK", headers)
        return [body]

    return app


def capymock_app(scenario: Path, validate: bool) -> WSGIApp:
    """capymock's WSGI app with `scenario` loaded."""
    import capymock

    app: WSGIApp = capymock.Mock(scenario=scenario, validate=validate).wsgi_app
    return app


def serve_werkzeug(app: WSGIApp, port: int, threads: int) -> None:
    """werkzeug's threaded dev server (`capymock.serve()` in tests), without request logging."""
    from werkzeug.serving import WSGIRequestHandler, make_server

    class Quiet(WSGIRequestHandler):
        def log(self, type: str, message: str, *args: Any) -> None:
            pass

    make_server(HOST, port, app, threaded=True, request_handler=Quiet).serve_forever()


def serve_waitress(app: WSGIApp, port: int, threads: int) -> None:
    """waitress as `capymock serve --server waitress` runs it, through capymock's own entry point."""
    from capymock.web.servers import serve_until_stopped

    serve_until_stopped(app, HOST, port, on_ready=lambda url, layer: None, threads=threads, server="waitress")


def serve_granian(app: WSGIApp, port: int, threads: int) -> None:
    """granian through capymock's own entry point, as `capymock serve` runs it (no request log)."""
    from capymock.web.servers import serve_until_stopped

    serve_until_stopped(app, HOST, port, on_ready=lambda url, layer: None, threads=threads, server="granian")


def serve_granian_embed(app: WSGIApp, port: int, threads: int) -> None:
    """granian's public in-process API (`granian.server.embed.Server`, RSGI), the app called
    through a WSGI-over-RSGI shim on the event loop's thread."""
    import asyncio
    import io
    import os

    from granian.constants import HTTPModes, Interfaces, TaskImpl
    from granian.server.embed import Server

    base = {
        "SCRIPT_NAME": "",
        "wsgi.version": (1, 0),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": False,
        "wsgi.run_once": False,
    }

    async def shim(scope: Any, proto: Any) -> None:
        body = await proto()
        host, _, server_port = scope.server.rpartition(":")
        environ = {
            **base,
            "REQUEST_METHOD": scope.method,
            "PATH_INFO": scope.path,
            "QUERY_STRING": scope.query_string,
            "SERVER_NAME": host,
            "SERVER_PORT": server_port,
            "SERVER_PROTOCOL": f"HTTP/{scope.http_version}",
            "REMOTE_ADDR": scope.client.rpartition(":")[0],
            "wsgi.url_scheme": scope.scheme,
            "wsgi.input": io.BytesIO(body),
        }
        for name, value in scope.headers.items():
            key = name.upper().replace("-", "_")
            environ[key if key in ("CONTENT_TYPE", "CONTENT_LENGTH") else "HTTP_" + key] = value
        reply: list[Any] = []

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> None:
            reply[:] = [int(status[:3]), headers]

        answer = b"".join(app(environ, start_response))
        proto.response_bytes(reply[0], reply[1], answer)

    server = Server(
        shim,
        address=HOST,
        port=port,
        interface=Interfaces.RSGI,
        http=HTTPModes.http1,
        runtime_threads=1,
        backpressure=4000,
        log_enabled=False,
        websockets=False,
        task_impl=TaskImpl.rust if os.environ.get("GRANIAN_TASK_IMPL") == "rust" else TaskImpl.asyncio,
    )
    asyncio.run(server.serve())


def serve_pytest_httpserver(body: bytes, port: int) -> None:
    """pytest-httpserver, as a test would use it, answering the list path with `body`."""
    from pytest_httpserver import HTTPServer

    server = HTTPServer(host=HOST, port=port)
    server.expect_request(LIST_PATH).respond_with_data(body, content_type="application/json")
    server.start()
    threading.Event().wait()


SERVERS: dict[str, Callable[[WSGIApp, int, int], None]] = {
    "werkzeug": serve_werkzeug,
    "waitress": serve_waitress,
    "granian": serve_granian,
    "granian-embed": serve_granian_embed,
}


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, build the app, serve it until killed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--server", required=True, choices=[*SERVERS, "pytest-httpserver"])
    parser.add_argument("--app", choices=["bare", "capymock"], default="bare")
    parser.add_argument("--body", type=Path, help="the bytes the bare app answers with")
    parser.add_argument("--scenario", type=Path, help="the scenario capymock loads")
    parser.add_argument("--no-validate", action="store_true", help="capymock: no response validation")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--threads", type=int, default=4, help="Python threads (granian, waitress)")
    args = parser.parse_args(argv)
    if args.app == "bare" and args.body is None:
        parser.error("--app bare needs --body")
    if args.app == "capymock" and args.scenario is None:
        parser.error("--app capymock needs --scenario")
    if args.server == "pytest-httpserver":
        if args.app != "bare":
            parser.error("pytest-httpserver serves the bare body only")
        serve_pytest_httpserver(args.body.read_bytes(), args.port)
        return 0
    app = (
        bare_app(args.body.read_bytes())
        if args.app == "bare"
        else capymock_app(args.scenario, not args.no_validate)
    )
    SERVERS[args.server](app, args.port, args.threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())
