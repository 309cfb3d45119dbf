"""Bearer auth: API keys, Clerk session tokens, scopes."""

from __future__ import annotations

import base64
import json
from datetime import timedelta

import pytest

import capymock
from conftest import Api

LIST = "/v1/projects/proj_demo/jobs"


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


@pytest.fixture
def job(mock: capymock.Mock) -> capymock.Job:
    return mock.add_job(project_id="proj_demo")


@pytest.mark.parametrize(
    ("headers", "message"),
    [
        ({}, "missing Authorization header"),
        ({"Authorization": "Basic dXNlcjpwYXNz"}, "unsupported authorization scheme 'Basic'"),
        ({"Authorization": "Bearer"}, "malformed bearer token"),
        ({"Authorization": "Bearer "}, "malformed bearer token"),
        ({"Authorization": "Bearer capy_live_unknown_0000"}, "unknown API key capy_live_unkn…"),
        ({"Authorization": "Bearer not-a-token"}, "neither an API key"),
        ({"Authorization": "Bearer a.b.c"}, "malformed session token"),
        (
            {"Authorization": f"Bearer {_segment({'alg': 'none'})}.{_segment([1])}.sig"},
            "malformed session token",
        ),
    ],
)
def test_bad_credentials_are_a_401_with_a_challenge(
    api: Api, job: capymock.Job, headers: dict[str, str], message: str
) -> None:
    for path in (LIST, f"/v1/jobs/{job.id}"):
        reply = api.get(path, token=None, **headers)
        assert reply.status == 401
        assert reply.headers["WWW-Authenticate"].startswith("Bearer")
        assert message in reply.body["error"]


def test_the_default_key_reads_the_whole_organization(api: Api, mock: capymock.Mock) -> None:
    a, b = (
        mock.add_job(project_id="proj_a", create_project=True),
        mock.add_job(project_id="proj_b", create_project=True),
    )
    assert api.get(f"/v1/jobs/{a.id}").status == 200
    assert api.get(f"/v1/jobs/{b.id}").status == 200
    assert api.get("/v1/projects/proj_b/jobs").status == 200


def test_a_project_key_reads_its_project(api: Api, mock: capymock.Mock) -> None:
    job = mock.add_job(project_id="proj_a", create_project=True)
    key = mock.add_token("capy_live_proj_a_key", project="proj_a")
    assert api.get("/v1/projects/proj_a/jobs", token=key).body["jobs"][0]["id"] == job.id
    assert api.get(f"/v1/jobs/{job.id}", token=key).status == 200


def test_a_project_key_listing_another_project_is_a_403(api: Api, mock: capymock.Mock) -> None:
    mock.add_job(project_id="proj_a", create_project=True)
    mock.add_job(project_id="proj_b", create_project=True)
    key = mock.add_token("capy_live_proj_a_key", project="proj_a")
    reply = api.get("/v1/projects/proj_b/jobs", token=key)
    assert reply.status == 403
    assert "scoped to project 'proj_a'" in reply.body["error"]


def test_a_job_outside_the_keys_scope_is_a_404(api: Api, mock: capymock.Mock) -> None:
    other = mock.add_job(project_id="proj_b", create_project=True)
    key = mock.add_token("capy_live_proj_a_key", project="proj_a")
    reply = api.get(f"/v1/jobs/{other.id}", token=key)
    expected = (
        f"job {other.id!r} not found for this token: it is in project 'proj_b', "
        "and the token is scoped to 'proj_a'"
    )
    assert (reply.status, reply.body) == (404, {"error": expected})


def test_another_organizations_jobs_and_projects_are_404(api: Api, mock: capymock.Mock) -> None:
    theirs = mock.add_job(project_id="proj_theirs", organization_id="org_other", create_project=True)
    hidden = api.get(f"/v1/jobs/{theirs.id}")
    assert hidden.status == 404
    assert "it belongs to organization 'org_other', and the token to 'org_demo'" in hidden.body["error"]
    assert api.get("/v1/projects/proj_theirs/jobs").status == 404
    their_key = mock.add_token("capy_live_other_org", organization="org_other")
    assert api.get(f"/v1/jobs/{theirs.id}", token=their_key).status == 200


@pytest.mark.parametrize("version", [1, 2])
def test_clerk_session_tokens_of_both_claim_versions(
    api: Api, mock: capymock.Mock, job: capymock.Job, version: int
) -> None:
    token = mock.clerk_token(version=version)
    claims = json.loads(base64.urlsafe_b64decode(token.split(".")[1] + "=="))
    assert ("o" in claims) == (version == 2) and ("org_id" in claims) == (version == 1)
    assert api.get(f"/v1/jobs/{job.id}", token=token).status == 200


def test_a_clerk_token_of_another_organization_sees_nothing(
    api: Api, mock: capymock.Mock, job: capymock.Job
) -> None:
    token = mock.clerk_token(org_id="org_other")
    assert api.get(f"/v1/jobs/{job.id}", token=token).status == 404
    assert api.get(LIST, token=token).status == 404


def test_an_expired_clerk_token_is_a_401_by_the_mock_clock(
    api: Api, mock: capymock.Mock, job: capymock.Job
) -> None:
    token = mock.clerk_token(expires_in=60)
    assert api.get(LIST, token=token).status == 200
    mock.clock.advance(timedelta(seconds=60))
    reply = api.get(LIST, token=token)
    assert (reply.status, reply.body) == (401, {"error": "session token has expired"})


def test_a_clerk_token_not_valid_yet_is_a_401(api: Api, mock: capymock.Mock, job: capymock.Job) -> None:
    future = capymock.ManualClock(mock.clock.now() + timedelta(minutes=5))
    token = capymock.Mock(clock=future).clerk_token()
    reply = api.get(LIST, token=token)
    assert (reply.status, reply.body) == (401, {"error": "session token is not valid yet ('nbf')"})


@pytest.mark.parametrize(
    ("claims", "message"),
    [
        ({"v": 2, "o": {"id": "org_demo"}, "exp": 4102444800}, "no subject"),
        ({"sub": "user_1", "exp": 4102444800}, "no active organization"),
        ({"sub": "user_1", "org_id": "org_demo"}, "no expiry"),
    ],
)
def test_clerk_tokens_need_a_user_an_organization_and_an_expiry(
    api: Api, job: capymock.Job, claims: dict[str, object], message: str
) -> None:
    token = f"{_segment({'alg': 'RS256'})}.{_segment(claims)}.c2ln"
    reply = api.get(LIST, token=token)
    assert reply.status == 401
    assert message in reply.body["error"]


def test_any_token_accepts_unknown_keys() -> None:
    with capymock.serve(any_token=True) as mock:
        mock.add_project("proj_demo")
        api = Api(mock)
        assert api.get(LIST, token="capy_live_whatever").status == 200
        assert api.get(LIST, token="anything-at-all").status == 200
        assert api.get(LIST, token=None).status == 401
