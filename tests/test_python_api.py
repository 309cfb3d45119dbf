"""The scriptable handle: load, reset, advance, set_state, fail, assert_requested."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

import capymock
from conftest import Api

START = datetime(2026, 1, 1, 9, tzinfo=UTC)
SCRIPT = """
name: script
start: "2026-01-01T09:00:00Z"
projects: [proj_a]
jobs:
  - id: job_1
    project: proj_a
    steps:
      - state: pending
      - {after: 2s, state: claimed, claimed_by: w1}
      - {after: 1s, state: running}
      - {after: 5s, state: failed, error: boom}
      - {after: 1s, state: pending}
      - {after_polls: 2, state: claimed}
      - {after: 500ms, state: running}
      - {after: 3s, state: succeeded}
  - id: job_late
    project: proj_a
    steps:
      - {after: 1m, state: pending}
"""


@pytest.fixture
def scripted(tmp_path) -> capymock.Mock:
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT)
    return capymock.Mock(scenario=path)


def test_load_starts_the_clock_at_the_scenario_start(scripted: capymock.Mock) -> None:
    assert scripted.clock.now() == START
    assert scripted.scenario == "script"
    assert [j.id for j in scripted.jobs()] == ["job_1"]


def test_one_advance_fires_every_step_due_at_its_own_time(scripted: capymock.Mock) -> None:
    fired = scripted.advance("10s")
    assert [(f.state, f.at) for f in fired] == [
        ("claimed", "2026-01-01T09:00:02Z"),
        ("running", "2026-01-01T09:00:03Z"),
        ("failed", "2026-01-01T09:00:08Z"),
        ("pending", "2026-01-01T09:00:09Z"),
    ]
    job = scripted.job("job_1")
    assert (job["state"], job["attempts"], job["error"]) == ("pending", 1, "boom")
    assert job["claimed_at"] is job["started_at"] is job["completed_at"] is None
    assert job["updated_at"] == "2026-01-01T09:00:09Z"
    assert scripted.clock.now() == datetime(2026, 1, 1, 9, 0, 10, tzinfo=UTC)


def test_advance_to_next_step_says_when_only_reads_are_awaited(scripted: capymock.Mock) -> None:
    scripted.advance("1m")  # job_late appears; job_1 now waits for two reads
    assert scripted.state()["pending_steps"] == [
        {"job_id": "job_1", "state": "claimed", "after_polls": 2, "reads": 0}
    ]
    with pytest.raises(capymock.CapymockError) as raised:
        scripted.advance_to_next_step()
    assert str(raised.value) == (
        "no step is waiting for time; job_1's step to claimed waits for 2 reads (0 so far): "
        "read the job (getJob, or in a list) to move it"
    )


def test_after_polls_over_http_counts_list_and_get_reads(tmp_path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT)
    with capymock.serve(path) as mock:
        api = Api(mock)
        mock.advance("10s")
        assert api.get("/v1/jobs/job_1").body["job"]["state"] == "pending"  # read 1 (get)
        listed = api.get("/v1/projects/proj_a/jobs").body["jobs"]  # read 2 (list)
        assert listed[0]["state"] == "pending"
        job = api.get("/v1/jobs/job_1").body["job"]  # read 3 sees the step
        assert (job["state"], job["attempts"], job["claimed_by"]) == ("claimed", 2, "worker-1")
        assert job["claimed_at"] == "2026-01-01T09:00:10Z"
        mock.advance("500ms")
        assert api.get("/v1/jobs/job_1").body["job"]["started_at"] == "2026-01-01T09:00:10.500Z"


def test_advance_to_next_step_moves_exactly_to_it(scripted: capymock.Mock) -> None:
    (fired,) = scripted.advance_to_next_step()
    assert (fired.job_id, fired.state, fired.at) == ("job_1", "claimed", "2026-01-01T09:00:02Z")
    assert scripted.clock.now() == datetime(2026, 1, 1, 9, 0, 2, tzinfo=UTC)


def test_a_delayed_job_appears_when_its_first_step_is_due(scripted: capymock.Mock) -> None:
    scripted.advance("59s")
    with pytest.raises(KeyError):
        scripted.job("job_late")
    scripted.advance("1s")
    assert scripted.job("job_late")["created_at"] == "2026-01-01T09:01:00Z"


def test_reset_returns_to_right_after_load(scripted: capymock.Mock) -> None:
    scripted.advance("9s")
    scripted.add_job(project_id="proj_a", id="job_extra")
    scripted.fail("GET", "/v1/jobs/{jobID}", status=503)
    scripted.reset()
    assert scripted.clock.now() == START
    assert [j.id for j in scripted.jobs()] == ["job_1"]
    assert scripted.job("job_1")["state"] == "pending"
    assert scripted.faults.describe() == []
    assert scripted.requests == []
    assert scripted.advance("2s")[0].state == "claimed"  # the script runs again


def test_reset_without_a_scenario_empties_the_mock() -> None:
    mock = capymock.Mock()
    mock.add_job()
    mock.reset()
    assert mock.jobs() == []


def test_set_state_follows_the_lifecycle_and_stops_the_script(scripted: capymock.Mock) -> None:
    job = scripted.set_state("job_1", "cancelled")
    assert job["state"] == "cancelled" and job["completed_at"] == "2026-01-01T09:00:00Z"
    assert scripted.advance("20s") == []
    with pytest.raises(capymock.IllegalTransition) as raised:
        scripted.set_state("job_1", "running")
    assert (
        str(raised.value)
        == "job 'job_1' cannot go from 'cancelled' to 'running'; legal next states: none, it is final"
    )
    assert (raised.value.from_state, raised.value.to_state, raised.value.legal) == (
        "cancelled",
        "running",
        (),
    )


def test_set_state_refuses_a_retry_past_max_attempts() -> None:
    mock = capymock.Mock()
    job = mock.add_job(state="failed", attempts=3, max_attempts=3)
    with pytest.raises(capymock.IllegalTransition, match="attempts 3 has reached max_attempts 3"):
        mock.set_state(job.id, "pending")


def test_set_state_with_fields(scripted: capymock.Mock) -> None:
    scripted.set_state("job_1", "claimed", claimed_by="me")
    job = scripted.set_state("job_1", "running")
    assert (job["claimed_by"], job["attempts"]) == ("me", 1)
    with pytest.raises(capymock.InvalidJob, match="completed_at must be set in state 'failed'"):
        scripted.set_state("job_1", "failed", started_at=None, completed_at=None)


def test_load_replaces_the_state_and_a_bad_scenario_changes_nothing(
    scripted: capymock.Mock, tmp_path
) -> None:
    scripted.advance("5s")
    before = scripted.jobs()
    broken = tmp_path / "broken.yaml"
    broken.write_text("projects: [p]\njobs:\n  - {id: j, project: p, steps: [{state: runing}]}\n")
    with pytest.raises(
        capymock.ScenarioError, match=re.escape("broken.yaml:3:41: jobs[0].steps[0].state: 'runing'")
    ):
        scripted.load(broken)
    assert scripted.jobs() == before and scripted.scenario == "script"
    scripted.load("retry-then-succeed")
    assert scripted.scenario == "retry-then-succeed"
    assert "job_1" not in {j.id for j in scripted.jobs()}


def test_an_unknown_scenario_name_suggests_the_closest(scripted: capymock.Mock) -> None:
    with pytest.raises(
        capymock.ScenarioError, match="'retry-then-succed' \\(did you mean 'retry-then-succeed'"
    ):
        scripted.load("retry-then-succed")


def test_the_default_token_follows_the_scenario_organization(tmp_path) -> None:
    path = tmp_path / "other.yaml"
    path.write_text("organization: org_other\nprojects: [p]\njobs: [{id: j, project: p}]\n")
    with capymock.serve(path) as mock:
        assert Api(mock).get("/v1/jobs/j").body["job"]["organization_id"] == "org_other"


def test_fail_injects_a_fault_that_is_not_a_read(tmp_path) -> None:
    path = tmp_path / "script.yaml"
    path.write_text(SCRIPT)
    with capymock.serve(path) as mock:
        api = Api(mock)
        mock.advance("10s")
        mock.fail("GET", "/v1/jobs/{jobID}", status=503, times=2)
        replies = [api.get("/v1/jobs/job_1", check=i >= 2) for i in range(5)]
        assert [r.status for r in replies] == [503, 503, 200, 200, 200]
        assert replies[0].raw == b'{"error":"injected fault: HTTP 503"}'
        assert [r.body["job"]["state"] for r in replies[2:]] == ["pending", "pending", "claimed"]


def test_fail_rejects_a_path_no_operation_has() -> None:
    with pytest.raises(capymock.ScenarioError, match="no operation has the path '/v1/job/x'"):
        capymock.Mock().fail("GET", "/v1/job/x")


def test_assert_requested_passes_and_fails_readably(api: Api, mock: capymock.Mock) -> None:
    job = mock.add_job()
    api.get(f"/v1/jobs/{job.id}")
    api.get("/v1/projects/proj_demo/jobs?limit=2")
    mock.assert_requested("GET", f"/v1/jobs/{job.id}")
    mock.assert_requested("get", "/v1/projects/proj_demo/jobs", times=1, query={"limit": "2"}, status=200)
    mock.assert_requested("POST", "/v1/jobs/x", times=0)
    with pytest.raises(AssertionError) as raised:
        mock.assert_requested("GET", "/v1/jobs/nope", times=1, status=200)
    assert str(raised.value) == (
        "expected GET /v1/jobs/nope status=200 1 time, saw it 0 times.\n"
        "The mock saw 2 requests:\n"
        f"  GET /v1/jobs/{job.id} -> 200\n"
        "  GET /v1/projects/proj_demo/jobs?limit=2 -> 200"
    )


def test_assert_requested_rejects_unknown_filters() -> None:
    with pytest.raises(TypeError, match="unknown filter"):
        capymock.Mock().assert_requested("GET", "/", colour="red")


def test_head_requests_are_not_reads(tmp_path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        "projects: [p]\njobs:\n"
        "  - {id: j, project: p, steps: [{state: pending}, {after_polls: 1, state: claimed}]}\n"
    )
    with capymock.serve(path) as mock:
        api = Api(mock)
        for _ in range(3):
            assert api.get("/v1/jobs/j", method="HEAD").status == 200
        assert api.get("/v1/jobs/j").body["job"]["state"] == "pending"
        assert api.get("/v1/jobs/j").body["job"]["state"] == "claimed"


def test_several_scenarios_load_side_by_side() -> None:
    mock = capymock.Mock(scenario=["happy-path", "auth-scopes"])
    assert mock.scenario == "happy-path + auth-scopes"
    ids = {job.id for job in mock.jobs()}
    assert {"job_build_1", "job_alpha_build", "job_beta_test"} <= ids
    with pytest.raises(capymock.ScenarioError, match="job id 'job_build_1' is in both"):
        mock.load("happy-path", "happy-path")
    assert mock.scenario == "happy-path + auth-scopes"
