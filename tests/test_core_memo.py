"""Answers remembered for one state version at a time."""

from __future__ import annotations

import gc

from capymock.core.memo import ENTRY_BYTES, Budget, Memo


def test_a_value_is_remembered_for_its_version() -> None:
    memo = Memo()
    memo.put("a", 0, "answer")
    assert (memo.get("a", 0), memo.get("b", 0), memo.get("a", 1)) == ("answer", None, None)


def test_values_of_one_version_are_kept_together() -> None:
    memo = Memo()
    memo.put("a", 3, "one")
    memo.put("b", 3, "two")
    assert (memo.get("a", 3), memo.get("b", 3)) == ("one", "two")


def test_a_newer_version_forgets_the_older_one() -> None:
    memo = Memo()
    memo.put("a", 1, "old")
    memo.put("b", 2, "new")
    assert (memo.get("a", 2), memo.get("b", 2)) == (None, "new")


def test_a_value_of_an_older_version_is_dropped() -> None:
    memo = Memo()
    memo.put("a", 2, "new")
    memo.put("b", 1, "old")
    assert (memo.get("a", 2), memo.get("b", 1), memo.get("b", 2)) == ("new", None, None)


def test_a_full_memo_starts_again_empty() -> None:
    memo = Memo(size=2)
    for key in "abc":
        memo.put(key, 0, key.upper())
    assert [memo.get(key, 0) for key in "abc"] == [None, None, "C"]


def test_a_memo_holds_up_to_its_size() -> None:
    memo = Memo(size=2)
    memo.put("a", 0, "A")
    memo.put("b", 0, "B")
    assert [memo.get(key, 0) for key in "ab"] == ["A", "B"]


def test_memos_sharing_a_budget_hold_at_most_its_bytes_together() -> None:
    budget = Budget(limit=10 * (ENTRY_BYTES + 100))
    memos = [Memo(budget=budget) for _ in range(5)]
    for index, memo in enumerate(memos):
        for key in range(4):
            memo.put(key, 0, f"{index}:{key}", 100)
        assert budget.used <= budget.limit
    assert budget.used == sum(memo.held[0] for memo in memos)
    assert [memo.get(3, 0) for memo in memos][-1] == "4:3"  # the newest is kept


def test_the_memo_used_least_recently_is_emptied_first() -> None:
    budget = Budget(limit=4 * (ENTRY_BYTES + 100))
    first, second, third = (Memo(budget=budget) for _ in range(3))
    first.put("a", 0, "A", 100)
    second.put("b", 0, "B", 100)
    assert first.get("a", 0) == "A"  # the first is now used more recently than the second
    third.put("c", 0, "C", 100)
    third.put("d", 0, "D", 100)
    third.put("e", 0, "E", 100)  # no room: the second goes, the first stays
    assert (first.get("a", 0), second.get("b", 0), third.get("e", 0)) == ("A", None, "E")


def test_a_value_larger_than_the_budget_is_not_remembered() -> None:
    budget = Budget(limit=1000)
    memo = Memo(budget=budget)
    memo.put("big", 0, "X", 5000)
    assert (memo.get("big", 0), budget.used) == (None, 0)


def test_a_memo_gone_gives_its_bytes_back() -> None:
    budget = Budget(limit=1 << 20)
    memo = Memo(budget=budget)
    memo.put("a", 0, "A", 100)
    assert budget.used == ENTRY_BYTES + 100
    del memo
    gc.collect()
    assert budget.used == 0


def test_a_new_version_gives_the_old_ones_bytes_back() -> None:
    budget = Budget(limit=1 << 20)
    memo = Memo(budget=budget)
    memo.put("a", 0, "A", 100)
    memo.put("b", 1, "B", 300)
    assert budget.used == ENTRY_BYTES + 300


def test_a_memo_collected_while_the_budget_is_busy_gives_its_bytes_back_without_a_deadlock() -> None:
    budget = Budget(limit=1 << 20)
    memo = Memo(budget=budget)
    memo.put("a", 0, "A", 100)
    with budget.lock:  # garbage collection may run a finalizer while the lock is held
        del memo
        gc.collect()
    assert budget.used == 0


def test_a_value_of_exactly_the_budget_is_remembered() -> None:
    budget = Budget(limit=ENTRY_BYTES + 100)
    memo = Memo(budget=budget)
    memo.put("a", 0, "A", 100)
    assert (memo.get("a", 0), budget.used, memo.held[0]) == ("A", ENTRY_BYTES + 100, ENTRY_BYTES + 100)
    memo.put("b", 0, "B", 100)  # fills the budget again: the memo's own entries make room
    assert (memo.get("a", 0), memo.get("b", 0), budget.used) == (None, "B", ENTRY_BYTES + 100)


def test_bytes_are_counted_exactly_per_memo_and_together() -> None:
    budget = Budget(limit=1 << 20)
    first, second = Memo(budget=budget), Memo(budget=budget)
    first.put("a", 0, "A", 100)
    first.put("b", 0, "B", 7)
    second.put("c", 0, "C")
    assert (first.held[0], second.held[0]) == (2 * ENTRY_BYTES + 107, ENTRY_BYTES)
    assert budget.used == 3 * ENTRY_BYTES + 107
    first.empty()
    assert (first.held[0], budget.used, first.get("a", 0)) == (0, ENTRY_BYTES, None)
    first.put("d", 0, "D", 1)  # an emptied memo keeps its version
    assert (first.get("d", 0), budget.used) == ("D", 2 * ENTRY_BYTES + 1)


def test_a_key_put_twice_keeps_its_first_value_and_is_counted_once() -> None:
    budget = Budget(limit=1 << 20)
    memo = Memo(budget=budget)
    memo.put("a", 0, "first", 100)
    memo.put("a", 0, "second", 100)
    assert (memo.get("a", 0), budget.used, memo.held[0]) == ("first", ENTRY_BYTES + 100, ENTRY_BYTES + 100)


def test_the_asking_memos_own_entries_are_emptied_last() -> None:
    budget = Budget(limit=3 * ENTRY_BYTES)
    first, second = Memo(budget=budget), Memo(budget=budget)
    first.put("a", 0, "A")
    second.put("b", 0, "B")
    second.put("c", 0, "C")
    first.put("d", 0, "D")  # the first is used least recently, but the second is emptied
    assert (first.get("a", 0), first.get("d", 0), second.get("b", 0)) == ("A", "D", None)
    assert budget.used == 2 * ENTRY_BYTES


def test_memos_are_emptied_least_recently_used_first_by_their_puts() -> None:
    budget = Budget(limit=3 * ENTRY_BYTES)
    first, second, third = (Memo(budget=budget) for _ in range(3))
    second.put("b", 0, "B")
    first.put("a", 0, "A")
    third.put("c", 0, "C")
    third.put("d", 0, "D")  # the second put least recently
    assert (first.get("a", 0), second.get("b", 0), third.get("c", 0), third.get("d", 0)) == (
        "A",
        None,
        "C",
        "D",
    )
    third.put("e", 0, "E")  # then the first
    assert (first.get("a", 0), third.get("e", 0), budget.used) == (None, "E", 3 * ENTRY_BYTES)


def test_a_memo_that_empties_itself_to_make_room_keeps_the_new_value() -> None:
    budget = Budget(limit=2 * ENTRY_BYTES)
    memo = Memo(budget=budget)
    for key in "abc":
        memo.put(key, 5, key.upper())
    assert [memo.get(key, 5) for key in "abc"] == [None, None, "C"]
    assert (budget.used, memo.held[0]) == (ENTRY_BYTES, ENTRY_BYTES)
    memo.put("d", 5, "D")
    assert (memo.get("c", 5), memo.get("d", 5), budget.used) == ("C", "D", 2 * ENTRY_BYTES)


def test_a_memo_gone_leaves_nothing_held() -> None:
    budget = Budget(limit=1 << 20)
    keep = Memo(budget=budget)
    keep.put("k", 0, "K", 10)
    memo = Memo(budget=budget)
    memo.put("a", 0, "A", 100)
    held = memo.held
    del memo
    gc.collect()
    assert (held, budget.used) == ([0], ENTRY_BYTES + 10)


def test_a_memo_starts_empty_for_any_version() -> None:
    memo = Memo(budget=Budget())
    assert (memo.get("a", -1), memo.get("a", 0)) == (None, None)
    memo.put("a", 0, "A")
    assert (memo.get("a", 0), memo.get("a", -1)) == ("A", None)


def test_memos_are_emptied_until_a_large_value_fits() -> None:
    budget = Budget(limit=3 * ENTRY_BYTES)
    first, second, third = (Memo(budget=budget) for _ in range(3))
    first.put("a", 0, "A")
    second.put("b", 0, "B")
    third.put("c", 0, "C")
    third.put("big", 0, "BIG", ENTRY_BYTES)  # two entries' bytes: the first and the second go
    assert (first.get("a", 0), second.get("b", 0), third.get("c", 0), third.get("big", 0)) == (
        None,
        None,
        "C",
        "BIG",
    )
    assert budget.used == 3 * ENTRY_BYTES
