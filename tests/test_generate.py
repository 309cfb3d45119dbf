"""Filler jobs (`generate: N`) that look like a deployment's: walked through the lifecycle with
times spread by how long each state lasts, some retried, the same for the same seed, and every
one a job the lifecycle can produce."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import capymock
from capymock.core.reachability import oracle_for
from cli_helpers import serving
from conftest import ORACLE, http

LIFECYCLE = capymock.load_spec().lifecycle
EXPLAIN = oracle_for(capymock.load_spec()).explain
JOB = ORACLE.validator("/components/schemas/Job")


def moment(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def scenario(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "filler.yaml"
    path.write_text(
        f"start: '2026-01-01T09:00:00Z'\nprojects: [p]\njobs:\n  - {{generate: 200, project: p{extra}}}\n"
    )
    return path


def test_a_generated_list_has_varied_durations_and_only_jobs_the_lifecycle_produces(tmp_path: Path) -> None:
    with serving(["--scenario", str(scenario(tmp_path)), "--paused", "--quiet"]) as served:
        auth = {"Authorization": f"Bearer {served.token}"}
        listed = http(f"{served.url}/v1/projects/p/jobs?limit=100", headers=auth).body["jobs"]
        every = http(f"{served.url}/_capymock/jobs").body["jobs"]
    assert len(listed) == 100 and len(every) == 200
    for job in every:
        JOB.validate(job)
        assert LIFECYCLE.violations(job) == [], job["id"]
        assert EXPLAIN(job).explained, (job["id"], EXPLAIN(job).reason)
    runs = [
        (moment(j["completed_at"]) - moment(j["started_at"])).total_seconds()
        for j in every
        if j["state"] == "succeeded"
    ]
    assert len(runs) >= 10 and len(set(runs)) == len(runs)  # every run its own length
    assert max(runs) > 3 * min(runs)
    waits = [
        (moment(j["claimed_at"]) - moment(j["created_at"])).total_seconds() for j in every if j["claimed_at"]
    ]
    assert all(wait > 0 for wait in waits)  # claimed after it was created, not at the same instant
    retried = [j for j in every if j["attempts"] >= 2]
    assert 0.05 * len(every) <= len(retried) <= 0.4 * len(every)
    assert {j["type"] for j in every} == {"build", "deploy", "test", "migrate", "backup"}


def test_the_same_seed_gives_the_same_jobs_and_durations_and_retries_are_overridable(tmp_path: Path) -> None:
    first = capymock.Mock(scenario=scenario(tmp_path)).jobs()
    again = capymock.Mock(scenario=scenario(tmp_path)).jobs()
    assert first == again
    other = capymock.Mock(scenario=scenario(tmp_path, ", seed: 2")).jobs()
    assert other != first
    quick = capymock.Mock(
        scenario=scenario(tmp_path, ", durations: {deploy: 2s}, retries: 0, types: [deploy]")
    ).jobs()
    runs = [
        (moment(j["completed_at"]) - moment(j["started_at"])).total_seconds()
        for j in quick
        if j["state"] == "succeeded"
    ]
    assert runs and all(1 <= run <= 3 for run in runs)  # 2 s, between half and one and a half times it
    assert all(j["attempts"] <= 1 for j in quick)
