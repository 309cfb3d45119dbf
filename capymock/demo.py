"""The small demo organization `capymock serve` starts with: one project, jobs in every state."""

from __future__ import annotations

from datetime import timedelta

from capymock.clock import format_timestamp
from capymock.mock import DEFAULT_PROJECT, Mock


def seed_demo(mock: Mock) -> str:
    """Add the demo jobs, created over the last hour of the mock's clock; return the project id."""
    now = mock.clock.now()

    def ago(minutes: float) -> str:
        return format_timestamp(now - timedelta(minutes=minutes))

    project = DEFAULT_PROJECT
    mock.add_project(project)
    mock.add_job(
        id="job_demo_migrate",
        project_id=project,
        type="migrate",
        state="succeeded",
        created_at=ago(58),
        last_exit_code=0,
        last_stdout="applied 3 migrations",
    )
    mock.add_job(
        id="job_demo_build",
        project_id=project,
        type="build",
        state="failed",
        attempts=3,
        created_at=ago(45),
        error="exit status 2",
        last_exit_code=2,
        last_stderr="npm ERR! missing script: build",
        retry_classification="permanent",
    )
    mock.add_job(
        id="job_demo_preview",
        project_id=project,
        type="preview",
        state="cancelled",
        created_at=ago(30),
        preview_database_id="db_preview_42",
    )
    mock.add_job(
        id="job_demo_deploy",
        project_id=project,
        type="deploy",
        state="running",
        created_at=ago(6),
        claimed_by="worker-a",
        cluster_id="cluster_eu_1",
        locked_resource="deploy:proj_demo",
    )
    mock.add_job(
        id="job_demo_backup",
        project_id=project,
        type="backup",
        state="claimed",
        created_at=ago(2),
        claimed_by="worker-b",
    )
    mock.add_job(id="job_demo_report", project_id=project, type="report", state="pending", created_at=ago(1))
    return project
