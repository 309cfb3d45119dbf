"""`capymock.strategies`: every drawn job is valid under the spec and keeps every invariant."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, find, given, settings
from hypothesis import strategies as st
from werkzeug.test import Client

import capymock
from capymock import strategies
from capymock.core.reachability import oracle_for
from conftest import ORACLE

LIFECYCLE = capymock.load_spec().lifecycle
EXPLAIN = oracle_for(capymock.load_spec()).explain
JOB = ORACLE.validator("/components/schemas/Job")


@settings(max_examples=500, suppress_health_check=[HealthCheck.too_slow])
@given(strategies.jobs())
def test_500_jobs_validate_and_keep_every_invariant(job: dict[str, object]) -> None:
    JOB.validate(job)
    assert LIFECYCLE.violations(job) == []
    assert EXPLAIN(job).explained
    assert set(job) == set(capymock.load_spec().job_fields)


@pytest.mark.parametrize("state", LIFECYCLE.states)
@settings(max_examples=60)
@given(data=st.data())
def test_jobs_in_a_given_state(state: str, data: st.DataObject) -> None:
    job = data.draw(strategies.jobs(state=state, project_id="proj_x", organization_id="org_x"))
    assert (job["state"], job["project_id"], job["organization_id"]) == (state, "proj_x", "org_x")
    JOB.validate(job)
    assert LIFECYCLE.violations(job) == []


@settings(max_examples=100)
@given(strategies.job_lists(project_id="proj_x", max_size=10))
def test_job_lists_are_list_responses(jobs: list[dict[str, object]]) -> None:
    ORACLE.check("GET", "/v1/projects/proj_x/jobs", 200, {"jobs": jobs})
    assert len({job["id"] for job in jobs}) == len(jobs)
    keys = [(job["created_at"], job["id"]) for job in jobs]
    assert keys == sorted(keys, reverse=True)


@settings(max_examples=50)
@given(strategies.api_keys(), strategies.jobs(project_id="proj_demo", organization_id="org_demo"))
def test_drawn_keys_and_jobs_are_served_by_the_mock(key: str, job: dict[str, object]) -> None:
    mock = capymock.Mock()
    mock.add_token(key)
    mock.add_job(**job)
    reply = Client(mock.wsgi_app).get(f"/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {key}"})
    assert reply.status_code == 200 and reply.json == {"job": job}
    mock.check()


@settings(max_examples=30)
@given(job=strategies.jobs())
def test_by_default_a_job_is_one_the_default_mock_serves_to_its_own_token(job: dict[str, object]) -> None:
    mock = capymock.Mock()
    mock.add_job(**job)
    reply = Client(mock.wsgi_app).get(
        f"/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {mock.token}"}
    )
    assert reply.status_code == 200 and reply.json == {"job": job}


@settings(max_examples=30)
@given(data=st.data())
def test_given_the_mock_a_job_is_in_its_organization_and_one_of_its_projects(data: st.DataObject) -> None:
    mock = capymock.Mock(scenario="auth-scopes")
    job = data.draw(strategies.jobs(mock=mock))
    assert job["organization_id"] == mock.organization_id and job["project_id"] in mock.projects()
    mock.add_job(**job)  # no project to create: it is the mock's
    reply = Client(mock.wsgi_app).get(
        f"/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {mock.token}"}
    )
    assert reply.status_code == 200 and reply.json == {"job": job}
    listed = data.draw(strategies.job_lists(mock=mock, max_size=3))
    assert {j["project_id"] for j in listed} <= set(mock.projects())


def test_failing_examples_shrink_to_something_small() -> None:
    job = find(strategies.jobs(state="failed"), lambda j: j["attempts"] >= 2)
    assert job["attempts"] == job["max_attempts"] == 2
    assert job["id"] == "job_0" and job["type"] == "build"
    assert all(job[name] is None for name in ("error", "cluster_id", "last_stdout", "last_stderr"))


def test_arguments_are_checked_up_front() -> None:
    with pytest.raises(ValueError, match="'runing' is not a state; states: pending, claimed"):
        strategies.jobs(state="runing")
    with pytest.raises(ValueError, match="need 0 <= min_size <= max_size"):
        strategies.job_lists(min_size=3, max_size=1)


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(strategies.jobs(unreachable=True))
def test_unreachable_jobs_validate_but_no_walk_produces_them(job: dict[str, object]) -> None:
    JOB.validate(job)
    assert not EXPLAIN(job).explained
