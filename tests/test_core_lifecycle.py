"""The lifecycle's invariant checks, called directly (the core is sans-IO): a job that breaks
one is reported with the field at fault, and a value the schema reports breaks nothing here."""

from __future__ import annotations

from typing import Any

import pytest

import capymock
from capymock.core.lifecycle import Lifecycle


@pytest.fixture(scope="module")
def lifecycle() -> Lifecycle:
    return capymock.load_spec().lifecycle


def _pending(**fields: Any) -> dict[str, Any]:
    job: dict[str, Any] = {
        "state": "pending",
        "attempts": 0,
        "max_attempts": 3,
        "claimed_by": None,
        "claimed_at": None,
        "started_at": None,
        "completed_at": None,
        "created_at": "2026-01-01T09:00:00Z",
        "updated_at": "2026-01-01T09:00:00Z",
    }
    job.update(fields)
    return job


def _running(**fields: Any) -> dict[str, Any]:
    running: dict[str, Any] = {
        "state": "running",
        "attempts": 1,
        "claimed_by": "worker-1",
        "claimed_at": "2026-01-01T09:01:00Z",
        "started_at": "2026-01-01T09:02:00Z",
        "updated_at": "2026-01-01T09:02:00Z",
    }
    return _pending(**{**running, **fields})


def test_a_sound_running_job_breaks_nothing(lifecycle: Lifecycle) -> None:
    assert lifecycle.violations(_running()) == []


def test_completed_at_set_while_running_is_reported(lifecycle: Lifecycle) -> None:
    job = _running(completed_at="2026-01-01T09:03:00Z")
    assert lifecycle.broken(job) == [
        (
            "completed_at",
            "completed_at must be null in state 'running' (set only in cancelled, failed, succeeded)",
        )
    ]


def test_completed_at_missing_when_finished_is_reported(lifecycle: Lifecycle) -> None:
    job = _running(state="succeeded")
    assert lifecycle.broken(job) == [("completed_at", "completed_at must be set in state 'succeeded'")]


def test_a_state_that_is_not_a_string_breaks_no_state_rule(lifecycle: Lifecycle) -> None:
    assert lifecycle.violations(_running(state=7, completed_at="2026-01-01T09:03:00Z")) == []


def test_an_unreadable_updated_at_breaks_nothing(lifecycle: Lifecycle) -> None:
    assert lifecycle.violations(_pending(updated_at="soon")) == []


def test_an_unreadable_created_at_breaks_nothing(lifecycle: Lifecycle) -> None:
    assert lifecycle.violations(_pending(created_at="long ago")) == []


def test_updated_at_before_created_at_is_reported(lifecycle: Lifecycle) -> None:
    job = _pending(updated_at="2026-01-01T08:00:00Z")
    assert lifecycle.broken(job) == [
        ("updated_at", "updated_at (2026-01-01T08:00:00Z) is before created_at (2026-01-01T09:00:00Z)")
    ]


def test_the_order_skips_an_unset_timestamp(lifecycle: Lifecycle) -> None:
    job = _running(claimed_at=None, started_at="2026-01-01T08:00:00Z", updated_at="2026-01-01T09:05:00Z")
    assert (
        "started_at",
        "started_at (2026-01-01T08:00:00Z) is before created_at (2026-01-01T09:00:00Z)",
    ) in (lifecycle.broken(job))


@pytest.mark.parametrize("attempts", ["many", True, float("nan")])
def test_attempts_that_are_no_number_break_no_bound(lifecycle: Lifecycle, attempts: object) -> None:
    assert lifecycle.violations(_pending(attempts=attempts, max_attempts=0)) == []


def test_a_limit_that_is_no_number_breaks_no_bound(lifecycle: Lifecycle) -> None:
    assert lifecycle.violations(_pending(attempts=5, max_attempts="three")) == []


def test_attempts_above_the_limit_are_reported(lifecycle: Lifecycle) -> None:
    assert lifecycle.broken(_pending(attempts=4)) == [
        ("attempts", "attempts must be between 0 and max_attempts (3), got 4")
    ]


def test_integers_past_the_largest_float_are_numbers(lifecycle: Lifecycle) -> None:
    huge = 10**400
    assert lifecycle.violations(_pending(attempts=huge, max_attempts=huge)) == []
    assert lifecycle.broken(_pending(attempts=huge + 1, max_attempts=huge)) == [
        ("attempts", f"attempts must be between 0 and max_attempts ({huge}), got {huge + 1}")
    ]
    assert lifecycle.violations(_pending(attempts=float("inf"), max_attempts=huge)) == []


def test_attempts_at_the_limit_break_nothing(lifecycle: Lifecycle) -> None:
    assert lifecycle.violations(_pending(attempts=3)) == []


def test_negative_attempts_are_reported(lifecycle: Lifecycle) -> None:
    assert lifecycle.broken(_pending(attempts=-1)) == [
        ("attempts", "attempts must be between 0 and max_attempts (3), got -1")
    ]


def test_a_claim_left_on_a_pending_job_is_reported(lifecycle: Lifecycle) -> None:
    job = _pending(claimed_by="worker-1")
    assert lifecycle.broken(job) == [("claimed_by", "claimed_by must be null in state 'pending'")]


def test_a_running_job_without_a_worker_is_reported(lifecycle: Lifecycle) -> None:
    assert lifecycle.broken(_running(claimed_by=None)) == [
        ("claimed_by", "claimed_by must be set in state 'running'")
    ]


def test_what_is_not_a_job_breaks_nothing(lifecycle: Lifecycle) -> None:
    assert lifecycle.broken(["state", "running"]) == []


def test_a_job_may_retry_below_its_limit_only(lifecycle: Lifecycle) -> None:
    assert (lifecycle.can_retry(_pending(attempts=2)), lifecycle.can_retry(_pending(attempts=3))) == (
        True,
        False,
    )
