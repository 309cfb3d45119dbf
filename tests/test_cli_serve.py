"""`capymock serve` with scenarios, speed, reload and the control token, as a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
from datetime import datetime
from pathlib import Path

import pytest

from cli_helpers import CAPYMOCK, Served, serving
from conftest import ORACLE, http, wait_for

pytestmark = pytest.mark.slow

RETRY_TOKEN = "capy_live_web_0123456789abcdef"


WALK = [  # (state, attempts, claimed_by) of job_deploy_1 in retry-then-succeed, in order
    ("pending", 0, None),
    ("claimed", 1, "worker-a"),
    ("running", 1, "worker-a"),
    ("failed", 1, "worker-a"),
    ("pending", 1, None),
    ("claimed", 2, "worker-b"),
    ("running", 2, "worker-b"),
    ("succeeded", 2, "worker-b"),
]


def read_deploy(served: Served) -> dict[str, object]:
    reply = http(f"{served.url}/v1/jobs/job_deploy_1", headers={"Authorization": f"Bearer {RETRY_TOKEN}"})
    ORACLE.check("GET", "/v1/jobs/job_deploy_1", 200, reply.body)
    job: dict[str, object] = reply.body["job"]
    return job


def walk_of(seen: list[dict[str, object]]) -> list[tuple[object, object, object]]:
    return [(job["state"], job["attempts"], job["claimed_by"]) for job in seen]


def stamps(seen: list[dict[str, object]]) -> list[datetime]:
    return [datetime.fromisoformat(str(job["updated_at"]).replace("Z", "+00:00")) for job in seen]


def test_retry_then_succeed_at_speed_runs_by_itself_in_lifecycle_order() -> None:
    """What a frontend developer sees polling `serve --scenario retry-then-succeed --speed 2`: the
    job moves with nobody steering, through the scripted states in order, to success. (A poll
    may step over a short state on a busy machine; the next test sees every one.)"""
    with serving(["--scenario", "retry-then-succeed", "--speed", "2"]) as served:
        assert "scenario  retry-then-succeed" in served.banner and "clock at 2x" in served.banner
        seen: list[dict[str, object]] = []

        def succeeded() -> bool:
            job = read_deploy(served)
            if not seen or walk_of(seen[-1:]) != walk_of([job]):
                seen.append(job)
            return job["state"] == "succeeded"

        wait_for(succeeded, "job_deploy_1 to succeed at --speed 2", timeout=120)
    walk = walk_of(seen)
    positions = [WALK.index(step) for step in walk]  # ValueError: a state off the script
    assert positions == sorted(set(positions)), walk  # in the script's order, none twice
    assert walk[-1] == WALK[-1]
    assert stamps(seen) == sorted(stamps(seen))


def test_retry_then_succeed_stepped_shows_every_state() -> None:
    """Served paused and stepped with `advance {"to": "next_step"}` once the job stands still, a
    poller sees every scripted state, whatever the machine's speed."""
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as served:
        seen: list[dict[str, object]] = []

        def succeeded() -> bool:
            job = read_deploy(served)
            if not seen or job != seen[-1]:
                seen.append(job)
            if job["state"] == "succeeded":
                return True
            if http(f"{served.url}/_capymock/jobs/job_deploy_1").body["job"] == job:  # no read moved it
                stepped = http(f"{served.url}/_capymock/advance", "POST", None, {"to": "next_step"})
                assert stepped.status in (200, 409), stepped.body  # 409: the next step waits for reads
            return False

        wait_for(succeeded, "job_deploy_1 to succeed, step by step", timeout=120)
    assert walk_of(seen) == WALK
    assert [str(job["updated_at"])[11:19] for job in seen] == [
        "09:00:00", "09:00:02", "09:00:03", "09:00:08", "09:00:09", "09:00:09", "09:00:10", "09:00:13",
    ]  # fmt: skip


def test_an_exposed_host_needs_a_control_token() -> None:
    result = subprocess.run(
        [*CAPYMOCK, "serve", "--host", "0.0.0.0", "--port", "0"], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert "--host 0.0.0.0 exposes the control API beyond this machine; pass --control-token" in result.stderr


def test_an_unknown_scenario_is_a_clear_error() -> None:
    result = subprocess.run(
        [*CAPYMOCK, "serve", "--scenario", "hapy-path", "--port", "0"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "no scenario file or bundled scenario called 'hapy-path'" in result.stderr
    assert "Traceback" not in result.stderr


def test_reload_picks_up_edits_and_keeps_serving_on_a_bad_one(tmp_path: Path) -> None:
    scenario = tmp_path / "mine.yaml"
    scenario.write_text("projects: [p]\njobs: [{id: job_a, project: p}]\n")
    with serving(["--scenario", str(scenario), "--reload"]) as served:
        auth = {"Authorization": f"Bearer {served.token}"}
        assert http(f"{served.url}/v1/jobs/job_a", headers=auth).status == 200
        scenario.write_text("projects: [p]\njobs: [{id: job_a, project: q}]\n")
        line = served.wait_for_stderr("reload failed")
        served.wait_for_stderr(f"{scenario}:2:29: jobs[0].project: 'q' is not a declared project", after=line)
        assert http(f"{served.url}/v1/jobs/job_a", headers=auth).status == 200  # the old state still serves
        scenario.write_text("projects: [p]\njobs: [{id: job_b, project: p}]\n")
        served.wait_for_stderr("reloaded mine", after=line)
        assert http(f"{served.url}/v1/jobs/job_b", headers=auth).status == 200
        assert http(f"{served.url}/v1/jobs/job_a", headers=auth).status == 404


def test_the_control_api_steers_a_served_mock() -> None:
    with serving(["--scenario", "retry-then-succeed", "--control-token", "ctl"]) as served:
        auth = {"Authorization": "Bearer ctl"}
        assert http(f"{served.url}/_capymock/state").status == 401
        fired = http(f"{served.url}/_capymock/advance", "POST", auth, {"to": "next_step"}).body["fired"]
        assert [f["state"] for f in fired] == ["claimed"]
        job = http(f"{served.url}/v1/jobs/job_deploy_1", headers={"Authorization": f"Bearer {RETRY_TOKEN}"})
        assert job.body["job"]["state"] == "claimed"


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_a_delayed_fault_does_not_delay_a_concurrent_request(server: str, tmp_path: Path) -> None:
    """Ordering, not timing: requests sent after the delayed one reached the server are all
    answered before it is; it is answered (with the fault's status) only after them."""
    scenario = tmp_path / "two.yaml"
    scenario.write_text("projects: [p]\njobs: [{id: job_slow, project: p}, {id: job_fast, project: p}]\n")
    with serving(["--scenario", str(scenario), "--server", server, "--quiet"]) as served:
        assert f"server    {server}" in served.banner
        fault = {"match": {"path": "/v1/jobs/job_slow"}, "delay": "5s", "status": 503, "times": 1}
        assert http(f"{served.url}/_capymock/faults", "POST", body=fault).status == 201
        auth = {"Authorization": f"Bearer {served.token}"}
        answered: list[tuple[str, int]] = []  # in the order the answers came

        def call_slow() -> None:
            answered.append(("slow", http(f"{served.url}/v1/jobs/job_slow", headers=auth, timeout=60).status))

        waiting = threading.Thread(target=call_slow)
        waiting.start()
        # The fault fires once (`times: 1`): once it is no longer armed, the server holds the request.
        wait_for(
            lambda: http(f"{served.url}/_capymock/faults").body["faults"] == [], "the slow request to arrive"
        )
        for _ in range(5):
            answered.append(("fast", http(f"{served.url}/v1/jobs/job_fast", headers=auth).status))
        waiting.join(60)
        after = http(f"{served.url}/v1/jobs/job_slow", headers=auth).status  # times: 1, so spent
    assert answered == [("fast", 200)] * 5 + [("slow", 503)]  # the fault's own answer, after its delay
    assert after == 200


def test_auto_falls_back_to_waitress_where_granian_cannot_be_imported(tmp_path: Path) -> None:
    broken = tmp_path / "shadow" / "granian"
    broken.mkdir(parents=True)
    (broken / "__init__.py").write_text("raise ImportError('no wheel for this platform')\n")
    env = {**os.environ, "PYTHONPATH": str(broken.parent)}
    with serving(["--quiet"], env=env) as served:
        assert "server    waitress" in served.banner
        assert http(served.curl_url, headers={"Authorization": f"Bearer {served.token}"}).status == 200
    asked = subprocess.run(
        [*CAPYMOCK, "serve", "--port", "0", "--server", "granian"],
        capture_output=True, text=True, timeout=30, env=env,
    )  # fmt: skip
    assert asked.returncode != 0
    assert "--server granian: granian is not installed" in asked.stderr
    assert "Traceback" not in asked.stderr


@pytest.mark.parametrize("server", ["granian", "waitress"])
def test_a_chunked_control_body_is_read_whole(server: str) -> None:
    with serving(["--server", server, "--quiet"]) as served:
        host, port = served.url.removeprefix("http://").split(":")
        fault = json.dumps({"match": {"path": "/v1/jobs/job_x"}, "status": 503}).encode()
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(part), part) for part in (fault[:10], fault[10:]))
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(
                b"POST /_capymock/faults HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + chunks + b"0\r\n\r\n"
            )
            answer = b""
            while data := conn.recv(65536):
                answer += data
        assert answer.startswith(b"HTTP/1.1 201"), answer
        armed = http(f"{served.url}/_capymock/faults").body["faults"]
    assert armed[0]["match"] == {"path": "/v1/jobs/job_x"}
