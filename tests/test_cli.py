"""The `capymock` command, run as a subprocess."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import CAPYMOCK, serving
from conftest import ORACLE, ROOT, SPEC_PATH, http

pytestmark = pytest.mark.slow


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CAPYMOCK, *args], capture_output=True, text=True, timeout=30)


def test_serve_prints_a_curl_that_works_as_printed() -> None:
    with serving() as served:
        assert served.url.startswith("http://127.0.0.1:")
        assert served.token.startswith("capy_live_")
        assert served.project == "proj_demo"
        reply = http(served.curl_url, headers={"Authorization": f"Bearer {served.token}"})
        assert reply.status == 200
        ORACLE.check("GET", f"/v1/projects/{served.project}/jobs", 200, reply.body)
        assert len(reply.body["jobs"]) == 2


def test_the_demo_project_has_jobs_in_every_state() -> None:
    with serving() as served:
        reply = http(
            f"{served.url}/v1/projects/{served.project}/jobs",
            headers={"Authorization": f"Bearer {served.token}"},
        )
        ORACLE.check("GET", f"/v1/projects/{served.project}/jobs", 200, reply.body)
        assert {j["state"] for j in reply.body["jobs"]} == {
            "pending",
            "claimed",
            "running",
            "succeeded",
            "failed",
            "cancelled",
        }
        for job in reply.body["jobs"]:
            one = http(
                f"{served.url}/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {served.token}"}
            )
            assert one.body == {"job": job}


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_serve_stops_cleanly_on_a_signal(signum: signal.Signals) -> None:
    with serving() as served:
        assert (
            http(f"{served.url}/v1/jobs/x", headers={"Authorization": f"Bearer {served.token}"}).status == 404
        )
        served.wait_for_stderr("GET /v1/jobs/x")
        served.process.send_signal(signum)
        assert served.process.wait(timeout=60) == 0
        rest = served.process.stdout.read()  # type: ignore[union-attr]  # to its end: it exited
        errors = served.read_stderr_to_the_end()
    assert "capymock: stopped" in rest
    assert "Traceback" not in errors
    # The token is printed once, in the banner, and never logged.
    assert (served.banner + rest + errors).count(served.token) == 2  # the token line and the curl line


def test_any_token_is_announced_and_accepted() -> None:
    with serving(["--any-token"]) as served:
        assert "--any-token" in served.banner
        assert http(served.curl_url, headers={"Authorization": "Bearer capy_live_mine"}).status == 200


def test_a_port_in_use_is_a_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run("serve", "--port", str(port))
    assert result.returncode == 2
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "(try --port 0, any free port)" in result.stderr
    assert "Traceback" not in result.stderr


def test_make_serve_on_a_port_in_use_says_how_make_takes_another() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            ["make", "-s", "serve", f"PORT={port}"], capture_output=True, text=True, timeout=120, cwd=ROOT
        )
    assert result.returncode != 0
    assert f"cannot listen on 127.0.0.1:{port}" in result.stderr
    assert "(try make serve PORT=0, any free port)" in result.stderr


def test_a_missing_spec_is_a_clear_error(tmp_path) -> None:
    result = run("serve", "--spec", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    missing = tmp_path / "nope.yaml"
    expected = f"capymock: error: {missing}: cannot read the OpenAPI document (No such file or directory)"
    assert result.stderr.strip() == expected


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["serve", "--port", "0", "--start", "0001-01-01T00:00:00Z"], "is outside the years 1970 to 8899"),
        (["record", "--base-url", "http://127.0.0.1:9", "--project-id", "p", "-o", "-", "--token",
          "capy_live_x_0123456789", "--rate-limit", "inf"], "expected a whole number per second"),
        (["contract", "--base-url", "http://127.0.0.1:9", "--project-id", "p", "--token",
          "capy_live_x_0123456789", "--rate-limit", "1e400/m"], "expected a whole number per second"),
    ],
)  # fmt: skip
def test_values_beyond_range_are_clear_errors(args: list[str], message: str) -> None:
    done = subprocess.run([*CAPYMOCK, *args], capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_bad_option_is_a_usage_error() -> None:
    result = run("serve", "--port", "http")
    assert result.returncode == 2
    assert "Invalid value for '--port'" in result.stderr


def test_help_and_version() -> None:
    assert "serve" in run("--help").stdout
    assert run("--version").stdout.startswith("capymock, version ")


def test_schemathesis_cli_finds_no_issue_against_capymock_serve() -> None:
    schemathesis = Path(sys.executable).with_name("schemathesis")
    with serving() as served:
        result = subprocess.run(
            [
                str(schemathesis),
                "run",
                str(SPEC_PATH),
                "--url",
                served.url,
                "-H",
                f"Authorization: Bearer {served.token}",
                "--checks",
                "all",
                "--max-examples",
                "30",
                "--seed",
                "20261128",
                "--no-color",
            ],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert result.returncode == 0, result.stdout[-3000:]
    assert "No issues found" in result.stdout
