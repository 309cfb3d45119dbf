"""Durations as users write them, and back: `parse_duration` and `format_duration`."""

from __future__ import annotations

from datetime import timedelta

import pytest

from capymock.core.durations import EXPECTED, LONGEST, format_duration, parse_duration


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(0), "0s"),
        (timedelta(milliseconds=250), "250ms"),
        (timedelta(milliseconds=1), "1ms"),
        (timedelta(microseconds=500), "0.5ms"),
        (timedelta(milliseconds=1500), "1.5s"),
        (timedelta(seconds=2, microseconds=1), "2.000001s"),
        (timedelta(seconds=2), "2s"),
        (timedelta(seconds=90), "90s"),
        (timedelta(minutes=10), "10m"),
        (timedelta(minutes=61), "61m"),
        (timedelta(hours=2), "2h"),
        (timedelta(seconds=-1), "-1s"),
    ],
)
def test_a_duration_is_written_in_one_unit(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@pytest.mark.parametrize("text", ["250ms", "0.5ms", "2.000001s", "61m", "2h"])
def test_a_written_duration_reads_back(text: str) -> None:
    assert format_duration(parse_duration(text)) == text


@pytest.mark.parametrize(
    ("value", "delta"),
    [
        ("1.5s", timedelta(seconds=1.5)),
        (" 3 m ", timedelta(minutes=3)),
        (2, timedelta(seconds=2)),
        (0.25, timedelta(milliseconds=250)),
        (timedelta(hours=1), timedelta(hours=1)),
        (LONGEST, LONGEST),
    ],
)
def test_durations_as_users_write_them(value: timedelta | float | str, delta: timedelta) -> None:
    assert parse_duration(value) == delta


def test_a_duration_of_64_characters_is_read() -> None:
    assert parse_duration("250ms".rjust(64)) == timedelta(milliseconds=250)


def test_a_duration_of_65_characters_is_refused() -> None:
    with pytest.raises(ValueError, match=f"is not {EXPECTED}$"):
        parse_duration("250ms".rjust(65))


def _refusal(value: object) -> str:
    with pytest.raises(ValueError) as refused:
        parse_duration(value)  # type: ignore[arg-type]
    return str(refused.value)


def test_a_value_shown_in_full_up_to_40_characters() -> None:
    value = "x" * 38  # its repr is 40 characters
    assert _refusal(value) == f"'{value}' is not {EXPECTED}"


def test_a_longer_value_is_shown_cut() -> None:
    value = "x" * 39
    assert _refusal(value) == f"'{'x' * 36}... is not {EXPECTED}"


def test_true_is_no_duration() -> None:
    assert _refusal(True) == f"True is not {EXPECTED}"


def test_a_negative_duration_is_refused() -> None:
    assert _refusal("-1s") == f"'-1s' is not {EXPECTED}"
    assert _refusal(-1) == "-1 is negative; durations go forward"


def test_nan_is_refused() -> None:
    assert _refusal(float("nan")) == "nan is not a number"


def test_more_than_100_years_is_refused() -> None:
    assert _refusal(f"{36525 * 24 + 1}h") == "'876601h' is longer than 100 years"


def test_a_number_too_big_for_a_float_is_refused() -> None:
    assert _refusal(10**400).endswith("... is longer than 100 years")
