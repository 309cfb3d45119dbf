"""Clients polling while the clock moves see only whole, valid jobs."""

from __future__ import annotations

import threading

import capymock
from conftest import ORACLE, http

SCENARIO = """
start: "2026-01-01T09:00:00Z"
projects: [proj_a]
jobs:
""" + "".join(
    f"""
  - id: job_{i}
    project: proj_a
    max_attempts: 3
    steps:
      - state: pending
      - {{after: {i % 3 + 1}s, state: claimed, claimed_by: w{i}}}
      - {{after: 1s, state: running}}
      - {{after: 2s, state: failed, error: boom}}
      - {{after: 1s, state: pending}}
      - {{after: 1s, state: claimed}}
      - {{after: 1s, state: running}}
      - {{after: 2s, state: succeeded}}
"""
    for i in range(12)
)


def test_eight_pollers_see_only_valid_snapshots_while_the_clock_advances(tmp_path) -> None:
    path = tmp_path / "many.yaml"
    path.write_text(SCENARIO)
    with capymock.serve(path) as mock:
        lifecycle = mock.spec.lifecycle
        auth = {"Authorization": f"Bearer {mock.token}"}
        problems: list[str] = []
        seen_states: set[str] = set()
        stop = threading.Event()
        polled = threading.Condition()
        polls = [0]

        def poll(n: int) -> None:
            while not stop.is_set():
                url = f"{mock.url}/v1/projects/proj_a/jobs" if n % 2 else f"{mock.url}/v1/jobs/job_{n}"
                reply = http(url, headers=auth)
                ORACLE.check("GET", url.split(mock.url)[1], reply.status, reply.body)
                jobs = reply.body["jobs"] if "jobs" in reply.body else [reply.body["job"]]
                for job in jobs:
                    seen_states.add(job["state"])
                    problems.extend(f"{job['id']}: {p}" for p in lifecycle.violations(job))
                with polled:
                    polls[0] += 1
                    polled.notify_all()

        pollers = [threading.Thread(target=poll, args=(n,)) for n in range(8)]
        for thread in pollers:
            thread.start()
        for _ in range(60):
            mock.advance("250ms")
            with polled:  # let the pollers look at every tick (bounded wait, no timing assertion)
                polled.wait_for(lambda target=polls[0] + 8: polls[0] >= target, timeout=10)
        stop.set()
        for thread in pollers:
            thread.join()
    assert problems == []
    assert {"pending", "claimed", "running", "failed", "succeeded"} <= seen_states
