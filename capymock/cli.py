"""The `capymock` command: parse, call, print. `main(argv) -> exit code`."""

from __future__ import annotations

import os
import signal
import sys
import threading
from collections.abc import Sequence
from typing import Any

import click

from capymock.auth import redact
from capymock.errors import CapymockError
from capymock.version import __version__

USAGE_ERROR = 2


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
    "--spec", type=click.Path(dir_okay=False), help="OpenAPI document to serve (default: the bundled one)."
)
@click.option("--any-token", is_flag=True, help="Accept any bearer token as the demo organization's.")
@click.option(
    "--validate/--no-validate", default=True, show_default=True, help="Check every response against the spec."
)
def serve(host: str, port: int, spec: str | None, any_token: bool, validate: bool) -> None:
    """Serve the Capy Jobs API with a demo project, until Ctrl-C or SIGTERM."""
    from capymock.clock import SystemClock
    from capymock.demo import seed_demo
    from capymock.mock import Mock
    from capymock.server import BackgroundServer

    mock = Mock(spec=spec, clock=SystemClock(), validate=validate, any_token=any_token)
    project = seed_demo(mock)
    try:
        server = BackgroundServer(mock.wsgi_app, host, port, quiet=False)
    except OSError as exc:
        reason = os.strerror(exc.errno) if exc.errno else str(exc)
        raise CliError(f"cannot listen on {host}:{port}: {reason} (try --port 0)") from None
    mock.url = server.url
    _print_banner(mock, project)
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    with server:
        stop.wait()
    click.echo("capymock: stopped")


def _print_banner(mock: Any, project: str) -> None:
    jobs_url = f"{mock.url}/v1/projects/{project}/jobs?limit=2"
    click.echo(f"capymock {__version__}: {mock.spec.title} mock at {mock.url}")
    click.echo(f"  project  {project} ({len(mock.store)} jobs)")
    click.echo(f"  token    {mock.token}")
    if mock.any_token:
        click.echo("           (--any-token: any bearer token is accepted)")
    click.echo(f"  try      curl -H 'Authorization: Bearer {mock.token}' '{jobs_url}'")
    click.echo(f"Press Ctrl-C to stop. The token is shown as {redact(mock.token)} from here on.", nl=True)
    sys.stdout.flush()


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; return its exit code (2 for usage errors and bad input)."""
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
