"""Every bundled scenario, served over real HTTP.

A generic test plays each scenario to its end and checks every reply and every job; one
test per scenario then polls it like a client would and asserts the exact states it sees
and the fields the lifecycle derives, at the exact (virtual) times the file scripts.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

import capymock
from capymock.core.transitions import legal_targets
from capymock.scenario.loader import bundled_scenarios, load_scenario
from capymock.scenario.model import Scenario
from conftest import ORACLE, Api, Reply, http

START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
SCHEMA_LINE = "# yaml-language-server: $schema=../schemas/scenario.schema.json\n"
LIFECYCLE_FIELDS = (
    "state",
    "attempts",
    "claimed_by",
    "claimed_at",
    "started_at",
    "completed_at",
    "updated_at",
)
GENERATED_TYPES = ("build", "deploy", "test", "migrate", "backup", "preview")
ENDED = ("succeeded", "failed", "cancelled")

Job = dict[str, Any]


def finished(mock: capymock.Mock, job: dict) -> bool:
    """No transition can ever leave this job's state again."""
    return not legal_targets(mock.spec.lifecycle, job)


# -- helpers ---------------------------------------------------------------------------


def at(seconds: float, start: datetime = START) -> str:
    """The timestamp `seconds` after `start` (whole seconds), as the API writes it."""
    return (start + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def derived(
    t: float,
    state: str,
    attempts: int,
    *,
    by: str | None = None,
    claimed: float | None = None,
    started: float | None = None,
    completed: float | None = None,
    start: datetime = START,
) -> Job:
    """The lifecycle fields of a job whose last change was at `t` seconds after `start`."""

    def stamp(seconds: float | None) -> str | None:
        return None if seconds is None else at(seconds, start)

    return {
        "state": state,
        "attempts": attempts,
        "claimed_by": by,
        "claimed_at": stamp(claimed),
        "started_at": stamp(started),
        "completed_at": stamp(completed),
        "updated_at": at(t, start),
    }


def lifecycle_view(job: Job) -> Job:
    return {name: job[name] for name in LIFECYCLE_FIELDS}


def elapsed(mock: capymock.Mock, start: datetime = START) -> float:
    return (mock.clock.now() - start).total_seconds()


def move_to(mock: capymock.Mock, seconds: float, start: datetime = START) -> None:
    """Advance the virtual clock to `seconds` after `start` (never back)."""
    delta = seconds - elapsed(mock, start)
    assert delta >= 0, f"the clock is already at {elapsed(mock, start)}s, past {seconds}s"
    if delta:
        mock.advance(timedelta(seconds=delta))


def watch(
    mock: capymock.Mock, read: Callable[[], Any], ticks: Iterable[float], start: datetime = START
) -> list[tuple[float, Any]]:
    """Read at each tick (seconds after `start`, ascending): [(tick, what was read)]."""
    seen = []
    for tick in ticks:
        move_to(mock, tick, start)
        seen.append((tick, read()))
    return seen


def changes(seen: list[tuple[float, Job]]) -> list[tuple[float, Job]]:
    """The reads whose job differs from the read before (the first read included)."""
    return [(t, job) for i, (t, job) in enumerate(seen) if i == 0 or job != seen[i - 1][1]]


def timeline(seen: list[tuple[float, Job]]) -> list[tuple[float, Job]]:
    """What a poller saw change, as (when, lifecycle fields)."""
    return [(t, lifecycle_view(job)) for t, job in changes(seen)]


class Client:
    """A poller over real HTTP with one bearer token; every reply is checked against the spec."""

    def __init__(self, mock: capymock.Mock, token: str = "default") -> None:
        self.mock, self.api, self.token = mock, Api(mock), token

    def get(self, path: str) -> Reply:
        return self.api.get(path, token=self.token)

    def job(self, job_id: str) -> Job:
        reply = self.get(f"/v1/jobs/{job_id}")
        assert reply.status == 200, reply.body
        job: Job = reply.body["job"]
        assert self.mock.spec.lifecycle.violations(job) == []
        return job

    def jobs(self, project: str, limit: int = 25) -> list[Job]:
        reply = self.get(f"/v1/projects/{project}/jobs?limit={limit}")
        assert reply.status == 200, reply.body
        jobs: list[Job] = reply.body["jobs"]
        assert all(self.mock.spec.lifecycle.violations(job) == [] for job in jobs)
        return jobs

    def listed(self, project: str, job_id: str, limit: int = 25) -> Job:
        """`job_id` as the project's list shows it (one read of every listed job)."""
        found = [job for job in self.jobs(project, limit) if job["id"] == job_id]
        assert found, f"{job_id} is not among the newest {limit} jobs of {project}"
        return found[0]


def raw_get(mock: capymock.Mock, path: str, token: str) -> Reply:
    """A GET that may meet an injected fault: undocumented statuses are allowed, as `{"error"}`."""
    reply = http(mock.url + path, headers={"Authorization": f"Bearer {token}"})
    operation = ORACLE.operation("GET", path.split("?")[0])
    assert operation is not None
    if str(reply.status) in operation["responses"]:
        ORACLE.check("GET", path.split("?")[0], reply.status, reply.body)
    else:
        ORACLE.validator("/components/schemas/Error").validate(reply.body)
    return reply


def scenario_of(mock: capymock.Mock, name: str) -> Scenario:
    return load_scenario(name, mock.spec)


# -- every scenario --------------------------------------------------------------------

SPECIFIC = {
    "auth-scopes",
    "busy-project",
    "cancelled",
    "demo",
    "flaky-api",
    "happy-path",
    "lock-contention",
    "retries-exhausted",
    "retry-then-succeed",
    "stuck-claim",
}


def test_every_bundled_scenario_has_a_specific_test_below() -> None:
    assert set(bundled_scenarios()) == SPECIFIC


def test_the_cli_lists_every_bundled_scenario_with_its_description() -> None:
    from click.testing import CliRunner

    from capymock.cli import cli

    result = CliRunner().invoke(cli, ["scenarios"])
    assert result.exit_code == 0, result.output
    spec = capymock.load_spec()
    rows = {row.split(maxsplit=1)[0]: row.split(maxsplit=1)[1] for row in result.output.splitlines()}
    assert {name: load_scenario(path, spec).description for name, path in bundled_scenarios().items()} == rows


@pytest.mark.parametrize("name", sorted(bundled_scenarios()))
def test_bundled_scenario_plays_to_its_end_within_the_lifecycle(name: str) -> None:
    path = bundled_scenarios()[name]
    assert path.read_text(encoding="utf-8").startswith(SCHEMA_LINE)
    with capymock.serve(name) as mock:
        scenario = scenario_of(mock, name)
        assert scenario.name == name == mock.scenario
        assert re.fullmatch(r"[A-Z][^\n]*\.", scenario.description)
        assert ". " not in scenario.description, "one sentence"
        lifecycle = mock.spec.lifecycle
        seen: dict[str, Job] = {}

        def read(job_ids: Iterable[str]) -> None:
            for project in scenario.projects:
                for job in Client(mock).jobs(project, limit=100):
                    seen[job["id"]] = job
            for job_id in sorted(job_ids):
                for _ in range(5):  # an injected fault is answered instead, at most a few times
                    reply = raw_get(mock, f"/v1/jobs/{job_id}", mock.token)
                    if reply.status == 200:
                        break
                assert reply.status == 200, reply.body
                seen[job_id] = reply.body["job"]

        moved = {job.id for job in mock.jobs()} - {job.id for job in scenario.jobs if job.generated}
        for _ in range(100):
            read(moved)
            try:
                fired = mock.advance_to_next_step()
            except capymock.CapymockError:
                waiting = [p["job_id"] for p in mock.state()["pending_steps"] if "after_polls" in p]
                if not waiting:
                    break
                fired = []  # only `after_polls` steps left: reading the jobs moves them
                moved = set(waiting)
            else:
                assert fired, "advance_to_next_step() fired nothing"
                moved = {f.job_id for f in fired}
        else:
            pytest.fail(f"{name} did not end: {mock.state()['pending_steps']}")

        assert mock.state()["pending_steps"] == []
        jobs = mock.jobs()
        assert len(jobs) == len(scenario.jobs)
        assert {job.id for job in jobs} == {job.id for job in scenario.jobs}
        for job in jobs:
            assert lifecycle.violations(job) == [], job.id
        for job in seen.values():
            assert lifecycle.violations(job) == [], job["id"]
        for scripted in scenario.jobs:  # every script played to its end
            last = (scripted.steps or scripted.history or (scripted.first,))[-1]
            assert mock.job(scripted.id)["state"] == last.state, scripted.id
    # leaving `serve` raises MockDefect if any reply broke the spec


# -- one scenario at a time ------------------------------------------------------------


def test_happy_path() -> None:
    token = "capy_live_web_happy_7d41c0a9e2b3f658"
    with capymock.serve("happy-path") as mock:
        client = Client(mock, token)
        seen = watch(mock, lambda: client.job("job_build_1"), range(61))
        assert timeline(seen) == [
            (0, derived(0, "pending", 0)),
            (3, derived(3, "claimed", 1, by="worker-a", claimed=3)),
            (5, derived(5, "running", 1, by="worker-a", claimed=3, started=5)),
            (50, derived(50, "succeeded", 1, by="worker-a", claimed=3, started=5, completed=50)),
        ]
        done = seen[-1][1]
        assert done["created_at"] == at(0)
        assert done["last_exit_code"] == 0
        assert done["last_stdout"] == "built web@1.4.2 in 44.8s (312 modules)"
        assert (done["error"], done["last_stderr"], done["retry_classification"]) == (None, None, None)
        assert (done["type"], done["cluster_id"], done["max_attempts"]) == ("build", "cluster_eu_1", 3)
        assert client.jobs("proj_web") == [done]
        assert finished(mock, done)


RETRY_ERROR = "migration 0042_add_index timed out after 10s"
LOCK_TIMEOUT = "ERROR: canceling statement due to lock timeout"


def test_retries_exhausted() -> None:
    token = "capy_live_api_retries_2f9b6e1d4c8a7035"
    with capymock.serve("retries-exhausted") as mock:
        client = Client(mock, token)
        seen = watch(mock, lambda: client.job("job_migrate_1"), range(61))
        assert timeline(seen) == [
            (0, derived(0, "pending", 0)),
            (1, derived(1, "claimed", 1, by="worker-a", claimed=1)),
            (2, derived(2, "running", 1, by="worker-a", claimed=1, started=2)),
            (12, derived(12, "failed", 1, by="worker-a", claimed=1, started=2, completed=12)),
            (17, derived(17, "pending", 1)),
            (18, derived(18, "claimed", 2, by="worker-b", claimed=18)),
            (19, derived(19, "running", 2, by="worker-b", claimed=18, started=19)),
            (29, derived(29, "failed", 2, by="worker-b", claimed=18, started=19, completed=29)),
            (39, derived(39, "pending", 2)),
            (40, derived(40, "claimed", 3, by="worker-c", claimed=40)),
            (41, derived(41, "running", 3, by="worker-c", claimed=40, started=41)),
            (51, derived(51, "failed", 3, by="worker-c", claimed=40, started=41, completed=51)),
        ]
        by_time = dict(seen)
        # the first failure's details stay on the job while it waits for its retry
        for t in (12, 17, 18):
            job = by_time[t]
            assert (job["error"], job["last_exit_code"], job["last_stderr"]) == (RETRY_ERROR, 1, LOCK_TIMEOUT)
            assert job["retry_classification"] == "transient"
        final = seen[-1][1]
        assert final["attempts"] == final["max_attempts"] == 3
        assert final["error"] == "migration 0042_add_index timed out after 10s (3 of 3 attempts)"
        assert final["last_stderr"] == LOCK_TIMEOUT + "\nhint: another session holds the lock"
        assert (final["last_exit_code"], final["retry_classification"]) == (1, "transient")
        assert final["locked_resource"] == "db:proj_api"
        # no retries left: failed is final now
        assert finished(mock, final)
        with pytest.raises(capymock.IllegalTransition):
            mock.set_state("job_migrate_1", "pending")
        assert client.job("job_migrate_1") == final


def test_cancelled() -> None:
    token = "capy_live_web_cancel_5a0e3b7c9d1f2468"
    with capymock.serve("cancelled") as mock:
        client = Client(mock, token)
        seen = watch(mock, lambda: client.jobs("proj_web"), range(41))
        assert [[job["id"] for job in jobs] for _, jobs in seen] == [["job_deploy_2", "job_preview_1"]] * 41
        preview = [(t, jobs[1]) for t, jobs in seen]
        deploy = [(t, jobs[0]) for t, jobs in seen]
        assert timeline(preview) == [
            (0, derived(-30, "pending", 0)),
            (20, derived(20, "cancelled", 0, completed=20)),
        ]
        assert timeline(deploy) == [
            (0, derived(0, "pending", 0)),
            (2, derived(2, "claimed", 1, by="worker-a", claimed=2)),
            (3, derived(3, "running", 1, by="worker-a", claimed=2, started=3)),
            (30, derived(30, "cancelled", 1, by="worker-a", claimed=2, started=3, completed=30)),
        ]
        preview_done, deploy_done = preview[-1][1], deploy[-1][1]
        assert preview_done["created_at"] == at(-30)
        assert preview_done["error"] == "cancelled by user before it started"
        assert preview_done["preview_database_id"] == "db_preview_7"
        assert preview_done["last_exit_code"] is None
        assert deploy_done["error"] == "cancelled by user"
        assert (deploy_done["last_exit_code"], deploy_done["last_stderr"]) == (
            143,
            "received SIGTERM, rolling back",
        )
        for job in (preview_done, deploy_done):
            assert finished(mock, job)
            assert client.job(job["id"]) == job


def test_stuck_claim() -> None:
    token = "capy_live_db_stuck_8c2d5f0a1e7b3946"
    with capymock.serve("stuck-claim") as mock:
        client = Client(mock, token)
        ticks = [*range(0, 10), *range(10, 300, 10), *range(300, 341)]
        seen = watch(mock, lambda: client.job("job_backup_1"), ticks)
        assert timeline(seen) == [
            (0, derived(0, "pending", 0)),
            (2, derived(2, "claimed", 1, by="worker-a", claimed=2)),
            (302, derived(302, "pending", 1)),
            (303, derived(303, "claimed", 2, by="worker-b", claimed=303)),
            (304, derived(304, "running", 2, by="worker-b", claimed=303, started=304)),
            (334, derived(334, "succeeded", 2, by="worker-b", claimed=303, started=304, completed=334)),
        ]
        # the dead worker's claim is held, unchanged, for five whole minutes
        stuck = [job for t, job in seen if 2 <= t < 302]
        assert len(stuck) > 30 and all(job == stuck[0] for job in stuck)
        assert stuck[0]["started_at"] is None and stuck[0]["claimed_by"] == "worker-a"
        done = seen[-1][1]
        assert (done["last_exit_code"], done["type"]) == (0, "backup")
        assert done["last_stdout"].startswith("backup written to s3://")


def test_lock_contention_never_runs_both_jobs() -> None:
    token = "capy_live_web_lock_3e6a9c2f0b8d1475"
    with capymock.serve("lock-contention") as mock:
        client = Client(mock, token)
        seen = watch(mock, lambda: {j["id"]: j for j in client.jobs("proj_web")}, range(91))
        for t, jobs in seen:
            a, b = jobs["job_deploy_a"], jobs["job_deploy_b"]
            assert a["locked_resource"] == b["locked_resource"] == "deploy:proj_web/production"
            assert not (a["state"] == "running" and b["state"] == "running"), t
            if a["state"] not in ENDED:
                assert b["state"] == "pending", f"at {t}s job_deploy_b is {b['state']} while a holds the lock"
        assert timeline([(t, jobs["job_deploy_a"]) for t, jobs in seen]) == [
            (0, derived(-2, "pending", 0)),
            (1, derived(1, "claimed", 1, by="worker-a", claimed=1)),
            (2, derived(2, "running", 1, by="worker-a", claimed=1, started=2)),
            (42, derived(42, "succeeded", 1, by="worker-a", claimed=1, started=2, completed=42)),
        ]
        assert timeline([(t, jobs["job_deploy_b"]) for t, jobs in seen]) == [
            (0, derived(-1, "pending", 0)),
            (43, derived(43, "claimed", 1, by="worker-b", claimed=43)),
            (44, derived(44, "running", 1, by="worker-b", claimed=43, started=44)),
            (79, derived(79, "succeeded", 1, by="worker-b", claimed=43, started=44, completed=79)),
        ]
        # b is claimed only after a has ended
        assert seen[-1][1]["job_deploy_b"]["claimed_at"] > seen[-1][1]["job_deploy_a"]["completed_at"]
        # newest first: b was created a second after a
        assert [j["id"] for j in client.jobs("proj_web")] == ["job_deploy_b", "job_deploy_a"]


def test_busy_project() -> None:
    token = "capy_live_busy_6b3f8e0d2a9c7154"
    states = capymock.load_spec().lifecycle.states
    with capymock.serve("busy-project") as mock:
        client = Client(mock, token)
        assert len(mock.jobs()) == 302
        generated_ids = [job.id for job in scenario_of(mock, "busy-project").jobs if job.generated]
        generated = {job.id: job for job in mock.jobs() if job.id in generated_ids}
        assert len(generated) == 300
        assert {job["state"] for job in generated.values()} == set(states)
        assert {job["type"] for job in generated.values()} <= set(GENERATED_TYPES)
        newest = client.jobs("proj_busy", limit=100)
        assert len(newest) == 100
        assert [j["id"] for j in newest[:3]] == ["job_busy_deploy", "job_busy_build", generated_ids[0]]
        keys = [(j["created_at"], j["id"]) for j in newest]
        assert keys == sorted(keys, reverse=True)
        assert newest[2]["created_at"] == at(-30) and newest[-1]["created_at"] == at(-30 * 98)
        assert client.get("/v1/jobs/job_busy_test").status == 404  # not created yet

        seen = watch(mock, lambda: {j["id"]: j for j in client.jobs("proj_busy", limit=3)}, range(51))
        assert next(t for t, jobs in seen if "job_busy_test" in jobs) == 30

        def track(job_id: str) -> list[tuple[float, Job]]:
            return [(t, jobs[job_id]) for t, jobs in seen if job_id in jobs]

        assert timeline(track("job_busy_build")) == [
            (0, derived(-20, "pending", 0)),
            (2, derived(2, "claimed", 1, by="worker-4", claimed=2)),
            (3, derived(3, "running", 1, by="worker-4", claimed=2, started=3)),
            (33, derived(33, "succeeded", 1, by="worker-4", claimed=2, started=3, completed=33)),
        ]
        assert timeline(track("job_busy_deploy")) == [
            (0, derived(-10, "running", 1, by="worker-3", claimed=-10, started=-10)),
            (15, derived(15, "failed", 1, by="worker-3", claimed=-10, started=-10, completed=15)),
            (20, derived(20, "pending", 1)),
            (21, derived(21, "claimed", 2, by="worker-5", claimed=21)),
            (22, derived(22, "running", 2, by="worker-5", claimed=21, started=22)),
            (42, derived(42, "succeeded", 2, by="worker-5", claimed=21, started=22, completed=42)),
        ]
        assert timeline(track("job_busy_test")) == [
            (30, derived(30, "pending", 0)),
            (32, derived(32, "claimed", 1, by="worker-9", claimed=32)),
            (33, derived(33, "running", 1, by="worker-9", claimed=32, started=33)),
            (43, derived(43, "succeeded", 1, by="worker-9", claimed=32, started=33, completed=43)),
        ]
        assert track("job_busy_test")[-1][1]["created_at"] == at(30)
        # the generated jobs never move, and the new job is the newest
        assert {job.id: job for job in mock.jobs() if job.id in generated} == generated
        assert len(mock.jobs()) == 303
        assert [j["id"] for j in client.jobs("proj_busy", limit=3)] == [
            "job_busy_test",
            "job_busy_deploy",
            "job_busy_build",
        ]


def test_busy_project_refuses_to_add_a_job_the_scenario_creates_later() -> None:
    mock = capymock.Mock(scenario="busy-project")
    with pytest.raises(
        capymock.InvalidJob, match="'job_busy_test' is taken: the scenario creates it at 2026-01-01T09:00:30Z"
    ):
        mock.add_job(id="job_busy_test", project_id="proj_busy", type="manual")
    mock.advance("31s")
    assert mock.job("job_busy_test")["type"] == "test"


AUTH = {
    "org": "capy_live_acme_org_5f2c9d1e7a3b4c60",
    "alpha": "capy_live_acme_alpha_8b1e4f7a2c9d3e51",
    "beta": "capy_live_acme_beta_3c7a9e2f5b1d8a46",
}
ALPHA_JOBS = ["job_alpha_build", "job_alpha_deploy"]
BETA_JOBS = ["job_beta_test", "job_beta_backup"]


@pytest.mark.parametrize(
    ("key", "readable"),
    [("org", {"proj_alpha", "proj_beta"}), ("alpha", {"proj_alpha"}), ("beta", {"proj_beta"})],
)
def test_auth_scopes_each_key_reads_exactly_its_scope(key: str, readable: set[str]) -> None:
    with capymock.serve("auth-scopes") as mock:
        api, token = Api(mock), AUTH[key]
        for project, job_ids in (("proj_alpha", ALPHA_JOBS), ("proj_beta", BETA_JOBS)):
            listed = api.get(f"/v1/projects/{project}/jobs", token=token)
            if project in readable:
                assert listed.status == 200
                assert [j["id"] for j in listed.body["jobs"]] == job_ids
                assert {j["organization_id"] for j in listed.body["jobs"]} == {"org_acme"}
            else:  # a project key listing another project
                assert listed.status == 403
                assert "proj_" in listed.body["error"]
            for job_id in job_ids:
                one = api.get(f"/v1/jobs/{job_id}", token=token)
                if project in readable:
                    assert (one.status, one.body["job"]["project_id"]) == (200, project)
                else:  # outside the key's scope: a 404 that says where the job is
                    assert one.status == 404
                    assert one.body["error"].startswith(
                        f"job {job_id!r} not found for this token: it is in project {project!r}"
                    )
        missing = api.get("/v1/jobs/job_nope", token=token)
        assert (missing.status, missing.body) == (404, {"error": "job 'job_nope' not found"})
        unknown = api.get("/v1/projects/proj_gamma/jobs", token=token)
        assert unknown.status == (404 if key == "org" else 403)


def test_auth_scopes_other_credentials() -> None:
    with capymock.serve("auth-scopes") as mock:
        api = Api(mock)
        assert mock.organization_id == "org_acme"
        for token in (mock.token, mock.clerk_token(), mock.clerk_token(version=1)):  # whole organization
            assert api.get("/v1/projects/proj_beta/jobs", token=token).status == 200
            assert api.get("/v1/jobs/job_alpha_build", token=token).status == 200
        stranger = mock.clerk_token(org_id="org_other")
        assert api.get("/v1/projects/proj_alpha/jobs", token=stranger).status == 404
        assert api.get("/v1/jobs/job_alpha_build", token=stranger).status == 404
        for token in ("capy_live_acme_gamma_0000000000000000", None):
            assert api.get("/v1/projects/proj_alpha/jobs", token=token).status == 401
            assert api.get("/v1/jobs/job_alpha_build", token=token).status == 401


def test_auth_scopes_each_project_key_polls_its_own_job() -> None:
    with capymock.serve("auth-scopes") as mock:
        alpha, beta, org = Client(mock, AUTH["alpha"]), Client(mock, AUTH["beta"]), Client(mock, AUTH["org"])

        def read() -> tuple[Job, Job, Job, Job]:
            return (
                alpha.job("job_alpha_build"),
                beta.job("job_beta_test"),
                org.listed("proj_alpha", "job_alpha_build"),
                org.listed("proj_beta", "job_beta_test"),
            )

        seen = watch(mock, read, range(31))
        assert [(t, a) for t, (a, _, o, _) in seen] == [(t, o) for t, (_, _, o, _) in seen]
        assert [(t, b) for t, (_, b, _, _) in seen] == [(t, o) for t, (_, _, _, o) in seen]
        assert timeline([(t, r[0]) for t, r in seen]) == [
            (0, derived(0, "pending", 0)),
            (5, derived(5, "claimed", 1, by="worker-a", claimed=5)),
            (6, derived(6, "running", 1, by="worker-a", claimed=5, started=6)),
            (26, derived(26, "succeeded", 1, by="worker-a", claimed=5, started=6, completed=26)),
        ]
        assert timeline([(t, r[1]) for t, r in seen]) == [
            (0, derived(0, "pending", 0)),
            (3, derived(3, "claimed", 1, by="worker-b", claimed=3)),
            (4, derived(4, "running", 1, by="worker-b", claimed=3, started=4)),
            (14, derived(14, "failed", 1, by="worker-b", claimed=3, started=4, completed=14)),
        ]
        failed = seen[-1][1][1]
        assert (failed["error"], failed["retry_classification"]) == ("2 tests failed", "permanent")


FLAKY_TOKEN = "capy_live_flaky_9d4b1e6c3a0f7285"


def test_flaky_api_a_poller_retries_through_503s_and_latency() -> None:
    with capymock.serve("flaky-api") as mock:
        client = Client(mock, FLAKY_TOKEN)

        # the first two reads of the job are refused: a poller has to retry
        for _ in range(2):
            refused = raw_get(mock, "/v1/jobs/job_flaky_1", FLAKY_TOKEN)
            assert (refused.status, refused.body) == (503, {"error": "service unavailable: please retry"})
        mock.assert_requested("GET", "/v1/jobs/job_flaky_1", times=2, status=503)

        # ... and were not reads: the job waits for two answered reads, by get or in a list
        first = client.job("job_flaky_1")  # read 1
        assert lifecycle_view(first) == derived(0, "pending", 0)
        began = time.monotonic()
        listed = client.listed("proj_flaky", "job_flaky_1")  # read 2, slowed down by 250ms
        assert time.monotonic() - began >= 0.25  # a lower bound only: a busy machine adds to it
        assert listed == first
        claimed = client.job("job_flaky_1")  # read 3 sees the step the second read fired
        assert lifecycle_view(claimed) == derived(0, "claimed", 1, by="worker-a", claimed=0)
        assert mock.state()["faults"] == []  # both faults are used up
        assert [r.status for r in mock.requests] == [503, 503, 200, 200, 200]

        seen = watch(mock, lambda: client.job("job_flaky_1"), range(11))
        assert timeline(seen) == [
            (0, derived(0, "claimed", 1, by="worker-a", claimed=0)),
            (2, derived(2, "running", 1, by="worker-a", claimed=0, started=2)),
            (7, derived(7, "succeeded", 1, by="worker-a", claimed=0, started=2, completed=7)),
        ]
        assert (seen[-1][1]["last_exit_code"], seen[-1][1]["last_stdout"]) == (0, "deployed web@1.4.2")
        assert [j["id"] for j in client.jobs("proj_flaky")] == ["job_flaky_1", "job_flaky_older"]


def test_flaky_api_time_alone_does_not_move_a_job_waiting_for_reads() -> None:
    with capymock.serve("flaky-api") as mock:
        mock.advance("1h")
        assert mock.job("job_flaky_1")["state"] == "pending"  # not a read
        states = []
        for _ in range(5):
            reply = raw_get(mock, "/v1/jobs/job_flaky_1", FLAKY_TOKEN)
            states.append(reply.body["job"]["state"] if reply.status == 200 else reply.status)
        assert states == [503, 503, "pending", "pending", "claimed"]
        assert mock.job("job_flaky_1")["claimed_at"] == at(3600)


def test_retry_then_succeed_after_polls_counts_reads_by_list_and_get() -> None:
    token = "capy_live_web_0123456789abcdef"
    with capymock.serve("retry-then-succeed") as mock:
        client = Client(mock, token)
        # reads while the job waits for time do not count towards the later `after_polls: 2`
        seen = watch(mock, lambda: client.job("job_deploy_1"), range(9))
        assert timeline(seen) == [
            (0, derived(0, "pending", 0)),
            (2, derived(2, "claimed", 1, by="worker-a", claimed=2)),
            (3, derived(3, "running", 1, by="worker-a", claimed=2, started=3)),
            (8, derived(8, "failed", 1, by="worker-a", claimed=2, started=3, completed=8)),
        ]
        failed = seen[-1][1]
        assert (failed["error"], failed["last_exit_code"]) == ("connection reset", 1)
        assert failed["retry_classification"] == "transient"

        move_to(mock, 9)  # back to pending; then it waits for two reads, however long that takes
        move_to(mock, 609)
        assert mock.job("job_deploy_1")["state"] == "pending"
        first = client.listed("proj_web", "job_deploy_1")  # read 1
        second = client.job("job_deploy_1")  # read 2: fires the claim right after answering
        assert lifecycle_view(first) == lifecycle_view(second) == derived(9, "pending", 1)
        assert second["error"] == "connection reset"  # kept while it waits for its retry
        third = client.listed("proj_web", "job_deploy_1")  # read 3 sees it
        assert lifecycle_view(third) == derived(609, "claimed", 2, by="worker-b", claimed=609)

        seen = watch(mock, lambda: client.job("job_deploy_1"), range(609, 616))
        assert timeline(seen) == [
            (609, derived(609, "claimed", 2, by="worker-b", claimed=609)),
            (610, derived(610, "running", 2, by="worker-b", claimed=609, started=610)),
            (613, derived(613, "succeeded", 2, by="worker-b", claimed=609, started=610, completed=613)),
        ]
        assert seen[-1][1]["last_exit_code"] == 0
        jobs = client.jobs("proj_web", limit=100)
        assert len(jobs) == 41 and jobs[0]["id"] == "job_deploy_1"
        assert {j["state"] for j in jobs[1:]} <= {"succeeded", "failed"}


def test_demo() -> None:
    with capymock.serve("demo") as mock:
        start = mock.clock.now()  # the demo has no fixed start: it starts now
        client = Client(mock)
        listed = client.jobs("proj_demo")
        assert [(j["id"], j["state"]) for j in listed] == [
            ("job_demo_report", "pending"),
            ("job_demo_backup", "claimed"),
            ("job_demo_deploy", "running"),
            ("job_demo_preview", "cancelled"),
            ("job_demo_build", "failed"),
            ("job_demo_migrate", "succeeded"),
        ]
        assert [j["created_at"] for j in listed] == [at(-60 * m, start) for m in (1, 2, 6, 30, 45, 58)]
        assert {j["state"] for j in listed} == set(mock.spec.lifecycle.states)
        seen = watch(mock, lambda: client.job("job_demo_deploy"), range(0, 121, 10), start)
        assert timeline(seen) == [
            (0, derived(-360, "running", 1, by="worker-a", claimed=-360, started=-360, start=start)),
            (
                60,
                derived(
                    60, "succeeded", 1, by="worker-a", claimed=-360, started=-360, completed=60, start=start
                ),
            ),
        ]
        others = [j for j in client.jobs("proj_demo") if j["id"] != "job_demo_deploy"]
        assert others == [j for j in listed if j["id"] != "job_demo_deploy"]  # the others never move
