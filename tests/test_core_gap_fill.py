"""The core's searches over the lifecycle: `shortest_walk` fills the states a poll missed between
two observed states of one job, its retry counter counted and its retry limit kept;
`shortest_path` walks the lifecycle's graph of states alone."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pytest

from capymock.core.job import Job, compose_job
from capymock.core.transitions import legal_targets, shortest_path, shortest_walk, transition
from capymock.system.specs import load_spec

SPEC = load_spec()
LIFECYCLE = SPEC.lifecycle
NOW = "2026-03-01T10:00:00Z"


def job(state: str, attempts: int, max_attempts: int = 3) -> Job:
    given = {"state": state, "attempts": attempts, "max_attempts": max_attempts, "project_id": "proj_a"}
    return compose_job(SPEC, given, job_id="job_a", organization_id="org_a", now=NOW)


def walked(start: Mapping[str, Any], walk: list[str]) -> dict[str, Any]:
    """`start` after it takes each move of `walk` (each must be legal where it is taken)."""
    fields = dict(start)
    for state in walk:
        assert state in legal_targets(LIFECYCLE, fields)
        fields = transition(LIFECYCLE, fields, state, NOW)
    return fields


@pytest.mark.parametrize(
    ("state", "attempts", "goal", "walk"),
    [
        ("claimed", 1, "succeeded", ["running", "succeeded"]),
        ("running", 1, "running", ["pending", "claimed", "running"]),
        ("failed", 1, "succeeded", ["pending", "claimed", "running", "succeeded"]),
        ("pending", 0, "pending", ["claimed", "pending"]),
    ],
)
def test_a_walk_from_any_state_is_the_fewest_legal_moves(
    state: str, attempts: int, goal: str, walk: list[str]
) -> None:
    start = job(state, attempts)
    assert shortest_walk(LIFECYCLE, start, goal) == walk
    assert walked(start, walk)["state"] == goal


def test_the_retry_counter_is_counted_on_the_way() -> None:
    start = job("running", 1)
    walk = shortest_walk(LIFECYCLE, start, "running", count=3)
    assert walk == ["pending", "claimed", "pending", "claimed", "running"]  # a retry from claimed
    assert walked(start, walk)["attempts"] == 3
    assert shortest_walk(LIFECYCLE, job("pending", 0), "claimed", count=1) == ["claimed"]


def test_many_retries_missed_are_each_filled() -> None:
    start = job("pending", 0, max_attempts=1_000_000_000)
    walk = shortest_walk(LIFECYCLE, start, "running", count=5)
    assert walk == ["claimed", *["pending", "claimed"] * 4, "running"]
    assert walked(start, walk)["attempts"] == 5


def test_the_retry_limit_forbids_a_return_to_pending() -> None:
    spent = job("running", 3)
    assert shortest_walk(LIFECYCLE, spent, "pending") is None
    assert shortest_walk(LIFECYCLE, job("claimed", 3), "pending") is None
    assert shortest_walk(LIFECYCLE, spent, "succeeded") == ["succeeded"]
    assert shortest_walk(LIFECYCLE, spent, "failed") == ["failed"]
    assert shortest_path(LIFECYCLE, "claimed", "pending") == ["pending"]  # the graph alone allows it


@pytest.mark.parametrize(
    ("start", "goal", "count"),
    [
        (job("succeeded", 1), "pending", None),  # terminal
        (job("cancelled", 0), "cancelled", None),  # not a walk to where it already is
        (job("running", 2), "running", 1),  # the counter never goes down
        (job("running", 1), "running", 4),  # beyond max_attempts
        (job("pending", 0), "paused", None),  # not a state
        (job("pending", 0, max_attempts=1_000_000_000), "running", 1_000_000_000),  # too far to search
    ],
)
def test_a_goal_no_legal_walk_reaches_is_none(start: Job, goal: str, count: int | None) -> None:
    assert shortest_walk(LIFECYCLE, start, goal, count) is None


@pytest.mark.parametrize(
    ("start", "goal", "first", "path"),
    [
        ("pending", "pending", None, []),
        ("pending", "running", None, ["claimed", "running"]),
        ("pending", "succeeded", None, ["claimed", "running", "succeeded"]),
        ("failed", "running", None, ["pending", "claimed", "running"]),
        ("claimed", "pending", None, ["pending"]),
        ("running", "pending", ("succeeded", "failed", "cancelled"), ["failed", "pending"]),
        ("running", "pending", (), None),
        ("succeeded", "pending", None, None),
        ("pending", "paused", None, None),
    ],
)
def test_shortest_path_walks_the_graph_of_states(
    start: str, goal: str, first: tuple[str, ...] | None, path: list[str] | None
) -> None:
    assert shortest_path(LIFECYCLE, start, goal, first) == path


def test_a_job_given_a_later_state_is_composed_along_the_shortest_path() -> None:
    composed = compose_job(SPEC, {"state": "running"}, job_id="job_b", organization_id="org_a", now=NOW)
    assert (composed["state"], composed["attempts"], composed["claimed_at"]) == ("running", 1, NOW)
