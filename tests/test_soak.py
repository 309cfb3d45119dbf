"""A bounded soak of `capymock serve`: eight clients poll while another advances, resets,
reloads and patches. No 500, no job off its lifecycle, memory flat."""

from __future__ import annotations

import itertools
import threading
from pathlib import Path

import pytest

import capymock
from cli_helpers import serving
from conftest import http, wait_for

pytestmark = pytest.mark.slow

WARM = {"polls": 2500, "steers": 250}
"""Requests before memory is first measured (the soak's first quarter)."""
SOAK = {"polls": 10000, "steers": 1000}
"""Requests in the whole soak: a number of requests, not a duration, so a busy machine soaks as much."""
TOKEN = "capy_live_web_0123456789abcdef"
LIFECYCLE = capymock.load_spec().lifecycle


def _rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    return int(next(line.split()[1] for line in status.splitlines() if line.startswith("VmRSS:")))


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads memory use from /proc")
def test_a_soak_of_polls_and_steering_stays_whole_and_flat(tmp_path: Path) -> None:
    scenario = tmp_path / "soak.yaml"
    scenario.write_text(capymock.bundled_scenarios()["retry-then-succeed"].read_text())
    with serving(["--scenario", str(scenario), "--reload", "--threads", "4", "--quiet"]) as served:
        problems: list[str] = []
        counts = {"polls": 0, "steers": 0}
        stop = threading.Event()
        auth = {"Authorization": f"Bearer {TOKEN}"}

        def poll() -> None:
            paths = itertools.cycle(["/v1/jobs/job_deploy_1", "/v1/projects/proj_web/jobs?limit=100"])
            while not stop.is_set():
                reply = http(served.url + next(paths), headers=auth)
                counts["polls"] += 1
                if reply.status >= 500:
                    if reply.status != 503 or b"injected fault" not in reply.raw:
                        problems.append(f"{reply.status} {reply.raw[:200]!r}")
                    continue
                body = reply.body
                for job in body.get("jobs") or ([body["job"]] if "job" in body else []):
                    problems.extend(f"{job['id']}: {v}" for v in LIFECYCLE.violations(job))

        def steer() -> None:
            control = f"{served.url}/_capymock"
            actions = itertools.cycle(
                [
                    ("POST", "advance", {"seconds": 2}),
                    ("PATCH", "jobs/job_deploy_1", {"state": "cancelled"}),
                    ("POST", "reset", {}),
                    ("POST", "advance", {"to": "next_step"}),
                    ("POST", "jobs", {"project_id": "proj_web", "state": "running"}),
                    ("POST", "faults", {"match": {"path": "/v1/jobs/{jobID}"}, "status": 503, "times": 1}),
                    ("RELOAD", "", None),
                ]
            )
            while not stop.is_set():
                method, route, body = next(actions)
                counts["steers"] += 1
                if method == "RELOAD":
                    with scenario.open("a") as file:
                        file.write(f"# {counts['steers']}\n")
                    continue
                reply = http(f"{control}/{route}", method, None, body)
                if reply.status >= 500:
                    problems.append(f"{method} {route}: {reply.status} {reply.raw[:200]!r}")

        workers = [threading.Thread(target=poll) for _ in range(8)]
        workers.append(threading.Thread(target=steer))

        def reached(goal: dict[str, int]) -> bool:
            return all(counts[kind] >= least for kind, least in goal.items())

        for worker in workers:
            worker.start()
        try:
            wait_for(lambda: reached(WARM), f"the soak's first {WARM}", timeout=300)
            warm = _rss_kb(served.process.pid)
            wait_for(lambda: reached(SOAK), f"the whole soak, {SOAK}", timeout=900)
        finally:
            stop.set()
            for worker in workers:
                worker.join()
        grown = _rss_kb(served.process.pid) - warm
        assert problems == [], problems[:5]
        assert grown < 25_000, f"the server grew by {grown} kB during the soak"
        assert "defect" not in "".join(served.stderr)
