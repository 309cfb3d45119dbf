"""GET /v1/projects/{projectID}/jobs over real HTTP."""

from __future__ import annotations

import pytest

import capymock
from conftest import Api


def add_jobs(mock: capymock.Mock, count: int, project: str = "proj_demo") -> list[str]:
    return [
        mock.add_job(
            project_id=project, create_project=True, created_at=f"2026-01-01T09:{i // 60:02d}:{i % 60:02d}Z"
        ).id
        for i in range(count)
    ]


def test_lists_every_field_of_every_job_as_json(api: Api, mock: capymock.Mock) -> None:
    job = mock.add_job(type="deploy")
    reply = api.get("/v1/projects/proj_demo/jobs")
    assert reply.status == 200
    assert reply.headers["Content-Type"] == "application/json"
    assert reply.body == {"jobs": [dict(job)]}
    assert set(reply.body["jobs"][0]) == set(mock.spec.job_fields)


def test_newest_first(api: Api, mock: capymock.Mock) -> None:
    ids = add_jobs(mock, 5)
    listed = [j["id"] for j in api.get("/v1/projects/proj_demo/jobs").body["jobs"]]
    assert listed == ids[::-1]


def test_ties_on_created_at_are_broken_by_id_descending(api: Api, mock: capymock.Mock) -> None:
    for job_id in ("job_b", "job_c", "job_a"):
        mock.add_job(id=job_id, created_at="2026-01-01T09:00:00Z")
    mock.add_job(id="job_0", created_at="2026-01-01T09:00:01Z")
    listed = [j["id"] for j in api.get("/v1/projects/proj_demo/jobs").body["jobs"]]
    assert listed == ["job_0", "job_c", "job_b", "job_a"]


@pytest.mark.parametrize(
    ("query", "expected"), [("", 25), ("?limit=1", 1), ("?limit=100", 100), ("?limit=7", 7)]
)
def test_limit(api: Api, mock: capymock.Mock, query: str, expected: int) -> None:
    ids = add_jobs(mock, 120)
    jobs = api.get(f"/v1/projects/proj_demo/jobs{query}").body["jobs"]
    assert [j["id"] for j in jobs] == ids[::-1][:expected]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("0", "0 is less than the minimum of 1"),
        ("101", "101 is greater than the maximum of 100"),
        ("abc", "'abc' is not an integer"),
        ("-1", "-1 is less than the minimum of 1"),
        ("", "'' is not an integer"),
        ("1.5", "'1.5' is not an integer"),
    ],
)
def test_bad_limit_is_a_400_naming_the_parameter(
    api: Api, mock: capymock.Mock, value: str, message: str
) -> None:
    mock.add_project("proj_demo")
    reply = api.get(f"/v1/projects/proj_demo/jobs?limit={value}")
    assert reply.status == 400
    assert reply.body == {"error": f"invalid query parameter 'limit': {message}"}


def test_an_empty_project_lists_nothing(api: Api, mock: capymock.Mock) -> None:
    mock.add_project("proj_empty")
    assert api.get("/v1/projects/proj_empty/jobs").body == {"jobs": []}


def test_an_unknown_project_is_a_404(api: Api, mock: capymock.Mock) -> None:
    add_jobs(mock, 1)
    reply = api.get("/v1/projects/proj_nope/jobs")
    assert (reply.status, reply.body) == (404, {"error": "project 'proj_nope' not found"})


def test_lists_only_the_projects_own_jobs(api: Api, mock: capymock.Mock) -> None:
    mine = add_jobs(mock, 3, "proj_a")
    add_jobs(mock, 3, "proj_b")
    assert [j["id"] for j in api.get("/v1/projects/proj_a/jobs").body["jobs"]] == mine[::-1]


def test_jobs_in_every_state_validate(api: Api, mock: capymock.Mock) -> None:
    for state in mock.spec.lifecycle.states:
        mock.add_job(state=state)
    jobs = api.get("/v1/projects/proj_demo/jobs").body["jobs"]
    assert sorted(j["state"] for j in jobs) == sorted(mock.spec.lifecycle.states)
    assert all(mock.spec.lifecycle.violations(j) == [] for j in jobs)
