"""`capymock serve` with scenarios, speed, reload and the control token, as a subprocess."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import threading
import time
from datetime import datetime
from pathlib import Path

import pytest

from cli_helpers import CAPYMOCK, serving
from conftest import ORACLE, http

pytestmark = pytest.mark.slow

RETRY_TOKEN = "capy_live_web_0123456789abcdef"


def test_retry_then_succeed_at_speed_walks_every_state() -> None:
    """What a frontend developer sees polling `serve --scenario retry-then-succeed --speed 2`."""
    with serving(["--scenario", "retry-then-succeed", "--speed", "2"]) as served:
        assert "scenario  retry-then-succeed" in served.banner and "clock at 2x" in served.banner
        seen: list[dict[str, object]] = []
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            reply = http(
                f"{served.url}/v1/jobs/job_deploy_1", headers={"Authorization": f"Bearer {RETRY_TOKEN}"}
            )
            job = reply.body["job"]
            ORACLE.check("GET", "/v1/jobs/job_deploy_1", 200, reply.body)
            if not seen or seen[-1]["state"] != job["state"]:
                seen.append(job)
            if job["state"] == "succeeded":
                break
            time.sleep(0.02)
    states = [job["state"] for job in seen]
    assert states == ["pending", "claimed", "running", "failed", "pending", "claimed", "running", "succeeded"]
    assert [job["attempts"] for job in seen] == [0, 1, 1, 1, 1, 2, 2, 2]
    assert [job["claimed_by"] for job in seen] == [
        None,
        "worker-a",
        "worker-a",
        "worker-a",
        None,
        "worker-b",
        "worker-b",
        "worker-b",
    ]
    updated = [datetime.fromisoformat(str(job["updated_at"]).replace("Z", "+00:00")) for job in seen]
    assert updated == sorted(updated)


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
    scenario = tmp_path / "two.yaml"
    scenario.write_text("projects: [p]\njobs: [{id: job_slow, project: p}, {id: job_fast, project: p}]\n")
    with serving(["--scenario", str(scenario), "--server", server, "--quiet"]) as served:
        assert f"server    {server}" in served.banner
        fault = {"match": {"path": "/v1/jobs/job_slow"}, "delay": "2s", "status": 503, "times": 1}
        assert http(f"{served.url}/_capymock/faults", "POST", body=fault).status == 201
        auth = {"Authorization": f"Bearer {served.token}"}
        slow: list[tuple[int, float]] = []

        def call_slow() -> None:
            began = time.monotonic()
            reply = http(f"{served.url}/v1/jobs/job_slow", headers=auth)
            slow.append((reply.status, time.monotonic() - began))

        waiting = threading.Thread(target=call_slow)
        waiting.start()
        time.sleep(0.3)  # the slow request reaches the server first
        began = time.monotonic()
        fast = [http(f"{served.url}/v1/jobs/job_fast", headers=auth).status for _ in range(20)]
        fast_took = time.monotonic() - began
        still_waiting = waiting.is_alive()
        waiting.join()
        after = http(f"{served.url}/v1/jobs/job_slow", headers=auth).status  # times: 1, so spent
    assert fast == [200] * 20
    assert still_waiting, f"20 requests took {fast_took:.2f}s: they waited for the delayed one"
    assert slow[0][0] == 503 and slow[0][1] >= 2.0, slow  # the fault's own answer, after its delay
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
