"""Routes and methods come from the spec; everything else is a JSON 404 or 405."""

from __future__ import annotations

from pathlib import Path

import pytest

import capymock
from conftest import SPEC_PATH, Api, http


@pytest.mark.parametrize(
    "path",
    [
        "/",
        "/v1",
        "/v1/jobs",
        "/v1/jobs/",
        "/v1/jobs/a/b",
        "/v1/projects/p/jobs/",
        "/v1/projects//jobs",
        "/v2/jobs/x",
        "/v1/jobs/a%2Fb",
    ],
)
def test_unknown_routes_are_a_json_404(api: Api, path: str) -> None:
    reply = api.get(path)
    assert reply.status == 404
    assert reply.body["error"].startswith("no route for")


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "TRACE", "QUERY", "BREW"])
@pytest.mark.parametrize("path", ["/v1/jobs/job_1", "/v1/projects/proj_demo/jobs"])
def test_undeclared_methods_are_a_json_405_with_allow(api: Api, method: str, path: str) -> None:
    reply = api.get(path, method=method)
    assert reply.status == 405
    assert reply.headers["Allow"] == "GET, HEAD"
    assert reply.body == {"error": f"{method} is not allowed on {path}; allowed: GET, HEAD"}


def _spec_with_extra_operation(tmp_path: Path) -> Path:
    extra = """
  /v1/projects/{projectID}:
    get:
      operationId: getProject
      parameters:
        - {name: projectID, in: path, required: true, schema: {type: string}}
        - {name: verbose, in: query, schema: {type: boolean}}
      responses:
        "200": {description: ok}
        "400": {$ref: "#/components/responses/BadRequest"}
        "401": {$ref: "#/components/responses/Unauthorized"}
components:"""
    path = tmp_path / "openapi.yaml"
    path.write_text(SPEC_PATH.read_text().replace("\ncomponents:", extra, 1))
    return path


def test_an_operation_added_to_the_spec_is_routed_and_validated_without_code(tmp_path: Path) -> None:
    with capymock.serve(spec=_spec_with_extra_operation(tmp_path)) as mock:
        api = Api(mock)
        auth = {"Authorization": f"Bearer {mock.token}"}
        bad = http(f"{mock.url}/v1/projects/p?verbose=maybe", headers=auth)
        assert (bad.status, bad.body) == (
            400,
            {"error": "invalid query parameter 'verbose': 'maybe' is not true or false"},
        )
        unhandled = http(f"{mock.url}/v1/projects/p?verbose=true", headers=auth)
        assert (unhandled.status, unhandled.body) == (
            501,
            {"error": "capymock has no handler for operation 'getProject'"},
        )
        assert http(f"{mock.url}/v1/projects/p", headers=auth).status == 501
        assert http(f"{mock.url}/v1/projects/p").status == 401
        assert api.get("/v1/jobs/nope").status == 404
