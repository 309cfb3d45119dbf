"""Pure transitions over the bundled lifecycle, and over lifecycles that leave states out of
their maps (a spec may list only the states that move, or derive nothing on entering one)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

import capymock
from capymock.core.lifecycle import Lifecycle
from capymock.core.transitions import _breadth_first, fill_in, legal_targets, shortest_path, transition
from capymock.errors import IllegalTransition

NOW = "2026-01-01T10:00:00Z"


@pytest.fixture(scope="module")
def lifecycle() -> Lifecycle:
    return capymock.load_spec().lifecycle


@pytest.fixture(scope="module")
def sparse(lifecycle: Lifecycle) -> Lifecycle:
    """The bundled lifecycle without the final states' empty transitions, and nothing derived
    on entering `running`."""
    return dataclasses.replace(
        lifecycle,
        transitions={state: targets for state, targets in lifecycle.transitions.items() if targets},
        on_enter={state: effect for state, effect in lifecycle.on_enter.items() if state != "running"},
    )


def _job(state: str, **fields: Any) -> dict[str, Any]:
    return {"id": "job_1", "state": state, "attempts": 1, "max_attempts": 3, "started_at": None, **fields}


@pytest.mark.parametrize(
    ("start", "goal", "path"),
    [
        ("pending", "succeeded", ["claimed", "running", "succeeded"]),
        ("claimed", "succeeded", ["running", "succeeded"]),
        ("running", "claimed", ["pending", "claimed"]),
        ("failed", "running", ["pending", "claimed", "running"]),
        ("cancelled", "cancelled", []),
    ],
)
def test_the_shortest_path_from_any_state(
    lifecycle: Lifecycle, start: str, goal: str, path: list[str]
) -> None:
    assert shortest_path(lifecycle, start, goal) == path


def test_there_is_no_way_out_of_a_final_state(lifecycle: Lifecycle) -> None:
    assert shortest_path(lifecycle, "succeeded", "pending") is None


def test_a_state_missing_from_the_transitions_has_no_way_out(sparse: Lifecycle) -> None:
    assert shortest_path(sparse, "cancelled", "pending") is None


def test_a_walk_through_a_state_missing_from_the_transitions_goes_on(sparse: Lifecycle) -> None:
    assert shortest_path(sparse, "pending", "failed") == ["claimed", "failed"]


def test_first_narrows_only_the_first_move(lifecycle: Lifecycle) -> None:
    assert shortest_path(lifecycle, "claimed", "pending", first=("running",)) == ["running", "pending"]


def test_legal_targets_of_a_state_missing_from_the_transitions(sparse: Lifecycle) -> None:
    assert legal_targets(sparse, _job("succeeded")) == ()


def test_a_retry_is_legal_only_below_the_limit(lifecycle: Lifecycle) -> None:
    assert legal_targets(lifecycle, _job("failed", attempts=3)) == ()


def test_a_move_from_a_state_missing_from_the_transitions_is_refused_without_a_reason(
    sparse: Lifecycle,
) -> None:
    with pytest.raises(IllegalTransition) as refused:
        transition(sparse, _job("succeeded"), "pending", NOW)
    assert (refused.value.reason, str(refused.value)) == (
        "",
        "job 'job_1' cannot go from 'succeeded' to 'pending'; legal next states: none, it is final",
    )


def test_a_retry_past_the_limit_says_why(lifecycle: Lifecycle) -> None:
    with pytest.raises(IllegalTransition) as refused:
        transition(lifecycle, _job("failed", attempts=3), "pending", NOW)
    assert refused.value.reason == "attempts 3 has reached max_attempts 3"


def test_entering_a_state_that_derives_nothing_changes_only_the_state_and_updated_at(
    sparse: Lifecycle,
) -> None:
    assert transition(sparse, _job("claimed"), "running", NOW) == {**_job("running"), "updated_at": NOW}


def test_entering_running_stamps_started_at(lifecycle: Lifecycle) -> None:
    assert transition(lifecycle, _job("claimed"), "running", NOW)["started_at"] == NOW


def test_explicit_fields_win_over_derived_ones(lifecycle: Lifecycle) -> None:
    moved = transition(lifecycle, _job("claimed"), "running", NOW, {"started_at": "2026-01-01T09:59:00Z"})
    assert moved["started_at"] == "2026-01-01T09:59:00Z"


def test_a_new_job_without_a_state_starts_in_the_initial_one(lifecycle: Lifecycle) -> None:
    assert fill_in(lifecycle, {"attempts": 0}, {"id": "job_1"}, NOW) == {
        "attempts": 0,
        "state": "pending",
        "id": "job_1",
    }


def test_a_new_running_job_has_walked_there(lifecycle: Lifecycle) -> None:
    job = fill_in(lifecycle, {"attempts": 0}, {"state": "running"}, NOW)
    assert (job["attempts"], job["claimed_by"], job["started_at"]) == (1, "worker-1", NOW)


def test_a_search_gives_up_once_its_limit_of_nodes_is_known() -> None:
    def moves(node: int) -> list[tuple[str, int]]:
        return [(f"to {node + 1}", node + 1)]

    def arrived(node: int) -> bool:
        return node == 2

    assert _breadth_first(0, moves, lambda node: node, arrived, limit=2) is None
    assert _breadth_first(0, moves, lambda node: node, arrived, limit=3) == ["to 1", "to 2"]
    assert _breadth_first(0, moves, lambda node: node, arrived) == ["to 1", "to 2"]
