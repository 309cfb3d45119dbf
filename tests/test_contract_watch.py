"""`capymock contract --watch`, run as the CLI: a served scenario whose jobs move at `--speed 20`
is conformant while watched, and a deployment whose finished job later reads `running` exits 1
naming the rule (without `--watch`, the same deployment passes: only watching sees it)."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import xml.etree.ElementTree as ElementTree
from pathlib import Path

import pytest
from reference.mutants import jobs_in
from reference.server import Exchange, Mutation, Reply, serve

from capymock.contract.run import MISSING
from cli_helpers import serving
from conftest import http

pytestmark = pytest.mark.slow

FAST_CLI = ["--max-examples", "5", "--rate-limit", "0", "--seed", "1"]


def _contract(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "capymock", "contract", *args, *FAST_CLI],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "CAPY_TOKEN": ""},
    )


def test_watching_a_served_scenario_whose_jobs_move_is_conformant(tmp_path: Path) -> None:
    junit = tmp_path / "watch.xml"
    with serving(["--scenario", "retry-then-succeed", "--speed", "20", "--quiet"]) as served:
        done = _contract(
            "--base-url",
            served.url,
            "--token",
            served.token,
            "--project-id",
            "proj_web",
            "--watch",
            "3s",
            "--junit-xml",
            str(junit),
        )
        after = http(
            f"{served.url}/v1/jobs/job_deploy_1", headers={"Authorization": f"Bearer {served.token}"}
        )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.strip().endswith("conformant")
    # the deploy failed, was retried (after two reads of the run's) and succeeded while it was read
    assert after.body["job"]["state"] == "succeeded" and after.body["job"]["attempts"] == 2
    joined = [
        case
        for case in ElementTree.parse(junit).getroot().iter("testcase")
        if case.get("name") == "reads_joined"
    ]
    assert joined and all(len(case) == 0 for case in joined)  # run, and neither failed nor errored


def _finished_jobs_run_again() -> Mutation:
    """Once the run has asked for an id no deployment has (its checks of real jobs are over),
    every finished job reads as running: each read alone is a job the lifecycle explains; a
    read before and one after, together, are not."""
    late = threading.Event()

    def rewrite(exchange: Exchange, reply: Reply) -> Reply:
        if MISSING in exchange.path:
            late.set()
        if late.is_set() and reply.status == 200:
            for job in jobs_in(reply.body):
                if job.get("state") == "succeeded":
                    job.update(state="running", completed_at=None)
        return reply

    return Mutation(rewrite=rewrite)


def test_watch_exits_1_when_a_finished_job_later_reads_running() -> None:
    with serve(_finished_jobs_run_again()) as (url, token, project):
        unwatched = _contract("--base-url", url, "--token", token, "--project-id", project)
    assert unwatched.returncode == 0, unwatched.stdout + unwatched.stderr
    with serve(_finished_jobs_run_again()) as (url, token, project):
        watched = _contract("--base-url", url, "--token", token, "--project-id", project, "--watch", "2s")
    assert watched.returncode == 1, watched.stdout + watched.stderr
    assert "[reads_joined]" in watched.stdout
    assert "then as 'running'" in watched.stdout
    assert "succeeded is terminal, never left" in watched.stdout


def test_a_project_scoped_key_is_conformant_against_a_mock_refusing_other_projects() -> None:
    # The mock answers 403 to a key scoped to proj_alpha for any other project, existing or not.
    with serving(["--scenario", "auth-scopes", "--quiet"]) as served:
        done = _contract(
            "--base-url",
            served.url,
            "--token",
            "capy_live_acme_alpha_8b1e4f7a2c9d3e51",
            "--project-id",
            "proj_alpha",
        )
    assert done.returncode == 0, done.stdout[-3000:]
