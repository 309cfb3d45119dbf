"""A load, reload or reset is one step: readers only ever see one whole world.

Served as a user runs it (`capymock serve --reload --threads 4`): while one client advances
the clock of a 2,000-job scenario, others reset it, load it again over the control API and
edit its file (so `--reload` loads it too), and readers check every state they get: the
clock, every job's state and every pending step must belong to one and the same moment.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli_helpers import serving
from conftest import http

pytestmark = pytest.mark.slow

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
JOBS = 2000
GAP = 100  # seconds between two steps of every job
STATES = ("pending", "claimed", "running", "succeeded")
HAMMER_SECONDS = 6.0
MIN_EACH = 3


def _scenario() -> str:
    steps = "".join(f"\n      - {{after: {GAP}s, state: {state}}}" for state in STATES[1:])
    jobs = "".join(
        f"\n  - id: job_{i:04d}\n    project: proj_a\n    steps:\n      - state: pending{steps}"
        for i in range(JOBS)
    )
    return f'start: "2026-01-01T09:00:00Z"\nprojects: [proj_a]\njobs:{jobs}\n'


def _whole_world_problems(state: dict) -> list[str]:
    """What in one `/_capymock/state` answer does not belong to the moment its clock shows."""
    elapsed = (datetime.fromisoformat(state["now"].replace("Z", "+00:00")) - START).total_seconds()
    if elapsed < 0:
        return [f"the clock is before the scenario's start: {state['now']}"]
    reached = min(int(elapsed // GAP), len(STATES) - 1)
    expected = STATES[reached]
    wrong = [job["id"] for job in state["jobs"] if job["state"] != expected]
    problems = []
    if len(state["jobs"]) != JOBS:
        problems.append(f"{len(state['jobs'])} jobs, not {JOBS}")
    if wrong:
        problems.append(
            f"at +{elapsed:.0f}s every job is {expected!r}, but {len(wrong)} are not (e.g. {wrong[0]})"
        )
    scripted = JOBS if reached < len(STATES) - 1 else 0
    if len(state["pending_steps"]) != scripted:
        problems.append(
            f"at +{elapsed:.0f}s {scripted} jobs are still scripted, not {len(state['pending_steps'])}"
        )
    nxt = {step["state"] for step in state["pending_steps"]}
    if scripted and nxt != {STATES[reached + 1]}:
        problems.append(f"at +{elapsed:.0f}s the next steps go to {sorted(nxt)}, not {STATES[reached + 1]!r}")
    return problems


def _wait_for_reloads_to_finish(stderr: list[str], quiet: float = 1.5, limit: float = 20.0) -> None:
    """Until `--reload` has had `quiet` seconds without loading (it may still load the last edit)."""
    deadline = time.monotonic() + limit
    seen = -1
    while time.monotonic() < deadline and seen != len(stderr):
        seen = len(stderr)
        time.sleep(quiet)


def test_readers_see_only_whole_worlds_while_others_advance_reset_and_reload(tmp_path: Path) -> None:
    scenario = tmp_path / "many.yaml"
    scenario.write_text(_scenario())
    with serving(["--scenario", str(scenario), "--reload", "--threads", "4", "--quiet"]) as served:
        control = f"{served.url}/_capymock"
        problems: list[str] = []
        counts = {"views": 0, "advances": 0, "resets": 0, "loads": 0, "edits": 0}
        stop = threading.Event()

        def post(route: str, body: object) -> None:
            reply = http(
                f"{control}/{route}", "POST", {"Content-Type": "application/json"}, body, timeout=120
            )
            if reply.status != 200:
                problems.append(f"POST {route}: {reply.status} {reply.raw[:200]!r}")

        def repeat(action, name: str) -> threading.Thread:
            def run() -> None:
                while not stop.is_set():
                    action()
                    counts[name] += 1

            return threading.Thread(target=run, name=name)

        def read() -> None:
            reply = http(f"{control}/state", timeout=120)
            problems.extend(_whole_world_problems(reply.body))

        def edit() -> None:
            with scenario.open("a") as file:  # a comment changes the file, not the scenario
                file.write(f"# edit {counts['edits']}\n")
            time.sleep(0.4)  # the watcher looks every 0.3 s

        workers = [
            repeat(read, "views"),
            repeat(read, "views"),
            repeat(lambda: post("advance", {"seconds": 50}), "advances"),
            repeat(lambda: post("advance", {"seconds": 50}), "advances"),
            repeat(lambda: (post("reset", {}), time.sleep(0.05)), "resets"),
            repeat(lambda: (post("scenario", {"name": str(scenario)}), time.sleep(0.2)), "loads"),
            repeat(edit, "edits"),
        ]
        for worker in workers:
            worker.start()
        # At least HAMMER_SECONDS, and on a slow machine until every kind of step has run a few times.
        deadline = time.monotonic() + 60
        time.sleep(HAMMER_SECONDS)
        while min(counts.values()) < MIN_EACH and time.monotonic() < deadline:
            time.sleep(0.2)
        stop.set()
        for worker in workers:
            worker.join()
        assert problems == [], f"{len(problems)} problems in {counts}: {problems[:5]}"
        assert min(counts.values()) >= MIN_EACH, counts
        served.wait_for_stderr("reloaded")
        _wait_for_reloads_to_finish(served.stderr)

        post("reset", {})
        fresh = http(f"{control}/state").body
        assert fresh["now"].startswith("2026-01-01T09:00:0")  # back at the start, give or take real time
        assert _whole_world_problems(fresh) == []
        post("advance", {"seconds": 1000})
        done = http(f"{control}/state").body
        assert {job["state"] for job in done["jobs"]} == {"succeeded"}
        assert done["pending_steps"] == []
