"""Benchmark `capymock serve` against its peers, and the serving layers it could run on.

Run from the repository root (`make bench` installs what it needs, then runs this):

    .venv/bin/python benchmarks/peers.py            # full run, ~7 minutes on 2 cores
    .venv/bin/python benchmarks/peers.py --quick    # smoke run, ~2 minutes, results/quick.*.tmp

Method (one run, one load generator, loopback only):

- Every server answers `GET /v1/projects/p1/jobs?limit=25` (with `Authorization: Bearer`)
  with the SAME bytes: the 25-job compact JSON body that capymock itself returns for a
  scenario this script writes (project `p1`, exactly 25 settled jobs, a known token). The
  bare apps serve those bytes, Prism serves them as the only named example of a copy of
  `openapi.yaml`, WireMock from a stub mapping; each server's body is checked against them.
- Start-up: seconds from `Popen` to the first 200 (polled every 2 ms), the median of
  `BENCH_COLD_STARTS` (default 3) cold starts, after one uncounted start that warms the OS
  file cache and Python's bytecode cache (as after an install). Each server runs in its own
  process group, killed as a group; every wait and every load is bounded in time.
- Throughput and latency, two loads on the server left running by the last cold start:
  `wrk -t1 -c4 --latency` for `BENCH_SECONDS` (default 10) after a `BENCH_WARMUP` (default 3)
  second warm-up, then `wrk -t1 -c64 --latency` for `BENCH_SECONDS` after a 1 s warm-up at
  64 connections (so a server that starts a thread per connection has started them). Each
  gives req/s, p50 and p99. Without wrk, a small keep-alive load generator (http.client in 4,
  then 64 threads) stands in; the report says which was used, and its figures are not
  comparable with wrk's.
- Peak RSS: `VmHWM` from `/proc/PID/status`, summed over the server's process group, read
  after both loads. Server CPU: the group's user + system time during each measured load, as
  % of one core (from `/proc/PID/stat`): Python servers are held to about one core by the GIL,
  and wrk takes most of the other.
- Ratios put `capymock serve` (default, `--quiet` where it has it, and the waitress fallback
  `--quiet --server waitress` as context) beside the peers measured in the same run (noise
  between runs is ±10-20 %): req/s over WireMock's and Prism's, p99 (c4 and c64) over the
  lowest peer p99 (Prism, both rows; WireMock; pytest-httpserver: not the bare apps), cold
  start over Prism's, req/s over the bare app on the same server, told from its `Server`
  header and keep-alive (`capymock_layer`). The in-process budgets come from
  `benchmarks/budgets.py --json`, run first, while nothing else runs.
- Serving-layer experiment (`measure_serving_layers`): capymock's WSGI app (validation on
  and off) and the bare app on granian (through capymock's own `serve_until_stopped`, one
  Python thread, as `capymock serve` runs it) and on waitress with 1 thread (the fallback),
  via `benchmarks/serve_app.py`, with the same two loads. werkzeug and cheroot layers,
  waitress with 4 threads and the unthreaded bare werkzeug app are not run: no ratio needs
  them, and each row costs ~25 s.

Writes `benchmarks/results/latest.md`, `latest.png` (matplotlib) and `latest.json`.
A peer whose runtime (node, java, wrk, a Python package) is missing is skipped, saying so.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.metadata
import importlib.util
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
RESULTS = HERE / "results"
NODE_MODULES = HERE / "node_modules"
PRISM_JS = NODE_MODULES / "@stoplight" / "prism-cli" / "dist" / "index.js"
PYTHON = sys.executable
CAPYMOCK = Path(PYTHON).parent / "capymock"

HOST = "127.0.0.1"
PROJECT = "p1"
TOKEN = "capy_live_bench_0123456789abcdef"
LIST_PATH = f"/v1/projects/{PROJECT}/jobs"
REQUEST_PATH = f"{LIST_PATH}?limit=25"
JOBS = 25

START_TIMEOUT = 60.0  # seconds a server may take to answer its first 200
STOP_TIMEOUT = 5.0  # seconds between SIGTERM and SIGKILL
POLL_INTERVAL = 0.002

TIMES = "\N{MULTIPLICATION SIGN}"

SCENARIO = f"""\
name: bench-25
description: Project {PROJECT} with exactly {JOBS} settled jobs, for benchmarks/peers.py.
start: "2026-01-01T09:00:00Z"
organization: org_bench
projects: [{PROJECT}]
tokens:
  - {{token: {TOKEN}, project: {PROJECT}}}
jobs:
  - {{generate: {JOBS}, project: {PROJECT}, every: 30s, seed: 1, states: [succeeded, failed, cancelled]}}
"""


# -- settings ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Settings:
    """How long and how hard to measure, and where to write."""

    seconds: int = 10
    warmup: int = 3
    cold_starts: int = 3
    connections: int = 4
    connections_high: int = 64
    high_warmup: int = 1  # seconds at `connections_high` before its measured load
    loadgen: str = "wrk"  # or "python"
    budgets: bool = True
    only: tuple[str, ...] = ()
    out: Path = RESULTS / "latest"
    suffix: str = ""  # ".tmp" for a quick run, so its files are ignored by git

    def path(self, extension: str) -> Path:
        """An output file, e.g. `results/latest.md`."""
        return self.out.with_name(f"{self.out.name}.{extension}{self.suffix}")

    def wanted(self, key: str) -> bool:
        """Whether `--only` selects the server `key` (all when `--only` is not given)."""
        return not self.only or any(part in key for part in self.only)


def _env_int(name: str, default: int) -> int:
    """An integer from the environment, or `default`."""
    value = os.environ.get(name, "").strip()
    return max(1, round(float(value))) if value else default


def parse_settings(argv: Sequence[str] | None) -> Settings:
    """Settings from the command line and `BENCH_SECONDS`, `BENCH_WARMUP`, `BENCH_COLD_STARTS`."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--quick", action="store_true", help="2 s loads, 1 s warm-up, one cold start")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--no-budgets", action="store_true", help="skip benchmarks/budgets.py")
    parser.add_argument("--only", default="", help="comma-separated parts of server keys to measure")
    args = parser.parse_args(argv)
    base = Settings(seconds=2, warmup=1, cold_starts=1, suffix=".tmp") if args.quick else Settings()
    loadgen = args.loadgen if args.loadgen != "auto" else ("wrk" if shutil.which("wrk") else "python")
    out = RESULTS / ("quick" if args.quick else "latest")
    return replace(
        base,
        seconds=_env_int("BENCH_SECONDS", base.seconds),
        warmup=_env_int("BENCH_WARMUP", base.warmup),
        cold_starts=_env_int("BENCH_COLD_STARTS", base.cold_starts),
        loadgen=loadgen,
        budgets=not args.no_budgets,
        only=tuple(part for part in args.only.split(",") if part),
        out=out,
    )


# -- fixtures: the scenario, the body, Prism's spec, WireMock's stub ---------------------


@dataclass(frozen=True)
class Fixtures:
    """Files every server is started from, in one temporary folder."""

    folder: Path
    scenario: Path
    body: bytes
    body_file: Path
    prism_spec: Path
    wiremock_root: Path


def capymock_body(scenario: Path) -> bytes:
    """The bytes capymock answers the benchmark request with (in-process, no sockets)."""
    import capymock

    mock = capymock.Mock(scenario=scenario)
    environ = {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": LIST_PATH,
        "QUERY_STRING": "limit=25",
        "HTTP_AUTHORIZATION": f"Bearer {TOKEN}",
        "SERVER_NAME": HOST,
        "SERVER_PORT": "80",
        "wsgi.url_scheme": "http",
    }
    statuses: list[str] = []
    body = b"".join(mock.wsgi_app(environ, lambda status, headers, *_: statuses.append(status)))
    if not statuses[0].startswith("200") or len(json.loads(body)["jobs"]) != JOBS:
        raise RuntimeError(f"capymock answered {statuses[0]} with {body[:200]!r}")
    return body


def write_prism_spec(folder: Path, body: bytes) -> Path:
    """A JSON copy of openapi.yaml whose listProjectJobs 200 has the body as its only example."""
    import yaml

    spec = yaml.safe_load((ROOT / "openapi.yaml").read_text(encoding="utf-8"))
    media = spec["paths"]["/v1/projects/{projectID}/jobs"]["get"]["responses"]["200"]["content"]
    media["application/json"]["examples"] = {
        "bench25": {"summary": f"{JOBS} jobs", "value": json.loads(body)}
    }
    path = folder / "openapi-bench.json"
    path.write_text(json.dumps(spec), encoding="utf-8")
    return path


def write_wiremock_root(folder: Path, body: bytes) -> Path:
    """A WireMock root folder with one stub mapping that answers the request with the body."""
    root = folder / "wiremock"
    (root / "mappings").mkdir(parents=True)
    (root / "__files").mkdir()
    mapping = {
        "request": {
            "method": "GET",
            "urlPath": LIST_PATH,
            "queryParameters": {"limit": {"equalTo": "25"}},
            "headers": {"Authorization": {"equalTo": f"Bearer {TOKEN}"}},
        },
        "response": {
            "status": 200,
            "headers": {"Content-Type": "application/json"},
            "body": body.decode("utf-8"),
        },
    }
    (root / "mappings" / "list-jobs.json").write_text(json.dumps(mapping), encoding="utf-8")
    return root


def prepare(folder: Path) -> Fixtures:
    """Write every fixture into `folder`."""
    scenario = folder / "bench-25.yaml"
    scenario.write_text(SCENARIO, encoding="utf-8")
    body = capymock_body(scenario)
    body_file = folder / "body.json"
    body_file.write_bytes(body)
    return Fixtures(
        folder=folder,
        scenario=scenario,
        body=body,
        body_file=body_file,
        prism_spec=write_prism_spec(folder, body),
        wiremock_root=write_wiremock_root(folder, body),
    )


# -- servers: what to start, and starting, polling and stopping them ---------------------


@dataclass(frozen=True)
class Server:
    """A server to measure: how to start it on a port, and why it cannot run (if it cannot)."""

    key: str
    label: str
    command: Callable[[int], list[str]]
    missing: str | None = None  # why this server is skipped
    note: str = ""


def free_port() -> int:
    """A port that was free on 127.0.0.1 a moment ago."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


_RUNNING: dict[int, subprocess.Popen[bytes]] = {}


def child_env(folder: Path) -> dict[str, str]:
    """The servers' environment: Python bytecode cached in `folder`, as after a `pip install`."""
    env = dict(os.environ)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    env["PYTHONPYCACHEPREFIX"] = str(folder / "pycache")
    return env


def launch(command: list[str], log: Path, env: dict[str, str]) -> subprocess.Popen[bytes]:
    """Start `command` in a new session (its own process group), output to `log`."""
    with log.open("ab") as sink:
        process = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=sink,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,
        )
    _RUNNING[process.pid] = process
    return process


def stop(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM the process group; SIGKILL it if it is still there after `STOP_TIMEOUT`."""
    for signum in (signal.SIGTERM, signal.SIGKILL):
        with suppress(ProcessLookupError):
            os.killpg(process.pid, signum)
        try:
            process.wait(timeout=STOP_TIMEOUT)
            break
        except subprocess.TimeoutExpired:
            continue
    _wait_group_gone(process.pid)
    _RUNNING.pop(process.pid, None)


def _wait_group_gone(pgid: int, timeout: float = STOP_TIMEOUT) -> None:
    """Wait until no process of the group is left (children may outlive the leader briefly)."""
    deadline = time.monotonic() + timeout
    while group_pids(pgid) and time.monotonic() < deadline:
        time.sleep(0.01)
    with suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)


def stop_all() -> None:
    """Stop every server still running (on an error or Ctrl-C)."""
    for process in list(_RUNNING.values()):
        stop(process)


@dataclass(frozen=True)
class Answer:
    """One response to the benchmark request."""

    status: int
    body: bytes
    server: str  # the `Server` header, "" without one
    keeps_alive: bool  # whether an HTTP/1.1 connection stays open after it


def get(port: int, timeout: float = 2.0) -> Answer:
    """One benchmark request on a fresh HTTP/1.1 connection."""
    connection = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        connection.request("GET", REQUEST_PATH, headers={"Authorization": f"Bearer {TOKEN}"})
        response = connection.getresponse()
        body = response.read()
        return Answer(response.status, body, response.getheader("Server", ""), not response.will_close)
    finally:
        connection.close()


def first_200(process: subprocess.Popen[bytes], port: int, started: float) -> float:
    """Seconds from `started` until the server answers 200; raises if it dies or takes too long."""
    deadline = started + START_TIMEOUT
    while time.perf_counter() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"exited with status {process.returncode} before answering")
        with suppress(OSError, http.client.HTTPException):
            if get(port).status == 200:
                return time.perf_counter() - started
        time.sleep(POLL_INTERVAL)
    raise RuntimeError(f"no 200 within {START_TIMEOUT:.0f} s")


def group_pids(pgid: int) -> list[int]:
    """The live processes of process group `pgid`, from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with suppress(OSError, IndexError, ValueError):
            stat = (entry / "stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            if int(fields[2]) == pgid and fields[0] != "Z":
                pids.append(int(entry.name))
    return pids


def cpu_seconds(pgid: int) -> float:
    """User + system CPU seconds used so far by the live processes of the group (all threads)."""
    ticks = 0
    for pid in group_pids(pgid):
        with suppress(OSError, IndexError, ValueError):
            stat = Path(f"/proc/{pid}/stat").read_text()
            fields = stat[stat.rindex(")") + 2 :].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime
    return ticks / os.sysconf("SC_CLK_TCK")


def peak_rss_mb(pgid: int) -> float:
    """`VmHWM` summed over the live processes of the group, in MB."""
    total_kb = 0
    for pid in group_pids(pgid):
        with suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
    return total_kb / 1024


@contextmanager
def started(server: Server, folder: Path) -> Iterator[tuple[subprocess.Popen[bytes], int, float]]:
    """Start `server` on a free port; yield the process, the port and seconds to the first 200."""
    port = free_port()
    log = folder / f"{server.key}.log"
    begin = time.perf_counter()
    process = launch(server.command(port), log, child_env(folder))
    try:
        try:
            seconds = first_200(process, port, begin)
        except RuntimeError as exc:
            tail = log.read_text(errors="replace").strip().splitlines()[-3:]
            raise RuntimeError(f"{exc}; log: {' / '.join(tail) or '(empty)'}") from None
        yield process, port, seconds
    finally:
        stop(process)


# -- load: wrk, or a small keep-alive Python load generator ------------------------------


@dataclass(frozen=True)
class Load:
    """What one load run saw."""

    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    bad: int  # non-2xx answers plus socket errors (other than read errors after a close)


_UNITS_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def _ms(text: str) -> float:
    """A wrk duration such as `812.00us`, `1.52ms` or `2.01s`, in ms."""
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"not a wrk duration: {text!r}")
    return float(match[1]) * _UNITS_MS[match[2]]


def parse_wrk(output: str) -> Load:
    """Requests/s, p50 and p99 latency, requests and errors from `wrk --latency` output."""
    # wrk pads a duration in seconds with a trailing space (`    99%    1.43s `).
    percentile = dict(re.findall(r"^\s+(50|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    if len(percentile) < 2:
        raise ValueError("wrk printed no latency percentiles (no request answered?)")
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read \d+, write (\d+), timeout (\d+)", output)
    return Load(
        rps=float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),  # type: ignore[index]
        p50_ms=_ms(percentile["50"]),
        p99_ms=_ms(percentile["99"]),
        requests=int(re.search(r"(\d+) requests in", output)[1]),  # type: ignore[index]
        bad=(int(non_2xx[1]) if non_2xx else 0) + (sum(map(int, errors.groups())) if errors else 0),
    )


def run_wrk(port: int, seconds: int, connections: int) -> Load:
    """One wrk run, `-t1 -c{connections} -d{seconds}s --latency`, with the bearer header."""
    command = [
        "wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency",
        "-H", f"Authorization: Bearer {TOKEN}", f"http://{HOST}:{port}{REQUEST_PATH}",
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 30, check=True)
    return parse_wrk(done.stdout)


def _client_loop(port: int, deadline: float, latencies: list[float], bad: list[int]) -> None:
    """Send requests on one keep-alive connection (reconnecting when the server closes it)."""
    headers = {"Authorization": f"Bearer {TOKEN}"}
    connection: http.client.HTTPConnection | None = None
    while time.perf_counter() < deadline:
        begin = time.perf_counter()
        try:
            connection = connection or http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", REQUEST_PATH, headers=headers)
            response = connection.getresponse()
            response.read()
            latencies.append(time.perf_counter() - begin)
            if response.status != 200:
                bad.append(1)
            if response.will_close:
                connection.close()
                connection = None
        except (OSError, http.client.HTTPException):
            bad.append(1)
            if connection is not None:
                connection.close()
            connection = None
    if connection is not None:
        connection.close()


def run_python_load(port: int, seconds: int, connections: int) -> Load:
    """The fallback load generator: `connections` threads, each one keep-alive connection."""
    latencies: list[float] = []
    bad: list[int] = []
    deadline = time.perf_counter() + seconds
    threads = [
        threading.Thread(target=_client_loop, args=(port, deadline, latencies, bad), daemon=True)
        for _ in range(connections)
    ]
    begin = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 30)
    elapsed = time.perf_counter() - begin
    ordered = sorted(latencies) or [float("nan")]
    return Load(
        rps=len(latencies) / elapsed,
        p50_ms=ordered[len(ordered) // 2] * 1e3,
        p99_ms=ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1e3,
        requests=len(latencies),
        bad=len(bad),
    )


LoadRun = Callable[[int, int, int], Load]


def load_runner(settings: Settings) -> LoadRun:
    """wrk, or the Python load generator: `run(port, seconds, connections)`."""
    return run_wrk if settings.loadgen == "wrk" else run_python_load


def apply_load(port: int, pgid: int, settings: Settings, connections: int, warmup: int) -> tuple[Load, float]:
    """Warm up, then the measured run with `connections`; its figures and the server's CPU use
    during it (%)."""
    run = load_runner(settings)
    run(port, warmup, connections)
    before, begin = cpu_seconds(pgid), time.perf_counter()
    load = run(port, settings.seconds, connections)
    used = cpu_seconds(pgid) - before
    return load, 100 * used / (time.perf_counter() - begin)


# -- measuring one server ----------------------------------------------------------------


@dataclass
class Result:
    """One server's figures (or why it was skipped or failed)."""

    key: str
    label: str
    start_ms: float | None = None
    rps: float | None = None  # rps, p50_ms, p99_ms, cpu_percent: at c4 (`connections`)
    p50_ms: float | None = None
    p99_ms: float | None = None
    rps_c64: float | None = None  # the same at c64 (`connections_high`)
    p50_c64_ms: float | None = None
    p99_c64_ms: float | None = None
    rss_mb: float | None = None
    cpu_percent: float | None = None
    cpu_c64_percent: float | None = None
    server_header: str | None = None
    keeps_alive: bool | None = None
    body_ok: bool | None = None
    body_bytes: int | None = None
    bad: int = 0
    skipped: str | None = None
    note: str = ""
    start_samples_ms: list[float] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """Measured (not skipped, not failed)."""
        return self.skipped is None and self.rps is not None


# What makes one server's row "failed: ..." instead of stopping the whole run: it died or
# never answered, a socket error, wrk failed or printed what parse_wrk cannot read.
MEASURE_ERRORS = (
    RuntimeError,
    OSError,
    http.client.HTTPException,
    subprocess.SubprocessError,
    ValueError,
    TypeError,
)


def measure(server: Server, fixtures: Fixtures, settings: Settings) -> Result:
    """Cold starts (the last server stays up), body check, load, peak RSS, stop.

    One more start comes first and is not counted: it warms the OS file cache and Python's
    bytecode cache, so every counted start is a cold process on warm caches (as after an
    install), whatever the number of starts.
    """
    result = Result(server.key, server.label, note=server.note)
    if server.missing:
        result.skipped = server.missing
        return result
    print(f"  {server.label} ...", end="", flush=True)
    try:
        for attempt in range(settings.cold_starts + 1):
            with started(server, fixtures.folder) as (process, port, seconds):
                if attempt > 0:
                    result.start_samples_ms.append(seconds * 1e3)
                if attempt == settings.cold_starts:
                    _measure_running(result, process, port, fixtures, settings)
    except MEASURE_ERRORS as exc:
        result.skipped = f"failed: {exc}"
        print(f" {result.skipped}")
        return result
    result.start_ms = statistics.median(result.start_samples_ms)
    c64 = "not measured" if result.rps_c64 is None else f"{result.rps_c64:,.0f} req/s"
    print(f" {result.start_ms:.0f} ms to first 200, c4 {result.rps:,.0f} req/s, c64 {c64}")
    return result


def _measure_running(
    result: Result, process: subprocess.Popen[bytes], port: int, fixtures: Fixtures, settings: Settings
) -> None:
    """Body and headers check, the c4 then the c64 load, and peak RSS on a server that answers.

    A failed c64 load leaves its figures out (said in the row's note), not the c4 ones.
    """
    answer = get(port)
    result.body_ok = answer.status == 200 and answer.body == fixtures.body
    result.body_bytes = len(answer.body)
    result.server_header, result.keeps_alive = answer.server, answer.keeps_alive
    load, result.cpu_percent = apply_load(port, process.pid, settings, settings.connections, settings.warmup)
    result.rps, result.p50_ms, result.p99_ms, result.bad = load.rps, load.p50_ms, load.p99_ms, load.bad
    try:
        high, result.cpu_c64_percent = apply_load(
            port, process.pid, settings, settings.connections_high, min(settings.warmup, settings.high_warmup)
        )
    except MEASURE_ERRORS as exc:
        result.note = f"{result.note}; **c{settings.connections_high} failed: {exc}**".lstrip("; ")
    else:
        result.rps_c64, result.p50_c64_ms, result.p99_c64_ms = high.rps, high.p50_ms, high.p99_ms
        result.bad += high.bad
    result.rss_mb = peak_rss_mb(process.pid)


# -- the servers -------------------------------------------------------------------------


def _python_missing(*modules: str) -> str | None:
    """Why a Python server cannot run: the first module not importable in this virtualenv."""
    for module in modules:
        if importlib.util.find_spec(module) is None:
            return f"skipped: Python package `{module}` is not installed (`make bench` installs it)"
    return None


def _wiremock_jar() -> Path | None:
    """The standalone jar the `wiremock` npm package ships."""
    jars = sorted((NODE_MODULES / "wiremock" / "build").glob("wiremock-standalone-*.jar"))
    return jars[-1] if jars else None


def _prism_missing() -> str | None:
    if shutil.which("node") is None:
        return "skipped: node is not installed"
    if not PRISM_JS.exists():
        return "skipped: Prism is not installed (`npm install --prefix benchmarks`)"
    return None


def _wiremock_missing() -> str | None:
    if shutil.which("java") is None:
        return "skipped: java is not installed"
    if _wiremock_jar() is None:
        return "skipped: WireMock's jar is not installed (`npm install --prefix benchmarks`)"
    return None


def serve_app(
    fixtures: Fixtures, server: str, app: str = "bare", validate: bool = True, threads: int = 1
) -> Callable[[int], list[str]]:
    """The command that runs `benchmarks/serve_app.py` with `app` on `server`."""
    source = ["--body", str(fixtures.body_file)] if app == "bare" else ["--scenario", str(fixtures.scenario)]
    flags = [] if validate else ["--no-validate"]
    script = str(HERE / "serve_app.py")
    return lambda port: [
        PYTHON, script, "--server", server, "--app", app, *source, *flags,
        "--port", str(port), "--threads", str(threads),
    ]  # fmt: skip


def _package_version(name: str) -> str:
    """The installed version of a Python distribution or an npm package, or ''."""
    package_json = NODE_MODULES / name / "package.json"
    if package_json.exists():
        return str(json.loads(package_json.read_text())["version"])
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(name)
    except PackageNotFoundError:
        return ""


def _capymock_has_quiet() -> bool:
    """Whether this `capymock serve` has `--quiet` (no log line per request)."""
    with suppress(OSError, subprocess.SubprocessError):
        done = subprocess.run([str(CAPYMOCK), "serve", "--help"], capture_output=True, text=True, timeout=30)
        return "--quiet" in done.stdout
    return False


def peer_servers(fixtures: Fixtures) -> list[Server]:
    """capymock serve and the peers, in the order they are measured."""
    capymock = [str(CAPYMOCK), "serve", "--host", HOST, "--scenario", str(fixtures.scenario)]
    capymock_missing = None if CAPYMOCK.exists() else f"skipped: {CAPYMOCK} is missing (`make bench`)"
    has_quiet = capymock_missing is None and _capymock_has_quiet()
    quiet = ["--quiet"] if has_quiet else []
    quiet_missing = capymock_missing or (
        None if has_quiet else "skipped: this `capymock serve` has no --quiet"
    )
    prism = ["node", str(PRISM_JS), "mock", "-h", HOST, str(fixtures.prism_spec)]
    jar = _wiremock_jar()
    prism_version = _package_version("@stoplight/prism-cli")
    wiremock_version = _package_version("wiremock")
    wiremock = [
        "java", "-jar", str(jar), "--bind-address", HOST,
        "--root-dir", str(fixtures.wiremock_root), "--disable-banner",
    ]  # fmt: skip
    logging = "request log lines go to a file"
    return [
        Server(
            "capymock",
            "**capymock serve** (validation on)",
            lambda p: [*capymock, "--port", str(p)],
            capymock_missing,
            logging,
        ),
        Server(
            "capymock-quiet",
            "**capymock serve --quiet** (validation on)",
            lambda p: [*capymock, "--quiet", "--port", str(p)],
            quiet_missing,
            "no request log",
        ),
        Server(
            "capymock-novalidate",
            f"capymock serve {' '.join([*quiet, '--no-validate'])}",
            lambda p: [*capymock, *quiet, "--no-validate", "--port", str(p)],
            capymock_missing,
            "context; " + ("no request log" if quiet else logging),
        ),
        Server(
            "capymock-waitress",
            f"capymock serve {' '.join([*quiet, '--server waitress'])}",
            lambda p: [*capymock, *quiet, "--server", "waitress", "--port", str(p)],
            capymock_missing,
            "the fallback, 1 thread; " + ("no request log" if quiet else logging),
        ),
        Server(
            "werkzeug",
            "bare werkzeug app, `make_server(threaded=True)`",
            serve_app(fixtures, "werkzeug"),
            note="context: the server of `capymock.serve()` in tests; no request log",
        ),
        Server(
            "pytest-httpserver",
            f"pytest-httpserver {_package_version('pytest-httpserver')}",
            serve_app(fixtures, "pytest-httpserver"),
            _python_missing("pytest_httpserver"),
            "unthreaded werkzeug; keeps every request",
        ),
        Server(
            "prism-quiet",
            f"Prism {prism_version} `mock -v error`",
            lambda p: [*prism, "-p", str(p), "-v", "error"],
            _prism_missing(),
            "first named example",
        ),
        Server(
            "prism",
            f"Prism {prism_version} `mock` (default logging)",
            lambda p: [*prism, "-p", str(p)],
            _prism_missing(),
            f"context; {logging}",
        ),
        Server(
            "wiremock",
            f"WireMock {wiremock_version} standalone",
            lambda p: [*wiremock, "--port", str(p)],
            _wiremock_missing(),
            "JVM defaults, request journal on",
        ),
    ]


# -- the serving-layer experiment ---------------------------------------------------------

LAYER_APPS = {
    "bare": ("bare", True),
    "capymock": ("capymock", True),
    "capymock-novalidate": ("capymock", False),
}


@dataclass(frozen=True)
class Layer:
    """A serving layer in the experiment: a `serve_app.py --server` with its worker threads."""

    key: str
    server: str
    threads: int
    label: str
    apps: tuple[str, ...] = tuple(LAYER_APPS)

    def result_key(self, app: str) -> str:
        """The key of this layer's result for `app`, e.g. `layer-waitress-capymock`."""
        return f"layer-{self.key}-{app}"

    @property
    def short(self) -> str:
        """A two-line name for the chart."""
        return f"{self.server}\n{self.threads} thread(s)"


def _layers() -> list[Layer]:
    """granian (as `capymock serve` runs by default), then waitress with 1 thread (the fallback)."""
    granian, waitress = _package_version("granian"), _package_version("waitress")
    return [
        Layer("granian", "granian", 1, f"granian {granian}, 1 Python thread (`serve_until_stopped`)"),
        Layer(
            "waitress-1",
            "waitress",
            1,
            f"waitress {waitress}, 1 thread (`serve_until_stopped`)",
            ("bare", "capymock"),
        ),
    ]


LAYERS = _layers()


def layer_servers(fixtures: Fixtures) -> list[Server]:
    """The bare app and capymock's app (validation on and off) under each candidate layer."""
    servers = []
    for layer in LAYERS:
        missing = _python_missing(layer.server)
        for app_key in layer.apps:
            app, validate = LAYER_APPS[app_key]
            servers.append(
                Server(
                    layer.result_key(app_key),
                    f"{layer.label}: {app_key}",
                    serve_app(fixtures, layer.server, app, validate, layer.threads),
                    missing,
                )
            )
    return servers


def measure_serving_layers(fixtures: Fixtures, settings: Settings) -> list[Result]:
    """Serve the bare app and capymock's app under each layer via `serve_app.py`; measure each."""
    return [measure(s, fixtures, settings) for s in layer_servers(fixtures) if settings.wanted(s.key)]


# -- budgets.py ----------------------------------------------------------------------------


def run_budgets(path: Path) -> dict[str, Any] | str:
    """Run `benchmarks/budgets.py --json PATH`; its JSON document, or why it failed."""
    try:
        subprocess.run(
            [PYTHON, str(HERE / "budgets.py"), "--json", str(path)],
            cwd=ROOT, capture_output=True, text=True, timeout=300, check=True,
        )  # fmt: skip
    except subprocess.CalledProcessError as exc:
        return f"budgets.py failed (exit {exc.returncode}): {exc.stderr.strip().splitlines()[-1:]}"
    except subprocess.TimeoutExpired:
        return "budgets.py took longer than 300 s"
    document: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return document


def budgets_markdown(document: dict[str, Any] | str) -> str:
    """The in-process budgets table, rendered by budgets.py's own `render`."""
    if isinstance(document, str):
        return document
    import budgets

    names = {f.name for f in budgets.Row.__dataclass_fields__.values()}
    rows = [budgets.Row(**{k: v for k, v in figure.items() if k in names}) for figure in document["figures"]]
    return f"{budgets.render(rows)}\n\n{document['summary']}"


# -- ratios ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ratio:
    """A capymock figure over a peer's, with the budget it is held to."""

    what: str
    value: float | None
    budget: str
    met: bool | None
    why_missing: str = ""
    detail: str = ""  # the two figures, where the ratio alone does not tell them


def _ratio(
    what: str,
    top: float | None,
    bottom: float | None,
    budget: str,
    holds: Callable[[float], bool],
    unit: str = "",
) -> Ratio:
    """`top / bottom` against its budget; with `unit`, the two figures go into `detail`."""
    if top is None or bottom is None or bottom == 0:
        return Ratio(what, None, budget, None, "not measured in this run")
    value = top / bottom
    detail = f"{top:,.2f} {unit} ÷ {bottom:,.2f} {unit}" if unit else ""
    return Ratio(what, value, budget, holds(value), detail=detail)


SAME_SERVER_BARE = {
    "granian": "layer-granian-bare",
    "waitress": "layer-waitress-1-bare",
    "werkzeug": "werkzeug",
}


def capymock_layer(result: Result | None) -> tuple[str | None, str]:
    """Which serving layer `capymock serve` runs on, and how that was told.

    From its `Server` header when that names granian, waitress or werkzeug; otherwise (waitress
    as capymock runs it says `Server: capymock`), for a server that keeps connections alive,
    from waitress, the keep-alive fallback capymock depends on. The ratio to the bare app uses
    the thread count `capymock serve` runs with: 1 on granian and on waitress.
    """
    if result is None or not result.ok:
        return None, "not measured"
    header = result.server_header or ""
    for layer in SAME_SERVER_BARE:
        if layer in header.lower():
            return layer, f"`Server: {header}`"
    if result.keeps_alive:
        requires = importlib.metadata.requires("capymock") or []
        if any(re.match(r"waitress\b", requirement) for requirement in requires):
            return "waitress", f"`Server: {header}`, keeps connections alive, capymock requires waitress"
    return None, f"unknown (`Server: {header}`)"


CAPYMOCK_ROWS = {
    "capymock": "capymock serve",
    "capymock-quiet": "capymock serve --quiet",
    "capymock-waitress": "capymock serve --quiet --server waitress (fallback, context)",
}
PEER_NAMES = {
    "prism-quiet": "Prism (quiet)",
    "prism": "Prism (default logging)",
    "wiremock": "WireMock",
    "pytest-httpserver": "pytest-httpserver",
}
"""The peers whose p99 capymock's is held under (not the bare apps, not the serving layers)."""


def lowest_peer_p99(by_key: dict[str, Result], field_name: str) -> tuple[float | None, str]:
    """The lowest `p99_ms` or `p99_c64_ms` among the measured `PEER_NAMES`, and whose it is."""
    measured = [
        (value, name)
        for key, name in PEER_NAMES.items()
        if (r := by_key.get(key)) and r.ok and (value := getattr(r, field_name)) is not None
    ]
    return min(measured) if measured else (None, "no peer")


def ratios(by_key: dict[str, Result], mine: str = "capymock") -> list[Ratio]:
    """capymock's throughput (c4) over WireMock's and Prism's (quiet), its p99 (c4, c64) over
    the lowest peer p99, its cold start over Prism's and its throughput over the bare app on its
    server. `by_key` holds the peers and the serving-layer results; `mine` is the capymock row."""

    def figure(key: str, name: str) -> float | None:
        result = by_key.get(key)
        return getattr(result, name) if result and result.ok else None

    layer, _ = capymock_layer(by_key.get(mine) or by_key.get("capymock"))
    bare = SAME_SERVER_BARE.get(layer or "", "")
    same = _ratio("req/s (c4) ÷ the bare app's on the same server", figure(mine, "rps"), figure(bare, "rps"),
                  f"≥ 0.7{TIMES}", lambda v: v >= 0.7)  # fmt: skip
    p99_c4, p99_c4_peer = lowest_peer_p99(by_key, "p99_ms")
    p99_c64, p99_c64_peer = lowest_peer_p99(by_key, "p99_c64_ms")
    return [
        _ratio("req/s (c4) ÷ WireMock's", figure(mine, "rps"), figure("wiremock", "rps"),
               f"≥ 3{TIMES}", lambda v: v >= 3),
        _ratio("req/s (c4) ÷ Prism's (quiet)", figure(mine, "rps"), figure("prism-quiet", "rps"),
               f"≥ 5{TIMES}", lambda v: v >= 5),
        _ratio(f"p99 (c4) ÷ the lowest peer p99 (c4), {p99_c4_peer}'s", figure(mine, "p99_ms"), p99_c4,
               f"< 1{TIMES}", lambda v: v < 1, "ms"),
        _ratio(f"p99 (c64) ÷ the lowest peer p99 (c64), {p99_c64_peer}'s", figure(mine, "p99_c64_ms"),
               p99_c64, f"< 1{TIMES}", lambda v: v < 1, "ms"),
        _ratio("cold start ÷ Prism's (quiet)", figure(mine, "start_ms"), figure("prism-quiet", "start_ms"),
               f"≤ 0.15{TIMES}", lambda v: v <= 0.15),
        replace(same, detail=f"on {layer}") if layer and same.value is not None else same,
    ]  # fmt: skip


# -- report ---------------------------------------------------------------------------------


def _num(value: float | None, digits: int = 0) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def _body_cell(result: Result, expected: int) -> str:
    if result.body_ok is None:
        return "—"
    return "same" if result.body_ok else f"**differs** ({result.body_bytes:,} B, expected {expected:,})"


def peers_table(results: list[Result], expected: int) -> str:
    """The peers as a markdown table (c4 and c64 loads); skipped ones as lines under it.

    p50 at c4 and c64 is in latest.json.
    """
    lines = [
        "| server | req/s c4 | p99 ms c4 | req/s c64 | p99 ms c64 | start → first 200 (ms) | peak RSS MB "
        "| server CPU % c4 / c64 | keep-alive | body | notes |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---|---|---|",
    ]
    for r in results:
        if not r.ok:
            continue
        note = r.note + (f"; **{r.bad} errors or non-200s**" if r.bad else "")
        if r.key.startswith("capymock"):
            layer, how = capymock_layer(r)
            note = f"serves on {layer or 'an unknown server'} ({how}); {note}"
        alive = {None: "—", True: "yes", False: "no"}[r.keeps_alive]
        lines.append(
            f"| {r.label} | {_num(r.rps)} | {_num(r.p99_ms, 2)} | {_num(r.rps_c64)} "
            f"| {_num(r.p99_c64_ms, 2)} | {_num(r.start_ms)} | {_num(r.rss_mb)} "
            f"| {_num(r.cpu_percent)} / {_num(r.cpu_c64_percent)} "
            f"| {alive} | {_body_cell(r, expected)} | {note} |"
        )
    skipped = [f"- {r.label}: {r.skipped}" for r in results if not r.ok]
    return "\n".join(lines + (["", *skipped] if skipped else []))


def ratios_table(by_key: dict[str, Result]) -> str:
    """The ratios for each capymock row (default logging, `--quiet`), with the budgets."""
    columns = {key: ratios(by_key, key) for key in CAPYMOCK_ROWS}
    head = " | ".join(CAPYMOCK_ROWS.values())
    lines = [
        f"| capymock's figure ÷ the peer's (same run) | {head} | budget | met? |",
        "|---|" + "---:|" * len(CAPYMOCK_ROWS) + "---|---|",
    ]
    marks = {None: "—", True: "yes", False: "**no**"}
    for rows in zip(*columns.values(), strict=True):
        values = [_ratio_cell(row) for row in rows]
        met = " / ".join(marks[row.met] for row in rows)
        lines.append(f"| {rows[0].what} | {' | '.join(values)} | {rows[0].budget} | {met} |")
    return "\n".join(lines)


def _ratio_cell(ratio: Ratio) -> str:
    """The ratio, with its detail when it has one, e.g. `0.42x (1.10 ms ÷ 2.61 ms)`."""
    if ratio.value is None:
        return ratio.why_missing
    return f"{ratio.value:.2f}{TIMES}" + (f" ({ratio.detail})" if ratio.detail else "")


def _layer_cells(results: dict[str, Result], layer: Layer) -> list[str]:
    """At c4: bare req/s, then capymock req/s and ÷ bare with validation on and off; at c64: bare
    req/s, capymock req/s (validation on) and ÷ bare; capymock's p99 at c4 and c64, start-up."""

    def figure(app: str, name: str = "rps") -> float | None:
        result = results.get(layer.result_key(app))
        return getattr(result, name) if result is not None and result.ok else None

    def over(top: float | None, bottom: float | None) -> str:
        return f"{top / bottom:.2f}{TIMES}" if top and bottom else "—"

    cells = [_num(figure("bare"))]
    for app in ("capymock", "capymock-novalidate"):
        cells += [_num(figure(app)), over(figure(app), figure("bare"))]
    bare_c64, mine_c64 = figure("bare", "rps_c64"), figure("capymock", "rps_c64")
    cells += [_num(bare_c64), _num(mine_c64), over(mine_c64, bare_c64)]
    cells += [_num(figure("capymock", "p99_ms"), 2), _num(figure("capymock", "p99_c64_ms"), 2)]
    return [*cells, _num(figure("capymock", "start_ms"))]


def layers_table(results: list[Result], peers: dict[str, Result]) -> str:
    """Per serving layer: bare and capymock req/s (validation on, off) and their ratios, c4 and c64."""
    by_key = {r.key: r for r in results}
    lines = [
        "| serving layer | bare app req/s c4 | capymock req/s c4 (validation on) | ÷ bare "
        "| capymock req/s c4 (validation off) | ÷ bare | bare app req/s c64 "
        "| capymock req/s c64 (validation on) | ÷ bare "
        "| capymock p99 ms c4 | capymock p99 ms c64 | capymock start → first 200 (ms) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for layer in LAYERS:
        if any(layer.result_key(app) in by_key for app in layer.apps):
            lines.append(f"| {layer.label} | " + " | ".join(_layer_cells(by_key, layer)) + " |")
    notes = [f"- {r.label}: {r.skipped}" for r in results if not r.ok]
    notes += [f"- {r.label}: **{r.bad} errors or non-200s**" for r in results if r.ok and r.bad]
    notes += [f"- {r.label}: **body differs**" for r in results if r.ok and r.body_ok is False]
    lines += ["", *notes] if notes else []
    lines += ["", layer_verdict(by_key, peers)]
    return "\n".join(lines)


def layer_verdict(by_key: dict[str, Result], peers: dict[str, Result]) -> str:
    """One factual line: the fastest layer for capymock (validation on, c4), against the other
    layers and the peers."""
    candidates = [
        (r.rps, layer.label)
        for layer in LAYERS
        if (r := by_key.get(layer.result_key("capymock"))) and r.ok and r.rps
    ]
    if not candidates:
        return "No serving layer was measured."
    best_rps, best = max(candidates)
    parts = [f"Fastest layer for capymock (validation on, c4): **{best}**, {best_rps:,.0f} req/s"]
    parts += [
        f"{best_rps / rps:.2f}{TIMES} capymock on {label}" for rps, label in candidates if label != best
    ]
    for key in ("prism-quiet", "wiremock"):
        peer = peers.get(key)
        if peer and peer.ok and peer.rps:
            parts.append(f"{best_rps / peer.rps:.2f}{TIMES} {PEER_NAMES[key]}")
    return "; ".join(parts) + "."


def environment(settings: Settings) -> dict[str, Any]:
    """Where and how the figures were taken."""

    def version(command: list[str]) -> str:
        if shutil.which(command[0]) is None:
            return "missing"
        with suppress(OSError, subprocess.SubprocessError):
            done = subprocess.run(command, capture_output=True, text=True, timeout=30)
            text = (done.stdout or done.stderr).strip().splitlines()
            return text[0] if text else "?"
        return "?"

    import capymock

    return {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "capymock": capymock.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "node": version(["node", "--version"]),
        "java": version(["java", "-version"]),
        "wrk": version(["wrk", "--version"]) if settings.loadgen == "wrk" else "not used",
        "settings": {
            k: in_checkout(v) if isinstance(v, Path) else str(v) for k, v in asdict(settings).items()
        },
    }


def in_checkout(path: Path) -> str:
    """`path` as the results name it: relative to the checkout, so they read the same in any clone."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def method_line(settings: Settings, body_bytes: int) -> str:
    """How the load was applied, in one paragraph."""
    low, high, seconds = settings.connections, settings.connections_high, settings.seconds
    high_warmup = min(settings.warmup, settings.high_warmup)
    if settings.loadgen == "wrk":
        gen = (
            f"`wrk -t1 -c{low} -d{seconds}s --latency` after a {settings.warmup} s warm-up (*c{low}*), "
            f"then `wrk -t1 -c{high} -d{seconds}s --latency` after a {high_warmup} s warm-up at {high} "
            f"connections (*c{high}*)"
        )
    else:
        gen = (
            f"**the Python fallback load generator** ({low}, then {high} keep-alive http.client threads, "
            f"{seconds} s each after a {settings.warmup} s and a {high_warmup} s warm-up; wrk was not "
            "available, so these figures are not comparable with wrk's)"
        )
    return (
        f"`GET {REQUEST_PATH}` with `Authorization: Bearer …`, the same {body_bytes:,}-byte {JOBS}-job "
        f"compact JSON body from every server (checked: column *body*), {gen}, on the server left running "
        "by the last cold start. Start-up: process start to first 200, median of "
        f"{settings.cold_starts} cold start(s) "
        "after one uncounted start that warms the OS file cache and the Python bytecode cache. "
        "Server CPU: user + system time of the server's process group during each measured load, "
        "as % of one core (wrk takes most of the other core). "
        "Peak RSS: `VmHWM` summed over the server's process group, after both loads. Noise between runs "
        "is ±10-20 %: compare figures within one run, as the ratios do."
    )


def render_markdown(
    settings: Settings,
    about: dict[str, Any],
    fixtures: Fixtures,
    peers: list[Result],
    layers: list[Result],
    budgets_md: str | None,
    chart: str,
) -> str:
    """The whole report."""
    by_key = {r.key: r for r in peers}
    sections = [
        "# capymock against its peers",
        f"Generated by `make bench` (`benchmarks/peers.py`) at {about['measured_at']}: capymock "
        f"{about['capymock']}, Python {about['python']}, {about['platform']}, {about['cpus']} CPUs, "
        f"node {about['node']}, {about['java']}, {about['wrk']}.",
        method_line(settings, len(fixtures.body)),
        "## Peers",
        peers_table(peers, len(fixtures.body)),
        "## Ratios",
        ratios_table(by_key | {r.key: r for r in layers}),
        "## Serving layer (experiment)",
        "capymock's WSGI app (`capymock.Mock(scenario=...).wsgi_app`, validation on and off) and the "
        "bare app serving the same bytes, on the two layers `capymock serve` runs on, started by "
        "`benchmarks/serve_app.py` without request logging; same two loads as above. granian: through "
        'capymock\'s own `capymock.web.servers.serve_until_stopped(server="granian")`, one granian WSGI '
        "worker with the app called on 1 Python thread, as `capymock serve` runs it. waitress: the same "
        'entry point with `server="waitress"`, 1 thread, the fallback (`capymock serve --server '
        "waitress`), its `Task queue depth` warning silenced. Only the two "
        "layers `capymock serve` runs on are measured here.",
        layers_table(layers, by_key),
    ]
    if budgets_md is not None:
        sections += ["## In-process budgets (`benchmarks/budgets.py`)", budgets_md]
    sections += ["## Chart", chart]
    return "\n\n".join(sections) + "\n"


def draw_chart(peers: list[Result], layers: list[Result], path: Path) -> str:
    """Throughput, cold start and the serving layers as a PNG; the markdown that shows it."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return "Chart skipped: matplotlib is not installed (`make bench` installs it)."
    measured = [r for r in peers if r.ok]
    shown_layers = [r for r in layers if r.ok]
    panels = (3 if measured else 0) + (1 if shown_layers else 0)
    if not panels:
        return "Chart skipped: nothing was measured."
    figure, axes = plt.subplots(panels, 1, figsize=(10, 4 * panels), squeeze=False)
    remaining = list(axes[:, 0])
    try:
        if measured:
            _draw_peers(remaining.pop(0), remaining.pop(0), remaining.pop(0), measured)
        if shown_layers:
            _draw_layers(remaining.pop(0), shown_layers)
        figure.tight_layout()
        figure.savefig(path, format="png", dpi=90)
    except (ValueError, OSError) as exc:
        return f"Chart failed: {exc}"
    finally:
        plt.close(figure)
    return f"![throughput, latency, start-up and serving layers]({path.name})"


def _paired_barh(axis: Any, measured: list[Result], c4: list[float], c64: list[float], fmt: str) -> None:
    """Two horizontal bars per server, c4 (dark) over c64 (light); capymock's rows in orange.

    No legend (it would cover a bar): the panel titles say which shade is which.
    """
    height = 0.4
    mine = [r.key.startswith("capymock") for r in measured]
    for offset, values, label, shades in (
        (-height / 2, c4, "c4", ("#d9822b", "#5b7db1")),
        (height / 2, c64, "c64", ("#f2b880", "#a9bedf")),
    ):
        colours = [shades[0] if m else shades[1] for m in mine]
        bars = axis.barh(
            [i + offset for i in range(len(measured))], values, height, color=colours, label=label
        )
        axis.bar_label(bars, labels=[fmt.format(v) if v else "—" for v in values], padding=3, fontsize=7)
    axis.set_yticks(range(len(measured)), [r.label.replace("**", "").replace("`", "") for r in measured])


def _draw_peers(throughput: Any, latency: Any, startup: Any, measured: list[Result]) -> None:
    """Horizontal bars: req/s and p99 at c4 and c64, and start-up (log scales for the latter two)."""
    import matplotlib.ticker

    _paired_barh(throughput, measured, [r.rps or 0 for r in measured], [r.rps_c64 or 0 for r in measured],
                 "{:,.0f}")  # fmt: skip
    throughput.set_title("Throughput, GET 25-job list (req/s, higher is better; dark c4, light c64)")
    _paired_barh(latency, measured, [r.p99_ms or 0 for r in measured], [r.p99_c64_ms or 0 for r in measured],
                 "{:,.2f} ms")  # fmt: skip
    latency.set_title("p99 latency (ms, log scale, lower is better; dark c4, light c64)")
    labels = [r.label.replace("**", "").replace("`", "") for r in measured]
    colours = ["#d9822b" if r.key.startswith("capymock") else "#5b7db1" for r in measured]
    bars = startup.barh(labels, [r.start_ms or 0 for r in measured], color=colours)
    startup.bar_label(bars, fmt="{:,.0f} ms", padding=3, fontsize=8)
    startup.set_title("Process start to first 200 (ms, log scale, lower is better)")
    for axis in (latency, startup):
        axis.set_xscale("log")
        axis.set_xlim(right=axis.get_xlim()[1] * 3)  # room for the labels of the longest bars
        axis.xaxis.set_major_formatter(matplotlib.ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        axis.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
    for axis in (throughput, latency, startup):
        axis.invert_yaxis()
        axis.grid(axis="x", alpha=0.3)
        axis.margins(x=0.12)


def _draw_layers(axis: Any, layers: list[Result]) -> None:
    """Grouped bars: per layer, bare app and capymock (validation on, off) req/s."""
    by_key = {r.key: r for r in layers if r.ok}
    shown = [layer for layer in LAYERS if any(layer.result_key(app) in by_key for app in layer.apps)]
    width = 0.27
    series = (
        ("bare", "bare app", "#5b7db1"),
        ("capymock", "capymock, validation on", "#d9822b"),
        ("capymock-novalidate", "capymock, validation off", "#f2b880"),
    )
    for index, (app, label, colour) in enumerate(series):
        placed = [(i, by_key[k]) for i, layer in enumerate(shown) if (k := layer.result_key(app)) in by_key]
        offsets = [i + (index - 1) * width for i, _ in placed]
        bars = axis.bar(offsets, [r.rps or 0 for _, r in placed], width, label=label, color=colour)
        axis.bar_label(bars, fmt="{:,.0f}", padding=2, fontsize=8)
    axis.set_xticks(range(len(shown)), [layer.short for layer in shown])
    axis.set_title("Serving layer: bare app vs capymock (req/s, c4)")
    axis.legend(loc="upper right", fontsize=8)
    axis.margins(y=0.15)
    axis.grid(axis="y", alpha=0.3)


def write_json(path: Path, about: dict[str, Any], peers: list[Result], layers: list[Result]) -> None:
    """Every figure as JSON, for tracking over time."""
    document = {
        **about,
        "peers": [asdict(r) for r in peers],
        "serving_layers": [asdict(r) for r in layers],
        "ratios": {
            key: [asdict(r) for r in ratios({r.key: r for r in [*peers, *layers]}, key)]
            for key in CAPYMOCK_ROWS
        },
    }
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


# -- main -----------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """Budgets first (nothing else running), then the peers, then the serving layers; report."""
    settings = parse_settings(argv)
    began = time.perf_counter()
    RESULTS.mkdir(exist_ok=True)
    budgets_md = None
    if settings.budgets:
        print("in-process budgets (benchmarks/budgets.py) ...", flush=True)
        budgets_md = budgets_markdown(run_budgets(RESULTS / "budgets.json.tmp"))
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        with tempfile.TemporaryDirectory(prefix="capymock-bench-") as folder:
            fixtures = prepare(Path(folder))
            print(f"peers ({settings.loadgen}, {settings.seconds} s each, {len(fixtures.body):,}-byte body):")
            peers = [measure(s, fixtures, settings) for s in peer_servers(fixtures) if settings.wanted(s.key)]
            print("serving layers:")
            layers = measure_serving_layers(fixtures, settings)
    finally:
        stop_all()
    about = environment(settings)
    chart = draw_chart(peers, layers, settings.path("png"))
    report = render_markdown(settings, about, fixtures, peers, layers, budgets_md, chart)
    settings.path("md").write_text(report, encoding="utf-8")
    write_json(settings.path("json"), about, peers, layers)
    print()
    print(report)
    print(f"wrote {in_checkout(settings.path('md'))} in {time.perf_counter() - began:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
