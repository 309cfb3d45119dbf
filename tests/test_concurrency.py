"""Clients polling while the clock moves see only whole, valid jobs."""

from __future__ import annotations

import threading

import capymock
from conftest import ORACLE, http, wait_for

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
        polls = [0] * 8  # requests each poller has had answered

        def poll(n: int) -> None:
            while not stop.is_set():
                url = f"{mock.url}/v1/projects/proj_a/jobs" if n % 2 else f"{mock.url}/v1/jobs/job_{n}"
                reply = http(url, headers=auth)
                ORACLE.check("GET", url.split(mock.url)[1], reply.status, reply.body)
                jobs = reply.body["jobs"] if "jobs" in reply.body else [reply.body["job"]]
                for job in jobs:
                    seen_states.add(job["state"])
                    problems.extend(f"{job['id']}: {p}" for p in lifecycle.violations(job))
                polls[n] += 1

        def every_poller_read_since(ticked: list[int]) -> bool:
            return all(now >= then + 2 for now, then in zip(polls, ticked, strict=True))

        pollers = [threading.Thread(target=poll, args=(n,)) for n in range(8)]
        for thread in pollers:
            thread.start()
        try:
            for _ in range(60):
                mock.advance("250ms")
                # Every poller looks at every tick: two more answers, the second asked after the advance.
                wait_for(lambda ticked=list(polls): every_poller_read_since(ticked), "a read by every poller")
        finally:
            stop.set()
            for thread in pollers:
                thread.join()
    assert problems == []
    assert {"pending", "claimed", "running", "failed", "succeeded"} <= seen_states
