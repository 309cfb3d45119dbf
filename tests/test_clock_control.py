"""A clock frontend developers control: start paused, run, pause and re-pace it over HTTP, hold it
until the app's first call, and start it at the real time so "x minutes ago" reads true."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

import capymock
from cli_helpers import Served, serving
from conftest import http, wait_for

pytestmark = pytest.mark.slow

WEB = {"Authorization": "Bearer capy_live_web_0123456789abcdef"}


def clock(served: Served, body: object = None) -> dict:
    if body is None:
        return http(f"{served.url}/_capymock/clock").body
    reply = http(f"{served.url}/_capymock/clock", "POST", None, body)
    assert reply.status == 200, reply.body
    return reply.body


def job_state(served: Served) -> str:
    return http(f"{served.url}/v1/jobs/job_deploy_1", headers=WEB).body["job"]["state"]


def _moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def real_time_passes(served: Served, seconds: float) -> None:
    """Until a clock running at speed 1 on the same server (a session's) has moved `seconds`: real
    time has passed for the server, so a clock that should stand would have moved by then."""
    session = http(f"{served.url}/_capymock/sessions", "POST", None, {"speed": 1}).body
    url = f"{session['control_url']}/clock"
    began = _moment(http(url).body["now"])
    wait_for(
        lambda: _moment(http(url).body["now"]) - began >= timedelta(seconds=seconds),
        f"a clock running beside it to move {seconds} s",
    )
    assert http(f"{served.url}/_capymock/sessions/{session['id']}", "DELETE").status == 204


@pytest.mark.parametrize("flag", [["--paused"], ["--speed", "0"]])
def test_a_paused_clock_stands_until_told_to_run(flag: list[str]) -> None:
    with serving(["--scenario", "retry-then-succeed", *flag]) as served:
        assert "clock     paused at 2026-01-01T09:00:00Z" in served.banner
        real_time_passes(served, 0.3)
        assert clock(served)["now"] == "2026-01-01T09:00:00Z" and job_state(served) == "pending"
        ran = clock(served, {"speed": 1})
        assert (ran["speed"], ran["paused"]) == (1.0, False)
        first = wait_for(lambda: (state := job_state(served)) != "pending" and state, "the job's first step")
        assert first in ("claimed", "running")  # a slow poll may see the claim only once it runs
        job = http(f"{served.url}/_capymock/jobs/job_deploy_1").body["job"]
        assert job["claimed_at"] == "2026-01-01T09:00:02Z"  # run from where it stood
        stopped = clock(served, {"paused": True})
        real_time_passes(served, 0.3)
        assert clock(served)["now"] == stopped["now"]  # to the millisecond
        fast = clock(served, {"speed": 50, "paused": False})
        assert fast["speed"] == 50.0
        wait_for(lambda: _moment(clock(served)["now"]) > _moment(stopped["now"]), "the clock to run again")


def test_bad_clock_bodies_are_4xx() -> None:
    with serving(["--paused", "--quiet"]) as served:
        url = f"{served.url}/_capymock/clock"
        for body, status in (
            ({"speed": -1}, 422),
            ({"speed": 1e9}, 422),
            ({"speed": "fast"}, 400),
            ({"paused": "yes"}, 400),
            ({}, 400),
            ({"tempo": 2}, 400),
        ):
            reply = http(url, "POST", None, body)
            assert reply.status == status and "error" in reply.body, (body, reply.body)


def test_the_clock_can_wait_for_the_apps_first_request() -> None:
    with serving(["--scenario", "retry-then-succeed", "--start-on-first-request", "--speed", "20"]) as served:
        assert "held at 2026-01-01T09:00:00Z until the API's first request" in served.banner
        real_time_passes(served, 0.5)  # 10 s of the mock's time at --speed 20, had it run
        assert clock(served)["waiting_for_first_request"] and clock(served)["now"] == "2026-01-01T09:00:00Z"
        assert job_state(served) == "pending"  # the first call: from here the clock runs
        wait_for(lambda: job_state(served) != "pending", "the job's first step after the first call")
        assert not clock(served)["waiting_for_first_request"]
        http(f"{served.url}/_capymock/reset", "POST", None, {})
        assert clock(served)["waiting_for_first_request"]  # every reset waits again


def test_start_now_makes_timestamps_read_true() -> None:
    before = datetime.now(UTC).replace(microsecond=0)  # the API writes whole seconds
    with serving(["--scenario", "retry-then-succeed", "--start", "now"]) as served:
        created = _moment(http(f"{served.url}/v1/jobs/job_deploy_1", headers=WEB).body["job"]["created_at"])
    assert before <= created <= datetime.now(UTC)


def test_a_scenario_may_start_now(tmp_path: Path) -> None:
    path = tmp_path / "now.yaml"
    path.write_text("start: now\nprojects: [p]\njobs: [{id: j, project: p, age: 5m}]\n")
    before = datetime.now(UTC).replace(microsecond=0)
    mock = capymock.Mock(scenario=path)
    created = _moment(mock.job("j")["created_at"])
    assert before - timedelta(minutes=5) <= created <= datetime.now(UTC) - timedelta(minutes=5)


def test_a_bad_start_is_a_usage_error() -> None:
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "capymock", "serve", "--start", "yesterday"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert done.returncode == 2 and "--start 'yesterday'" in done.stderr and "Traceback" not in done.stderr


def test_a_move_by_hand_says_it_stopped_the_script_and_unknown_states_get_a_hint() -> None:
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as served:
        url = f"{served.url}/_capymock/jobs/job_deploy_1"
        typo = http(url, "PATCH", None, {"state": "runing"})
        assert typo.status == 422
        assert typo.body["error"].startswith("'runing' is not a state (did you mean 'running'?)")
        moved = http(url, "PATCH", None, {"state": "cancelled"}).body
        assert moved["job"]["state"] == "cancelled" and moved["script_stopped"] is True
        job = http(f"{served.url}/_capymock/jobs", "POST", None, {"project_id": "proj_web"}).body["job"]
        again = http(f"{served.url}/_capymock/jobs/{job['id']}", "PATCH", None, {"state": "claimed"}).body
        assert again["script_stopped"] is False
        added = http(f"{served.url}/_capymock/jobs", "POST", None, {"state": "runing"})
        assert added.status == 422 and "(did you mean 'running'?)" in added.body["error"]


def test_reset_restores_the_clock_as_it_was_started() -> None:
    with serving(["--scenario", "retry-then-succeed", "--paused"]) as served:
        assert clock(served, {"speed": 10})["paused"] is False
        assert http(f"{served.url}/_capymock/advance", "POST", None, {"seconds": 5}).status == 200
        assert http(f"{served.url}/_capymock/reset", "POST").status in (200, 204)
        after = clock(served)
        assert (after["paused"], after["speed"], after["now"]) == (True, 1.0, "2026-01-01T09:00:00Z")
        real_time_passes(served, 0.3)
        assert clock(served)["now"] == "2026-01-01T09:00:00Z"  # it stands, as it was started


def test_a_session_reset_runs_again_at_the_speed_it_was_made_with() -> None:
    with serving(["--quiet"]) as served:
        session = http(
            f"{served.url}/_capymock/sessions", "POST", None, {"scenario": "retry-then-succeed", "speed": 5}
        ).body
        control = session["control_url"]
        assert http(f"{control}/clock", "POST", None, {"paused": True}).body["paused"] is True
        assert http(f"{control}/reset", "POST").status in (200, 204)
        after = http(f"{control}/clock").body
        assert (after["paused"], after["speed"], after["manual"]) == (False, 5.0, False)


NOW_SCENARIO = """
start: now
projects: [proj_a]
jobs:
  - {id: job_old, project: proj_a, age: 10m, steps: [{state: pending}, {after: 1m, state: claimed}]}
"""


def test_reset_of_a_scenario_starting_now_starts_at_the_real_time_of_the_reset(tmp_path: Path) -> None:
    path = tmp_path / "now.yaml"
    path.write_text(NOW_SCENARIO, encoding="utf-8")
    real = [datetime(2026, 5, 1, 4, 56, tzinfo=UTC)]
    mock = capymock.Mock(scenario=path, wall=lambda: real[0])
    assert mock.clock.now() == real[0]
    assert mock.job("job_old")["created_at"] == "2026-05-01T04:46:00Z"
    mock.advance(timedelta(minutes=2))
    real[0] += timedelta(minutes=9)  # nine real minutes later
    mock.reset()
    assert mock.clock.now() == datetime(2026, 5, 1, 5, 5, tzinfo=UTC)  # a new "now", not the load's
    job = mock.job("job_old")
    assert (job["state"], job["created_at"]) == (
        "pending",
        "2026-05-01T04:55:00Z",
    )  # "10 minutes ago" reads true
    assert mock.add_job(project_id="proj_a")["created_at"] == "2026-05-01T05:05:00Z"
