"""The control API under /_capymock/, over real HTTP."""

from __future__ import annotations

from typing import Any

import pytest

import capymock
from conftest import Reply, http

SCENARIO = "retry-then-succeed"


@pytest.fixture
def served():  # type: ignore[no-untyped-def]
    with capymock.serve(SCENARIO) as mock:
        yield mock


def control(mock: capymock.Mock, method: str, route: str, body: Any = None, **headers: str) -> Reply:
    return http(f"{mock.url}/_capymock/{route}", method, headers, body)


def test_state_shows_clock_scenario_jobs_and_pending_steps(served: capymock.Mock) -> None:
    state = control(served, "GET", "state").body
    assert state["now"] == "2026-01-01T09:00:00Z"
    assert state["scenario"] == SCENARIO
    assert state["jobs"][0]["id"] == "job_deploy_1"
    assert state["pending_steps"] == [
        {"job_id": "job_deploy_1", "state": "claimed", "due_at": "2026-01-01T09:00:02Z"}
    ]


def test_advance_by_seconds_duration_and_to_the_next_step(served: capymock.Mock) -> None:
    assert control(served, "POST", "advance", {"to": "next_step"}).body == {
        "now": "2026-01-01T09:00:02Z",
        "fired": [{"job_id": "job_deploy_1", "state": "claimed", "at": "2026-01-01T09:00:02Z"}],
    }
    assert [f["state"] for f in control(served, "POST", "advance", {"seconds": 6}).body["fired"]] == [
        "running",
        "failed",
    ]
    assert control(served, "POST", "advance", {"duration": "1s"}).body["fired"][0]["state"] == "pending"
    bad = control(served, "POST", "advance", {"duration": "soon"})
    assert (bad.status, bad.body["error"]) == (
        422,
        "'soon' is not a duration such as 250ms, 2s, 1.5s, 3m, 1h, or a number of seconds",
    )
    assert control(served, "POST", "advance", {"what": 1}).status == 400


def test_reset_goes_back_to_the_loaded_scenario(served: capymock.Mock) -> None:
    control(served, "POST", "advance", {"seconds": 30})
    state = control(served, "POST", "reset").body
    assert state["now"] == "2026-01-01T09:00:00Z" and state["jobs"][0]["state"] == "pending"


def test_scenario_by_name_and_by_document(served: capymock.Mock) -> None:
    assert control(served, "POST", "scenario", {"name": "demo"}).body["scenario"] == "demo"
    posted = b"name: posted\nprojects: [p]\njobs: [{id: job_x, project: p}]\n"
    state = control(served, "POST", "scenario", posted, **{"Content-Type": "application/yaml"}).body
    assert (state["scenario"], [j["id"] for j in state["jobs"]]) == ("posted", ["job_x"])


def test_a_bad_scenario_is_a_422_listing_problems_and_changes_nothing(served: capymock.Mock) -> None:
    before = control(served, "GET", "state").body
    reply = control(served, "POST", "scenario", b"projects: [p]\njobs: [{id: j, project: q}]\n")
    assert reply.status == 422
    (problem,) = reply.body["problems"]
    assert problem["text"] == (
        "request body:2:25: jobs[0].project: 'q' is not a declared project; projects: p"
    )
    assert (problem["line"], problem["column"], problem["path"]) == (2, 25, "jobs[0].project")
    assert control(served, "GET", "state").body == before
    unknown = control(served, "POST", "scenario", {"name": "nope"})
    assert (
        unknown.status == 422
        and "no bundled scenario, served scenario or file in the served folders is called 'nope'; "
        "bundled: auth-scopes,"
        in unknown.body["error"]
        and unknown.body["error"].endswith(
            "served folders: none; start serve with --scenario FILE or --scenarios-dir DIR to serve one"
        )
    )


def test_jobs_add_get_and_patch(served: capymock.Mock) -> None:
    created = control(served, "POST", "jobs", {"project_id": "proj_web", "id": "job_new", "type": "build"})
    assert created.status == 201 and created.body["job"]["state"] == "pending"
    assert control(served, "GET", "jobs/job_new").body["job"]["type"] == "build"
    moved = control(served, "PATCH", "jobs/job_new", {"state": "claimed", "claimed_by": "me"})
    assert (moved.status, moved.body["job"]["claimed_by"], moved.body["job"]["attempts"]) == (200, "me", 1)
    listed = control(served, "GET", "jobs").body["jobs"]
    assert "job_new" in {j["id"] for j in listed}


def test_an_illegal_transition_is_a_409(served: capymock.Mock) -> None:
    reply = control(served, "PATCH", "jobs/job_deploy_1", {"state": "succeeded"})
    assert reply.status == 409
    assert reply.body == {
        "error": "job 'job_deploy_1' cannot go from 'pending' to 'succeeded'; "
        "legal next states: claimed, cancelled",
        "job_id": "job_deploy_1",
        "from": "pending",
        "to": "succeeded",
        "legal": ["claimed", "cancelled"],
        "kind": "IllegalTransition",
        "reason": "",
    }


def test_job_errors_are_json(served: capymock.Mock) -> None:
    assert control(served, "GET", "jobs/nope").status == 404
    assert control(served, "PATCH", "jobs/nope", {"state": "claimed"}).status == 404
    assert control(served, "POST", "jobs", {"colour": "red"}).status == 422
    assert control(served, "PATCH", "jobs/job_deploy_1", b"{not json").status == 400
    assert control(served, "PATCH", "jobs/job_deploy_1", {"no": "state"}).status == 400


def test_requests_journal_and_clearing_it(served: capymock.Mock) -> None:
    http(f"{served.url}/v1/jobs/job_deploy_1", headers={"Authorization": f"Bearer {served.token}"})
    (entry,) = control(served, "GET", "requests").body["requests"]
    assert entry["path"] == "/v1/jobs/job_deploy_1" and entry["status"] == 200
    assert entry["headers"]["Authorization"] == "Bearer capy_live_demo…"
    assert control(served, "DELETE", "requests").status == 204
    cleared = control(served, "GET", "requests").body
    assert cleared["requests"] == [] and cleared["kept"] == 0 and cleared["more"] is False


def test_faults_add_list_clear(served: capymock.Mock) -> None:
    added = control(
        served, "POST", "faults", {"match": {"path": "/v1/jobs/{jobID}"}, "status": 503, "times": 1}
    )
    assert added.status == 201
    assert added.body["faults"] == [
        {"match": {"path": "/v1/jobs/{jobID}"}, "status": 503, "delay": None, "remaining": 1}
    ]
    auth = {"Authorization": f"Bearer {served.token}"}
    assert http(f"{served.url}/v1/jobs/job_deploy_1", headers=auth).status == 503
    assert http(f"{served.url}/v1/jobs/job_deploy_1", headers=auth).status == 200
    bad = control(served, "POST", "faults", {"match": {"path": "/v2/x"}, "status": 500})
    assert bad.status == 422 and "no operation has the path '/v2/x'" in bad.body["error"]
    control(served, "POST", "faults", {"match": {"method": "GET"}, "delay": "1ms"})
    assert control(served, "DELETE", "faults").status == 204
    assert control(served, "GET", "faults").body == {"faults": []}


def test_a_malformed_fault_names_each_of_its_problems_once(served: capymock.Mock) -> None:
    answer = control(served, "POST", "faults", {"wat": 1})
    assert answer.status == 422
    messages = [problem["message"] for problem in answer.body["problems"]]
    assert messages == [
        "unknown field 'wat'; expected one of: match, status, delay, times, body",
        "missing required field 'match'",
        "a fault needs 'status', 'delay' or both; this one has neither",
    ]


def test_openapi_and_dashboard(served: capymock.Mock) -> None:
    spec = control(served, "GET", "openapi.yaml")
    assert spec.headers["Content-Type"] == "application/yaml"
    assert spec.raw.decode() == served.spec.text
    page = http(f"{served.url}/_capymock/")
    assert page.status == 200 and page.headers["Content-Type"].startswith("text/html")


def test_unknown_control_routes_and_methods(served: capymock.Mock) -> None:
    assert control(served, "GET", "nope").status == 404
    wrong = control(served, "GET", "reset")
    assert (wrong.status, wrong.headers["Allow"]) == (405, "POST")


def test_control_requests_are_not_journaled(served: capymock.Mock) -> None:
    control(served, "GET", "state")
    assert served.requests == []


def test_a_control_token_guards_the_control_api() -> None:
    with capymock.serve(control_token="s3cret") as mock:
        assert control(mock, "GET", "state").status == 401
        assert control(mock, "GET", "state", Authorization="Bearer wrong").status == 401
        assert control(mock, "GET", "state", Authorization="Bearer s3cret").status == 200
        assert control(mock, "GET", "").status == 200  # the page itself asks for the token
