"""One set of tests for every `capymock.Handle`: an in-process `Mock` (served, so its API answers
HTTP), a `RemoteMock` on a session of a served `capymock serve`, and a `RemoteMock` on the served
root. Each test names the members of the protocol it exercises (`covers`); the last test fails if
a member is exercised by none, and another checks that both classes declare every member with
the protocol's argument names."""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

import pytest

import capymock
from capymock import (
    CapymockError,
    Fired,
    IllegalTransition,
    InvalidJob,
    Job,
    RecordedRequest,
    RemoteMock,
    ScenarioError,
)
from capymock.handle import MEMBERS, Handle
from capymock.world.history import JobHistory
from cli_helpers import Served, serving
from conftest import http

F = TypeVar("F", bound=Callable[..., Any])
KINDS = ("in_process", "session", "root")
WEB_TOKEN = "capy_live_web_0123456789abcdef"
START = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)


def covers(*members: str) -> Callable[[F], F]:
    """Mark a test as exercising these members of `Handle`."""
    unknown = set(members) - set(MEMBERS)
    assert not unknown, f"not members of Handle: {sorted(unknown)}"

    def mark(test: F) -> F:
        test.covers = members  # type: ignore[attr-defined]
        return test

    return mark


@pytest.fixture(scope="module")
def served() -> Iterator[Served]:
    """One `capymock serve` for the module, its clock paused (so its root's time stands still)."""
    with serving(["--quiet", "--paused"]) as server:
        yield server


@pytest.fixture(scope="module")
def in_process() -> Iterator[capymock.Mock]:
    with capymock.serve() as mock:
        yield mock


@pytest.fixture(params=KINDS)
def handle(request: pytest.FixtureRequest) -> Iterator[Handle]:
    """A handle of each kind, loaded with the bundled `retry-then-succeed`."""
    chosen: Handle
    if request.param == "in_process":
        chosen = request.getfixturevalue("in_process")
    elif request.param == "session":
        chosen = session = RemoteMock(request.getfixturevalue("served").url)
        request.addfinalizer(session.end)
    else:
        chosen = RemoteMock.root(request.getfixturevalue("served").url)
    chosen.load("retry-then-succeed")
    yield chosen
    chosen.check()


def api(handle: Handle, path: str, token: str | None = None) -> Any:
    """GET `path` of the handle's Capy API with `token` (default: its own)."""
    assert handle.url is not None
    return http(f"{handle.url}{path}", headers={"Authorization": f"Bearer {token or handle.token}"})


@covers("load", "scenario", "state", "organization_id", "projects", "url", "token")
def test_load_names_the_scenario_its_organization_and_projects(handle: Handle) -> None:
    assert handle.scenario == "retry-then-succeed"
    assert handle.organization_id == "org_demo" == handle.state()["organization"]
    assert handle.state()["token"] == handle.token
    assert handle.projects() == ["proj_web"]
    listed = api(handle, "/v1/projects/proj_web/jobs?limit=100")
    assert listed.status == 200 and "job_deploy_1" in {job["id"] for job in listed.body["jobs"]}
    handle.load()
    assert handle.scenario is None and handle.jobs() == []


@covers("load")
def test_a_scenario_that_cannot_load_is_a_scenario_error_located_in_its_file(
    handle: Handle, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text(
        "name: broken\nprojects: [proj_a]\njobs:\n  - id: job_a\n    project: proj_a\n    colour: red\n",
        encoding="utf-8",
    )
    with pytest.raises(ScenarioError) as raised:
        handle.load(broken)
    (problem,) = raised.value.problems
    assert problem.location is not None and Path(problem.location.path).name == "broken.yaml"
    assert (problem.location.line, problem.location.column, problem.path) == (6, 5, "jobs[0].colour")
    assert problem.message.startswith("unknown field 'colour'")
    with pytest.raises(ScenarioError, match="did you mean 'retry-then-succeed'"):
        handle.load("retry-then-succed")
    assert handle.scenario == "retry-then-succeed"  # unchanged


@covers("reset", "advance", "job", "clock")
def test_reset_starts_over_from_the_load(handle: Handle) -> None:
    assert handle.clock.now() == START
    handle.advance("3s")
    assert handle.job("job_deploy_1")["state"] == "running"
    handle.add_job(id="job_extra")
    handle.reset()
    assert handle.clock.now() == START
    assert handle.job("job_deploy_1")["state"] == "pending"
    with pytest.raises(KeyError, match="no job 'job_extra'"):
        handle.job("job_extra")


@covers("advance", "advance_to_next_step")
def test_advancing_answers_the_steps_that_fired(handle: Handle) -> None:
    fired = handle.advance("2s")
    assert fired == [Fired("job_deploy_1", "claimed", "2026-01-01T09:00:02Z")]
    assert handle.advance_to_next_step() == [Fired("job_deploy_1", "running", "2026-01-01T09:00:03Z")]
    assert [f.state for f in handle.advance(6)] == ["failed", "pending"]
    with pytest.raises(CapymockError, match=r"job_deploy_1's step to claimed waits for 2 reads \(0 so far\)"):
        handle.advance_to_next_step()
    with pytest.raises(ValueError):
        handle.advance("soon")


@covers("clock", "clock_state", "set_clock", "reset")
def test_the_clock_is_read_and_steered_and_reset_restores_its_mode(handle: Handle) -> None:
    before = handle.clock_state()
    assert before["now"] == "2026-01-01T09:00:00Z" and before["paused"] is True
    assert isinstance(handle.clock.now(), datetime)
    assert handle.set_clock(paused=True)["now"] == "2026-01-01T09:00:00Z"
    with pytest.raises(ValueError, match="speed"):
        handle.set_clock(speed=-1)
    running = handle.set_clock(speed=2)
    assert running["paused"] is False and running["speed"] == 2
    handle.reset()
    after = handle.clock_state()
    assert (after["now"], after["paused"], after["manual"]) == (before["now"], True, before["manual"])


@covers("add_job", "job", "jobs", "set_state")
def test_jobs_come_back_as_job_records(handle: Handle) -> None:
    added = handle.add_job(id="job_new", type="build")
    assert type(added) is Job and added.id == "job_new" and added["state"] == "pending"
    assert added["created_at"] == "2026-01-01T09:00:00Z" and added["project_id"] == "proj_web"
    assert handle.job("job_new") == added and type(handle.job("job_new")) is Job
    jobs = handle.jobs()
    assert all(type(job) is Job for job in jobs) and jobs[0].id == "job_new"
    moved = handle.set_state("job_new", "cancelled")
    assert type(moved) is Job and moved.id == "job_new" and moved["state"] == "cancelled"
    claimed = handle.set_state("job_deploy_1", "claimed", claimed_by="worker-z")
    assert claimed["claimed_by"] == "worker-z"


@covers("add_job", "set_state", "job")
def test_jobs_raise_the_same_exceptions(handle: Handle) -> None:
    with pytest.raises(KeyError, match="no job 'job_nope'"):
        handle.job("job_nope")
    with pytest.raises(KeyError, match="no job 'job_nope'"):
        handle.set_state("job_nope", "cancelled")
    with pytest.raises(IllegalTransition) as illegal:
        handle.set_state("job_deploy_1", "succeeded")
    assert (illegal.value.job_id, illegal.value.from_state, illegal.value.to_state) == (
        "job_deploy_1",
        "pending",
        "succeeded",
    )
    assert illegal.value.legal == ("claimed", "cancelled")
    with pytest.raises(InvalidJob, match="unknown Job field"):
        handle.add_job(colour="red")
    with pytest.raises(InvalidJob, match="did you mean 'proj_web'"):
        handle.add_job(project_id="proj_wbe")
    with pytest.raises(InvalidJob, match="is not a state"):
        handle.set_state("job_deploy_1", "done")
    with pytest.raises(InvalidJob, match="already exists"):
        handle.add_job(id="job_deploy_1")


@covers("add_project", "projects", "add_job")
def test_projects_are_declared_before_their_jobs(handle: Handle) -> None:
    handle.add_project("proj_api")
    assert handle.projects() == ["proj_web", "proj_api"]
    assert handle.add_job(project_id="proj_api")["project_id"] == "proj_api"
    created = handle.add_job(project_id="proj_cli", create_project=True)
    assert created["organization_id"] == "org_demo" and "proj_cli" in handle.projects()
    handle.add_project("proj_elsewhere", "org_other")
    assert "proj_elsewhere" not in handle.projects()
    with pytest.raises(InvalidJob, match="project id"):
        handle.add_project("proj/a")


@covers("add_token", "clerk_token", "token", "url")
def test_tokens_are_accepted_as_scoped(handle: Handle) -> None:
    extra = "capy_live_extra_0123456789abcdef"
    assert handle.add_token(extra, project="proj_web") == extra
    assert api(handle, "/v1/projects/proj_web/jobs", extra).status == 200
    foreign = "capy_live_foreign_0123456789abcdef"
    assert handle.add_token(foreign, organization="org_other") == foreign
    assert api(handle, "/v1/jobs/job_deploy_1", foreign).status == 404
    assert api(handle, "/v1/jobs/job_deploy_1", handle.clerk_token()).status == 200
    assert api(handle, "/v1/jobs/job_deploy_1", handle.clerk_token(org_id="org_other")).status == 404
    assert api(handle, "/v1/jobs/job_deploy_1", WEB_TOKEN).status == 200


@covers("fail", "add_fault")
def test_faults_answer_as_told(handle: Handle) -> None:
    handle.fail("GET", "/v1/jobs/{jobID}", status=503, times=1)
    assert api(handle, "/v1/jobs/job_deploy_1").status == 503
    assert api(handle, "/v1/jobs/job_deploy_1").status == 200
    handle.add_fault({"match": {"method": "GET", "path": "/v1/projects/proj_web/jobs"}, "status": 429})
    assert api(handle, "/v1/projects/proj_web/jobs").status == 429
    with pytest.raises(ScenarioError):
        handle.fail("GET", "/v1/nowhere")


@covers("requests", "assert_requested")
def test_the_journal_holds_recorded_requests(handle: Handle) -> None:
    assert handle.requests == []
    assert api(handle, "/v1/jobs/job_deploy_1?x=1").status == 200
    assert api(handle, "/v1/jobs/job_nope").status == 404
    first, second = handle.requests
    assert type(first) is RecordedRequest
    assert (first.method, first.path, first.status, first.query) == (
        "GET",
        "/v1/jobs/job_deploy_1",
        200,
        {"x": "1"},
    )
    assert first.operation_id == "getJob" and first.headers["Authorization"] != f"Bearer {handle.token}"
    assert second.status == 404
    handle.assert_requested("GET", "/v1/jobs/job_deploy_1", times=1)
    handle.assert_requested("GET", "/v1/jobs/job_nope", status=404)
    with pytest.raises(AssertionError, match="job_deploy_1"):
        handle.assert_requested("POST", "/v1/jobs/job_deploy_1")
    handle.reset()
    assert handle.requests == []


@covers("history", "advance", "set_state")
def test_a_jobs_history_comes_back_as_the_same_record(handle: Handle) -> None:
    assert api(handle, "/v1/jobs/job_deploy_1").status == 200  # read while pending
    handle.advance("3s")  # claimed, then running
    assert api(handle, "/v1/jobs/job_deploy_1").status == 200  # read while running
    handle.set_state("job_deploy_1", "cancelled")
    history = handle.history("job_deploy_1")
    assert type(history) is JobHistory and history.job_id == "job_deploy_1"
    assert [(c.job["state"], c.cause, c.at.isoformat()) for c in history.changes] == [
        ("pending", "scenario", "2026-01-01T09:00:00+00:00"),
        ("claimed", "advance", "2026-01-01T09:00:02+00:00"),
        ("running", "advance", "2026-01-01T09:00:03+00:00"),
        ("cancelled", "set", "2026-01-01T09:00:03+00:00"),
    ]
    assert type(history.changes[0].job) is Job and history.changes[-1].before == "running"
    assert (history.reads_in("pending"), history.reads_in("running")) == (1, 1)
    assert history.to_come == ()  # cancelled: its script stopped
    with pytest.raises(KeyError):
        handle.history("job_nope")


@covers("defects", "check")
def test_a_mock_without_defects_checks_clean(handle: Handle) -> None:
    assert api(handle, "/v1/jobs/job_deploy_1").status == 200
    assert handle.defects() == []
    assert handle.check() is None


def test_both_classes_implement_the_protocol_member_for_member() -> None:
    for cls in (capymock.Mock, RemoteMock):
        for name in MEMBERS:
            declared, own = inspect.getattr_static(Handle, name), inspect.getattr_static(cls, name, None)
            if isinstance(declared, property):
                assert own is not None or name in ("token", "url"), f"{cls.__name__} lacks {name}"
                continue
            assert callable(own), f"{cls.__name__}.{name} is not a method"
            wanted = list(inspect.signature(declared).parameters.values())
            given = {p.name: p for p in inspect.signature(own).parameters.values()}
            for parameter in wanted:
                assert parameter.name in given, f"{cls.__name__}.{name} lacks {parameter.name}"
                assert given[parameter.name].kind == parameter.kind, (
                    f"{cls.__name__}.{name}({parameter.name})"
                )
                assert given[parameter.name].default == parameter.default, (
                    f"{cls.__name__}.{name}({parameter.name})"
                )


def test_every_member_of_the_protocol_is_exercised_on_every_handle() -> None:
    tests = [test for test in globals().values() if hasattr(test, "covers")]
    covered = {member for test in tests for member in test.covers}
    assert sorted(set(MEMBERS) - covered) == []
    for test in tests:  # a test uses what it says it covers (itself, or through `api`)
        source = inspect.getsource(test) + (
            inspect.getsource(api) if "api(handle" in inspect.getsource(test) else ""
        )
        unused = [member for member in test.covers if f".{member}" not in source]
        assert unused == [], f"{test.__name__} covers {unused} but does not use them"
    assert len(KINDS) == 3
