"""`capymock.serve()` and its handle: url, token, wsgi_app, add_job, job, requests."""

from __future__ import annotations

import socket
import threading
from pathlib import Path

import pytest
from werkzeug.test import Client

import capymock
from conftest import BREAKS_GET_JOB, SPEC_PATH, Api, http


def test_serves_on_a_free_loopback_port_and_releases_it() -> None:
    before = threading.active_count()
    with capymock.serve() as mock:
        assert mock.url is not None and mock.url.startswith("http://127.0.0.1:")
        port = int(mock.url.rsplit(":", 1)[1])
        for _ in range(3):
            assert http(mock.url + "/v1/jobs/x").status == 401
    assert threading.active_count() == before
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", port))  # the port is free again


def test_serves_concurrent_clients() -> None:
    with capymock.serve() as mock:
        job = mock.add_job()
        statuses: list[int] = []

        def poll() -> None:
            for _ in range(10):
                statuses.append(
                    http(
                        f"{mock.url}/v1/jobs/{job.id}", headers={"Authorization": f"Bearer {mock.token}"}
                    ).status
                )

        threads = [threading.Thread(target=poll) for _ in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    assert statuses == [200] * 80


def test_wsgi_app_answers_without_sockets() -> None:
    mock = capymock.Mock()
    job = mock.add_job(state="succeeded")
    client = Client(mock.wsgi_app)
    reply = client.get(f"/v1/jobs/{job.id}", headers={"Authorization": f"Bearer {mock.token}"})
    assert reply.status_code == 200
    assert reply.json == {"job": dict(job)}
    assert mock.url is None


def test_the_default_token_is_an_org_key() -> None:
    mock = capymock.Mock()
    assert mock.token.startswith("capy_live_")
    job = mock.add_job(project_id="proj_anything", create_project=True)
    reply = Client(mock.wsgi_app).get(f"/v1/jobs/{job.id}", headers={"Authorization": f"Bearer {mock.token}"})
    assert reply.status_code == 200


def test_add_job_defaults_and_derives_lifecycle_fields() -> None:
    mock = capymock.Mock()
    pending = mock.add_job()
    assert pending["state"] == "pending" and pending["attempts"] == 0 and pending["max_attempts"] == 3
    assert pending["id"].startswith("job_") and pending["project_id"] == "proj_demo"
    assert pending["organization_id"] == "org_demo"
    assert pending["created_at"] == pending["updated_at"]
    assert all(pending[f] is None for f in ("claimed_by", "claimed_at", "started_at", "completed_at"))
    done = mock.add_job(state="succeeded", created_at="2026-01-01T09:00:00Z")
    assert done["attempts"] == 1 and done["claimed_by"] == "worker-1"
    assert done["claimed_at"] == done["started_at"] == done["completed_at"] == "2026-01-01T09:00:00Z"
    assert mock.job(done.id) == done


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"colour": "red"}, "unknown Job field(s) colour; Job fields: attempts, claimed_at"),
        ({"state": "runing"}, "'runing' is not a state (did you mean 'running'?)"),
        ({"attempts": "1"}, 'attempts: "1" is not of type "integer"'),
        ({"created_at": "yesterday"}, 'created_at: "yesterday" is not a "date-time"'),
        ({"state": "pending", "claimed_by": "w"}, "claimed_by must be null in state 'pending'"),
        ({"state": "failed", "attempts": 5}, "attempts must be between 0 and max_attempts (3), got 5"),
    ],
)
def test_add_job_rejects_what_the_spec_rejects(fields: dict[str, object], message: str) -> None:
    mock = capymock.Mock()
    with pytest.raises(capymock.InvalidJob) as raised:
        mock.add_job(**fields)
    assert message in str(raised.value)
    assert mock.jobs() == []


def test_add_job_refuses_a_duplicate_id() -> None:
    mock = capymock.Mock()
    mock.add_job(id="job_1", type="a")
    with pytest.raises(capymock.InvalidJob, match="'job_1' already exists"):
        mock.add_job(id="job_1", type="b")
    assert mock.job("job_1")["type"] == "a"


def test_job_of_an_unknown_id_is_a_key_error() -> None:
    with pytest.raises(KeyError, match="no job 'nope'"):
        capymock.Mock().job("nope")


def test_requests_are_journaled_with_the_token_redacted(api: Api, mock: capymock.Mock) -> None:
    job = mock.add_job()
    api.get(f"/v1/jobs/{job.id}?verbose=1&tag=a&tag=b")
    api.get("/v1/projects/proj_demo/jobs?limit=0")
    first, second = mock.requests
    assert (first.method, first.path, first.status, first.operation_id) == (
        "GET",
        f"/v1/jobs/{job.id}",
        200,
        "getJob",
    )
    assert first.query == {"verbose": "1", "tag": ["a", "b"]}
    assert first.headers["Authorization"] == "Bearer capy_live_demo…"
    assert mock.token not in repr(mock.requests)
    assert (second.status, second.query) == (400, {"limit": "0"})


def test_the_journal_is_bounded() -> None:
    mock = capymock.Mock(journal_size=5)
    client = Client(mock.wsgi_app)
    for i in range(12):
        client.get(f"/v1/jobs/job_{i}")
    assert [r.path for r in mock.requests] == [f"/v1/jobs/job_{i}" for i in range(7, 12)]


def test_a_response_that_breaks_the_spec_is_a_500_and_fails_the_owner(tmp_path: Path) -> None:
    wrong = tmp_path / "openapi.yaml"
    wrong.write_text(SPEC_PATH.read_text().replace(*BREAKS_GET_JOB))
    # The failure is raised when the serve() block ends, so pytest.raises wraps it.
    with pytest.raises(capymock.MockDefect, match=r"getJob 200: job: .* has more than 0 properties"):  # noqa: SIM117
        with capymock.serve(spec=wrong) as mock:
            job = mock.add_job()
            reply = http(f"{mock.url}/v1/jobs/{job.id}", headers={"Authorization": f"Bearer {mock.token}"})
            assert reply.status == 500
            assert reply.body["error"].startswith(
                "capymock bug: response does not match the spec: getJob 200"
            )
