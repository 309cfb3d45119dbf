"""The README's CI recipes run as printed: their shell steps, against a served mock, pass on a
conformant deployment, fail on a broken one, and treat exit 2 ("could not check") as a warning."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

import capymock

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
RECIPES = [yaml.safe_load(block) for block in re.findall(r"```yaml\n(# \.git\S+\n.*?)```", README, re.DOTALL)]
FAST = "--rate-limit 0 --max-examples 3 --seed 1"


def _github_script() -> str:
    (workflow,) = [recipe for recipe in RECIPES if "jobs" in recipe]
    steps = workflow["jobs"]["contract"]["steps"]
    (step,) = [step for step in steps if step.get("name") == "capymock contract"]
    return str(step["run"])


def _gitlab_script() -> tuple[str, list[int]]:
    (job,) = [recipe["capy-contract"] for recipe in RECIPES if "capy-contract" in recipe]
    commands = [line for line in job["script"] if line.startswith("capymock ")]
    return "\n".join(commands), list(job["allow_failure"]["exit_codes"])


@pytest.fixture
def deployment() -> Iterator[Any]:
    with capymock.serve("retry-then-succeed") as mock:
        yield mock


def _run(script: str, mock: Any, project: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    """`script` in bash, in `tmp_path`, with the variables the recipes set; `capymock` is this
    checkout's (fast options added)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir(exist_ok=True)
    shim = bin_dir / "capymock"
    shim.write_text(f'#!/bin/sh\nexec "{sys.executable}" -m capymock "$@" {FAST}\n', encoding="utf-8")
    shim.chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}",
        "CAPY_TOKEN": mock.token,
        "CAPY_BASE_URL": mock.url,
        "CAPY_PROJECT": project,
    }
    return subprocess.run(["bash", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True)


def test_the_github_step_passes_a_conformant_deployment_and_writes_junit(
    deployment: Any, tmp_path: Path
) -> None:
    done = _run(_github_script(), deployment, "proj_web", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "conformant" in done.stdout
    assert (tmp_path / "capy-contract.xml").is_file()


def test_the_github_step_shows_exit_2_as_a_warning(deployment: Any, tmp_path: Path) -> None:
    done = _run(_github_script(), deployment, "proj_nope", tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "::warning::capymock could not check the deployment (exit 2)" in done.stdout
    assert (tmp_path / "capy-contract.xml").is_file()


def test_the_github_step_fails_on_drift(tmp_path: Path) -> None:
    with capymock.serve("retry-then-succeed", validate=False, any_token=True) as mock:
        done = _run(_github_script(), mock, "proj_web", tmp_path)  # any token passes: auth drifted
    assert done.returncode == 1, done.stdout + done.stderr
    assert "auth_required" in done.stdout


def test_the_gitlab_script_exits_2_which_the_job_allows(deployment: Any, tmp_path: Path) -> None:
    script, allowed = _gitlab_script()
    assert allowed == [2]
    assert _run(script, deployment, "proj_web", tmp_path).returncode == 0
    assert _run(script, deployment, "proj_nope", tmp_path).returncode == 2
