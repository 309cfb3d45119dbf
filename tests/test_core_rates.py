"""Request rates as the command line takes them."""

from __future__ import annotations

import pytest

from capymock.core.rates import parse_rate, per_second


@pytest.mark.parametrize(
    ("rate", "normal"),
    [
        ("10/s", "10/s"),
        (" 300 / m ", "300/m"),
        ("2/h", "2/h"),
        ("5", "5/s"),
        (5, "5/s"),
        (7.0, "7/s"),
        ("999999999", "999999999/s"),
        ("0", None),
        (0, None),
        (None, None),
    ],
)
def test_a_rate_in_its_normal_form(rate: str | float | None, normal: str | None) -> None:
    assert parse_rate(rate) == normal


@pytest.mark.parametrize("rate", ["ten/s", "10/d", "1.5/s", "-1", "1000000000", "nan", "/s"])
def test_what_is_no_rate_is_refused(rate: str) -> None:
    with pytest.raises(ValueError) as refused:
        parse_rate(rate)
    assert str(refused.value) == (
        f"{rate!r}: expected a whole number per second, minute or hour: 10/s, 300/m, 5"
    )


@pytest.mark.parametrize(("rate", "requests"), [("10/s", 10.0), ("300/m", 5.0), ("7200/h", 2.0)])
def test_requests_a_second(rate: str, requests: float) -> None:
    assert per_second(rate) == requests
