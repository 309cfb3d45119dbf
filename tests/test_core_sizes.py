"""Sizes in bytes as people write them."""

from __future__ import annotations

import pytest

from capymock.core.sizes import format_size, parse_size


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1", 1),
        ("512B", 512),
        ("16MB", 16 << 20),
        ("16mb", 16 << 20),
        (" 2 KB ", 2048),
        ("1GB", 1 << 30),
        ("3K", 3072),
    ],
)
def test_a_size_is_read_in_units_of_1024(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize("text", ["0", "0MB", "", "lots", "-1MB", "1.5MB", "16 TB", "1" * 16])
def test_what_is_not_a_size_is_refused_saying_what_one_is(text: str) -> None:
    with pytest.raises(ValueError) as raised:
        parse_size(text)
    assert str(raised.value) == f"{text!r} is not a size such as 16MB, 512KB or 1048576"


@pytest.mark.parametrize(
    ("size", "text"), [(16 << 20, "16MB"), (1 << 30, "1GB"), (2048, "2KB"), (1000, "1000B"), (1536, "1536B")]
)
def test_a_size_is_written_in_the_largest_whole_unit(size: int, text: str) -> None:
    assert format_size(size) == text
    assert parse_size(text) == size
