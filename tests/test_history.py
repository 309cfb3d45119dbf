"""Each job's history: its changes with their time on the mock's clock and their cause, the
app's reads of it, and the steps still to come; over HTTP and on the handle."""

from __future__ import annotations

from typing import Any

from werkzeug.test import Client

import capymock
from cli_helpers import Served, serving
from conftest import http

WEB = {"Authorization": "Bearer capy_live_web_0123456789abcdef"}
STATES = ["pending", "claimed", "running", "failed", "pending", "claimed", "running", "succeeded"]


def history(served: Served, job_id: str = "job_deploy_1") -> Any:
    reply = http(f"{served.url}/_capymock/jobs/{job_id}/history")
    assert reply.status == 200, reply.body
    return reply.body


def test_a_polled_retry_has_every_change_its_cause_and_the_reads_between() -> None:
    with serving(["--scenario", "retry-then-succeed", "--paused", "--quiet"]) as served:
        first = history(served)
        assert [c["state"] for c in first["changes"]] == ["pending"]
        assert first["changes"][0]["cause"] == "scenario" and first["changes"][0]["from"] is None
        assert [step["state"] for step in first["to_come"]] == STATES[1:]
        assert first["to_come"][0]["due_at"] == "2026-01-01T09:00:02Z"
        while True:  # poll once in each state, then step, as an app and a test would
            assert http(f"{served.url}/v1/jobs/job_deploy_1", headers=WEB).status == 200
            stepped = http(f"{served.url}/_capymock/advance", "POST", None, {"to": "next_step"})
            if stepped.status == 409:  # the next step waits for reads: one more read fires it
                if http(f"{served.url}/_capymock/jobs/job_deploy_1").body["job"]["state"] == "succeeded":
                    break
                continue
            assert stepped.status == 200, stepped.body
        done = history(served)
    changes = done["changes"]
    assert [c["state"] for c in changes] == STATES
    assert [c["from"] for c in changes] == [None, *STATES[:-1]]
    assert [c["at"] for c in changes] == sorted(c["at"] for c in changes)
    assert {c["cause"] for c in changes[1:]} <= {"advance", "reads"}
    assert changes[5]["cause"] == "reads"  # the claim after the retry waited for two reads
    assert changes[-1]["job"]["state"] == "succeeded" and changes[-1]["job"]["attempts"] == 2
    assert len(done["reads"]) >= len(STATES) and {r["operation"] for r in done["reads"]} == {"getJob"}
    assert done["to_come"] == []


def test_the_handle_says_how_often_the_app_read_a_job_in_each_state() -> None:
    mock = capymock.Mock(scenario="retry-then-succeed")
    reader = Client(mock.wsgi_app)
    reader.get("/v1/projects/proj_web/jobs", headers=WEB)  # pending: read in a list
    mock.advance("3s")  # claimed, then running
    for _ in range(2):
        reader.get("/v1/jobs/job_deploy_1", headers=WEB)
    job = mock.history("job_deploy_1")
    assert (job.reads_in("pending"), job.reads_in("running"), job.reads_in("claimed")) == (1, 2, 0)
    assert [read.operation for read in job.reads] == ["listProjectJobs", "getJob", "getJob"]
    mock.set_state("job_deploy_1", "cancelled")
    assert mock.history("job_deploy_1").changes[-1].cause == "set"
    added = mock.add_job(project_id="proj_web")
    assert [c.cause for c in mock.history(added.id).changes] == ["added"]


def test_a_job_seen_mid_life_has_its_past_in_its_history(tmp_path) -> None:
    path = tmp_path / "past.yaml"
    path.write_text(
        "start: '2026-01-01T10:00:00Z'\nprojects: [p]\njobs:\n  - id: j\n    project: p\n    age: 10m\n"
        "    steps: [{state: pending}, {age: 8m, state: claimed}, {age: 7m, state: running}]\n"
    )
    changes = capymock.Mock(scenario=path).history("j").changes
    assert [(c.job["state"], c.at.strftime("%H:%M"), c.cause) for c in changes] == [
        ("pending", "09:50", "scenario"),
        ("claimed", "09:52", "scenario"),
        ("running", "09:53", "scenario"),
    ]


def test_an_unknown_job_has_no_history() -> None:
    with serving(["--quiet"]) as served:
        reply = http(f"{served.url}/_capymock/jobs/job_nope/history")
    assert (reply.status, reply.body) == (404, {"error": "no job 'job_nope'", "kind": "KeyError"})
