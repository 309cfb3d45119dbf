"""Parsed documents kept on disk: where, under which key, and what is never kept. Each test
points the cache at its own folder through the environment."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from capymock.system import documents
from capymock.system.documents import cache_folder, keep, recall

DOCUMENT = {"paths": {"/v1/jobs": ["é", 1, None, True]}}


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(documents.CACHE_ENV, str(folder))
    return folder


@pytest.mark.parametrize("value", ["off", "OFF", "Off"])
def test_keeping_can_be_turned_off(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv(documents.CACHE_ENV, value)
    assert cache_folder() is None


def test_the_chosen_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(documents.CACHE_ENV, str(tmp_path / "here"))
    assert cache_folder() == tmp_path / "here"


def test_the_xdg_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(documents.CACHE_ENV, "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "capymock"


def test_the_home_cache_folder(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv(documents.CACHE_ENV, raising=False)
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert cache_folder() == tmp_path / ".cache" / "capymock"


def test_a_kept_document_is_recalled(cache: Path, tmp_path: Path) -> None:
    keep("spec", str(tmp_path / "api.yaml"), 10, 20, DOCUMENT)
    assert recall("spec", str(tmp_path / "api.yaml"), 10, 20) == DOCUMENT


def test_a_document_is_kept_as_utf8_json_named_by_kind(cache: Path, tmp_path: Path) -> None:
    keep("scenario", str(tmp_path / "a.yaml"), 10, 20, DOCUMENT)
    (entry,) = cache.iterdir()
    kept = json.loads(entry.read_text(encoding="utf-8"))
    assert (entry.name.startswith("scenario-"), entry.suffix, "é" in entry.read_text(encoding="utf-8")) == (
        True,
        ".json",
        True,
    )
    assert kept == {
        "key": ["scenario", str(tmp_path / "a.yaml"), 10, 20, documents.__version__],
        "document": DOCUMENT,
    }


@pytest.mark.parametrize(
    ("kind", "name", "size", "mtime_ns"),
    [
        ("scenario", "api.yaml", 10, 20),
        ("spec", "other.yaml", 10, 20),
        ("spec", "api.yaml", 11, 20),
        ("spec", "api.yaml", 10, 21),
    ],
)
def test_any_difference_is_a_miss(
    cache: Path, tmp_path: Path, kind: str, name: str, size: int, mtime_ns: int
) -> None:
    keep("spec", str(tmp_path / "api.yaml"), 10, 20, DOCUMENT)
    assert recall(kind, str(tmp_path / name), size, mtime_ns) is None


def test_nothing_kept_is_a_miss(cache: Path, tmp_path: Path) -> None:
    assert recall("spec", str(tmp_path / "api.yaml"), 10, 20) is None


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_a_corrupt_entry_is_a_miss(cache: Path, tmp_path: Path, content: str) -> None:
    keep("spec", str(tmp_path / "api.yaml"), 10, 20, DOCUMENT)
    (entry,) = cache.iterdir()
    entry.write_text(content)
    assert recall("spec", str(tmp_path / "api.yaml"), 10, 20) is None


def test_a_newer_document_replaces_the_kept_one(cache: Path, tmp_path: Path) -> None:
    keep("spec", str(tmp_path / "api.yaml"), 10, 20, DOCUMENT)
    keep("spec", str(tmp_path / "api.yaml"), 11, 21, {"paths": {}})
    assert (recall("spec", str(tmp_path / "api.yaml"), 11, 21), len(list(cache.iterdir()))) == (
        {"paths": {}},
        1,
    )


def test_the_cache_folder_is_made_with_its_parents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(documents.CACHE_ENV, str(tmp_path / "a" / "b"))
    keep("spec", str(tmp_path / "api.yaml"), 10, 20, DOCUMENT)
    assert recall("spec", str(tmp_path / "api.yaml"), 10, 20) == DOCUMENT


def test_a_path_that_is_no_text_is_not_kept_and_raises_nothing(cache: Path, tmp_path: Path) -> None:
    path = str(tmp_path / "api\udcff.yaml")  # a file name of bytes that are not UTF-8
    keep("spec", path, 10, 20, DOCUMENT)
    assert (recall("spec", path, 10, 20), not cache.exists() or list(cache.iterdir()) == []) == (None, True)


@pytest.mark.parametrize(
    "document",
    [None, {"at": datetime(2026, 1, 1, tzinfo=UTC)}, {1: "a number as a key"}, {"n": float("nan")}],
)
def test_what_json_does_not_hold_exactly_is_not_kept(cache: Path, tmp_path: Path, document: Any) -> None:
    keep("spec", str(tmp_path / "api.yaml"), 10, 20, document)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_nothing_is_kept_when_keeping_is_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(documents.CACHE_ENV, "off")
    monkeypatch.chdir(tmp_path)
    keep("spec", str(tmp_path / "api.yaml"), 10, 20, DOCUMENT)
    assert (recall("spec", str(tmp_path / "api.yaml"), 10, 20), sorted(tmp_path.iterdir())) == (None, [])


def test_an_unwritable_folder_keeps_nothing_and_raises_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(documents.CACHE_ENV, str(tmp_path / "file" / "cache"))
    keep("spec", str(tmp_path / "api.yaml"), 10, 20, DOCUMENT)
    assert recall("spec", str(tmp_path / "api.yaml"), 10, 20) is None
