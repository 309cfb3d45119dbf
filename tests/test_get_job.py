"""GET /v1/jobs/{jobID} over real HTTP."""

from __future__ import annotations

import capymock
from conftest import Api


def test_gets_one_job(api: Api, mock: capymock.Mock) -> None:
    job = mock.add_job(type="build", state="running", claimed_by="worker-7")
    reply = api.get(f"/v1/jobs/{job.id}")
    assert reply.status == 200
    assert reply.body == {"job": dict(job)}
    assert reply.body["job"]["claimed_by"] == "worker-7"
    assert reply.body["job"]["attempts"] == 1
    assert reply.body["job"]["started_at"] is not None


def test_an_unknown_job_is_a_404(api: Api, mock: capymock.Mock) -> None:
    reply = api.get("/v1/jobs/job_nope")
    assert reply.status == 404
    # An empty mock with no scenario says so: the usual cause of a 404 in a fresh test.
    assert reply.body["error"].startswith("job 'job_nope' not found (this mock has no scenario loaded")


def test_head_answers_headers_without_a_body(api: Api, mock: capymock.Mock) -> None:
    job = mock.add_job()
    reply = api.get(f"/v1/jobs/{job.id}", method="HEAD")
    assert reply.status == 200
    assert reply.raw == b""
    assert int(reply.headers["Content-Length"]) == len(api.get(f"/v1/jobs/{job.id}").raw)


def test_ids_are_matched_exactly_including_unicode(api: Api, mock: capymock.Mock) -> None:
    job = mock.add_job(id="job_é")
    assert api.get("/v1/jobs/job_%C3%A9").body == {"job": dict(job)}
    assert api.get("/v1/jobs/JOB_%C3%A9").status == 404
