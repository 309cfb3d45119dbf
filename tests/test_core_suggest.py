"""'Did you mean' for a word close to a known one."""

from __future__ import annotations

from capymock.core.suggest import did_you_mean


def test_a_close_word_is_suggested() -> None:
    assert did_you_mean("runing", ["pending", "running"]) == " (did you mean 'running'?)"


def test_a_far_word_gets_no_suggestion() -> None:
    assert did_you_mean("xyz", ["pending", "running"]) == ""


def test_what_is_no_word_gets_no_suggestion() -> None:
    assert did_you_mean(5, ["5"]) == ""
