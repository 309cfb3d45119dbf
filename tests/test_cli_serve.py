"""`capymock serve` with scenarios, speed, reload and the control token, as a subprocess."""

from __future__ import annotations

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


def test_a_delayed_request_does_not_hold_the_others_back(tmp_path: Path) -> None:
    scenario = tmp_path / "slow.yaml"
    scenario.write_text(
        "projects: [p]\njobs: [{id: job_slow, project: p}, {id: job_fast, project: p}]\n"
        "faults: [{match: {path: /v1/jobs/job_slow}, delay: 3s}]\n"
    )
    with serving(["--scenario", str(scenario), "--quiet"]) as served:
        auth = {"Authorization": f"Bearer {served.token}"}
        slow = threading.Thread(
            target=http, args=(f"{served.url}/v1/jobs/job_slow",), kwargs={"headers": auth}
        )
        slow.start()
        time.sleep(0.3)  # let the slow request reach the server first
        assert http(f"{served.url}/v1/jobs/job_fast", headers=auth).status == 200
        assert slow.is_alive()  # answered while the delayed request still waits
        slow.join()
