"""A stranger's scenario input against its bounds, from outside: `capymock validate` and `serve`
as subprocesses, HTTP against the served mock. Each bound is asserted as an answer (a located
error, a 413, a 503) and as memory (the server's VmRSS), never as a duration; a subprocess
timeout only keeps a hang from hanging the suite."""

from __future__ import annotations

import json
import os
import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cli_helpers import CAPYMOCK, Served, serving
from conftest import Reply, http

pytestmark = pytest.mark.slow

ALIAS_BOMB = "projects: [p]\njobs:\n  - &g {generate: 100000, project: p}\n" + "  - *g\n" * 999
"""7 KB that expand to 100,000,000 generated jobs."""
SMALL_BOMB = "projects: [p]\njobs: [&g {generate: 25000, project: p}, *g, *g, *g]\n"
"""The 94 bytes of 100,000 jobs."""
RSS_BUDGET_KB = 400 * 1024
"""What the server may grow to under everything a test here sends it."""


def validate(*args: str | Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAPYMOCK, "validate", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,  # a guard against a hang, not a measure
        env={**os.environ, **(env or {})},
    )


def rss_kb(served: Served) -> int:
    status = Path(f"/proc/{served.process.pid}/status").read_text()
    line = next(line for line in status.splitlines() if line.startswith("VmRSS:"))
    return int(line.split()[1])


def control(served: Served, route: str, method: str = "GET", body: Any = None) -> Reply:
    return http(f"{served.url}/_capymock/{route}", method, body=body)


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    with serving(["--quiet", "--max-session-jobs", "1000", "--max-session-bytes", "3000000"]) as running:
        yield running


def test_validate_names_where_the_alias_bomb_crosses_the_job_limit(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    done = validate(bomb)
    assert done.returncode == 2, done
    assert "Traceback" not in done.stderr
    first = done.stderr.splitlines()[0]
    assert first.startswith(f"{bomb}:3:") and "jobs[0].generate: expected at most 20,000 jobs" in first, first
    assert "100,000 by this entry" in first and "--max-jobs" in first


def test_the_job_limit_is_an_option_of_validate(tmp_path: Path) -> None:
    small = tmp_path / "small.yaml"
    small.write_text("projects: [p]\njobs: [&g {generate: 30, project: p}, *g]\n")
    assert validate(small).returncode == 0
    refused = validate(small, "--max-jobs", "50")
    assert refused.returncode == 2 and f"{small}:2:" in refused.stderr, refused
    assert "jobs[1].generate: expected at most 50 jobs" in refused.stderr and "there are 60" in refused.stderr


@pytest.mark.parametrize("bomb", [ALIAS_BOMB, SMALL_BOMB], ids=["7KB-aliases", "94B-generate"])
def test_a_posted_bomb_is_a_located_422_and_the_server_keeps_answering(served: Served, bomb: str) -> None:
    before = rss_kb(served)
    answers: dict[str, Reply] = {}

    def post(name: str, route: str, body: Any) -> None:
        answers[name] = control(served, route, "POST", body)

    threads = [
        threading.Thread(target=post, args=("scenario", "scenario", bomb.encode())),
        threading.Thread(target=post, args=("session", "sessions", {"scenario": bomb})),
    ]
    for thread in threads:
        thread.start()
    beside = control(served, "state")  # a concurrent request is answered
    for thread in threads:
        thread.join(timeout=120)
    assert beside.status == 200 and beside.body["scenario"] == "demo", beside
    for name in ("scenario", "session"):
        answer = answers[name]
        assert answer.status == 422, (name, answer)
        (problem,) = answer.body["problems"]
        assert (problem["file"], problem["path"]) == ("request body", "jobs[0].generate"), problem
        assert problem["line"] in (2, 3) and "expected at most 20,000 jobs" in problem["message"], problem
    assert control(served, "state").body["scenario"] == "demo"  # nothing was loaded
    assert control(served, "sessions").body["sessions"] == []  # nor left behind
    assert rss_kb(served) - before < 50 * 1024 and rss_kb(served) < RSS_BUDGET_KB


def test_an_inline_scenario_past_the_body_limit_is_a_413(served: Served) -> None:
    big = b"projects: [p]\ndescription: '" + b"x" * (1024 * 1024) + b"'\n"
    for route, body in (("scenario", big), ("sessions", {"scenario": big.decode()})):
        answer = control(served, route, "POST", body)
        assert answer.status == 413, answer
        assert "larger than 1,048,576 bytes" in answer.body["error"] and "--max-body" in answer.body["error"]


def test_live_sessions_share_one_budget_of_jobs(served: Served) -> None:
    scenario = "projects: [p]\njobs: [{generate: 400, project: p}]\n"
    first = control(served, "sessions", "POST", {"scenario": scenario})
    second = control(served, "sessions", "POST", {"scenario": scenario})
    assert (first.status, second.status) == (201, 201), (first, second)
    try:
        refused = control(served, "sessions", "POST", {"scenario": scenario})
        assert refused.status == 503, refused
        assert (
            "--max-session-jobs" in refused.body["error"]
            and "DELETE /_capymock/sessions" in refused.body["error"]
        )
        assert [s["id"] for s in control(served, "sessions").body["sessions"]] == [
            first.body["id"],
            second.body["id"],
        ]
        # A job added by hand counts too: the second session may take 200 more, not 201.
        added = [http(f"{second.body['control_url']}/jobs", "POST", body={}) for _ in range(200)]
        assert {answer.status for answer in added} == {201}
        over = http(f"{second.body['control_url']}/jobs", "POST", body={})
        assert over.status == 503 and "--max-session-jobs" in over.body["error"], over
        # Loading a larger scenario into a session is held to the same budget.
        bigger = http(
            f"{first.body['control_url']}/scenario", "POST", body=scenario.replace("400", "401").encode()
        )
        assert bigger.status == 503, bigger
        assert http(f"{first.body['control_url']}/jobs").body["jobs"].__len__() == 400  # unchanged
    finally:
        for answer in (first, second):
            control(served, f"sessions/{answer.body['id']}", "DELETE")
    again = control(served, "sessions", "POST", {"scenario": scenario})
    assert again.status == 201, again  # ending sessions gave the budget back
    control(served, f"sessions/{again.body['id']}", "DELETE")


def test_live_sessions_share_one_budget_of_scenario_bytes(served: Served) -> None:
    scenario = "projects: [p]\ndescription: '" + "x" * 1_000_000 + "'\n"
    started = []
    try:
        for _ in range(2):
            answer = control(served, "sessions", "POST", {"scenario": scenario})
            assert answer.status == 201, answer
            started.append(answer.body["id"])
        refused = control(served, "sessions", "POST", {"scenario": scenario})
        assert refused.status == 503 and "--max-session-bytes" in refused.body["error"], refused
        assert rss_kb(served) < RSS_BUDGET_KB
    finally:
        for session_id in started:
            control(served, f"sessions/{session_id}", "DELETE")


HUGE = 10**400
"""An integer JSON and YAML hold, past the largest float (1.8e308)."""


def test_an_integer_of_any_size_is_handled_everywhere_it_is_taken(served: Served, tmp_path: Path) -> None:
    scenario = f"projects: [p]\njobs:\n  - {{id: j_huge, project: p, max_attempts: {HUGE}}}\n"
    answers = {
        "jobs": control(
            served, "jobs", "POST", {"id": "j_added", "project_id": served.project, "max_attempts": HUGE}
        ),
        "scenario": control(served, "scenario", "POST", scenario.encode()),
    }
    session = control(served, "sessions", "POST", {"scenario": scenario})
    answers["session"] = session
    try:
        for name, answer in answers.items():
            assert answer.status in (200, 201), (name, answer)
        assert control(served, "jobs/j_huge").body["job"]["max_attempts"] == HUGE
        patched = control(served, "jobs/j_huge", "PATCH", {"state": "claimed", "attempts": HUGE + 1})
        assert (
            patched.status == 422 and "attempts must be between 0 and max_attempts" in patched.body["error"]
        )
        listed = http(f"{served.url}/v1/projects/p/jobs", headers={"Authorization": f"Bearer {served.token}"})
        assert listed.status == 200 and listed.body["jobs"][0]["max_attempts"] == HUGE, listed
        in_session = http(
            f"{session.body['base_url']}/v1/projects/p/jobs",
            headers={"Authorization": f"Bearer {session.body['token']}"},
        )
        assert in_session.status == 200 and in_session.body["jobs"][0]["max_attempts"] == HUGE
    finally:
        control(served, f"sessions/{session.body['id']}", "DELETE")
        control(served, "scenario", "POST", {"name": "demo"})
    file = tmp_path / "huge.yaml"
    file.write_text(scenario)
    done = validate(file)
    assert (done.returncode, done.stderr) == (0, ""), done
    too_long = tmp_path / "too-long.yaml"
    digits = "1" + "0" * 5000  # past the 4,300 digits Python turns into an int
    too_long.write_text(f"projects: [p]\njobs:\n  - {{id: j, project: p, max_attempts: {digits}}}\n")
    refused = validate(too_long)
    assert (
        refused.returncode == 2 and f"{too_long}:3:" in refused.stderr and "Traceback" not in refused.stderr
    )
    body = f'{{"id": "j_long", "project_id": "p", "max_attempts": {digits}}}'.encode()
    posted = http(
        f"{served.url}/_capymock/jobs", "POST", body=body, headers={"Content-Type": "application/json"}
    )
    assert posted.status == 400 and "not JSON" in posted.body["error"], posted


def test_a_session_token_that_expires_past_the_largest_float_is_read(served: Served) -> None:
    def segment(value: dict[str, Any]) -> str:
        import base64

        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    claims = {"sub": "user_1", "v": 2, "o": {"id": "org_demo"}, "exp": HUGE, "nbf": -HUGE}
    token = f"{segment({'alg': 'none'})}.{segment(claims)}."
    answer = http(
        f"{served.url}/v1/projects/{served.project}/jobs", headers={"Authorization": f"Bearer {token}"}
    )
    assert answer.status == 200, answer


@pytest.mark.parametrize("kind", ["fifo", "dev-zero", "folder"])
def test_a_scenario_that_is_no_regular_file_is_refused_before_it_is_read(tmp_path: Path, kind: str) -> None:
    path = tmp_path / "scenario.yaml"
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    else:
        path.mkdir()
    expected = {"fifo": "a named pipe", "dev-zero": "a device", "folder": "a folder"}[kind]
    served = subprocess.run(
        [*CAPYMOCK, "serve", "--port", "0", "--scenario", str(path)],
        capture_output=True,
        text=True,
        timeout=120,  # a guard against a hang, not a measure
    )
    assert served.returncode == 2, served
    assert f"{path}: not a regular file: {expected}" in served.stderr and "Traceback" not in served.stderr
    if kind != "folder":  # validate's own argument check refuses a folder first
        done = validate(path)
        assert done.returncode == 2 and f"not a regular file: {expected}" in done.stderr, done
    spec = subprocess.run(
        [*CAPYMOCK, "validate", "--spec", str(path), "demo"], capture_output=True, text=True, timeout=120
    )
    assert spec.returncode == 2 and "Traceback" not in spec.stderr, spec


def test_the_python_api_refuses_the_bomb_at_its_entry(tmp_path: Path) -> None:
    import capymock

    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    mock = capymock.Mock()
    with pytest.raises(capymock.ScenarioError) as refused:
        mock.load(bomb)
    (problem,) = refused.value.problems
    assert (problem.location.line if problem.location else None, problem.path) == (3, "jobs[0].generate")
    assert mock.scenario is None and len(mock.world.store) == 0  # nothing was loaded
    with pytest.raises(
        capymock.ScenarioError, match=r"<scenario>:2:\d+: jobs\[1\]\.generate: expected at most 50"
    ):
        capymock.parse_scenario(
            "projects: [p]\njobs: [&g {generate: 30, project: p}, *g]\n", mock.spec, max_jobs=50
        )
    files = []
    for project in ("p", "q"):
        files.append(tmp_path / f"{project}.yaml")
        files[-1].write_text(f"projects: [{project}]\njobs: [{{generate: 30, project: {project}}}]\n")
    with pytest.raises(capymock.ScenarioError, match="60 jobs together, more than the 50 a load may hold"):
        capymock.Mock(max_jobs=50).load(*files)


def test_serve_refuses_the_bomb_at_start_and_takes_the_limits_as_options(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(ALIAS_BOMB)
    refused = subprocess.run(
        [*CAPYMOCK, "serve", "--port", "0", "--scenario", str(bomb)],
        capture_output=True,
        text=True,
        timeout=120,  # a guard against a hang, not a measure
    )
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused
    assert f"{bomb}:3:19: jobs[0].generate: expected at most 20,000 jobs" in refused.stderr
    with serving(["--quiet", "--max-jobs", "50", "--max-body", "2048"]) as served:
        sixty = b"projects: [p]\njobs: [&g {generate: 30, project: p}, *g]\n"
        answer = control(served, "scenario", "POST", sixty)
        assert answer.status == 422 and "expected at most 50 jobs" in answer.body["error"], answer
        session = control(served, "sessions", "POST", {"scenario": sixty.decode()})
        assert session.status == 422 and "expected at most 50 jobs" in session.body["error"], session
        large = control(served, "scenario", "POST", b"projects: [p]\n" + b"#" * 2048)
        assert large.status == 413 and "larger than 2,048 bytes" in large.body["error"], large
