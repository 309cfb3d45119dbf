"""A fake API served over HTTP, wired in one place for `capymock serve`, `capymock.serve()`
and the pytest plugin: its WSGI app under the access rules of where it listens, its sessions,
the server (werkzeug on a background thread, or `serve_until_stopped` in the foreground), the
scenario files' reload watcher, and the stop timer (also for any other app served until
stopped, such as the recording proxy).
"""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

from capymock.web.access import Access
from capymock.web.app import App
from capymock.world.fake_api import FakeApi, ScenarioReference
from capymock.world.sessions import Sessions

DELAY_THREADS = 8
"""Python threads that answer while a fault's delay is armed or holding a request (waitress), and
those of an app that blocks on another server (the recording proxy)."""
RELOAD_INTERVAL = 0.3
"""Seconds between two looks at the scenario files, with `reload`."""

Ready = Callable[[str, str], None]
"""`on_ready(url, layer)`: called once the server listens and answers."""


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


class Served:
    """`fake` (with `sessions` under `/s/{id}/`) served on `host:port` (port 0: a free one).

    It answers the `Host` names of loopback, `host` and `allow_hosts`; the control API takes
    browser requests from `allow_origins` and loads scenario files from `scenario_dirs`. Serve
    it in the background (`start()` ... `stop()`, or `with`) or until stopped (`run()`).
    """

    def __init__(
        self,
        fake: FakeApi,
        sessions: Sessions | None = None,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_hosts: Iterable[str] = (),
        allow_origins: Iterable[str] = (),
        scenario_dirs: Iterable[Path] = (),
    ) -> None:
        self.fake, self.sessions, self.host, self.port = fake, sessions, host, port
        access = Access.serving(
            host, allow_hosts=allow_hosts, allow_origins=allow_origins, scenario_dirs=scenario_dirs
        )
        self.app = App(fake, access, sessions)
        self.url: str | None = None
        """Where it is served, once it is."""
        self._background: Any = None

    def start(self) -> Served:
        """Serve on a background thread (werkzeug's threaded server) until `stop()`.

        Raises OSError when the address cannot be bound."""
        from capymock.web.servers import BackgroundServer

        self._background = BackgroundServer(self.app, self.host, self.port).start()
        self.url = self._background.url
        return self

    def stop(self) -> None:
        """Stop the background server: finish the requests in flight, release the port."""
        if self._background is not None:
            self._background.stop()
            self._background = None

    def __enter__(self) -> Served:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def run(
        self,
        *,
        on_ready: Ready,
        server: str = "auto",
        threads: int | None = None,
        log: Any = None,
        reload: Sequence[ScenarioReference] = (),
        say: Callable[[str], None] = _say,
    ) -> None:
        """Serve in the foreground until SIGINT or SIGTERM (`capymock serve`).

        `threads` Python threads answer (None: one, or `DELAY_THREADS` under waitress while a
        fault's delay is armed). With `reload`, those scenarios are loaded again whenever one
        of their files changes, from before `on_ready` on; `say` gets a line per reload. Raises
        OSError when the address cannot be bound, `servers.NoServer` when `server` cannot serve.
        """
        watching = threading.Event()

        def ready(url: str, layer: str) -> None:
            self.url = url
            if reload:  # before the banner: an edit made once the banner is out is always seen
                watch_scenarios(self.fake, reload, watching, say)
            on_ready(url, layer)

        try:
            run_until_stopped(
                self.app,
                self.host,
                self.port,
                on_ready=ready,
                server=server,
                threads=threads or self._threads,
                log=log,
            )
        finally:
            watching.set()

    def _threads(self) -> int:
        """Python threads for waitress: one; `DELAY_THREADS` while a fault's delay may hold a
        request back; and one more for each request held (a held request keeps its thread)."""
        return (DELAY_THREADS if self._delaying() else 1) + self.app.holds.count

    def _delaying(self) -> bool:
        """Whether the fake API or one of its sessions has a fault whose delay may hold a request back."""
        live = self.sessions.live() if self.sessions is not None else []
        worlds = [self.fake.world, *(session.fake.world for session in live)]
        return any(world.faults.delaying() for world in worlds)


def run_until_stopped(
    app: Any,
    host: str,
    port: int,
    *,
    on_ready: Ready,
    server: str = "auto",
    threads: int | Callable[[], int] = 1,
    log: Any = None,
    stop_after: float | None = None,
) -> None:
    """Serve any WSGI `app` until SIGINT or SIGTERM, or for `stop_after` seconds once it is
    ready (`servers.serve_until_stopped`, which says what the other arguments mean)."""
    from capymock.web.servers import serve_until_stopped

    def ready(url: str, layer: str) -> None:
        on_ready(url, layer)
        if stop_after is not None:  # stopped as Ctrl-C would stop it: the same clean path
            timer = threading.Timer(stop_after, os.kill, (os.getpid(), signal.SIGTERM))
            timer.daemon = True
            timer.start()

    serve_until_stopped(app, host, port, on_ready=ready, log=log, threads=threads, server=server)


def watch_scenarios(
    fake: FakeApi,
    references: Sequence[ScenarioReference],
    stop: threading.Event,
    say: Callable[[str], None] = _say,
) -> None:
    """Load `references` into `fake` again whenever one of their files changes, until `stop`
    is set; a failed load keeps the previous state (and says why). What is loaded is the bytes
    compared, read once (a regular file only, within `documents.MAX_FILE_BYTES`)."""
    from capymock.errors import ScenarioError
    from capymock.scenario.loader import find_scenario_file, load_scenario
    from capymock.system import documents

    files = [reference for reference in references if isinstance(reference, str | Path)]

    def stamps() -> dict[Path, bytes]:
        # The contents, not the mtime: an edit caught half-written is seen again once complete,
        # even within one tick of the file system's clock.
        found = {}
        for reference in files:
            try:
                path = find_scenario_file(reference)
                found[path] = documents.read_file(path)
            except (ScenarioError, documents.UnreadableFile):
                continue
        return found

    def compared(contents: dict[Path, bytes]) -> list[ScenarioReference]:
        """The references, each file's as the bytes read when comparing (one it could not read
        is read, and refused, again)."""
        loaded: list[ScenarioReference] = []
        for reference in references:
            if not isinstance(reference, str | Path):
                loaded.append(reference)
                continue
            try:
                path = find_scenario_file(reference)
            except ScenarioError:
                loaded.append(reference)
                continue
            source = contents.get(path)
            loaded.append(
                reference
                if source is None
                else load_scenario(path, fake.spec, source=source, max_jobs=fake.max_jobs)
            )
        return loaded

    seen = stamps()
    named = ", ".join(map(str, files))

    def loop() -> None:
        nonlocal seen
        while not stop.wait(RELOAD_INTERVAL):
            now = stamps()
            if now == seen:
                continue
            seen = now
            try:
                fake.load(*compared(now))
            except ScenarioError as exc:
                fake.reload_error = str(exc)
                say(f"capymock: reload failed; still serving the previous state:\n{exc}")
            except Exception as exc:  # a defect of capymock: say so, and keep watching
                fake.record_failure(f"reloading {named} crashed: {type(exc).__name__}: {exc}")
                say("capymock: reload failed; still serving the previous state")
            else:
                fake.reload_error = None
                say(f"capymock: reloaded {fake.scenario} ({len(fake.world.store)} jobs)")

    threading.Thread(target=loop, name="capymock-reload", daemon=True).start()
