"""One fault that two checks find at the same places is reported once, by the more specific check,
which names the other: `capymock contract` as a subprocess against mutants of the reference
server (tests/reference/), its text report and its JUnit XML."""

from __future__ import annotations

import subprocess
import sys
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from reference.mutants import mutant
from reference.server import serve

from conftest import ROOT

pytestmark = pytest.mark.slow

GET_JOB = "GET /v1/jobs/{jobID}"


def _contract(name: str, junit: Path) -> subprocess.CompletedProcess[str]:
    """The contract run against the mutant `name`, its JUnit XML written to `junit`."""
    with serve(mutant(name).mutation) as (url, token, project):
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "capymock",
                "contract",
                "--base-url",
                url,
                "--token",
                token,
                "--project-id",
                project,
                "--rate-limit",
                "0",
                "--max-examples",
                "5",
                "--seed",
                "1",
                "--junit-xml",
                str(junit),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )


def _blocks(text: str) -> list[str]:
    return [block for block in text.split("\n\n") if block.startswith("✗ ")]


def _cases(junit: Path) -> dict[tuple[str | None, str | None], ElementTree.Element]:
    suite = ElementTree.parse(junit).getroot().find("testsuite")
    assert suite is not None
    return {(case.get("classname"), case.get("name")): case for case in suite.iter("testcase")}


def test_a_bound_broken_is_reported_by_job_explained_naming_the_schema_check(tmp_path: Path) -> None:
    junit = tmp_path / "contract.xml"
    done = _contract("attempts_below_minimum_in_get_only", junit)
    assert done.returncode == 1, done.stdout + done.stderr
    at_attempts = [block for block in _blocks(done.stdout) if "at:        job.attempts " in block]
    assert len(at_attempts) == 1, done.stdout
    [block] = at_attempts
    assert block.startswith(f"✗ {GET_JOB}  [job_explained]"), block
    assert "attempts must be between 0 and max_attempts (3), got -1" in block
    schema_rule = "job.attempts: -1 is less than the minimum of 0"
    assert f"also breaks [response_schema_conformance]: {schema_rule}" in block
    summary = done.stdout.strip().splitlines()[-1]
    assert summary.endswith(f"1 violation: {GET_JOB} [job_explained]"), summary
    cases = _cases(junit)
    assert cases[(GET_JOB, "job_explained")].find("failure") is not None
    schema = cases[(GET_JOB, "response_schema_conformance")]
    assert schema.find("failure") is None
    note = schema.find("system-out")
    assert note is not None and "[job_explained]" in (note.text or ""), ElementTree.tostring(schema)
    failed = {key for key, case in cases.items() if case.find("failure") is not None}
    assert failed == {(GET_JOB, "job_explained")}


def test_a_read_that_moves_a_job_to_another_project_is_reported_as_a_read_back(tmp_path: Path) -> None:
    junit = tmp_path / "contract.xml"
    done = _contract("get_claims_other_project", junit)
    assert done.returncode == 1, done.stdout + done.stderr
    reads = [block for block in _blocks(done.stdout) if block.startswith(f"✗ {GET_JOB}  ")]
    assert len(reads) == 1, done.stdout
    [block] = reads
    assert block.startswith(f"✗ {GET_JOB}  [listed_job_reads_back]"), block
    assert "at:        job.project_id (job " in block
    assert "also breaks [reads_joined]: " in block and "project_id changed from" in block
    cases = _cases(junit)
    assert cases[(GET_JOB, "listed_job_reads_back")].find("failure") is not None
    assert cases[(GET_JOB, "reads_joined")].find("failure") is None
    failed = {key for key, case in cases.items() if case.find("failure") is not None}
    summary = done.stdout.strip().splitlines()[-1]
    assert all(f"{operation} [{check}]" in summary for operation, check in failed), summary
    assert summary.count("[") == len(failed)
