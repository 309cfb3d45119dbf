"""The reachability oracle one behaviour at a time (fast; `test_core_reachability.py` proves it
against brute force): what the model reads from a lifecycle, how counters are counted (exactly
up to `EXACT`, else by class), each reason `explain` gives and the field it names, the order of
timestamp levels, `join` of two reads, the graph cache and the `MAX_NODES` limit."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

import capymock
from capymock.core.lifecycle import Bound, Effect, Lifecycle, Retry
from capymock.core.reachability import (
    BELOW,
    EXACT,
    MAX_NODES,
    TOP,
    ZERO,
    Counting,
    Model,
    Node,
    Oracle,
    Verdict,
    oracle_for,
)

SPEC = capymock.load_spec()
LIFECYCLE = SPEC.lifecycle
FIXED = ("id", "project_id", "organization_id", "created_at")


def oracle() -> Oracle:
    """A fresh oracle of the spec's lifecycle, so no test leans on graphs another one built."""
    return Oracle(LIFECYCLE, "created_at", FIXED)


STAMPS = frozenset({"created_at", "claimed_at", "started_at", "completed_at", "updated_at"})


def at(second: int) -> str:
    return f"2026-01-01T00:00:{second:02d}Z"


def job(state: str = "pending", attempts: int = 0, limit: int = 3, **fields: Any) -> dict[str, Any]:
    made: dict[str, Any] = {
        "id": "job-1",
        "project_id": "p",
        "organization_id": "o",
        "state": state,
        "attempts": attempts,
        "max_attempts": limit,
        "created_at": at(0),
        "updated_at": at(0),
        "claimed_by": None,
        "claimed_at": None,
        "started_at": None,
        "completed_at": None,
    }
    made.update(fields)
    return made


def claimed(attempts: int = 1, limit: int = 3, **fields: Any) -> dict[str, Any]:
    return job(
        "claimed", attempts, limit, **{"claimed_by": "w", "claimed_at": at(1), "updated_at": at(1), **fields}
    )


def running(attempts: int = 1, limit: int = 3, **fields: Any) -> dict[str, Any]:
    given = {"claimed_by": "w", "claimed_at": at(1), "started_at": at(2), "updated_at": at(2), **fields}
    return job("running", attempts, limit, **given)


def done(state: str = "succeeded", attempts: int = 1, **fields: Any) -> dict[str, Any]:
    given = {
        "claimed_by": "w",
        "claimed_at": at(1),
        "started_at": at(2),
        "completed_at": at(3),
        "updated_at": at(3),
    }
    return job(state, attempts, **{**given, **fields})


def refused(verdict: Verdict) -> tuple[str, str]:
    assert verdict.explained is False
    return verdict.reason, verdict.field


def with_runs(lifecycle: Lifecycle = LIFECYCLE) -> Lifecycle:
    """A second counter: entering running counts a run, at most `max_runs`."""
    on_enter = {**lifecycle.on_enter, "running": replace(lifecycle.on_enter["running"], increment=("runs",))}
    bounded = (*lifecycle.invariants.bounded, Bound("runs", 0, "max_runs"))
    return replace(lifecycle, on_enter=on_enter, invariants=replace(lifecycle.invariants, bounded=bounded))


def without_bounds(lifecycle: Lifecycle = LIFECYCLE) -> Lifecycle:
    return replace(lifecycle, invariants=replace(lifecycle.invariants, bounded=()))


# -- the model -------------------------------------------------------------------------------


def test_the_model_reads_counters_maxima_stamps_and_derived_fields() -> None:
    model = Model.of(LIFECYCLE, "created_at")
    assert (model.counters, dict(model.maxima), model.stamps, model.derived, dict(model.minima)) == (
        ("attempts",),
        {"attempts": "max_attempts"},
        STAMPS,
        STAMPS | {"claimed_by"},
        {"attempts": 0},
    )


def test_the_creation_time_is_a_stamp_even_if_no_effect_sets_it() -> None:
    assert "born" in Model.of(LIFECYCLE, "born").stamps


def test_a_retry_counter_without_a_bound_is_bounded_by_the_retry_limit() -> None:
    model = Model.of(without_bounds(), "created_at")
    assert (dict(model.maxima), dict(model.minima)) == ({"attempts": "max_attempts"}, {})


def test_a_bound_names_the_maximum_before_the_retry_limit() -> None:
    bounded = (Bound("attempts", 1, "ceiling"),)
    lifecycle = replace(LIFECYCLE, invariants=replace(LIFECYCLE.invariants, bounded=bounded))
    model = Model.of(lifecycle, "created_at")
    assert (dict(model.maxima), dict(model.minima)) == ({"attempts": "ceiling"}, {"attempts": 1})


def test_a_counter_neither_bounded_nor_retried_has_no_maximum() -> None:
    lifecycle = replace(without_bounds(), retry=Retry("pending", "claimed_by", "max_attempts"))
    assert dict(Model.of(lifecycle, "created_at").maxima) == {}


def test_counters_are_read_once_each_in_order_of_their_effects() -> None:
    on_enter = {**LIFECYCLE.on_enter, "running": Effect(increment=("runs", "attempts"), now=("started_at",))}
    model = Model.of(
        replace(LIFECYCLE, on_enter=on_enter, on_change=Effect(increment=("changes",))), "created_at"
    )
    assert model.counters == ("attempts", "runs", "changes")


# -- counting ----------------------------------------------------------------------------------


def test_counts_up_to_exact_are_counted_exactly() -> None:
    assert Counting.fit((100, None), (EXACT, 2)) == Counting((100, None), (EXACT, 2))


def test_a_count_past_exact_counts_every_counter_by_class_with_maxima_up_to_3() -> None:
    assert (EXACT, Counting.fit((100, 2, None), (EXACT + 1, 1, 0))) == (64, Counting((3, 2, None)))


def test_counting_starts_at_zero() -> None:
    assert (Counting((3,), (5,)).start(), Counting((3, 0, None)).start()) == ((0,), (ZERO, TOP, ZERO))


def test_exact_counting_keeps_counts_and_classes_classify_them_against_the_jobs_maxima() -> None:
    classes = Counting((3, 3, 3, 3, None))
    assert (
        Counting((3,), (3,)).of((2,), (3,)),
        classes.of((0, 1, 3, 200, 7), (200, 200, 5, 200, None)),
    ) == ((2,), (ZERO, BELOW, BELOW, TOP, BELOW))


@pytest.mark.parametrize("limit", [EXACT, EXACT + 1, 200])
def test_a_retry_state_at_the_maximum_is_refused_however_it_is_counted(limit: int) -> None:
    assert refused(oracle().explain(job(attempts=limit, limit=limit, updated_at=at(4)))) == (
        f"pending with attempts {limit} of max_attempts {limit}: the only way back to pending is a retry, "
        "legal while attempts < max_attempts",
        "attempts",
    )


@pytest.mark.parametrize(
    ("value", "maximum", "after"),
    [
        (TOP, 5, ()),
        (TOP, None, ()),
        (ZERO, None, (BELOW,)),
        (BELOW, None, (BELOW,)),
        (ZERO, 0, ()),
        (ZERO, 1, (TOP,)),
        (ZERO, 2, (BELOW,)),
        (ZERO, 3, (BELOW,)),
        (BELOW, 2, (TOP,)),
        (BELOW, 3, (TOP, BELOW)),
    ],
)
def test_a_class_one_count_later(value: str, maximum: int | None, after: tuple[str, ...]) -> None:
    assert Counting((maximum,)).more(0, value) == after


@pytest.mark.parametrize(
    ("value", "maximum", "cap", "after"),
    [(0, 3, 5, (1,)), (2, 3, 5, (3,)), (3, 3, 5, ()), (2, None, 3, (3,)), (3, None, 3, ()), (1, 5, 2, (2,))],
)
def test_an_exact_count_one_later_stays_within_its_maximum_and_cap(
    value: int, maximum: int | None, cap: int, after: tuple[int, ...]
) -> None:
    assert Counting((maximum,), (cap,)).more(0, value) == after


def test_more_reads_the_counter_it_is_given() -> None:
    assert Counting((1, 5), (1, 5)).more(1, 1) == (2,)


@pytest.mark.parametrize(
    ("counting", "value", "below"),
    [
        (Counting((3,)), BELOW, True),
        (Counting((3,)), ZERO, True),
        (Counting((3,)), TOP, False),
        (Counting((3,), (9,)), 2, True),
        (Counting((3,), (9,)), 3, False),
        (Counting((None,), (9,)), 9, True),
    ],
)
def test_below_the_maximum(counting: Counting, value: Any, below: bool) -> None:
    assert counting.below(0, value) is below


def test_below_reads_the_counter_it_is_given() -> None:
    assert (Counting((1, 5), (1, 5)).below(1, 1), Counting((5, 1), (5, 1)).below(1, 1)) == (True, False)


# -- the graph ---------------------------------------------------------------------------------


def test_the_created_job_is_pending_with_its_creation_and_change_times() -> None:
    graph = oracle().graph(Counting((3,), (0,)))
    assert graph is not None
    created = [node for node, parent in graph.items() if parent is None]
    stamp = frozenset({"created_at"})
    assert created == [Node("pending", (0,), stamp | {"updated_at"}, (stamp, frozenset({"updated_at"})))]


def test_a_change_without_a_move_stamps_again_at_a_later_level() -> None:
    graph = oracle().graph(Counting((3,), (0,)))
    assert graph is not None
    assert {node.levels for node in graph if node.state == "pending"} == {
        (frozenset({"created_at"}), frozenset({"updated_at"}))
    }


def test_a_claim_counts_an_attempt_sets_the_claim_and_then_the_change() -> None:
    graph = oracle().graph(Counting((3,), (1,)))
    assert graph is not None
    assert {(node.counters, node.set_fields, node.levels) for node in graph if node.state == "claimed"} == {
        (
            (1,),
            frozenset({"created_at", "updated_at", "claimed_at", "claimed_by"}),
            (frozenset({"created_at"}), frozenset({"claimed_at"}), frozenset({"updated_at"})),
        )
    }


def test_entering_pending_clears_the_claim() -> None:
    graph = oracle().graph(Counting((3,), (1,)))
    assert graph is not None
    assert {(node.counters, node.set_fields) for node in graph if node.state == "pending"} == {
        ((0,), frozenset({"created_at", "updated_at"})),
        ((1,), frozenset({"created_at", "updated_at"})),
    }


def test_a_graph_is_built_once_for_each_counting() -> None:
    oracle = Oracle(LIFECYCLE, "created_at")
    assert oracle.graph(Counting((3,), (1,))) is oracle.graph(Counting((3,), (1,)))


def test_the_graph_cache_is_emptied_when_it_holds_256() -> None:
    oracle = Oracle(LIFECYCLE, "created_at")
    first = oracle.graph(Counting((0,), (0,)))
    for limit in range(1, 256):
        oracle.graph(Counting((limit,), (0,)))
    kept = oracle.graph(Counting((0,), (0,)))
    oracle.graph(Counting((256,), (0,)))
    assert (kept is first, oracle.graph(Counting((0,), (0,))) is first) == (True, False)


NO_INVARIANTS = replace(LIFECYCLE.invariants, bounded=(), set_in={}, exactly_in={}, null_in={}, ordered=())


def three_counters(chain: int) -> Lifecycle:
    """A chain of `chain` states (one abstract job each) into states a, b and c, all linked, each
    counting its own counter: graphs of a size chosen to the node."""
    steps = tuple(f"s{i}" for i in range(chain))
    transitions = {step: (after,) for step, after in zip(steps, (*steps[1:], "a"), strict=True)}
    transitions.update({name: ("a", "b", "c") for name in "abc"})
    return Lifecycle(
        field="state",
        states=(*steps, "a", "b", "c"),
        initial=steps[0],
        transitions=transitions,
        retry=Retry("a", "none", "none"),
        on_enter={name: Effect(increment=(f"count_{name}",)) for name in "abc"},
        on_change=Effect(),
        invariants=NO_INVARIANTS,
    )


CAPS = Counting((None, None, None), (18, 18, 18))


def test_a_graph_of_max_nodes_is_built() -> None:
    graph = Oracle(three_counters(1550), "created_at").graph(CAPS)
    assert (MAX_NODES, None if graph is None else len(graph)) == (20_000, 20_000)


def test_a_graph_larger_than_max_nodes_is_not_built_and_explains_anything() -> None:
    oracle = Oracle(three_counters(1551), "created_at")
    shown = {"state": "a", "count_a": 18, "count_b": 18, "count_c": 18}
    assert (oracle.graph(CAPS), oracle.explain(shown)) == (None, Verdict(True))


def counting_every_step() -> Oracle:
    """The spec's lifecycle, counting visits to pending (the initial state too) and every change."""
    pending = replace(LIFECYCLE.on_enter["pending"], increment=("visits",))
    on_change = replace(LIFECYCLE.on_change, increment=("changes",))
    lifecycle = replace(LIFECYCLE, on_enter={**LIFECYCLE.on_enter, "pending": pending}, on_change=on_change)
    return Oracle(lifecycle, "created_at")


@pytest.mark.parametrize(
    ("shown", "walk"),
    [
        (job(visits=1, changes=1), ("pending",)),
        (job(visits=1, changes=2), ("pending",)),
        (claimed(visits=1, changes=2), ("pending", "claimed")),
        (job(attempts=1, visits=2, changes=3), ("pending", "claimed", "pending")),
    ],
)
def test_counters_the_initial_state_and_every_change_count(shown: Any, walk: tuple[str, ...]) -> None:
    assert counting_every_step().explain(shown) == Verdict(True, walk=walk)


def test_a_created_job_has_counted_its_creation() -> None:
    assert counting_every_step().explain(job(visits=0, changes=1)).explained is False


# -- explain: what is no job it can judge --------------------------------------------------------


@pytest.mark.parametrize(
    "shown",
    [
        ["pending"],
        job("lost"),
        {"attempts": 9},
        job(attempts="1"),
        job(attempts=True),
        job(attempts=1.5),
        job(attempts=float("inf")),
        job(max_attempts=None),
        job(max_attempts="3"),
        job(updated_at="yesterday"),
        job(updated_at="2026-01-01T00:00:00"),
    ],
)
def test_what_the_schema_should_report_is_explained_without_a_walk(shown: Any) -> None:
    assert oracle().explain(shown) == Verdict(True)


@pytest.mark.parametrize(
    ("shown", "walk"),
    [
        (job(), ("pending",)),
        (claimed(), ("pending", "claimed")),
        (claimed(attempts=1.0), ("pending", "claimed")),
        (running(), ("pending", "claimed", "running")),
        (job(attempts=1, updated_at=at(4)), ("pending", "claimed", "pending")),
        (done(), ("pending", "claimed", "running", "succeeded")),
        (job("cancelled", completed_at=at(1), updated_at=at(1)), ("pending", "cancelled")),
    ],
)
def test_an_explained_job_comes_with_a_shortest_walk(shown: Any, walk: tuple[str, ...]) -> None:
    assert oracle().explain(shown) == Verdict(True, walk=walk)


def test_the_walk_leaves_out_changes_without_a_move() -> None:
    assert oracle().explain(claimed(updated_at=at(9))).walk == ("pending", "claimed")


def test_timestamps_in_other_zones_are_compared_as_moments() -> None:
    assert oracle().explain(claimed(claimed_at="2026-01-01T01:00:01+01:00")).explained


# -- explain: counters -------------------------------------------------------------------------


@pytest.mark.parametrize("attempts", [1, 2, 3])
def test_counters_at_or_below_their_maximum_are_in_bounds(attempts: int) -> None:
    assert oracle().explain(done("failed", attempts)).explained


@pytest.mark.parametrize("attempts", [4, -1])
def test_a_counter_outside_its_bounds(attempts: int) -> None:
    assert refused(oracle().explain(done("failed", attempts))) == (
        f"attempts must be between 0 and max_attempts (3), got {attempts}",
        "attempts",
    )


def test_a_counter_below_its_minimum() -> None:
    bounded = (Bound("attempts", 1, "max_attempts"),)
    oracle = Oracle(
        replace(LIFECYCLE, invariants=replace(LIFECYCLE.invariants, bounded=bounded)), "created_at"
    )
    assert (refused(oracle.explain(job())), oracle.explain(job(attempts=1, updated_at=at(4))).explained) == (
        ("attempts must be between 1 and max_attempts (3), got 0", "attempts"),
        True,
    )


def test_a_counter_without_a_maximum_is_only_bounded_below() -> None:
    lifecycle = replace(without_bounds(), retry=Retry("pending", "claimed_by", "max_attempts"))
    oracle = Oracle(lifecycle, "created_at")
    assert (
        refused(oracle.explain(job(attempts=-1))),
        oracle.explain(job(attempts=3, limit=1)).explained,
    ) == (
        ("attempts must be at least 0, got -1", "attempts"),
        True,
    )


def test_a_count_no_walk_reaches_from_zero() -> None:
    assert refused(oracle().explain(claimed(attempts=0))) == (
        "claimed with attempts 0 of max_attempts 3: every walk to claimed enters claimed, "
        "which adds 1 to attempts",
        "attempts",
    )


def test_a_retry_state_at_the_maximum() -> None:
    assert refused(oracle().explain(job(attempts=3, updated_at=at(4)))) == (
        "pending with attempts 3 of max_attempts 3: the only way back to pending is a retry, "
        "legal while attempts < max_attempts",
        "attempts",
    )


NO_RETURN = replace(
    LIFECYCLE,
    transitions={
        **LIFECYCLE.transitions,
        "claimed": ("running", "failed", "cancelled"),
        "running": ("succeeded", "failed", "cancelled"),
        "failed": (),
    },
)
"""The spec's lifecycle without retries: at most one attempt."""


def test_a_count_past_what_walks_reach_says_the_most_they_do() -> None:
    assert refused(Oracle(NO_RETURN, "created_at").explain(done("failed", 2))) == (
        "failed with attempts 2 of max_attempts 3: no walk reaches failed with attempts 2 (at most 1)",
        "attempts",
    )


def test_a_count_at_the_maximum_outside_the_retry_state_is_past_what_walks_reach() -> None:
    assert refused(Oracle(NO_RETURN, "created_at").explain(done("failed", 2, max_attempts=2))) == (
        "failed with attempts 2 of max_attempts 2: no walk reaches failed with attempts 2 (at most 1)",
        "attempts",
    )


def test_a_count_below_the_maximum_in_the_retry_state_is_past_what_walks_reach() -> None:
    assert refused(Oracle(NO_RETURN, "created_at").explain(job(attempts=2))) == (
        "pending with attempts 2 of max_attempts 3: no walk reaches pending with attempts 2 (at most 0)",
        "attempts",
    )


def test_a_state_no_walk_reaches_within_the_counts_names_no_most() -> None:
    runs = replace(LIFECYCLE.on_enter["running"], increment=("runs",))
    on_enter = {"running": runs, **{s: e for s, e in LIFECYCLE.on_enter.items() if s != "running"}}
    oracle = Oracle(replace(LIFECYCLE, on_enter=on_enter), "created_at")
    assert (oracle.model.counters, refused(oracle.explain(running(attempts=0, runs=1)))) == (
        ("runs", "attempts"),
        ("running with runs 1: no walk reaches running with runs 1", "runs"),
    )


def test_a_class_no_walk_reaches_names_no_most() -> None:
    no_rerun = replace(
        with_runs(), transitions={**LIFECYCLE.transitions, "running": ("succeeded", "failed"), "failed": ()}
    )
    shown = claimed(attempts=100, limit=200, runs=100, max_runs=200)
    assert (refused(Oracle(no_rerun, "created_at").explain(shown)), oracle().explain(shown).explained) == (
        ("claimed with runs 100 of max_runs 200: no walk reaches claimed with runs 100", "runs"),
        True,
    )


def test_a_count_without_a_maximum_names_none() -> None:
    lifecycle = replace(without_bounds(), retry=Retry("pending", "claimed_by", "max_attempts"))
    assert refused(Oracle(lifecycle, "created_at").explain(claimed(attempts=0))) == (
        "claimed with attempts 0: every walk to claimed enters claimed, which adds 1 to attempts",
        "attempts",
    )


def test_a_zero_count_names_every_state_that_counts() -> None:
    on_enter = {**LIFECYCLE.on_enter, "running": Effect(increment=("attempts",), now=("started_at",))}
    oracle = Oracle(replace(LIFECYCLE, on_enter=on_enter), "created_at")
    assert refused(oracle.explain(claimed(attempts=0))) == (
        "claimed with attempts 0 of max_attempts 3: every walk to claimed enters claimed or running, "
        "which adds 1 to attempts",
        "attempts",
    )


def either_way() -> Lifecycle:
    """From a, to b (counting one and setting one_set) or to c (the other), then both to d."""
    return Lifecycle(
        field="state",
        states=("a", "b", "c", "d"),
        initial="a",
        transitions={"a": ("b", "c"), "b": ("d",), "c": ("d",)},
        retry=Retry("a", "none", "none"),
        on_enter={
            "b": Effect(increment=("one",), default={"one_set": True}),
            "c": Effect(increment=("other",), default={"other_set": True}),
        },
        on_change=Effect(),
        invariants=NO_INVARIANTS,
    )


def test_a_blocked_retry_leaves_the_later_moves_open() -> None:
    after = done("cancelled", 3, started_at=at(2), completed_at=at(4), updated_at=at(4))
    assert oracle().explain(after).walk[-2:] == ("running", "cancelled")


def test_counts_each_reached_but_never_together() -> None:
    oracle = Oracle(either_way(), "created_at")
    shown = {"state": "d", "one": 1, "other": 1, "one_set": True, "other_set": True, "created_at": at(0)}
    assert (
        refused(oracle.explain(shown)),
        oracle.explain({**shown, "other": 0, "other_set": None}).walk,
    ) == (("no walk reaches d with one 1 and other 1 together", "one"), ("a", "b", "d"))


def test_the_second_counter_is_named_when_only_its_count_is_unreached() -> None:
    shown = {"state": "d", "one": 0, "other": 2, "other_set": True, "created_at": at(0)}
    assert refused(Oracle(either_way(), "created_at").explain(shown)) == (
        "d with other 2: no walk reaches d with other 2 (at most 1)",
        "other",
    )


def test_fields_each_possible_but_not_together() -> None:
    oracle = Oracle(
        replace(
            either_way(),
            on_enter={"b": Effect(default={"one_set": True}), "c": Effect(default={"other_set": True})},
        ),
        "created_at",
    )
    assert refused(oracle.explain({"state": "d", "one_set": 1, "other_set": 1, "created_at": at(0)})) == (
        "no walk to d leaves these fields set",
        "",
    )


@pytest.mark.parametrize("attempts", [0, 3])
def test_the_counter_out_of_bounds_is_named_not_one_at_a_bound(attempts: int) -> None:
    oracle = Oracle(with_runs(), "created_at")
    assert refused(oracle.explain(done("failed", attempts, runs=4, max_runs=3))) == (
        "runs must be between 0 and max_runs (3), got 4",
        "runs",
    )


def test_a_second_counter_is_judged_against_its_own_maximum() -> None:
    oracle = Oracle(with_runs(), "created_at")
    assert refused(oracle.explain(running(attempts=2, runs=2, max_runs=1))) == (
        "runs must be between 0 and max_runs (1), got 2",
        "runs",
    )


def test_class_counting_explains_a_large_count_a_walk_reaches() -> None:
    assert oracle().explain(claimed(attempts=100, limit=200)).walk == ("pending", "claimed")


def test_class_counting_still_refuses_a_class_no_walk_reaches() -> None:
    assert refused(oracle().explain(claimed(attempts=0, limit=200, runs=EXACT + 1)))[1] == "attempts"


# -- explain: which fields are set ---------------------------------------------------------------


def test_a_field_that_must_be_set() -> None:
    assert refused(oracle().explain(claimed(claimed_by=None))) == (
        "claimed_by must be set in state 'claimed': entering claimed sets it; entering pending clears it",
        "claimed_by",
    )


def test_a_field_that_must_be_null() -> None:
    assert refused(oracle().explain(job(started_at=at(1), updated_at=at(1)))) == (
        "started_at must be null in state 'pending': entering running sets it; entering pending clears it",
        "started_at",
    )


def test_a_field_no_entry_sets_or_clears_gives_no_how() -> None:
    assert refused(oracle().explain(job(updated_at=None))) == (
        "updated_at must be set in state 'pending'",
        "updated_at",
    )


def test_a_field_set_and_cleared_names_both() -> None:
    assert refused(oracle().explain(job(completed_at=at(1), updated_at=at(1)))) == (
        "completed_at must be null in state 'pending': entering cancelled or failed or succeeded sets it; "
        "entering pending clears it",
        "completed_at",
    )


def test_a_field_only_set_names_no_clearer() -> None:
    pending = replace(LIFECYCLE.on_enter["pending"], clear=("claimed_by", "claimed_at", "started_at"))
    oracle = Oracle(replace(LIFECYCLE, on_enter={**LIFECYCLE.on_enter, "pending": pending}), "created_at")
    assert refused(oracle.explain(done(completed_at=None))) == (
        "completed_at must be set in state 'succeeded': entering cancelled or failed or succeeded sets it",
        "completed_at",
    )


def test_a_field_only_cleared_names_no_setter() -> None:
    on_enter = {**LIFECYCLE.on_enter, "claimed": replace(LIFECYCLE.on_enter["claimed"], default={})}
    oracle = Oracle(replace(LIFECYCLE, on_enter=on_enter), "created_at")
    assert refused(oracle.explain(job(claimed_by="w"))) == (
        "claimed_by must be null in state 'pending': entering pending clears it",
        "claimed_by",
    )


def test_every_state_that_clears_a_field_is_named() -> None:
    failed = replace(LIFECYCLE.on_enter["failed"], clear=("claimed_by",))
    oracle = Oracle(replace(LIFECYCLE, on_enter={**LIFECYCLE.on_enter, "failed": failed}), "created_at")
    assert refused(oracle.explain(claimed(claimed_by=None))) == (
        "claimed_by must be set in state 'claimed': entering claimed sets it; "
        "entering failed or pending clears it",
        "claimed_by",
    )


def test_fields_outside_the_model_are_not_judged() -> None:
    assert oracle().explain(job(error="boom", cluster_id="c")).explained


def test_the_first_field_in_name_order_is_named() -> None:
    assert refused(oracle().explain(running(claimed_by=None, started_at=None)))[1] == "claimed_by"


# -- explain: the order of timestamps --------------------------------------------------------------


def test_a_later_level_is_never_earlier() -> None:
    assert refused(oracle().explain(running(claimed_at=at(2), started_at=at(1)))) == (
        f"started_at ({at(1)}) is before claimed_at ({at(2)}): in every walk to 'running', "
        "the move that sets it comes after claimed_at is set",
        "started_at",
    )


def test_a_change_is_never_before_what_it_follows() -> None:
    assert refused(oracle().explain(running(updated_at=at(1)))) == (
        f"updated_at ({at(1)}) is before started_at ({at(2)}): in every walk to 'running', "
        "every change comes after started_at is set",
        "updated_at",
    )


def test_a_later_level_may_be_at_the_same_time() -> None:
    assert oracle().explain(running(claimed_at=at(0), started_at=at(0), updated_at=at(0))).explained


def test_the_creation_time_comes_first() -> None:
    assert refused(oracle().explain(claimed(created_at=at(2)))) == (
        f"claimed_at ({at(1)}) is before created_at ({at(2)}): in every walk to 'claimed', "
        "the move that sets it comes after created_at is set",
        "claimed_at",
    )


def one_move_sets_two() -> Oracle:
    claim = replace(LIFECYCLE.on_enter["claimed"], now=("claimed_at", "started_at"))
    on_enter = {**LIFECYCLE.on_enter, "claimed": claim, "running": Effect()}
    return Oracle(replace(LIFECYCLE, on_enter=on_enter), "created_at")


def test_fields_set_by_one_move_share_its_time() -> None:
    oracle = one_move_sets_two()
    assert (
        refused(oracle.explain(claimed(started_at=at(2), updated_at=at(2)))),
        oracle.explain(claimed(started_at=at(1))).explained,
    ) == (
        (f"claimed_at ({at(1)}) and started_at ({at(2)}) are set by one move, at one time", "started_at"),
        True,
    )


def test_fields_set_by_one_move_name_the_later_of_three() -> None:
    claim = replace(LIFECYCLE.on_enter["claimed"], now=("claimed_at", "started_at", "completed_at"))
    on_enter = {**LIFECYCLE.on_enter, "claimed": claim, "running": Effect(), "succeeded": Effect()}
    oracle = Oracle(replace(LIFECYCLE, on_enter=on_enter), "created_at")
    shown = claimed(started_at=at(2), completed_at=at(3), updated_at=at(3))
    assert refused(oracle.explain(shown)) == (
        f"claimed_at ({at(1)}) and completed_at ({at(3)}) are set by one move, at one time",
        "completed_at",
    )


def test_a_level_is_judged_by_its_fields_shown() -> None:
    assert (
        one_move_sets_two().explain(claimed(claimed_at=None, started_at=at(1), claimed_by="w")).explained
        is False
    )


# -- join: two reads of one job --------------------------------------------------------------------


@pytest.mark.parametrize("name", ["id", "project_id", "organization_id", "created_at"])
def test_a_fixed_field_never_changes(name: str) -> None:
    after = {**claimed(), name: "other"}
    assert refused(oracle().join(job(), after)) == (
        f"{name} changed from {job()[name]!r} to 'other': it never changes",
        name,
    )


def test_a_fixed_field_missing_from_one_read_changed() -> None:
    after = claimed()
    del after["id"]
    assert refused(oracle().join(job(), after)) == ("id changed from 'job-1' to None: it never changes", "id")


def test_an_oracle_fixes_only_the_fields_it_is_given() -> None:
    assert Oracle(LIFECYCLE, "created_at").join(job(), {**claimed(), "id": "other"}).explained


def test_the_same_read_twice_is_joined_without_a_move() -> None:
    assert oracle().join(claimed(), claimed()) == Verdict(True, walk=("claimed",))


def test_legal_moves_join_two_reads_by_a_shortest_walk() -> None:
    assert oracle().join(job(), running(attempts=1)) == Verdict(True, walk=("pending", "claimed", "running"))


def test_a_retry_joins_with_its_count() -> None:
    assert oracle().join(running(), claimed(attempts=2, claimed_at=at(5), updated_at=at(5))).walk == (
        "running",
        "pending",
        "claimed",
    )


@pytest.mark.parametrize(
    ("before", "after"),
    [(job("lost"), job()), (job(), job("lost")), (job(), job(attempts="1")), (job(limit=3), job(limit=4))],
)
def test_what_is_no_pair_of_reads_to_judge_is_joined(before: Any, after: Any) -> None:
    assert oracle().join(before, after) == Verdict(True)


def test_a_counter_never_decreases() -> None:
    assert refused(oracle().join(claimed(attempts=2), claimed(attempts=1))) == (
        "attempts went from 2 to 1: it never decreases",
        "attempts",
    )


def test_a_terminal_state_is_never_left() -> None:
    assert refused(oracle().join(done(), job(attempts=1, updated_at=at(5)))) == (
        "succeeded to pending: succeeded is terminal, never left",
        "state",
    )


def test_no_legal_path_between_states() -> None:
    assert refused(oracle().join(running(attempts=1), claimed(attempts=1))) == (
        "no legal path leads from running to claimed (attempts 1 -> 1), with started_at, updated_at changed",
        "state",
    )


def test_a_retry_is_blocked_at_the_maximum() -> None:
    assert refused(oracle().join(running(attempts=3), job(attempts=3, updated_at=at(5))))[0] == (
        "no legal path leads from running to pending (attempts 3 -> 3), "
        "with claimed_at, claimed_by, started_at, updated_at changed"
    )


def test_a_retry_below_the_maximum_joins() -> None:
    assert oracle().join(running(attempts=2), job(attempts=2, updated_at=at(5))).walk == (
        "running",
        "pending",
    )


def test_a_field_changed_without_a_move_names_it() -> None:
    assert refused(oracle().join(claimed(), claimed(claimed_by="other", updated_at=at(4)))) == (
        "no legal path leads from claimed to claimed (attempts 1 -> 1), with claimed_by, updated_at changed",
        "state",
    )


def test_a_change_without_a_move_may_change_the_change_time() -> None:
    assert oracle().join(claimed(), claimed(updated_at=at(4))) == Verdict(True, walk=("claimed",))


def test_a_field_re_set_by_moves_joins() -> None:
    after = claimed(attempts=2, claimed_by="other", claimed_at=at(5), updated_at=at(5))
    assert oracle().join(claimed(), after).walk == ("claimed", "pending", "claimed")


def test_time_never_goes_back_between_reads() -> None:
    before = claimed(updated_at=at(5))
    after = running(started_at=at(3), updated_at=at(6))
    assert refused(oracle().join(before, after)) == (
        f"started_at was set to {at(3)} after the earlier read, which already showed updated_at {at(5)}: "
        "time never goes back",
        "started_at",
    )


def test_a_stamp_at_the_last_time_seen_is_not_going_back() -> None:
    assert oracle().join(claimed(updated_at=at(5)), running(started_at=at(5), updated_at=at(5))).explained


def test_a_stamp_cleared_by_the_move_is_not_going_back() -> None:
    assert oracle().join(running(updated_at=at(5)), job(attempts=1, updated_at=at(6))).explained


def test_many_counts_apart_joins_without_a_search() -> None:
    before = claimed(attempts=1, limit=200)
    after = claimed(attempts=66, limit=200, claimed_at=at(9), updated_at=at(9))
    assert (oracle().join(before, after), oracle().join(before, {**after, "attempts": 65}).walk[-1]) == (
        Verdict(True, walk=("claimed", "claimed")),
        "claimed",
    )


def test_the_oracle_of_a_spec_is_built_once_and_fixes_the_jobs_identity() -> None:
    built = oracle_for(SPEC)
    assert (oracle_for(SPEC) is built, built.fixed, built.model.created) == (True, FIXED, "created_at")


def test_no_legal_path_with_no_field_changed_says_so() -> None:
    assert refused(oracle().join(running(), {**running(), "state": "claimed"})) == (
        "no legal path leads from running to claimed (attempts 1 -> 1)",
        "state",
    )


def test_no_legal_path_names_every_counter() -> None:
    oracle = Oracle(with_runs(), "created_at")
    before = running(runs=1, max_runs=3)
    assert refused(oracle.join(before, {**before, "state": "claimed"})) == (
        "no legal path leads from running to claimed (attempts 1 -> 1, runs 1 -> 1)",
        "state",
    )


def test_time_going_back_is_judged_against_the_latest_moment_of_the_earlier_read() -> None:
    before = claimed(claimed_at=at(5), updated_at=at(1))
    assert refused(oracle().join(before, running(claimed_at=at(5), started_at=at(3), updated_at=at(6)))) == (
        f"started_at was set to {at(3)} after the earlier read, which already showed claimed_at {at(5)}: "
        "time never goes back",
        "started_at",
    )


def test_an_earlier_read_without_times_joins() -> None:
    before = job(created_at=None, updated_at=None)
    assert oracle().join(before, claimed(created_at=None)) == Verdict(True, walk=("pending", "claimed"))


def test_a_large_count_joins_by_a_search_within_64_counts() -> None:
    before = running(attempts=40, limit=200)
    after = claimed(attempts=41, limit=200, claimed_at=at(5), updated_at=at(5))
    assert oracle().join(before, after).walk == ("running", "pending", "claimed")


def test_64_counts_apart_are_still_searched() -> None:
    before = claimed(attempts=1, limit=200)
    after = claimed(attempts=65, limit=200, claimed_at=at(9), updated_at=at(9))
    assert oracle().join(before, after).walk == ("claimed", *(("pending", "claimed") * 64))


def test_a_state_without_transitions_is_left_by_none() -> None:
    transitions = {s: t for s, t in LIFECYCLE.transitions.items() if s != "succeeded"}
    oracle = Oracle(replace(LIFECYCLE, transitions=transitions), "created_at")
    assert refused(oracle.join(done(), job(attempts=1, updated_at=at(5)))) == (
        "succeeded to pending: succeeded is terminal, never left",
        "state",
    )


def test_a_retry_without_a_counter_is_never_blocked() -> None:
    lifecycle = replace(either_way(), transitions={**either_way().transitions, "d": ("a",)})
    oracle = Oracle(lifecycle, "created_at")
    before = {"state": "d", "one": 1, "other": 0, "one_set": True}
    assert oracle.join(before, {**before, "state": "a"}).walk == ("d", "a")


def test_states_without_effects_are_entered_by_a_join() -> None:
    oracle = Oracle(either_way(), "created_at")
    after = {"state": "d", "one": 1, "other": 0, "one_set": True}
    assert oracle.join({"state": "a", "one": 0, "other": 0}, after).walk == ("a", "b", "d")


def test_only_a_retry_is_blocked_at_the_maximum() -> None:
    assert oracle().join(claimed(attempts=3), running(attempts=3)).walk == ("claimed", "running")


def test_a_blocked_retry_leaves_the_other_moves_open() -> None:
    after = done("cancelled", 3, started_at=at(2), completed_at=at(4), updated_at=at(4))
    assert oracle().join(running(attempts=3), after).walk == ("running", "cancelled")


def test_a_move_that_counts_too_many_leaves_the_other_moves_open() -> None:
    after = job("cancelled", completed_at=at(1), updated_at=at(1))
    assert oracle().join(job(), after).walk == ("pending", "cancelled")


def test_a_join_searches_at_most_max_nodes(monkeypatch: pytest.MonkeyPatch) -> None:
    """The walk pending, claimed, running is found among the first 4 nodes of the search."""
    monkeypatch.setattr(capymock.core.joining, "MAX_NODES", 4)
    assert oracle().join(job(), running(attempts=1)).walk == ("pending", "claimed", "running")
    monkeypatch.setattr(capymock.core.joining, "MAX_NODES", 3)
    assert oracle().join(job(), running(attempts=1)).explained is False
