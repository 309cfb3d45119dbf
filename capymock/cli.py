"""The `capymock` command: parse, call, print. `main(argv) -> exit code`."""

from __future__ import annotations

import os
import signal
import sys
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit

import click

from capymock.core.auth import redact
from capymock.core.defaults import (
    DEFAULT_PROJECT,
    MAX_CONTROL_BODY,
    MAX_JOBS,
    SESSION_BYTE_BUDGET,
    SESSION_JOB_BUDGET,
)
from capymock.core.sizes import format_size
from capymock.core.spec import JOB
from capymock.errors import CapymockError
from capymock.version import __version__
from capymock.web.servers import SERVERS

if TYPE_CHECKING:
    from capymock.contract.report import ContractReport
    from capymock.mock import Mock

USAGE_ERROR = 2
F = TypeVar("F", bound=Callable[..., Any])


class CliError(click.ClickException):
    """Bad input or an unusable environment: printed as one line, exit 2."""

    exit_code = USAGE_ERROR


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="capymock")
def cli() -> None:
    """Mock server, pytest plugin and contract checks for the Capy Jobs API."""


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=4010, show_default=True, type=click.IntRange(0, 65535), help="Port (0: any free port)."
)
@click.option(
    "--scenario",
    "scenarios",
    multiple=True,
    metavar="NAME|PATH",
    help="Scenario to load (repeatable; default: demo). See `capymock scenarios`.",
)
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(min=0, max=1e6),
    help="Virtual seconds per real second (0: start paused).",
)
@click.option("--paused", is_flag=True, help="Start with the clock paused (POST /_capymock/clock to run it).")
@click.option(
    "--start-on-first-request",
    is_flag=True,
    help="Hold the clock at the scenario's start until the API's first request (after each load and reset).",
)
@click.option(
    "--start",
    "start",
    metavar="now|DATE-TIME",
    help="Start the clock here whatever the scenario says: now (real time), or 2026-01-01T09:00:00Z.",
)
@click.option("--reload", is_flag=True, help="Re-load scenario files when they change.")
@click.option(
    "--spec", type=click.Path(dir_okay=False), help="OpenAPI document to serve (default: the bundled one)."
)
@click.option("--any-token", is_flag=True, help="Accept any bearer token as the scenario organization's.")
@click.option("--control-token", help="Require this token on the control API (needed off loopback).")
@click.option(
    "--validate/--no-validate", default=True, show_default=True, help="Check every response against the spec."
)
@click.option(
    "--scenarios-dir",
    "scenarios_dirs",
    multiple=True,
    type=click.Path(file_okay=False, exists=True),
    help="A folder the control API may load scenario files from (repeatable; the folders of "
    "--scenario files are allowed already).",
)
@click.option(
    "--allow-origin",
    "allow_origins",
    multiple=True,
    metavar="ORIGIN",
    help="A browser origin (http://host:port) that may use the control API and dashboard (repeatable).",
)
@click.option(
    "--allow-host",
    "allow_hosts",
    multiple=True,
    metavar="NAME",
    help="A Host name to answer besides loopback ones and --host (repeatable).",
)
@click.option(
    "--session-ttl",
    default="30m",
    show_default=True,
    callback=lambda ctx, param, value: _duration(value, "--session-ttl"),
    help="End a session after this long without a request (sessions: POST /_capymock/sessions).",
)
@click.option(
    "--max-sessions",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="The most sessions live at once; beyond it, starting one is a 429.",
)
@click.option(
    "--answer-cache",
    default="32MB",
    show_default=True,
    metavar="SIZE",
    callback=lambda ctx, param, value: _size(value, "--answer-cache", zero=True),
    help="Memory for remembered answers, shared by the server and all its sessions (0: none); "
    "past it, the answers used least recently are forgotten.",
)
@click.option(
    "--max-held",
    default=1000,
    show_default=True,
    type=click.IntRange(1, 100_000),
    help="The most requests faults' delays hold back at once, server-wide; beyond it, a 503.",
)
@click.option(
    "--journal-bytes",
    default="16MB",
    show_default=True,
    metavar="SIZE",
    callback=lambda ctx, param, value: _size(value, "--journal-bytes", zero=True),
    help="Memory for the request journals, shared by the server and all its sessions (0: none); "
    "past it, the oldest entries are dropped first.",
)
@click.option(
    "--max-session-jobs",
    default=SESSION_JOB_BUDGET,
    show_default=True,
    type=click.IntRange(0, 10_000_000),
    help="The most jobs all live sessions hold together; a session's load or job past it is a 503.",
)
@click.option(
    "--max-session-bytes",
    default=format_size(SESSION_BYTE_BUDGET),
    show_default=True,
    metavar="SIZE",
    callback=lambda ctx, param, value: _size(value, "--max-session-bytes"),
    help="The most scenario text all live sessions were loaded from, together; past it, a 503.",
)
@click.option(
    "--max-jobs",
    default=MAX_JOBS,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="The most jobs one load may hold (aliases and generate counted); more is a scenario error.",
)
@click.option(
    "--max-body",
    default=format_size(MAX_CONTROL_BODY),
    show_default=True,
    metavar="SIZE",
    callback=lambda ctx, param, value: _size(value, "--max-body"),
    help="The largest control request body (an inline scenario too); larger is a 413.",
)
@click.option("--quiet", is_flag=True, help="Do not log a line per request.")
@click.option(
    "--threads",
    type=click.IntRange(1, 64),
    help="Python threads that answer requests. Default: 1, the fastest (a request held back by a "
    "fault's delay never holds the others back; under waitress, 8 threads serve while one is armed, "
    "and each held request gets one more).",
)
@click.option(
    "--server",
    "server",
    type=click.Choice(SERVERS),
    default="auto",
    show_default=True,
    help="HTTP server: granian (HTTP in Rust), waitress (pure Python), or auto: granian where it installs.",
)
def serve(
    host: str,
    port: int,
    scenarios: tuple[str, ...],
    speed: float,
    paused: bool,
    start_on_first_request: bool,
    start: str | None,
    reload: bool,
    spec: str | None,
    any_token: bool,
    control_token: str | None,
    validate: bool,
    scenarios_dirs: tuple[str, ...],
    allow_origins: tuple[str, ...],
    allow_hosts: tuple[str, ...],
    session_ttl: timedelta,
    max_sessions: int,
    answer_cache: int,
    max_held: int,
    journal_bytes: int,
    max_session_jobs: int,
    max_session_bytes: int,
    max_jobs: int,
    max_body: int,
    quiet: bool,
    threads: int | None,
    server: str,
) -> None:
    """Serve the Capy Jobs API from scenarios, until Ctrl-C or SIGTERM."""
    _stop_on_signals()
    from capymock.core import memo
    from capymock.mock import Mock
    from capymock.system.clock import SystemClock
    from capymock.web.access import is_loopback
    from capymock.web.served import Served
    from capymock.web.servers import NoServer

    if not is_loopback(host.strip("[]")) and not control_token:
        raise CliError(f"--host {host} exposes the control API beyond this machine; pass --control-token")
    for origin in allow_origins:
        parts = urlsplit(origin)
        if parts.scheme not in ("http", "https") or not parts.netloc or parts.path.strip("/"):
            raise CliError(f"--allow-origin {origin!r}: expected an origin such as http://localhost:5173")
    memo.SHARED.limit = answer_cache
    references = scenarios or ("demo",)
    folders = [Path(reference).parent for reference in references if Path(reference).is_file()]
    mock = Mock(
        spec=spec,
        clock=SystemClock(speed or 1.0, paused=paused or speed == 0),
        validate=validate,
        any_token=any_token,
        control_token=control_token,
        journal_bytes=journal_bytes,
        max_jobs=max_jobs,
        max_body=max_body,
    )
    mock.start = _start(start)
    mock.sessions.ttl, mock.sessions.limit = session_ttl, max_sessions
    mock.sessions.job_budget, mock.sessions.byte_budget = max_session_jobs, max_session_bytes
    mock.start_on_first_request = start_on_first_request
    mock.load(*references)
    mock.on_defect = _print_defect
    served = Served(
        mock,
        mock.sessions,
        host=host,
        port=port,
        allow_hosts=allow_hosts,
        allow_origins=allow_origins,
        scenario_dirs=[*folders, *map(Path, scenarios_dirs)],
    )
    served.app.holds.limit = max_held

    def ready(url: str, layer: str) -> None:
        mock.url = url
        _print_banner(mock, layer)

    try:
        served.run(
            on_ready=ready,
            server=server,
            threads=threads,
            log=None if quiet else sys.stderr,
            reload=references if reload else (),
            say=lambda text: click.echo(text, err=True),
        )
    except NoServer as exc:
        fallback = "" if server == "waitress" else "; --server waitress serves without granian"
        raise CliError(f"--server {server}: {exc}{fallback}") from None
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None
    click.echo("capymock: stopped")


def _cannot_listen(host: str, port: int, exc: OSError) -> CliError:
    reason = os.strerror(exc.errno) if exc.errno else str(exc)
    hint = os.environ.get("CAPYMOCK_PORT_HINT") or "--port 0"  # `make serve` says how it takes a port
    return CliError(f"cannot listen on {host}:{port}: {reason} (try {hint[:100]}, any free port)")


def _print_defect(message: str) -> None:
    from capymock.web.servers import printable

    click.echo(f"capymock: defect of the mock itself (please report it): {printable(message)}", err=True)


def _stop_on_signals() -> None:
    """Ctrl-C and SIGTERM stop `serve` whatever it inherited (`capymock serve &` in a script starts
    with SIGINT ignored, and Python leaves it so)."""
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, signal.default_int_handler)


def _size(value: str, option: str, *, zero: bool = False) -> int:
    """A size option's bytes (`zero`: "0" too, for none)."""
    from capymock.core.sizes import parse_size

    if zero and value.strip() == "0":
        return 0
    try:
        return parse_size(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None


def _duration(value: str, option: str) -> timedelta:
    from capymock.core.durations import parse_duration

    try:
        duration = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint=option) from None
    if not duration:
        raise click.BadParameter("must be longer than 0", param_hint=option)
    return duration


def _start(value: str | None) -> datetime | Literal["now"] | None:
    """`--start`: now (the real time of each load), or a date-time."""
    from capymock.core.timestamps import parse_timestamp, timestamp_problem
    from capymock.scenario.checks import start_problem

    if value is None:
        return None
    if value == "now":
        return "now"
    problem = timestamp_problem(value) or start_problem(parse_timestamp(value))
    if problem:
        raise CliError(f"--start {value!r} {problem}; give now or a date-time such as 2026-01-01T09:00:00Z")
    return parse_timestamp(value)


def _print_banner(mock: Mock, layer: str) -> None:
    store = mock.world.store
    projects = [p for p in store.projects() if store.project_organization(p) == mock.organization_id]
    project = projects[0] if projects else DEFAULT_PROJECT
    listing = mock.spec.listing
    page = f"?{listing.page_size.name}=2" if listing.page_size is not None else ""
    jobs_url = f"{mock.url}{listing.fill_fields({JOB.project: project})}{page}"
    clock = mock.clock_state()
    pace = f", clock at {clock['speed']:g}x" if clock["speed"] not in (0, 1) else ""
    click.echo(f"capymock {__version__}: {mock.spec.title} mock at {mock.url}")
    click.echo(f"  scenario  {mock.scenario} ({len(store)} jobs{pace})")
    click.echo(
        f"  project   {project}" + (f" (also: {', '.join(projects[1:])})" if len(projects) > 1 else "")
    )
    click.echo(f"  token     {mock.token} (organization {mock.organization_id})")
    for token, principal in mock.world.keyring.items():
        if token != mock.token:
            scope = (
                f"project {principal.project_id}"
                if principal.project_id
                else f"organization {principal.organization_id}"
            )
            click.echo(f"  token     {token} ({scope})")
    if mock.any_token:
        click.echo("            (--any-token: any bearer token is accepted)")
    if clock["waiting_for_first_request"]:
        click.echo(f"  clock     held at {clock['now']} until the API's first request")
    elif clock["paused"]:
        click.echo(f'  clock     paused at {clock["now"]}: POST /_capymock/clock {{"speed": 1}} to run it')
    click.echo(f"  dashboard {mock.url}/_capymock/")
    click.echo(f"  server    {layer}")
    click.echo(f"  try       curl -H 'Authorization: Bearer {mock.token}' '{jobs_url}'")
    click.echo(f"Press Ctrl-C to stop. The token is shown as {redact(mock.token)} from here on.")
    sys.stdout.flush()


@cli.command("scenarios")
def list_scenarios() -> None:
    """List the bundled scenarios."""
    from capymock.scenario.loader import bundled_scenarios, load_scenario
    from capymock.system.specs import load_spec

    spec = load_spec()
    rows = [(name, load_scenario(path, spec).description) for name, path in bundled_scenarios().items()]
    width = max(len(name) for name, _ in rows)
    for name, description in rows:
        click.echo(f"{name.ljust(width)}  {description}")


@cli.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--spec", type=click.Path(dir_okay=False), help="OpenAPI document to check against.")
@click.option(
    "--max-jobs",
    default=MAX_JOBS,
    show_default=True,
    type=click.IntRange(1, 10_000_000),
    help="The most jobs a scenario may hold (aliases and generate counted), as serve --max-jobs.",
)
def validate(files: tuple[str, ...], spec: str | None, max_jobs: int) -> int:
    """Check scenario files; exit 0 when all are valid, 2 otherwise."""
    from capymock.errors import ScenarioError
    from capymock.scenario.loader import load_scenario
    from capymock.system.specs import load_spec

    loaded = load_spec(spec)
    failed = 0
    for file in files:
        try:
            scenario = load_scenario(Path(file), loaded, max_jobs=max_jobs)
        except ScenarioError as exc:
            failed += 1
            click.echo(str(exc), err=True)
        else:
            count = len(scenario.jobs)
            click.echo(f"{file}: ok ({scenario.name}: {count} job{'' if count == 1 else 's'})")
    return USAGE_ERROR if failed else 0


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False),
    help="Write the page here (default: FILE's name with .html).",
)
@click.option("--text", is_flag=True, help="Print one line a job to the terminal instead of writing a page.")
@click.option("--spec", type=click.Path(dir_okay=False), help="OpenAPI document to check against.")
def show(file: str, output: str | None, text: bool, spec: str | None) -> int:
    """Draw a scenario's or a recording's timeline: a self-contained HTML page, or text."""
    from capymock.core.clock import ManualClock
    from capymock.errors import ScenarioError
    from capymock.mock import Mock
    from capymock.system.clock import wall_clock_now
    from capymock.web.timeline_page import html_page, text_lines
    from capymock.world.lanes import LaneFilter

    try:
        mock = Mock(scenario=Path(file), spec=spec, clock=ManualClock(wall_clock_now()))
    except ScenarioError as exc:
        lines = str(exc).splitlines() or [str(exc)]
        more = f" (and {len(lines) - 1} more: capymock validate {file})" if len(lines) > 1 else ""
        click.echo(f"capymock show: {lines[0]}{more}", err=True)
        return USAGE_ERROR
    answer = mock.lanes(LaneFilter(limit=10**9))  # every lane: a file is drawn whole
    if text:
        for line in text_lines(answer):
            click.echo(line)
        return 0
    target = Path(output) if output else Path(file).with_suffix(".html")
    try:
        target.write_text(html_page(answer, Path(file).name), encoding="utf-8")
    except OSError as exc:
        raise CliError(f"cannot write {target}: {exc.strerror or exc}") from None
    count = answer["total"]
    click.echo(f"capymock show: wrote {target} ({count} job{'' if count == 1 else 's'})", err=True)
    return 0


def _token_options(note: str) -> Callable[[F], F]:
    """`--token` and `--token-env`, as every command that talks to a deployment takes them."""

    def add(command: F) -> F:
        command = click.option(
            "--token-env",
            default="CAPY_TOKEN",
            show_default=True,
            metavar="NAME",
            help=f"The environment variable holding the token (unless --token is given); {note}.",
        )(command)
        return click.option(
            "--token", help="Its bearer token; never printed. Better: put it in $CAPY_TOKEN or --token-env."
        )(command)

    return add


def _rate_limit_option(prefix: str) -> Callable[[F], F]:
    text = f"{prefix}at most this many requests (10/s, 300/m; 0: no limit)."
    return click.option("--rate-limit", default="10/s", show_default=True, help=text[0].upper() + text[1:])


@cli.command()
@click.option(
    "--base-url", required=True, envvar="CAPY_BASE_URL", help="The deployment to check (also CAPY_BASE_URL)."
)
@_token_options("printed curls read it")
@click.option(
    "--project-id", help="A project of the token's: its real jobs are checked (else found from --job-id)."
)
@click.option(
    "--job-id",
    help="A job of the token's to check too (its project is checked when --project-id is not given).",
)
@click.option(
    "--max-examples",
    default=25,
    show_default=True,
    type=click.IntRange(min=1),
    help="Generated requests per operation and phase.",
)
@click.option("--seed", type=int, help="Seed for repeatable runs (default: random, printed).")
@_rate_limit_option("")
@click.option(
    "--max-time",
    default=300.0,
    show_default=True,
    type=click.FloatRange(min=0, min_open=True),
    help="Stop sending after this many seconds.",
)
@click.option(
    "--junit-xml", type=click.Path(dir_okay=False), help="Also write a JUnit XML report (on every exit)."
)
@click.option(
    "--spec", type=click.Path(dir_okay=False), help="OpenAPI document to check against (default: bundled)."
)
@click.option(
    "--watch",
    "watch",
    metavar="DURATION",
    help="After the checks, keep reading the project (and --job-id) this long ('60s', '5m') and "
    "check every change of a job against the lifecycle.",
)
@click.option(
    "--allow-writes",
    is_flag=True,
    help="Also send operations that write (POST, PATCH, ...), only with no or forged tokens. "
    "Without it, only safe methods are sent.",
)
def contract(
    base_url: str,
    token: str | None,
    token_env: str,
    project_id: str | None,
    job_id: str | None,
    max_examples: int,
    seed: int | None,
    rate_limit: str,
    max_time: float,
    junit_xml: str | None,
    spec: str | None,
    allow_writes: bool,
    watch: str | None,
) -> int:
    """Check that a deployment honours the spec. Exit 0 conformant, 1 violations, 2 could not tell."""
    try:
        report = _run_contract(
            base_url,
            token,
            token_env,
            **{
                "project_id": project_id,
                "job_id": job_id,
                "max_examples": max_examples,
                "seed": seed,
                "rate_limit": rate_limit,
                "max_time": max_time,
                "spec": spec,
                "allow_writes": allow_writes,
                "watch": _duration(watch, "--watch").total_seconds() if watch else 0.0,
            },
        )
    except (CapymockError, ImportError, CliError) as exc:
        if junit_xml:
            from capymock.contract.report import ContractReport

            failed = ContractReport(base_url, seed or 0, error=str(exc))
            Path(junit_xml).write_text(failed.junit_xml(), encoding="utf-8")
        raise CliError(str(exc)) from None
    click.echo(report.render())
    if junit_xml:
        Path(junit_xml).write_text(report.junit_xml(), encoding="utf-8")
    return report.exit_code


def _run_contract(base_url: str, token: str | None, token_env: str, **options: Any) -> ContractReport:
    from capymock.contract import run_contract  # needs the contract extra

    return run_contract(base_url, _secret(token, token_env), token_variable=token_env, **options)


def _secret(token: str | None, token_env: str) -> str:
    """--token, else the variable --token-env names; a CliError when neither holds a token."""
    secret = token or os.environ.get(token_env, "")
    if not secret:
        raise CliError(f"no token: pass --token or set ${token_env}")
    return secret


@cli.command()
@click.option(
    "--base-url", envvar="CAPY_BASE_URL", help="Poll mode: the deployment to watch (also CAPY_BASE_URL)."
)
@_token_options("poll mode; never written")
@click.option("--project-id", help="Poll mode: the project whose jobs to watch.")
@click.option(
    "--job-id",
    "job_ids",
    multiple=True,
    help="Poll mode: watch this job (repeatable; default: every job the project lists at first).",
)
@click.option(
    "--interval", default="1s", show_default=True, help="Poll mode: time between two rounds of reads."
)
@click.option(
    "--duration",
    help="Stop after this long (default: once every watched job is finished; proxy: on Ctrl-C).",
)
@_rate_limit_option("Poll mode, one request at a time: ")
@click.option(
    "--proxy", is_flag=True, help="Proxy mode: forward requests to --target and record what passes."
)
@click.option("--target", help="Proxy mode: the deployment to forward to.")
@click.option("--host", default="127.0.0.1", show_default=True, help="Proxy mode: address to listen on.")
@click.option(
    "--port",
    default=4010,
    show_default=True,
    type=click.IntRange(0, 65535),
    help="Proxy mode: port (0: any).",
)
@click.option(
    "--timeout",
    default="10s",
    show_default=True,
    help="Wait this long for the deployment's whole answer; no answer in time is recorded as a fault.",
)
@click.option(
    "--max-answer",
    default="16MB",
    show_default=True,
    metavar="SIZE",
    callback=lambda ctx, param, value: _size(value, "--max-answer"),
    help="The largest answer the deployment may send (a larger one is a 502, or no answer).",
)
@click.option(
    "--redact",
    default="",
    metavar="FIELD,...",
    help="Write these job fields as [redacted] (e.g. last_stdout,last_stderr,error).",
)
@click.option(
    "--rename", is_flag=True, help="Write organization, project and job ids as stable placeholders."
)
@click.option(
    "--schema",
    "schema_location",
    metavar="PATH|URL",
    help="Where the file's yaml-language-server line points (default: the installed capymock's schema).",
)
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(dir_okay=False, allow_dash=True),
    help="The scenario file to write (-: standard output).",
)
@click.option("--spec", type=click.Path(dir_okay=False), help="OpenAPI document of the deployment.")
def record(
    base_url: str | None,
    token: str | None,
    token_env: str,
    project_id: str | None,
    job_ids: tuple[str, ...],
    interval: str,
    duration: str | None,
    rate_limit: str,
    proxy: bool,
    target: str | None,
    host: str,
    port: int,
    timeout: str,
    max_answer: int,
    redact: str,
    rename: bool,
    schema_location: str | None,
    output: str,
    spec: str | None,
) -> int:
    """Watch a deployment and write a scenario that replays what its jobs did.

    \b
    Poll mode:  capymock record --base-url URL --project-id P -o recorded.yaml
    Proxy mode: capymock record --proxy --target URL --port 4010 -o recorded.yaml
    """
    _stop_on_signals()
    from capymock.core.rates import parse_rate
    from capymock.record.writer import Options
    from capymock.system.specs import load_spec

    loaded = load_spec(spec)
    redacted = tuple(filter(None, map(str.strip, redact.split(","))))
    unknown = [name for name in redacted if name not in loaded.job_fields]
    if unknown:
        raise CliError(
            f"--redact {','.join(unknown)}: not a job field; job fields: {', '.join(loaded.job_fields)}"
        )
    try:
        rate = parse_rate(rate_limit)
    except ValueError as exc:
        raise CliError(f"--rate-limit {exc}") from None
    options = Options(
        redact=redacted,
        rename=rename,
        schema=schema_location or _schema_location(output),
        interval=None if proxy else _duration(interval, "--interval").total_seconds(),
        timeout=_duration(timeout, "--timeout").total_seconds(),
    )
    stop_after = _duration(duration, "--duration").total_seconds() if duration else None
    folder = Path(output).resolve().parent
    if output != "-" and not (folder.is_dir() and os.access(folder, os.W_OK)):
        raise CliError(f"-o {output}: {folder} is not a folder this user can write in")
    if proxy:
        if not target:
            raise CliError("--proxy needs --target URL: the deployment to forward to")
        recording = _record_as_proxy(
            _base_url(target, "--target"), loaded, host, port, options, stop_after, max_answer
        )
    else:
        if not base_url or not project_id:
            raise CliError("poll mode needs --base-url and --project-id (or --proxy --target URL)")
        from capymock.record.poll import Target

        secret = _secret(token, token_env)
        watch = Target(
            _base_url(base_url, "--base-url"),
            secret,
            project_id,
            job_ids,
            interval=options.interval or 1.0,
            duration=stop_after,
            rate=rate,
            timeout=options.timeout,
            max_answer=max_answer,
        )
        recording = _record_by_polling(watch, loaded)
    return _write_recording(recording, loaded, options, output)


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}{'' if number == 1 else 's'}"


def _base_url(url: str, option: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise CliError(f"{option} {url!r}: expected a URL such as https://api.capy.example")
    return url.rstrip("/")


def _schema_location(output: str) -> str:
    """The installed scenario schema, relative to the output's folder where it can be."""
    installed = Path(__file__).parent / "schemas" / "scenario.schema.json"
    folder = Path.cwd() if output == "-" else Path(output).resolve().parent
    try:
        return Path(os.path.relpath(installed, folder)).as_posix()
    except ValueError:  # another drive (Windows)
        return installed.as_uri()


def _progress(spec: Any) -> Any:
    """A line on stderr per change seen: when, which job, its state and attempts (never a token)."""
    import time

    began, lifecycle = time.monotonic(), spec.lifecycle

    def changed(job_id: str, job: Any) -> None:
        counter = lifecycle.retry.counter
        shown = f"{job.get(lifecycle.field)} ({counter} {job.get(counter)})"
        click.echo(f"  +{time.monotonic() - began:6.1f}s  {job_id[:100]}: {shown}", err=True)

    return changed


def _record_by_polling(watch: Any, spec: Any) -> Any:
    from capymock.record.observations import public_url
    from capymock.record.poll import RecordError, record_by_polling

    ids = ", ".join(watch.job_ids) or f"every job of {watch.project_id}"
    until = f"for {watch.duration:g}s" if watch.duration else "until they are all finished"
    click.echo(
        f"capymock record: watching {ids} at {public_url(watch.base_url)}, {until} (Ctrl-C: stop and write)",
        err=True,
    )
    try:
        return record_by_polling(watch, spec, on_change=_progress(spec))
    except RecordError as exc:
        raise CliError(str(exc)) from None


def _record_as_proxy(
    target: str, spec: Any, host: str, port: int, options: Any, stop_after: float | None, max_answer: int
) -> Any:
    from capymock.record.observations import public_url
    from capymock.record.proxy import RecordingProxy
    from capymock.web.access import Access
    from capymock.web.served import DELAY_THREADS, run_until_stopped

    proxy = RecordingProxy(
        target, spec, timeout=options.timeout, access=Access.serving(host), max_answer=max_answer
    )
    proxy.on_change = _progress(spec)

    def ready(url: str, layer: str) -> None:
        click.echo(
            f"capymock record: forwarding {url} to {public_url(target)} (Ctrl-C: stop and write)", err=True
        )

    try:
        run_until_stopped(proxy, host, port, on_ready=ready, threads=DELAY_THREADS, stop_after=stop_after)
    except OSError as exc:
        raise _cannot_listen(host, port, exc) from None
    return proxy.recording


def _write_recording(recording: Any, spec: Any, options: Any, output: str) -> int:
    from capymock.record.writer import write_checked

    shown = "standard output" if output == "-" else output
    text, problem = write_checked(recording, spec, options, shown_as=shown)
    if problem is not None:  # a defect of the writer: keep the file, say so
        click.echo(
            f"capymock record: defect (please report it): the recording does not validate:\n{problem}",
            err=True,
        )
    try:
        if output == "-":
            click.echo(text, nl=False)
        else:
            Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:  # the recording is not lost: it goes to standard output instead
        click.echo(text, nl=False)
        raise CliError(
            f"cannot write {output}: {exc.strerror or exc}; the scenario is on standard output"
        ) from None
    jobs, changes, faults = len(recording.jobs), recording.changes(), len(recording.failures)
    counts = f"{_count(jobs, 'job')}, {_count(changes, 'change')}, {_count(faults, 'failure')}"
    click.echo(f"capymock record: wrote {shown}: {counts} seen", err=True)
    return 0 if problem is None else 1


@cli.command()
@click.option(
    "--spec", type=click.Path(dir_okay=False), help="OpenAPI document whose states and fields to use."
)
def schema(spec: str | None) -> None:
    """Print the JSON Schema of scenario files (for editors)."""
    import json

    from capymock.scenario.schema import build_scenario_schema
    from capymock.system.specs import load_spec

    click.echo(json.dumps(build_scenario_schema(load_spec(spec)), indent=2))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return its exit code (2 for usage errors and bad input).

    A process that served on granian ends here, at once (see `servers.leave`): the
    interpreter is not torn down under granian's threads."""
    code = _main(argv)
    from capymock.web.servers import leave_if_granian_served

    leave_if_granian_served(code)
    return code


def _main(argv: Sequence[str] | None) -> int:
    try:
        result = cli.main(
            args=list(argv) if argv is not None else None, prog_name="capymock", standalone_mode=False
        )
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except CapymockError as exc:
        click.echo(f"capymock: error: {exc}", err=True)
        return USAGE_ERROR
    except click.Abort:
        click.echo("Aborted!", err=True)
        return 1
    return result if isinstance(result, int) else 0
