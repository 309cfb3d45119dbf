"""The job store: projects, jobs in list order, snapshots and the version counting changes."""

from __future__ import annotations

import pytest

import capymock
from capymock.core.job import Job, compose_job
from capymock.core.store import Store

SPEC = capymock.load_spec()


def _job(job_id: str, created: str, project: str = "proj_a", organization: str = "org_a") -> Job:
    return compose_job(
        SPEC,
        {"project_id": project, "created_at": created},
        job_id=job_id,
        organization_id=organization,
        now=created,
    )


def _ids(jobs: list[Job] | None) -> list[str] | None:
    return None if jobs is None else [job.id for job in jobs]


def test_an_empty_store_is_at_version_0() -> None:
    assert (Store().version, len(Store())) == (0, 0)


def test_a_new_project_counts_as_a_change_and_a_known_one_does_not() -> None:
    store = Store()
    store.add_project("proj_a", "org_a")
    store.add_project("proj_a", "org_a")
    assert (store.version, store.projects(), store.project_organization("proj_a")) == (1, ["proj_a"], "org_a")


def test_each_new_project_counts_as_a_change() -> None:
    store = Store()
    store.add_project("proj_a", "org_a")
    store.add_project("proj_b", "org_a")
    assert store.version == 2


def test_projects_are_listed_in_the_order_declared() -> None:
    store = Store()
    for project in ("proj_b", "proj_a"):
        store.add_project(project, "org_a")
    assert store.projects() == ["proj_b", "proj_a"]


def test_a_project_belongs_to_one_organization() -> None:
    store = Store()
    store.add_project("proj_a", "org_a")
    with pytest.raises(ValueError) as refused:
        store.add_project("proj_a", "org_b")
    assert str(refused.value) == "project 'proj_a' belongs to 'org_a', not 'org_b'"


def test_each_put_counts_as_a_change() -> None:
    store = Store()
    store.put(_job("job_1", "2026-01-01T09:00:00Z"))  # its project is new: two changes
    store.put(_job("job_2", "2026-01-01T09:01:00Z"))
    assert store.version == 3


def test_the_newest_jobs_come_first() -> None:
    store = Store()
    for n in range(3):
        store.put(_job(f"job_{n}", f"2026-01-01T09:0{n}:00Z"))
    assert (_ids(store.newest("proj_a", 2)), _ids(store.newest("proj_a", 5))) == (
        ["job_2", "job_1"],
        ["job_2", "job_1", "job_0"],
    )


def test_no_limit_lists_every_job_newest_first() -> None:
    store = Store()
    for n in range(3):
        store.put(_job(f"job_{n}", f"2026-01-01T09:0{n}:00Z"))
    assert _ids(store.newest("proj_a", None)) == ["job_2", "job_1", "job_0"]


def test_a_limit_of_0_lists_nothing() -> None:
    store = Store()
    store.put(_job("job_1", "2026-01-01T09:00:00Z"))
    assert store.newest("proj_a", 0) == []


def test_an_unknown_project_has_no_list() -> None:
    assert Store().newest("proj_x", 5) is None


def test_a_replaced_job_is_listed_once_in_its_new_place() -> None:
    store = Store()
    store.put(_job("job_1", "2026-01-01T09:00:00Z"))
    store.put(_job("job_2", "2026-01-01T09:01:00Z"))
    store.put(_job("job_1", "2026-01-01T09:02:00Z"))
    assert (_ids(store.newest("proj_a", 5)), len(store)) == (["job_1", "job_2"], 2)


def test_a_job_put_again_unchanged_is_listed_once() -> None:
    store = Store()
    job = _job("job_1", "2026-01-01T09:00:00Z")
    store.put(job)
    store.put(job)
    assert _ids(store.newest("proj_a", 5)) == ["job_1"]


def test_a_snapshot_restores_the_same_store() -> None:
    store = Store()
    store.add_project("proj_empty", "org_a")
    store.put(_job("job_2", "2026-01-01T09:01:00Z"))
    store.put(_job("job_1", "2026-01-01T09:00:00Z"))
    copy = Store(store.snapshot())
    assert (copy.projects(), _ids(copy.newest("proj_a", 5)), copy.get("job_1")) == (
        ["proj_empty", "proj_a"],
        ["job_2", "job_1"],
        store.get("job_1"),
    )
