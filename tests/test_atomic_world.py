"""A load, reload or reset is one step: readers only ever see one whole world.

Served as a user runs it (`capymock serve --reload --threads 4`): while one client advances
the clock of a 2,000-job scenario, others reset it, load it again over the control API and
edit its file (so `--reload` loads it too), and readers check every state they get: the
clock, every job's state and every pending step must belong to one and the same moment.
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cli_helpers import serving
from conftest import http, wait_for

pytestmark = pytest.mark.slow

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
JOBS = 2000
GAP = 100  # seconds between two steps of every job
STATES = ("pending", "claimed", "running", "succeeded")
ENOUGH = {"views": 10, "advances": 10, "resets": 3, "loads": 3, "edits": 3}
"""How often each kind of step runs while the others do (not for how long: a busy machine takes longer)."""


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


def test_readers_see_only_whole_worlds_while_others_advance_reset_and_reload(tmp_path: Path) -> None:
    scenario = tmp_path / "many.yaml"
    scenario.write_text(_scenario())
    with serving(
        ["--scenario", str(scenario), "--reload", "--threads", "4", "--quiet", "--paused"]
    ) as served:
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
                    try:
                        action()
                    except AssertionError as exc:  # a wait in vain
                        problems.append(f"{name}: {exc}")
                        return
                    counts[name] += 1

            return threading.Thread(target=run, name=name)

        def read() -> None:
            reply = http(f"{control}/state", timeout=120)
            problems.extend(_whole_world_problems(reply.body))

        def reloads() -> int:
            return sum("capymock: reload" in line for line in served.stderr)

        def edit() -> None:
            before = reloads()
            with scenario.open("a") as file:  # a comment changes the file, not the scenario
                file.write(f"# edit {counts['edits']}\n")
            wait_for(lambda: reloads() > before, "--reload to load the edited file", timeout=120)

        def after(kind: str) -> None:
            """Until another step of `kind` has run (or the hammering stops): one step paces another."""
            seen = counts[kind]
            wait_for(lambda: counts[kind] > seen or stop.is_set(), f"one more of {kind}", timeout=120)

        workers = [
            repeat(read, "views"),
            repeat(read, "views"),
            repeat(lambda: post("advance", {"seconds": 50}), "advances"),
            repeat(lambda: post("advance", {"seconds": 50}), "advances"),
            repeat(lambda: (post("reset", {}), after("advances")), "resets"),
            repeat(lambda: (post("scenario", {"name": str(scenario)}), after("advances")), "loads"),
            repeat(edit, "edits"),
        ]
        for worker in workers:
            worker.start()
        try:
            wait_for(
                lambda: problems or all(counts[kind] >= least for kind, least in ENOUGH.items()),
                f"every kind of step to run often enough ({ENOUGH})",
                timeout=300,
            )
        finally:
            stop.set()
            for worker in workers:
                worker.join()
        assert problems == [], f"{len(problems)} problems in {counts}: {problems[:5]}"
        assert reloads() >= counts["edits"] and "reload failed" not in "".join(served.stderr)
        # Every edit was reloaded before the next was made, so no reload is still to come.

        post("clock", {"speed": 5})
        post("reset", {})  # as it was started: paused, at the start
        fresh = http(f"{control}/state").body
        assert fresh["now"] == "2026-01-01T09:00:00Z"  # back at the start
        assert _whole_world_problems(fresh) == []
        post("advance", {"seconds": 1000})
        done = http(f"{control}/state").body
        assert {job["state"] for job in done["jobs"]} == {"succeeded"}
        assert done["pending_steps"] == []
