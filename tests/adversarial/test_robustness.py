"""Bad input and idle clients, as an outside probe sends them: never a traceback, never a 500,
never lost state, never a leaked token, never a blocked server."""

from __future__ import annotations

import base64
import json
import socket
import subprocess
import sys
import threading
from pathlib import Path

import pytest

import capymock
from capymock.web.servers import printable
from cli_helpers import CAPYMOCK, Served, serving
from conftest import BREAKS_GET_JOB, ORACLE, SPEC_PATH, http

pytestmark = pytest.mark.slow

PROJECT = "projects: [p]\n"


def laughs(levels: int) -> str:
    """A YAML "billion laughs": each level repeats the one before nine times."""
    lines = ["a0: &a0 [" + ", ".join(["lol"] * 9) + "]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 9) + "]" for i in range(1, levels)]
    return "\n".join(lines) + "\n" + PROJECT


def job(extra: str) -> str:
    return PROJECT + f"jobs:\n  - {{id: j, project: p, {extra}}}\n"


def steps(after: str) -> str:
    walk = f"[{{state: pending}}, {{after: {after}, state: claimed}}]"
    return PROJECT + f"jobs:\n  - {{id: j, project: p, steps: {walk}}}\n"


BAD_FILES = {
    "billion-laughs": (
        laughs(9),
        "6:5:",
        "the document holds more than 100,000 values once its aliases are expanded",
    ),
    "custom-tag": (job("type: !foo deploy"), "3:31: jobs[0].type:", "the tag !foo is not allowed"),
    "binary": (job("type: !!binary aGVsbG8="), "3:31: jobs[0].type:", "the tag !!binary is not allowed"),
    "python-tag": (PROJECT + "x: !!python/object/apply:os.system [ls]\n", "2:4: x:", "is not allowed"),
    "nul-byte": ("projects: [p\x00]\n", "1:13:", "character #x0000 is not allowed in a YAML file"),
    "5000-digits": (steps("9" * 5000), "3:", "jobs[0].steps[1].after: cannot read '999"),
    "4000-digits": (steps("9" * 4000), "3:", "jobs[0].steps[1].after: 999"),
    "leap-second": (
        'start: "2026-06-30T23:59:60Z"\n' + PROJECT,
        "1:8: start:",
        "not a date-time capymock can use",
    ),
    "leap-unquoted": ("start: 2026-06-30T23:59:60Z\n" + PROJECT, "1:8: start: cannot read", "second must be"),
    "leap-field": (
        job("steps: [{state: pending}, {state: claimed, claimed_at: '2026-06-30T23:59:60Z'}]"),
        "3:",
        "claimed_at: '2026-06-30T23:59:60Z' is not a date-time capymock can use",
    ),
    "float-count": (
        PROJECT + "jobs: [{generate: 40.5, project: p}]\n",
        "2:19: jobs[0].generate:",
        "an integer",
    ),
    "infinite": (steps(".inf"), "3:", "cannot read '.inf': not a finite number"),
    "slash-id": (PROJECT + "jobs: [{id: a/b, project: p}]\n", "2:13: jobs[0].id:", "no '/'"),
    "deep": (PROJECT + "x: " + "[" * 500 + "]" * 500 + "\n", "2:", "nest more than 64 deep"),
    "merge-scalar": (PROJECT + "x: &x 5\ny:\n  <<: *x\n", "4:3: y: cannot merge", "found scalar"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_validate_names_the_place_of_each_bad_file_and_exits_2(tmp_path: Path, name: str) -> None:
    text, where, what = BAD_FILES[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    result = subprocess.run([*CAPYMOCK, "validate", str(path)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}:{where}") and what in first, first


def test_a_whole_float_count_is_that_count(tmp_path: Path) -> None:
    path = tmp_path / "forty.yaml"
    path.write_text(PROJECT + "jobs: [{generate: 40.0, project: p}]\n")
    result = subprocess.run([*CAPYMOCK, "validate", str(path)], capture_output=True, text=True, timeout=60)
    assert (result.returncode, result.stdout.strip()) == (0, f"{path}: ok (forty: 40 jobs)")


def test_serve_with_a_bad_file_is_one_located_error(tmp_path: Path) -> None:
    path = tmp_path / "tag.yaml"
    path.write_text(BAD_FILES["custom-tag"][0])
    result = subprocess.run(
        [*CAPYMOCK, "serve", "--port", "0", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "tag.yaml:3:31: jobs[0].type: the tag !foo is not allowed" in result.stderr


def test_the_reload_watcher_outlives_any_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.yaml"
    path.write_text("name: first\n" + PROJECT)
    with serving(["--scenario", str(path), "--reload", "--quiet"]) as served:
        after = 0
        for name in ("custom-tag", "nul-byte", "5000-digits", "billion-laughs", "leap-second"):
            path.write_text(BAD_FILES[name][0], encoding="utf-8")
            after = served.wait_for_stderr("reload failed", after=after) + 1
        path.write_text("name: second\n" + PROJECT)
        served.wait_for_stderr("reloaded second", after=after)
        assert http(f"{served.url}/_capymock/state").body["scenario"] == "second"
        assert "Traceback" not in "".join(served.stderr)


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


@pytest.fixture(scope="module")
def served() -> Served:
    with serving(["--scenario", "retry-then-succeed", "--quiet"]) as running:
        yield running


def _control(served: Served, method: str, route: str, body: object = None, **headers: str):
    return http(f"{served.url}/_capymock/{route}", method, headers, body)


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory use from /proc")
def test_billion_laughs_over_http_is_a_422_that_costs_no_memory(served: Served) -> None:
    pid = served.process.pid
    before = _rss_kb(pid)
    for _ in range(5):
        reply = _control(served, "POST", "scenario", laughs(9).encode())
        assert reply.status == 422 and "aliases are expanded" in reply.body["error"]
    assert _control(served, "GET", "state").status == 200
    assert _rss_kb(pid) - before < 30_000, "the server grew by more than 30 MB"


def test_two_hundred_idle_connections_do_not_stop_a_new_request(served: Served) -> None:
    port = int(served.url.rsplit(":", 1)[1])
    idle = []
    try:
        for index in range(200):
            connection = socket.create_connection(("127.0.0.1", port), timeout=10)
            if index % 2:
                connection.sendall(b"GET /v1/jobs/x HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never finished
            idle.append(connection)
        assert _control(served, "GET", "state").status == 200
        for connection in idle[1::2]:  # one more byte each, a slow drip
            connection.sendall(b"X")
        assert _control(served, "GET", "state").status == 200
    finally:
        for connection in idle:
            connection.close()


def test_a_job_the_mock_cannot_store_is_refused_whole(served: Served) -> None:
    leap = {"id": "job_leap", "project_id": "proj_web", "created_at": "2026-06-30T23:59:60Z"}
    reply = _control(served, "POST", "jobs", leap)
    assert reply.status == 422
    assert "not a date-time capymock can use" in reply.body["error"]
    for route in ("state", "jobs", ""):
        assert _control(served, "GET", route).status == 200
    auth = {"Authorization": "Bearer capy_live_web_0123456789abcdef"}
    assert http(f"{served.url}/v1/jobs/job_leap", headers=auth).status == 404


@pytest.mark.parametrize(
    ("body", "status", "says"),
    [
        ({"project_id": ["a"]}, 422, 'project_id: ["a"] is not of type "string"'),
        ({"project_id": "proj_web", "organization_id": "org_other"}, 422, "belongs to 'org_demo'"),
        ({"state": "running", "attempts": 1e308}, 422, "attempts must be between 0 and max_attempts"),
        ({"id": ""}, 422, "id '' must be a non-empty string"),
        ({"id": "a/b"}, 422, "cannot contain '/'"),
        ({"state": "running", "attempts": "x"}, 422, 'attempts: "x" is not of type "integer"'),
    ],
)
def test_nonsense_jobs_are_a_422(served: Served, body: dict, status: int, says: str) -> None:
    reply = _control(served, "POST", "jobs", body)
    assert reply.status == status and says in reply.body["error"], reply.body


def test_control_bodies_that_used_to_crash_are_4xx(served: Served) -> None:
    json_type = {"Content-Type": "application/json"}
    nested = b'{"seconds": ' + b"[" * 100_000 + b"]" * 100_000 + b"}"
    assert _control(served, "POST", "advance", nested, **json_type).status == 400
    long_name = _control(served, "POST", "scenario", {"name": "x" * 100_000})
    assert long_name.status in (403, 422) and "xxxxxxxx" in long_name.body["error"]
    assert len(long_name.raw) < 2000
    assert _control(served, "POST", "scenario", b"\xff\xfe\x00", **json_type).status == 422
    assert _control(served, "POST", "advance", b"\xff\xfe\x00", **json_type).status == 400
    assert _control(served, "POST", "advance", b'{"seconds": NaN}', **json_type).status == 400


def test_the_clock_stops_short_of_the_end_of_time(served: Served) -> None:
    statuses = [_control(served, "POST", "advance", {"duration": "876000h"}).status for _ in range(90)]
    assert statuses.count(200) >= 70 and statuses[-1] == 422
    refused = _control(served, "POST", "advance", {"duration": "876000h"})
    assert "the clock cannot go past 9990-01-01" in refused.body["error"]
    auth = {"Authorization": "Bearer capy_live_web_0123456789abcdef"}
    assert http(f"{served.url}/v1/jobs/job_deploy_1", headers=auth).status == 200
    assert _control(served, "GET", "state").status == 200
    assert _control(served, "POST", "reset", {}).status == 200


def _jwt(payload: bytes) -> str:
    segment = base64.urlsafe_b64encode(payload).rstrip(b"=").decode()
    return f"eyJhbGciOiJub25lIn0.{segment}.c2ln"


@pytest.mark.parametrize(
    "payload",
    [
        b'{"sub": "u", "org_id": "org_demo", "exp": ' + b"[" * 5000 + b"]" * 5000 + b"}",
        b'{"sub": "u", "org_id": "org_demo", "exp": NaN}',
        b'{"sub": "u", "org_id": "org_demo", "exp": Infinity}',
        b'{"sub": "u", "org_id": "org_demo", "exp": 1e999}',
    ],
)
def test_malformed_session_tokens_are_a_401(served: Served, payload: bytes) -> None:
    reply = http(f"{served.url}/v1/jobs/job_deploy_1", headers={"Authorization": f"Bearer {_jwt(payload)}"})
    assert reply.status == 401 and reply.headers["WWW-Authenticate"].startswith("Bearer")


def test_prefer_200_answers_a_body_that_keeps_the_spec(served: Served) -> None:
    auth = {"Authorization": "Bearer capy_live_web_0123456789abcdef", "Prefer": "code=200"}
    for path in ("/v1/jobs/job_deploy_1", "/v1/projects/proj_web/jobs"):
        reply = http(f"{served.url}{path}", headers=auth)
        assert reply.status == 200
        ORACLE.check("GET", path, 200, reply.body)


SECRET = "capy_live_web_0123456789abcdef"


@pytest.mark.parametrize("header", [SECRET, f"Bearer:{SECRET}", f"{SECRET} extra", f"Token {SECRET}"])
def test_a_401_never_echoes_the_authorization_header(served: Served, header: str) -> None:
    reply = http(f"{served.url}/v1/jobs/job_deploy_1", headers={"Authorization": header})
    assert reply.status == 401 and "0123456789abcdef" not in reply.raw.decode()


def test_the_journal_redacts_every_header_that_can_carry_a_secret() -> None:
    with capymock.serve() as mock:
        headers = {
            "Authorization": SECRET,
            "X-Capymock-Token": "s3cret-control-token",
            "Cookie": "session=s3cret-cookie-value",
            "X-Api-Key": "s3cret-api-key",
            "Proxy-Authorization": "Basic czNjcmV0OnMzY3JldA==",
        }
        http(f"{mock.url}/v1/jobs/x", headers=headers)
        recorded = json.dumps(mock.requests[0].to_dict())
    assert "s3cret" not in recorded and "0123456789abcdef" not in recorded
    assert "czNjcmV0" not in recorded
    assert '"Authorization": "capy_live_web_\\u2026"' in recorded or "capy_live_web_…" in recorded


def test_defects_are_bounded_and_raised_once(tmp_path: Path) -> None:
    wrong = tmp_path / "openapi.yaml"
    wrong.write_text(SPEC_PATH.read_text().replace(*BREAKS_GET_JOB))
    mock = capymock.Mock(spec=wrong)
    job = mock.add_job()
    from werkzeug.test import Client

    client = Client(mock.wsgi_app)
    for _ in range(300):
        assert (
            client.get(f"/v1/jobs/{job.id}", headers={"Authorization": f"Bearer {mock.token}"}).status_code
            == 500
        )
    with pytest.raises(capymock.MockDefect, match=r"\(and 200 earlier ones\)") as raised:
        mock.check()
    assert str(raised.value).count("response does not match the spec") == 100
    mock.check()  # nothing left


def test_serve_prints_each_defect_as_it_happens(tmp_path: Path) -> None:
    wrong = tmp_path / "openapi.yaml"
    wrong.write_text(SPEC_PATH.read_text().replace(*BREAKS_GET_JOB))
    with serving(["--spec", str(wrong), "--quiet"]) as served:
        reply = http(
            f"{served.url}/v1/jobs/job_demo_build", headers={"Authorization": f"Bearer {served.token}"}
        )
        assert reply.status == 500
        served.wait_for_stderr(
            "capymock: defect of the mock itself (please report it): response does not match"
        )


def test_contract_with_a_control_character_in_the_token_is_exit_2_without_the_token() -> None:
    token = "capy_live_contract_secret_9876\r"
    result = subprocess.run(
        [*CAPYMOCK, "contract", "--base-url", "http://127.0.0.1:9", "--token", token],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr and "secret_9876" not in result.stdout + result.stderr
    assert "line break or control character" in result.stderr


def test_a_token_cut_at_the_edge_of_an_excerpt_is_still_redacted(tmp_path: Path) -> None:
    """A deployment that echoes the token where the report's excerpt ends."""
    from capymock.contract import run_contract
    from conftest import SPEC_PATH as spec

    token = "capy_live_edge_" + "t" * 24

    class Echo(threading.Thread):
        def __init__(self) -> None:
            super().__init__(daemon=True)
            self.listener = socket.create_server(("127.0.0.1", 0))

        def run(self) -> None:
            while True:
                try:
                    connection, _ = self.listener.accept()
                except OSError:
                    return
                with connection:
                    connection.recv(65536)
                    body = ("x" * 270 + token + "y" * 50).encode()  # the excerpt ends inside the token
                    connection.sendall(
                        b"HTTP/1.1 500 Oops\r\nContent-Type: text/plain\r\nConnection: close\r\n"
                        + f"Content-Length: {len(body)}\r\n\r\n".encode()
                        + body
                    )

    echo = Echo()
    echo.start()
    port = echo.listener.getsockname()[1]
    report = run_contract(f"http://127.0.0.1:{port}", token, max_examples=1, rate_limit=None, spec=spec)
    echo.listener.close()
    text = report.render() + report.junit_xml()
    assert report.violations
    assert "tttttttttttt" not in text


def test_a_second_request_is_answered_while_a_scenario_post_is_refused(served: Served) -> None:
    refused: list[int] = []
    poster = threading.Thread(
        target=lambda: refused.append(_control(served, "POST", "scenario", laughs(9).encode()).status)
    )
    poster.start()
    answered = _control(served, "GET", "state").status  # a hung server fails this: a 30 s timeout
    poster.join(60)
    assert not poster.is_alive(), "the billion-laughs POST got no answer"
    assert (answered, refused) == (200, [422])


def test_validate_never_exits_1(tmp_path: Path) -> None:
    """A sample of hostile files, each through the real command: exit 0 or 2, never a traceback."""
    samples = [
        b"",
        b"\x00",
        b"\xff\xfe",
        b"- - - -",
        b"{",
        b"projects: !!set {a, b}",
        b"? [a]\n: b\n",
        b"&a [*a]",
    ]
    for index, raw in enumerate(samples):
        path = tmp_path / f"s{index}.yaml"
        path.write_bytes(raw)
        result = subprocess.run(
            [sys.executable, "-m", "capymock", "validate", str(path)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert result.returncode in (0, 2) and "Traceback" not in result.stderr, (raw, result.stderr)


def test_a_printed_defect_keeps_its_lines_and_escapes_every_other_control_character() -> None:
    # A crash's message names the request's path, which any page chooses.
    message = "GET /v1/jobs/\x1b[2J\r\x9b crashed:\nTraceback (most recent call last):\n  ..."
    assert (
        printable(message)
        == "GET /v1/jobs/\\x1b[2J\\x0d\\x9b crashed:\nTraceback (most recent call last):\n  ..."
    )
