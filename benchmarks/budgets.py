"""Measure capymock's in-process performance budgets and print them as a markdown table.

Run from the repository root:

    .venv/bin/python benchmarks/budgets.py [--json PATH]

What it measures (medians over repeats, `time.perf_counter`, nothing but 127.0.0.1):

1. Start-up: `import capymock` + spec load + validators compiled (`capymock.Mock()`), timed
   inside fresh subprocesses. The budgeted figure uses a warm bytecode cache (a private
   `PYTHONPYCACHEPREFIX`, filled by one discarded run), as after a `pip install`; the same
   command in the inherited environment, and the bare interpreter start (`python -c pass`,
   wall time), are shown for context only.
2. In-process server: `with capymock.serve() as mock:` entry, `mock.add_project()` and one
   GET of the project's jobs over a socket until its 200, then the block's exit (shutdown),
   with the spec already loaded.
3. List cost at 100 vs 100,000 jobs in the store: `GET .../jobs?limit=25` called straight on
   `mock.wsgi_app` with a minimal environ (no sockets), with response validation off and on.
4. Response validation's own cost on that list request, and a `getJob` request. A request
   asked again while the store is unchanged is answered from the API's memory of its answers
   (as a polling client sees it); "first asked" rows give each request a query string not
   seen before, so every answer is computed, encoded and checked afresh.

Start-up runs and request batches are interleaved across what they compare, so drift on a
noisy machine hits every figure alike.
`--json PATH` also writes every figure, with its budget, as JSON.
"""

from __future__ import annotations

import argparse
import functools
import gc
import http.client
import io
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Callable, Iterable, Mapping
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import capymock

PROJECT = "proj_demo"
LIST_PATH = f"/v1/projects/{PROJECT}/jobs"
LIST_QUERY = "limit=25"
SMALL_STORE = 100
LARGE_STORE = 100_000
FIRST_CREATED = datetime(2026, 1, 1, tzinfo=UTC)

STARTUP_REPEATS = 11
SERVE_REPEATS = 20
REQUEST_ROUNDS = 11
BATCH_SECONDS = 0.04

IMPORT_CODE = (
    "import time; t=time.perf_counter(); import capymock; capymock.Mock(); print(time.perf_counter()-t)"
)

TIMES = "\N{MULTIPLICATION SIGN}"
DESIGN = "product budget"
ISSUE = "issue"


@dataclass(frozen=True)
class Row:
    """One measured figure and, when it has one, its budget (`value <= budget`)."""

    what: str
    value: float
    unit: str
    budget: float | None = None
    source: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the budget holds; None for a context figure."""
        return None if self.budget is None else self.value <= self.budget


# -- 1. start-up in a fresh interpreter --------------------------------------------------


def _child_env(pycache_prefix: str | None) -> dict[str, str]:
    """The environment for a child interpreter; with a prefix, bytecode is cached there."""
    env = dict(os.environ)
    if pycache_prefix is not None:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = pycache_prefix
    return env


def _import_seconds(env: dict[str, str]) -> float:
    """Seconds a fresh interpreter reports for `import capymock; capymock.Mock()`."""
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CODE], env=env, capture_output=True, text=True, check=True
    )
    return float(done.stdout.strip())


def _wall_seconds(args: list[str], env: dict[str, str]) -> float:
    """Wall-clock seconds to run a command to completion."""
    start = time.perf_counter()
    subprocess.run(args, env=env, capture_output=True, check=True)
    return time.perf_counter() - start


def interleaved_medians(samplers: Mapping[str, Callable[[], float]], rounds: int) -> dict[str, float]:
    """Median of each sampler over `rounds` rounds, each calling every sampler once."""
    samples: dict[str, list[float]] = {name: [] for name in samplers}
    for _ in range(rounds):
        for name, sample in samplers.items():
            samples[name].append(sample())
    return {name: statistics.median(values) for name, values in samples.items()}


def measure_startup(repeats: int = STARTUP_REPEATS) -> list[Row]:
    """Interpreter start, and import + spec + validators with a warm and the inherited bytecode cache."""
    inherited = _child_env(None)
    with tempfile.TemporaryDirectory(prefix="capymock-pycache-") as prefix:
        warm = _child_env(prefix)
        _import_seconds(warm)  # fills the private bytecode cache; not counted
        seconds = interleaved_medians(
            {
                "warm": lambda: _import_seconds(warm),
                "as_is": lambda: _import_seconds(inherited),
                "bare": lambda: _wall_seconds([sys.executable, "-c", "pass"], inherited),
            },
            repeats,
        )
    ms = {name: value * 1e3 for name, value in seconds.items()}
    writes = "off" if os.environ.get("PYTHONDONTWRITEBYTECODE") else "on"
    return [
        Row("`import capymock` + spec + validators (warm bytecode cache)", ms["warm"], "ms", 150, DESIGN),
        Row(f"same, inherited environment (bytecode writes {writes})", ms["as_is"], "ms"),
        Row("bare interpreter start, `python -c pass` (wall)", ms["bare"], "ms"),
    ]


# -- 2. in-process server: up, first 200, shutdown ---------------------------------------


def _get_status(url: str, path: str, token: str) -> int:
    """GET `path` from the server at `url` with a bearer token; the response status."""
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=10)
    try:
        connection.request("GET", path, headers={"Authorization": f"Bearer {token}"})
        response = connection.getresponse()
        response.read()
        return response.status
    finally:
        connection.close()


def _serve_once() -> tuple[float, float]:
    """Seconds from `serve()` entry to the first 200, and from there to the block's exit."""
    start = time.perf_counter()
    with capymock.serve() as mock:
        mock.add_project(PROJECT)
        status = _get_status(str(mock.url), LIST_PATH, mock.token)
        answered = time.perf_counter()
    stopped = time.perf_counter()
    if status != 200:
        raise RuntimeError(f"GET {LIST_PATH} answered {status}, not 200")
    return answered - start, stopped - answered


def measure_serve(repeats: int = SERVE_REPEATS) -> list[Row]:
    """`serve()` up + first 200 (against both budgets) and shutdown, spec already loaded."""
    capymock.Mock()  # loads the spec and compiles the validators once
    _serve_once()  # warm-up: first use of sockets, threads and http.client
    samples = [_serve_once() for _ in range(repeats)]
    up = statistics.median(s[0] for s in samples) * 1e3
    down = statistics.median(s[1] for s in samples) * 1e3
    return [
        Row("`serve()` up + first 200 (spec loaded)", up, "ms", 50, ISSUE),
        Row("`serve()` up + first 200 (spec loaded)", up, "ms", 15, DESIGN),
        Row("`serve()` shutdown (block exit)", down, "ms"),
    ]


# -- 2b. reset between tests --------------------------------------------------------------

TEN_JOBS = "start: '2026-01-01T09:00:00Z'\nprojects: [proj_demo]\njobs:\n" + "".join(
    f"  - id: job_{i}\n    project: proj_demo\n    steps:\n      - state: pending\n"
    f"      - {{after: {i + 1}s, state: claimed}}\n      - {{after: 1s, state: running}}\n"
    f"      - {{after: 2s, state: succeeded}}\n"
    for i in range(10)
)
RESET_REPEATS = 2000


def measure_reset(repeats: int = RESET_REPEATS) -> list[Row]:
    """`mock.reset()` of a loaded 10-job scenario (after the test moved it), and `load()` itself."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "ten.yaml"
        path.write_text(TEN_JOBS)
        mock = capymock.Mock(scenario=path)
        loads = []
        for _ in range(20):
            start = time.perf_counter()
            mock.load(path)
            loads.append(time.perf_counter() - start)
    resets = []
    for _ in range(repeats):
        mock.advance("3s")
        mock.add_job(project_id=PROJECT)
        start = time.perf_counter()
        mock.reset()
        resets.append(time.perf_counter() - start)
    if len(mock.jobs()) != 10:
        raise RuntimeError("reset did not return to the 10 loaded jobs")
    return [
        Row("`reset()` of a 10-job scenario", statistics.median(resets) * 1e6, "µs", 1000, DESIGN),
        Row("`load()` of that scenario file", statistics.median(loads) * 1e3, "ms"),
    ]


# -- 3 and 4. requests straight through the WSGI app -------------------------------------


def _timestamp(moment: datetime) -> str:
    """RFC 3339 in UTC, whole seconds."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_mock(jobs: int) -> capymock.Mock:
    """A mock (validation off) whose project holds `jobs` pending jobs, created a second apart."""
    mock = capymock.Mock(validate=False)
    mock.add_project(PROJECT)
    for i in range(jobs):
        mock.add_job(project_id=PROJECT, created_at=_timestamp(FIRST_CREATED + timedelta(seconds=i)))
    return mock


def _environ(mock: capymock.Mock, path: str, query: str = "") -> dict[str, Any]:
    """A minimal WSGI environ for an authenticated GET."""
    return {
        "REQUEST_METHOD": "GET",
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "HTTP_AUTHORIZATION": f"Bearer {mock.token}",
    }


_FRESH = itertools.count()


def _ignore(status: str, headers: list[tuple[str, str]]) -> None:
    """A `start_response` that drops what it is given."""


@dataclass(frozen=True)
class Case:
    """One request to time on a mock's WSGI app, with response validation on or off."""

    mock: capymock.Mock
    environ: dict[str, Any]
    validate: bool
    first_asked: bool = False
    """Each request with a query string never asked before (no answer remembered)."""

    def status(self) -> str:
        """The status line this request is answered with."""
        seen: list[str] = []
        self.mock.validate = self.validate
        self.mock.wsgi_app(self.environ, lambda status, headers: seen.append(status))
        return seen[0]

    def seconds_per_call(self, number: int) -> float:
        """Mean seconds per request over one batch of `number` requests."""
        self.mock.validate = self.validate
        app = self.mock.wsgi_app
        if self.first_asked:
            query = self.environ["QUERY_STRING"]
            environs = [{**self.environ, "QUERY_STRING": f"{query}&n={next(_FRESH)}"} for _ in range(number)]
        else:
            environs = [self.environ] * number
        start = time.perf_counter()
        for environ in environs:
            app(environ, _ignore)
        return (time.perf_counter() - start) / number


def _batch_size(name: str, case: Case, seconds: float = BATCH_SECONDS) -> int:
    """Requests per batch so one batch lasts about `seconds` (checks for a 200 first)."""
    status = case.status()
    if not status.startswith("200"):
        raise RuntimeError(f"{name}: answered {status!r}, not 200")
    per_call = case.seconds_per_call(20)
    return max(20, round(seconds / per_call))


def time_cases(cases: dict[str, Case], rounds: int = REQUEST_ROUNDS) -> dict[str, float]:
    """Median µs per request of each case, over `rounds` batches interleaved across cases."""
    samplers = {
        name: functools.partial(case.seconds_per_call, _batch_size(name, case))
        for name, case in cases.items()
    }
    return {name: seconds * 1e6 for name, seconds in interleaved_medians(samplers, rounds).items()}


def _request_cases(small: capymock.Mock, large: capymock.Mock) -> dict[str, Case]:
    """List at both store sizes and getJob, each with validation off and on."""
    newest = large.world.store.newest(PROJECT, 1) or []
    get_path = f"/v1/jobs/{newest[0].id}"
    cases = {}
    for validate, suffix in ((False, "off"), (True, "on")):
        cases[f"list_small_{suffix}"] = Case(small, _environ(small, LIST_PATH, LIST_QUERY), validate)
        cases[f"list_large_{suffix}"] = Case(large, _environ(large, LIST_PATH, LIST_QUERY), validate)
        cases[f"get_{suffix}"] = Case(large, _environ(large, get_path), validate)
        cases[f"list_small_{suffix}_first"] = Case(
            small, _environ(small, LIST_PATH, LIST_QUERY), validate, True
        )
        cases[f"get_{suffix}_first"] = Case(large, _environ(large, get_path, "x=1"), validate, True)
    return cases


def _list_rows(us: dict[str, float], validation: str) -> list[Row]:
    """List µs at both store sizes and their ratio, for validation `off` or `on`."""
    small, large = us[f"list_small_{validation}"], us[f"list_large_{validation}"]
    return [
        Row(
            f"list 25, {SMALL_STORE:,} jobs in store, validation {validation}",
            small,
            "µs",
            *((15.0, DESIGN) if validation == "on" else ()),
        ),
        Row(f"list 25, {LARGE_STORE:,} jobs in store, validation {validation}", large, "µs"),
        Row(
            f"list cost {LARGE_STORE:,} ÷ {SMALL_STORE:,} jobs, validation {validation}",
            large / small,
            TIMES,
            1.5,
            DESIGN,
        ),
    ]


def measure_requests() -> list[Row]:
    """List cost against store size, response validation's cost, and getJob."""
    small = build_mock(SMALL_STORE)
    start = time.perf_counter()
    large = build_mock(LARGE_STORE)
    built = time.perf_counter() - start
    gc.collect()
    us = time_cases(_request_cases(small, large))
    return [
        Row(f"build the {LARGE_STORE:,}-job store (`add_job` each)", built, "s"),
        *_list_rows(us, "off"),
        *_list_rows(us, "on"),
        Row(
            f"response validation cost, list 25 ({SMALL_STORE:,} jobs, on - off)",
            us["list_small_on"] - us["list_small_off"],
            "µs",
        ),
        Row("getJob, validation off", us["get_off"], "µs"),
        Row("getJob, validation on", us["get_on"], "µs", 8.0, DESIGN),
        Row(f"list 25, {SMALL_STORE:,} jobs, validation on, first asked", us["list_small_on_first"], "µs"),
        Row(f"list 25, {SMALL_STORE:,} jobs, validation off, first asked", us["list_small_off_first"], "µs"),
        Row("getJob, validation on, first asked", us["get_on_first"], "µs"),
        Row("getJob, validation off, first asked", us["get_off_first"], "µs"),
    ]


# -- 5. sessions ---------------------------------------------------------------------------

SESSION_SCENARIO = "demo"
"""A bundled scenario of a few jobs (6), as a test suite starts one per test."""
IDLE_SESSIONS = 1000


def _post_session(mock: capymock.Mock, scenario: str) -> str:
    """Start a session through the WSGI app (no socket): its id."""
    raw = json.dumps({"scenario": scenario}).encode()
    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": "/_capymock/sessions",
        "QUERY_STRING": "",
        "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(raw)),
        "wsgi.input": io.BytesIO(raw),
        "HTTP_HOST": "127.0.0.1:4010",
    }
    body: list[bytes] = []
    statuses: list[str] = []
    body.extend(mock.wsgi_app(environ, lambda status, headers: statuses.append(status)))
    if not statuses[0].startswith("201"):
        raise RuntimeError(f"POST /_capymock/sessions answered {statuses[0]}")
    return str(json.loads(b"".join(body))["id"])


def _rss_mb() -> float:
    status = Path("/proc/self/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:"))) / 1024


def idle_sessions_mb() -> float:
    """MB of RSS that `IDLE_SESSIONS` idle sessions add to a fresh interpreter (run as
    `budgets.py --idle-sessions`: a process that freed nothing before, so its RSS tells)."""
    mock = capymock.Mock(scenario=SESSION_SCENARIO, validate=False)
    mock.sessions.end(_post_session(mock, SESSION_SCENARIO))
    gc.collect()
    before = _rss_mb()
    ids = [_post_session(mock, SESSION_SCENARIO) for _ in range(IDLE_SESSIONS)]
    gc.collect()
    assert len(ids) == len(mock.sessions.live())
    return _rss_mb() - before


def measure_sessions() -> list[Row]:
    """Starting a session server-side, 1,000 idle sessions' memory, and a request inside one."""
    grown = float(
        subprocess.run(
            [sys.executable, __file__, "--idle-sessions"], capture_output=True, text=True, check=True
        ).stdout
    )
    mock = capymock.Mock(scenario=SESSION_SCENARIO, validate=False)
    mock.sessions.end(_post_session(mock, SESSION_SCENARIO))  # warm: parsed and planned once
    ids = [_post_session(mock, SESSION_SCENARIO) for _ in range(IDLE_SESSIONS)]
    starts = []
    for session_id in ids[: IDLE_SESSIONS // 2]:  # make room, then time starts one by one
        mock.sessions.end(session_id)
    for _ in range(300):
        begun = time.perf_counter()
        session_id = _post_session(mock, SESSION_SCENARIO)
        starts.append(time.perf_counter() - begun)
        mock.sessions.end(session_id)
    job = mock.jobs()[0].id
    root = Case(mock, _environ(mock, f"/v1/jobs/{job}"), True)
    inside = Case(mock, _environ(mock, f"/s/{ids[-1]}/v1/jobs/{job}"), True)
    us = time_cases({"root": root, "session": inside})
    return [
        Row(
            f"start a session of `{SESSION_SCENARIO}` (server-side)",
            statistics.median(starts) * 1e3,
            "ms",
            1,
            ISSUE,
        ),
        Row(f"{IDLE_SESSIONS:,} idle sessions, RSS added", grown, "MB", 50, ISSUE),
        Row("getJob in a session", us["session"], "µs"),
        Row("getJob in a session ÷ in the default one", us["session"] / us["root"], TIMES, 1.1, ISSUE),
    ]


# -- report ------------------------------------------------------------------------------


def _figure(value: float, unit: str) -> str:
    """A value with its unit, rounded for reading."""
    if unit == TIMES:
        return f"{value:.2f}{TIMES}"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:,.1f} {unit}"


def _limit(row: Row) -> str:
    """The budget as written, e.g. `≤ 150 ms (product budget)`; `—` for a context figure."""
    if row.budget is None:
        return "—"
    unit = row.unit if row.unit == TIMES else f" {row.unit}"
    return f"≤ {row.budget:g}{unit} ({row.source})"


def _row_line(row: Row) -> str:
    """One markdown table line."""
    budget = _limit(row)
    met = {None: "—", True: "yes", False: "**no**"}[row.met]
    return f"| {row.what} | {_figure(row.value, row.unit)} | {budget} | {met} |"


def render(rows: Iterable[Row]) -> str:
    """The figures as a markdown table."""
    head = ["| measurement (median) | value | budget | met? |", "|---|---:|---|---|"]
    return "\n".join([*head, *map(_row_line, rows)])


def summary(rows: list[Row], elapsed: float) -> str:
    """One line: how many budgets hold, which do not, and how long this took."""
    budgeted = [row for row in rows if row.met is not None]
    missed = [f"{row.what} {_limit(row)}" for row in budgeted if not row.met]
    verdict = f"missed: {'; '.join(missed)}" if missed else "all met"
    met = len(budgeted) - len(missed)
    return f"**{met} of {len(budgeted)} budgets met** ({verdict}); measured in {elapsed:.1f} s."


def environment() -> dict[str, Any]:
    """Where the figures come from."""
    return {
        "capymock": capymock.__version__,
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def write_json(path: Path, rows: list[Row], about: dict[str, Any], line: str) -> None:
    """Write the environment, every figure with its budget and verdict, and the summary."""
    figures = [{**asdict(row), "met": row.met} for row in rows]
    document = {**about, "figures": figures, "summary": line}
    path.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Measure, print the table and the summary, optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write the figures as JSON to PATH")
    parser.add_argument("--idle-sessions", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.idle_sessions:
        print(idle_sessions_mb())
        return 0
    started = time.perf_counter()
    rows = [*measure_startup(), *measure_serve(), *measure_reset(), *measure_requests(), *measure_sessions()]
    line = summary(rows, time.perf_counter() - started)
    about = environment()
    print(
        f"capymock {about['capymock']}, Python {about['python']}, {about['platform']}, {about['cpus']} CPUs"
    )
    print()
    print(render(rows))
    print()
    print(line)
    if args.json is not None:
        write_json(args.json, rows, about, line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
