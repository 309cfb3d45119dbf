"""`capymock contract` against the in-process mock (it must pass) and the drift corpus (each
defect must be caught and named)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import capymock
from capymock.contract import ContractError, parse_rate, run_contract
from capymock.web.servers import BackgroundServer
from drift.servers import DEFECTS, HITS, Drift, deployment

FAST = {"max_examples": 10, "rate_limit": None, "seed": 20261128}

EXPECTED_CHECK = {
    "missing_required_field": "response_schema_conformance",
    "wrong_type": "response_schema_conformance",
    "undocumented_status": "status_code_conformance",
    "wrong_content_type": "content_type_conformance",
    "lifecycle_violation": "job_explained",
    "auth_not_enforced": "auth_required",
    "limit_ignored": "limit_honoured",
}


def test_the_mock_honours_its_own_contract() -> None:
    with capymock.serve("busy-project") as mock:
        mock.add_token("capy_live_contract_org")
        report = run_contract(str(mock.url), "capy_live_contract_org", project_id="proj_busy", **FAST)
        methods = {entry.method for entry in mock.requests}
    assert report.violations == [], report.render()
    assert report.exit_code == 0
    assert methods == {"GET"}  # only what the spec declares is ever sent
    assert {operation for operation, _ in report.outcomes} == {
        "GET /v1/projects/{projectID}/jobs",
        "GET /v1/jobs/{jobID}",
    }
    checks = {check for _, check in report.outcomes}
    assert {
        "response_schema_conformance",
        "negative_data_rejection",
        "ignored_auth",
        "job_explained",
        "reads_joined",
        "list_distinct",
        "limit_honoured",
        "newest_first",
        "auth_required",
        "real_data_reachable",
    } <= checks


def test_a_conformant_drift_server_passes() -> None:
    with deployment(None) as (url, token):
        assert run_contract(url, token, project_id="proj_demo", **FAST).exit_code == 0


@pytest.mark.parametrize("defect", sorted(EXPECTED_CHECK))
def test_every_drift_is_caught_and_named(defect: str) -> None:
    with deployment(defect) as (url, token):
        report = run_contract(url, token, project_id="proj_demo", **FAST)
    assert report.exit_code == 1, f"{report.render()}\nthe server answered {HITS.get(url)} requests"
    named = {violation.check for violation in report.violations}
    assert EXPECTED_CHECK[defect] in named, report.render()
    assert EXPECTED_CHECK[defect] in report.summary()


def test_the_drift_corpus_covers_every_defect() -> None:
    assert set(EXPECTED_CHECK) == {*DEFECTS, "auth_not_enforced", "limit_ignored"}


def test_a_violation_says_what_where_and_how_to_reproduce() -> None:
    with deployment("lifecycle_violation") as (url, token):
        report = run_contract(url, token, project_id="proj_demo", **FAST)
    text = "\n".join(v.render() for v in report.violations if v.operation == "GET /v1/jobs/{jobID}")
    assert "✗ GET /v1/jobs/{jobID}  [job_explained]" in text
    assert "at:        job.started_at (job job_demo_deploy)" in text
    assert "no walk of the lifecycle produces this job: started_at must be set in state 'running'" in text
    assert "got:       200 " in text and '"started_at":null' in text
    assert f'reproduce: curl -i -H "Authorization: Bearer $CAPY_TOKEN" {url}/v1/jobs/job_demo_deploy' in text
    assert token not in report.render() and token not in report.junit_xml()


def test_junit_xml_has_one_testcase_per_operation_and_check() -> None:
    with deployment("limit_ignored") as (url, token):
        report = run_contract(url, token, project_id="proj_demo", **FAST)
    suite = ElementTree.fromstring(report.junit_xml()).find("testsuite")
    assert suite is not None
    cases = {(c.get("classname"), c.get("name")): c for c in suite.iter("testcase")}
    assert len(cases) == len(report.outcomes) == int(suite.get("tests", "0"))
    failed = {key for key, case in cases.items() if case.find("failure") is not None}
    assert ("GET /v1/projects/{projectID}/jobs", "limit_honoured") in failed
    assert ("GET /v1/jobs/{jobID}", "limit_honoured") not in cases  # list-only checks stay on the list


def test_the_time_limit_bounds_a_run() -> None:
    """A thousand examples at 20/s would take a minute; a 1 s limit stops the run. The rate is
    checked against the run's own length (at most 20 requests in any second of it), a bound a
    slow machine only makes looser."""
    with deployment(None) as (url, token):
        began = time.monotonic()
        report = run_contract(
            url, token, project_id="proj_demo", max_examples=1000, rate_limit="20/s", max_time=1.0
        )
        lasted = time.monotonic() - began
    assert report.stopped_early == "stopped at the time limit"
    assert report.requests <= 20 * (int(lasted) + 1), (report.requests, lasted)


def test_rates() -> None:
    assert (parse_rate("10/s"), parse_rate("300/m"), parse_rate("5"), parse_rate("0")) == (
        "10/s",
        "300/m",
        "5/s",
        None,
    )
    with pytest.raises(ContractError, match="expected a whole number per second, minute or hour"):
        parse_rate("fast")


def test_a_rejected_token_is_exit_2_at_once() -> None:
    with deployment(None) as (url, _):
        report = run_contract(url, "capy_live_rotated_0000", project_id="proj_demo", **FAST)
    assert report.exit_code == 2 and report.requests <= 2
    assert "the deployment rejected the token (401 for project 'proj_demo')" in report.summary()


def test_without_real_ids_it_never_says_conformant() -> None:
    """The spec's examples (proj_demo, job_demo_deploy) are not this deployment's: no job is seen."""
    with capymock.serve("busy-project") as mock:
        report = run_contract(str(mock.url), mock.token, **FAST)
    assert report.exit_code == 2, report.render()
    assert "no Job body was checked" in report.summary() and "conformant" not in report.summary()


def test_a_job_id_alone_finds_its_project() -> None:
    with deployment(None) as (url, token):
        report = run_contract(url, token, job_id="job_demo_deploy", **FAST)
    assert report.exit_code == 0, report.render()
    assert "checking project 'proj_demo', the project of job 'job_demo_deploy'" in report.render()
    assert report.jobs_checked > 0


def _cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capymock", "contract", *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )


FAST_CLI = ["--max-examples", "5", "--rate-limit", "0", "--seed", "1"]


@pytest.mark.slow
def test_the_cli_exits_0_1_and_2_and_always_writes_junit(tmp_path: Path) -> None:
    junit = tmp_path / "report.xml"
    with deployment(None) as (url, token):
        good = _cli("--base-url", url, "--token", token, "--project-id", "proj_demo", *FAST_CLI)
    assert good.returncode == 0, good.stdout
    assert good.stdout.strip().endswith("(seed 1): conformant")
    with deployment("wrong_content_type") as (url, token):
        bad = _cli(
            "--base-url",
            url,
            "--token",
            token,
            "--project-id",
            "proj_demo",
            "--junit-xml",
            str(junit),
            *FAST_CLI,
        )
    assert bad.returncode == 1
    assert "[content_type_conformance]" in bad.stdout and "at:        Content-Type: text/plain" in bad.stdout
    assert token not in bad.stdout + junit.read_text()
    refused = _cli("--base-url", "http://127.0.0.1:9", "--token", "capy_live_x", "--junit-xml", str(junit))
    assert refused.returncode == 2
    assert "not checked: cannot connect to http://127.0.0.1:9: Connection refused" in refused.stdout
    assert '<error message="cannot connect to http://127.0.0.1:9: Connection refused"' in junit.read_text()
    junit.unlink()
    tokenless = _cli("--base-url", "http://127.0.0.1:9", "--junit-xml", str(junit), CAPY_TOKEN="")
    assert tokenless.returncode == 2 and "no token: pass --token or set $CAPY_TOKEN" in tokenless.stderr
    assert "<error" in junit.read_text()


@pytest.mark.slow
def test_token_env_names_the_variable_the_curl_reads() -> None:
    with deployment("lifecycle_violation") as (url, token):
        result = _cli(
            "--base-url",
            url,
            "--token-env",
            "STAGING_KEY",
            "--project-id",
            "proj_demo",
            *FAST_CLI,
            STAGING_KEY=token,
            CAPY_TOKEN="",
        )
    assert result.returncode == 1, result.stdout + result.stderr
    assert 'curl -i -H "Authorization: Bearer $STAGING_KEY"' in result.stdout
    assert "$CAPY_TOKEN" not in result.stdout and token not in result.stdout


@pytest.mark.parametrize(
    ("given", "option"), [({"project_id": "proj_nope"}, "--project-id"), ({"job_id": "job_nope"}, "--job-id")]
)
def test_an_unknown_project_or_job_is_a_set_up_error_said_once(given: dict[str, str], option: str) -> None:
    with capymock.serve("retry-then-succeed") as mock:
        report = run_contract(str(mock.url), mock.token, **given, **FAST)
    assert report.exit_code == 2
    assert report.violations == []
    assert f"answers 404: is {option} one this token can read?" in str(report.error)


def _moves_back_to_running_after(reads: int) -> Callable[[str, int, Any], tuple[int, Any, str]]:
    """A deployment whose finished jobs read as running again after `reads` answers: each read
    alone is a job the lifecycle explains; the two reads together are not."""
    seen = {"answers": 0}

    def rewrite(path: str, status: int, body: Any) -> tuple[int, Any, str]:
        seen["answers"] += 1
        if seen["answers"] > reads and isinstance(body, dict):
            for job in body.get("jobs") or [body.get("job")]:
                if isinstance(job, dict) and job.get("state") == "succeeded":
                    job.update(state="running", completed_at=None)
        return status, body, "application/json"

    return rewrite


def test_watch_sees_a_finished_job_move_again() -> None:
    mock = capymock.Mock(scenario="demo", validate=False)
    drift = Drift(mock.wsgi_app, _moves_back_to_running_after(40), token=mock.token)
    with BackgroundServer(drift) as server:
        drift.label = server.url
        report = run_contract(server.url, mock.token, project_id="proj_demo", watch=2.0, **FAST)
    assert report.exit_code == 1, report.render()
    joined = [v for v in report.violations if v.check == "reads_joined"]
    assert joined, report.render()
    assert "then as 'running'" in joined[0].render() and "succeeded is terminal" in joined[0].render()


def test_watch_finds_nothing_in_jobs_that_move_legally() -> None:
    with capymock.serve("retry-then-succeed", clock=capymock.SystemClock(20)) as mock:
        report = run_contract(str(mock.url), mock.token, project_id="proj_web", watch=2.0, **FAST)
        moved = mock.job("job_deploy_1")["state"]
    assert report.exit_code == 0, report.render()
    assert moved != "pending"  # the job moved while it was watched
    assert any(check == "reads_joined" for _, check in report.outcomes)


def test_the_summary_counts_in_words_that_agree() -> None:
    from capymock.contract.report import ContractReport

    report = ContractReport("http://127.0.0.1:9", 7)
    report.requests, report.jobs_checked = 1, 2
    assert "0 operations, 0 checks, 1 request, 2 jobs checked" in report.summary()


def test_one_rule_broken_by_many_jobs_is_one_violation_naming_the_first_places() -> None:
    from capymock.contract.report import ContractReport, Violation

    def broken(index: int, rule: str = "started_at must be set in state 'running'") -> Violation:
        where = f"jobs[{index}].started_at"
        return Violation(
            "GET /v1/projects/{projectID}/jobs", "job_explained", rule, 200, "", "", where, f"j{index}"
        )

    report = ContractReport("http://127.0.0.1:9", 7)
    for index in range(25):
        report.violated(broken(index))
    report.violated(broken(3, "started_at must be null in state 'pending'"))
    [first, other] = report.violations
    assert (first.count, other.count) == (25, 1)
    text = first.render()
    assert "(25 times)" in text
    assert "at:        jobs[0].started_at (job j0)" in text
    assert "also at:   jobs[1].started_at (job j1), jobs[2].started_at (job j2) and 22 more" in text


def test_a_body_that_is_not_json_is_said_so_with_where() -> None:
    mock = capymock.Mock(scenario="demo")

    def nan_for_jobs(environ: dict[str, Any], start_response: Any) -> Any:
        if environ["PATH_INFO"].startswith("/v1/jobs/") and environ.get("HTTP_AUTHORIZATION") == (
            f"Bearer {mock.token}"
        ):
            start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", "9")])
            return [b'{"job": N']  # cut short: not JSON
        return mock.wsgi_app(environ, start_response)

    with BackgroundServer(nan_for_jobs) as server:
        report = run_contract(server.url, mock.token, project_id="proj_demo", **FAST)
    schema = [v for v in report.violations if v.check == "response_schema_conformance"]
    assert schema, report.render()
    assert "valid JSON" in schema[0].message and "line 1 column 9" in schema[0].message, schema[0].message
    assert "is not of type" not in report.render()


def test_nan_is_not_json() -> None:
    from types import SimpleNamespace

    from capymock.contract.checks import body_of, not_json

    answer = SimpleNamespace(content=b'{"job":\n  NaN}')
    assert not_json(answer) == "NaN is not a JSON value: line 2 column 3 (char 10)"
    assert body_of(answer) is None


def test_a_run_remembers_a_bounded_number_of_jobs() -> None:
    from capymock.contract.checks import MAX_KEPT, RunContext

    mock = capymock.Mock()
    job = mock.add_job().to_dict()
    context = RunContext(mock.spec)
    many = [{**job, "id": f"job_{n}"} for n in range(MAX_KEPT + 5)]
    context.observe((f"jobs[{n}]", one) for n, one in enumerate(many))
    context.remember(many)
    assert (len(context.seen), len(context.listed)) == (MAX_KEPT, MAX_KEPT)
    assert "job_0" not in context.seen and f"job_{MAX_KEPT + 4}" in context.seen


def test_a_fault_two_checks_found_is_said_once_only_where_every_place_is_shared() -> None:
    from capymock.contract.report import ContractReport, Violation

    def found(check: str, index: int, rule: str) -> Violation:
        where = f"jobs[{index}].attempts"
        return Violation("GET /v1/projects/{projectID}/jobs", check, rule, 200, "", "", where, f"j{index}")

    shared = ContractReport("http://127.0.0.1:9", 7)
    shared.violated(found("response_schema_conformance", 1, "jobs[1].attempts: -1 is less than the minimum"))
    shared.violated(found("job_explained", 1, "attempts must be between 0 and max_attempts (3), got -1"))
    [only] = shared.violations
    assert (only.check, only.also) == (
        "job_explained",
        [("response_schema_conformance", "jobs[1].attempts: -1 is less than the minimum")],
    )
    assert shared.exit_code == 1

    wider = ContractReport("http://127.0.0.1:9", 7)
    for index in (1, 2):
        wider.violated(found("response_schema_conformance", index, "attempts: -1 is less than the minimum"))
    wider.violated(found("job_explained", 1, "attempts must be between 0 and max_attempts (3), got -1"))
    assert sorted((v.check, v.count, v.also) for v in wider.violations) == [
        ("job_explained", 1, []),
        ("response_schema_conformance", 2, []),
    ]

    nowhere = ContractReport("http://127.0.0.1:9", 7)
    for check in ("job_explained", "not_a_server_error"):
        nowhere.violated(Violation("GET /v1/jobs/{jobID}", check, "the rule", 500, "", ""))
    assert sorted(v.check for v in nowhere.violations) == ["job_explained", "not_a_server_error"]
