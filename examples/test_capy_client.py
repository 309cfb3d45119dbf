"""Tests of the example client, written with capymock's pytest fixtures only.

Locally they run against the mock. Against a real deployment:
`pytest examples --capy-base-url https://capy.example --capy-token capy_live_...`
(and CAPY_PROJECT_ID for a project to list): the tests that script the mock are skipped.
"""

from __future__ import annotations

import os
from datetime import datetime

import pytest
from capy_client import CapyClient, NotFound, Unauthorized

PROJECT = os.environ.get("CAPY_PROJECT_ID", "proj_demo")


@pytest.mark.capy_scenario("retry-then-succeed")
def test_waits_through_a_retry(capy_mock):
    client = CapyClient(capy_mock.url, "capy_live_web_0123456789abcdef", sleep=capy_mock.advance)
    job = client.wait_for_job("job_deploy_1", timeout=120)
    assert (job["state"], job["attempts"]) == ("succeeded", 2)


@pytest.mark.capy_scenario("retries-exhausted")
def test_a_job_out_of_retries_is_done(capy_mock):
    client = CapyClient(capy_mock.url, capy_mock.token, sleep=capy_mock.advance)
    job = client.wait_for_job("job_migrate_1", timeout=600)
    assert job["state"] == "failed" and job["attempts"] == job["max_attempts"]


@pytest.mark.capy_scenario("flaky-api")
def test_server_errors_are_retried(capy_mock):
    client = CapyClient(capy_mock.url, capy_mock.token, sleep=capy_mock.advance)
    assert client.wait_for_job("job_flaky_1", timeout=120)["state"] == "succeeded"
    capy_mock.assert_requested("GET", "/v1/jobs/job_flaky_1", status=503, times=2)


def test_waiting_gives_up(capy_mock):
    job = capy_mock.add_job(state="running")
    client = CapyClient(capy_mock.url, capy_mock.token, sleep=capy_mock.advance)
    with pytest.raises(TimeoutError, match="still running after 30s"):
        client.wait_for_job(job.id, timeout=30)


# The tests below script nothing: they also run against a real deployment.


@pytest.mark.capy_scenario("demo")
def test_lists_newest_first(capy_url, capy_token):
    jobs = CapyClient(capy_url, capy_token).list_jobs(PROJECT, limit=5)
    assert 0 < len(jobs) <= 5
    created = [datetime.fromisoformat(job["created_at"].replace("Z", "+00:00")) for job in jobs]
    assert created == sorted(created, reverse=True)


@pytest.mark.capy_scenario("demo")
def test_an_unknown_job_is_not_found(capy_url, capy_token):
    with pytest.raises(NotFound):
        CapyClient(capy_url, capy_token).get_job("job_that_does_not_exist")


def test_a_wrong_token_is_unauthorized(capy_url):
    with pytest.raises(Unauthorized):
        CapyClient(capy_url, "capy_live_not_a_real_key").get_job("job_1")
