"""Answers remembered for one state version at a time."""

from __future__ import annotations

from capymock.core.memo import Memo


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
