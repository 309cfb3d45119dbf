"""Browser access (CORS) and Prism's `Prefer: code=` steering header."""

from __future__ import annotations

import pytest

import capymock
from conftest import ORACLE, Api, http

ORIGIN = "http://localhost:5173"


def test_a_preflight_allows_authorization_from_any_origin(mock: capymock.Mock) -> None:
    reply = http(
        f"{mock.url}/v1/projects/proj_demo/jobs",
        "OPTIONS",
        {
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "authorization",
        },
    )
    assert reply.status == 204
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert reply.headers["Access-Control-Allow-Methods"] == "GET, HEAD, OPTIONS"
    assert "authorization" in reply.headers["Access-Control-Allow-Headers"].lower()
    assert mock.requests == []  # a preflight is not an API call


def test_a_cross_origin_get_with_authorization(api: Api, mock: capymock.Mock) -> None:
    job = mock.add_job()
    reply = api.get(f"/v1/jobs/{job.id}", Origin=ORIGIN)
    assert reply.status == 200
    assert reply.headers["Access-Control-Allow-Origin"] == ORIGIN
    assert reply.headers["Vary"] == "Origin"
    assert "WWW-Authenticate" in reply.headers["Access-Control-Expose-Headers"]


def test_api_errors_carry_cors_headers(api: Api) -> None:
    assert api.get("/v1/jobs/x", token=None).headers["Access-Control-Allow-Origin"] == "*"
    assert api.get("/nope").headers["Access-Control-Allow-Origin"] == "*"


def test_a_plain_options_lists_the_allowed_methods(mock: capymock.Mock) -> None:
    reply = http(f"{mock.url}/v1/jobs/x", "OPTIONS")
    assert (reply.status, reply.headers["Allow"]) == (204, "GET, HEAD, OPTIONS")


@pytest.mark.parametrize(
    ("path", "status"),
    [
        ("/v1/jobs/{id}", 404),
        ("/v1/jobs/{id}", 403),
        ("/v1/jobs/{id}", 401),
        ("/v1/projects/proj_demo/jobs", 400),
        ("/v1/projects/proj_demo/jobs", 200),
    ],
)
def test_prefer_code_answers_that_documented_status(
    api: Api, mock: capymock.Mock, path: str, status: int
) -> None:
    job = mock.add_job()
    path = path.format(id=job.id)
    reply = api.get(path, Prefer=f"code={status}")
    assert reply.status == status
    ORACLE.check("GET", path, status, reply.body)
    if status != 200:
        assert reply.body == {
            "error": f"{reply.status} {_phrase(status)} (answered as asked by Prefer: code={status})"
        }
    assert api.get(path).status == 200  # state untouched


def _phrase(status: int) -> str:
    from http import HTTPStatus

    return HTTPStatus(status).phrase


def test_prefer_is_not_a_read_and_needs_no_token(tmp_path) -> None:
    scenario = tmp_path / "s.yaml"
    scenario.write_text(
        "projects: [p]\njobs:\n  - {id: j, project: p, steps: [{state: pending}, "
        "{after_polls: 1, state: claimed}]}\n"
    )
    with capymock.serve(scenario) as mock:
        api = Api(mock)
        assert api.get("/v1/jobs/j", token=None, Prefer="code=404").status == 404
        assert api.get("/v1/jobs/j").body["job"]["state"] == "pending"  # the first real read
        assert api.get("/v1/jobs/j").body["job"]["state"] == "claimed"


def test_prefer_an_undocumented_status_is_a_clear_400(api: Api, mock: capymock.Mock) -> None:
    reply = api.get("/v1/jobs/x", Prefer="code=418", check=False)
    assert reply.status == 400
    assert reply.body == {
        "error": "Prefer: code=418 is not documented for getJob; documented: 200, 401, 403, 404"
    }
