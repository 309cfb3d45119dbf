"""The API's next operations: a copy of `openapi.yaml` with a third read (`getProjectJob`) and a
write (`cancelJob`, POST) is served, checked and recorded by the operations' roles.

What the two operations needed: the read, `openapi.yaml` alone; the write, `openapi.yaml` and
a handler of a few lines (here `cancel`, given to the mock; in capymock itself an entry of
`web/handlers.HANDLERS`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import urllib.error
import urllib.request
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest
import yaml

import capymock
from capymock.contract import run_contract
from capymock.core.operations import Role
from capymock.web.answer import Answer, error
from capymock.web.handlers import Context
from cli_helpers import CAPYMOCK

JOB = "job_deploy_1"
PROJECT = "proj_web"
FAST = {"max_examples": 5, "rate_limit": None, "seed": 20261206}
ERRORS = {status: {"$ref": f"#/components/responses/{name}"} for status, name in
          (("401", "Unauthorized"), ("404", "NotFound"))}  # fmt: skip
ENVELOPE = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/JobEnvelope"}}}}


def path_parameter(name: str) -> dict[str, Any]:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}


@pytest.fixture(scope="module")
def spec_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled spec with `getProjectJob` (GET) and `cancelJob` (POST) added."""
    document = yaml.safe_load(Path(capymock.load_spec().source).read_text(encoding="utf-8"))
    document["paths"]["/v1/projects/{projectID}/jobs/{jobID}"] = {
        "get": {
            "operationId": "getProjectJob",
            "parameters": [path_parameter("projectID"), path_parameter("jobID")],
            "responses": {"200": {"description": "The job.", **ENVELOPE}, **ERRORS},
        }
    }
    document["paths"]["/v1/jobs/{jobID}/cancel"] = {
        "post": {
            "operationId": "cancelJob",
            "parameters": [path_parameter("jobID")],
            "responses": {
                "200": {"description": "The job, cancelled.", **ENVELOPE},
                "409": {"$ref": "#/components/responses/NotFound"},
                **ERRORS,
            },
        }
    }
    path = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False), encoding="utf-8")
    return path


def cancel(context: Context, params: Mapping[str, Any]) -> Answer:
    """`cancelJob`: the whole handler."""
    job = context.job(params)
    if job is None:
        return error(404, f"job {params['jobID']!r} not found")
    return context.answer(context.set_state(job.id, "cancelled"))


def call(url: str, token: str, method: str = "GET") -> tuple[int, Any]:
    request = urllib.request.Request(url, method=method, headers={"Authorization": f"Bearer {token}"})
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as failure:
        with failure:
            return failure.code, json.loads(failure.read())


def test_each_operation_has_its_role_from_method_envelope_and_path(spec_path: Path) -> None:
    spec = capymock.load_spec(spec_path)
    roles = {op.operation_id: (op.role, dict(op.path_fields)) for op in spec.operations}
    assert roles == {
        "listProjectJobs": (Role.LISTS, {"projectID": "project_id"}),
        "getJob": (Role.READS, {"jobID": "id"}),
        "getProjectJob": (Role.READS, {"projectID": "project_id", "jobID": "id"}),
        "cancelJob": (Role.CHANGES, {"jobID": "id"}),
    }
    assert (spec.listing.operation_id, spec.reading.operation_id) == ("listProjectJobs", "getJob")


def test_the_mock_answers_the_new_read_by_its_role(spec_path: Path) -> None:
    with capymock.serve("retry-then-succeed", spec=spec_path) as mock:
        status, body = call(f"{mock.url}/v1/projects/{PROJECT}/jobs/{JOB}", mock.token)
        elsewhere, _ = call(f"{mock.url}/v1/projects/proj_other/jobs/{JOB}", mock.token)
        unknown, _ = call(f"{mock.url}/v1/projects/{PROJECT}/jobs/job_nope", mock.token)
    assert (status, body["job"]["id"], body["job"]["project_id"]) == (200, JOB, PROJECT)
    assert (elsewhere, unknown) == (404, 404)


def test_the_write_answers_501_until_it_has_a_handler(spec_path: Path) -> None:
    with capymock.serve("retry-then-succeed", spec=spec_path) as mock:
        status, body = call(f"{mock.url}/v1/jobs/{JOB}/cancel", mock.token, "POST")
        assert mock.job(JOB)["state"] == "pending"
        mock.clear_defects()
    assert status == 501
    assert "cancelJob" in body["error"]


def test_the_write_changes_the_world_through_its_handler(spec_path: Path) -> None:
    with capymock.serve("retry-then-succeed", spec=spec_path, handlers={"cancelJob": cancel}) as mock:
        status, body = call(f"{mock.url}/v1/jobs/{JOB}/cancel", mock.token, "POST")
        again, refused = call(f"{mock.url}/v1/jobs/{JOB}/cancel", mock.token, "POST")
        read = call(f"{mock.url}/v1/jobs/{JOB}", mock.token)[1]["job"]
        pending = mock.state()["pending_steps"]
    assert (status, body["job"]["state"]) == (200, "cancelled")
    assert body["job"]["completed_at"] is not None  # derived by the lifecycle, like any move
    assert again == 409
    assert "cancelled" in refused["error"]
    assert read["state"] == "cancelled"
    assert [step for step in pending if step["job_id"] == JOB] == []  # its script stops


def test_a_session_has_the_handlers_of_its_server(spec_path: Path) -> None:
    with capymock.serve(spec=spec_path, handlers={"cancelJob": cancel}) as mock:
        session = mock.session("retry-then-succeed")
        status, body = call(f"{session.url}/v1/jobs/{JOB}/cancel", session.token, "POST")
    assert (status, body["job"]["state"]) == (200, "cancelled")


def test_the_contract_checks_the_new_read_and_never_sends_the_write(spec_path: Path) -> None:
    with capymock.serve("retry-then-succeed", spec=spec_path, handlers={"cancelJob": cancel}) as mock:
        report = run_contract(str(mock.url), mock.token, project_id=PROJECT, spec=spec_path, **FAST)
        methods = {entry.method for entry in mock.requests}
        state = mock.job(JOB)["state"]
    assert report.exit_code == 0, report.render()
    assert "GET /v1/projects/{projectID}/jobs/{jobID}" in {operation for operation, _ in report.outcomes}
    assert not any(operation.startswith("POST") for operation, _ in report.outcomes)
    assert methods == {"GET"}
    assert state == "pending"


def test_allow_writes_sends_the_write_only_with_forged_tokens(spec_path: Path) -> None:
    with capymock.serve("retry-then-succeed", spec=spec_path, handlers={"cancelJob": cancel}) as mock:
        before = {job.id: job["state"] for job in mock.jobs()}
        report = run_contract(
            str(mock.url), mock.token, project_id=PROJECT, spec=spec_path, allow_writes=True, **FAST
        )
        posts = [entry for entry in mock.requests if entry.method == "POST"]
        after = {job.id: job["state"] for job in mock.jobs()}
    assert report.exit_code == 0, report.render()
    assert len(posts) == 7  # one per forged or malformed credential: none, garbage, unknown key, expired
    # or non-JSON session token, empty bearer, Basic
    assert {entry.status for entry in posts} == {401}
    assert after == before


def test_the_recorder_records_what_both_operations_show(spec_path: Path, tmp_path: Path) -> None:
    output = tmp_path / "recorded.yaml"
    with capymock.serve("retry-then-succeed", spec=spec_path, handlers={"cancelJob": cancel}) as real:
        command = ["record", "--proxy", "--target", str(real.url), "--port", "0", "--spec", str(spec_path)]
        process = subprocess.Popen(
            [*CAPYMOCK, *command, "-o", str(output)],
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert process.stderr is not None
        banner = ""
        while "forwarding" not in banner:  # until the proxy says where it listens (or exits)
            line = process.stderr.readline()
            assert line, banner
            banner += line
        found = re.search(r"forwarding (http://\S+) to", banner)
        assert found, banner
        url = found.group(1)
        read = call(f"{url}/v1/projects/{PROJECT}/jobs/{JOB}", real.token)
        cancelled = call(f"{url}/v1/jobs/{JOB}/cancel", real.token, "POST")
        process.send_signal(signal.SIGINT)
        errors = process.communicate(timeout=30)[1]
    assert (read[0], cancelled[0]) == (200, 200)
    assert process.returncode == 0, errors
    document = yaml.safe_load(output.read_text(encoding="utf-8"))
    [job] = [job for job in document["jobs"] if "steps" in job]
    assert [step["state"] for step in job["steps"]] == ["pending", "cancelled"]
    checked = subprocess.run([*CAPYMOCK, "validate", str(output)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_the_control_api_lists_the_operations_by_role_for_the_dashboard(spec_path: Path) -> None:
    with capymock.serve(spec=spec_path) as mock:
        operations = call(f"{mock.url}/_capymock/state", mock.token)[1]["operations"]
    assert {(op["operation_id"], op["method"], op["role"]) for op in operations} == {
        ("listProjectJobs", "GET", "lists"),
        ("getJob", "GET", "reads"),
        ("getProjectJob", "GET", "reads"),
        ("cancelJob", "POST", "changes"),
    }


def test_a_spec_without_an_operation_that_reads_one_job_says_what_it_needs(tmp_path: Path) -> None:
    document = yaml.safe_load(Path(capymock.load_spec().source).read_text(encoding="utf-8"))
    del document["paths"]["/v1/jobs/{jobID}"]
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(document), encoding="utf-8")
    served = subprocess.run(
        [*CAPYMOCK, "serve", "--spec", str(path), "--port", "0"], capture_output=True, text=True
    )
    assert served.returncode == 2
    assert "needs an operation that reads a job: a GET whose 200 body wraps one Job" in served.stderr
    assert "Traceback" not in served.stderr
