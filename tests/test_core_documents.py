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


SOURCE = b"paths: {}\n"


def _nested(depth: int) -> Any:
    """Lists `depth` deep below the top: one level more than the YAML loader allows at 65."""
    value: Any = []
    for _ in range(depth):
        value = [value]
    return value


def test_a_kept_document_is_recalled(cache: Path) -> None:
    keep("spec", SOURCE, DOCUMENT)
    assert recall("spec", SOURCE) == DOCUMENT


def test_a_document_is_kept_as_utf8_json_named_by_kind_and_hash(cache: Path) -> None:
    keep("scenario", SOURCE, DOCUMENT)
    (entry,) = cache.iterdir()
    kept = json.loads(entry.read_text(encoding="utf-8"))
    assert (entry.name.startswith("scenario-"), entry.suffix, "é" in entry.read_text(encoding="utf-8")) == (
        True,
        ".json",
        True,
    )
    assert set(kept) == {"key", "document"} and kept["document"] == DOCUMENT
    assert entry.name == f"scenario-{kept['key'][:32]}.json"


@pytest.mark.parametrize(("kind", "source"), [("scenario", SOURCE), ("spec", b"paths: {} \n"), ("spec", b"")])
def test_any_difference_is_a_miss(cache: Path, kind: str, source: bytes) -> None:
    keep("spec", SOURCE, DOCUMENT)
    assert recall(kind, source) is None


def test_nothing_kept_is_a_miss(cache: Path) -> None:
    assert recall("spec", SOURCE) is None


@pytest.mark.parametrize("content", ["{not json", "[1, 2]"])
def test_a_corrupt_entry_is_a_miss(cache: Path, content: str) -> None:
    keep("spec", SOURCE, DOCUMENT)
    (entry,) = cache.iterdir()
    entry.write_text(content)
    assert recall("spec", SOURCE) is None


def test_each_source_has_its_own_entry(cache: Path) -> None:
    keep("spec", SOURCE, DOCUMENT)
    keep("spec", b"paths: {a: 1}\n", {"paths": {"a": 1}})
    assert (recall("spec", SOURCE), recall("spec", b"paths: {a: 1}\n"), len(list(cache.iterdir()))) == (
        DOCUMENT,
        {"paths": {"a": 1}},
        2,
    )


def test_the_cache_folder_is_made_with_its_parents(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(documents.CACHE_ENV, str(tmp_path / "a" / "b"))
    keep("spec", SOURCE, DOCUMENT)
    assert recall("spec", SOURCE) == DOCUMENT


@pytest.mark.parametrize(
    "document",
    [
        None,
        {"at": datetime(2026, 1, 1, tzinfo=UTC)},
        {1: "a number as a key"},
        {"n": float("nan")},
        {"n": float("inf")},
        {"deep": _nested(64)},
        {"many": list(range(100_000))},
    ],
)
def test_what_the_yaml_loader_could_not_give_is_not_kept(cache: Path, document: Any) -> None:
    keep("spec", SOURCE, document)
    assert not cache.exists() or list(cache.iterdir()) == []


def test_nothing_is_kept_when_keeping_is_off(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(documents.CACHE_ENV, "off")
    monkeypatch.chdir(tmp_path)
    keep("spec", SOURCE, DOCUMENT)
    assert (recall("spec", SOURCE), sorted(tmp_path.iterdir())) == (None, [])


def test_an_unwritable_folder_keeps_nothing_and_raises_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "file").write_text("")
    monkeypatch.setenv(documents.CACHE_ENV, str(tmp_path / "file" / "cache"))
    keep("spec", SOURCE, DOCUMENT)
    assert recall("spec", SOURCE) is None


def _poison(cache: Path, write: Any) -> None:
    """Keep a document, then replace its entry's document with what `write` makes of it."""
    keep("scenario", SOURCE, DOCUMENT)
    (entry,) = cache.iterdir()
    kept = json.loads(entry.read_text(encoding="utf-8"))
    write(entry, kept)


@pytest.mark.parametrize(
    "document",
    [
        "[" * 100_000 + "]" * 100_000,
        json.dumps(_nested(65)),
        '{"n": NaN}',
        '{"n": 1e400}',
        json.dumps({"many": list(range(100_001))}),
        "null",
    ],
    ids=["nested-100000", "depth-65", "nan", "overflow", "too-many-values", "null"],
)
def test_an_entry_the_yaml_loader_could_not_have_made_is_a_miss(cache: Path, document: str) -> None:
    def write(entry: Path, kept: Any) -> None:
        entry.write_text(f'{{"key": "{kept["key"]}", "document": {document}}}')

    _poison(cache, write)
    assert recall("scenario", SOURCE) is None


def test_an_entry_that_is_no_regular_file_is_a_miss_never_read(cache: Path) -> None:
    import os

    def fifo(entry: Path, kept: Any) -> None:
        entry.unlink()
        os.mkfifo(entry)

    _poison(cache, fifo)
    assert recall("scenario", SOURCE) is None  # returns: the pipe is never read
    (entry,) = cache.iterdir()
    entry.unlink()
    entry.symlink_to("/dev/zero")
    assert recall("scenario", SOURCE) is None
    entry.unlink()
    entry.mkdir()
    assert recall("scenario", SOURCE) is None


def test_read_file_refuses_what_is_not_a_regular_file_or_too_large(tmp_path: Path) -> None:
    import os

    os.mkfifo(tmp_path / "pipe")
    (tmp_path / "zero").symlink_to("/dev/zero")
    (tmp_path / "big").write_bytes(b"x" * 11)
    refused = {}
    for name, limit in (("pipe", 10), ("zero", 10), ("big", 10), (".", 10), ("missing", 10)):
        with pytest.raises(documents.UnreadableFile) as caught:
            documents.read_file(tmp_path / name, limit)
        refused[name] = caught.value.reason
    assert refused == {
        "pipe": "not a regular file: a named pipe; give a YAML file",
        "zero": "not a regular file: a device; give a YAML file",
        "big": "11 bytes, more than the 10 a file may have",
        ".": "not a regular file: a folder; give a YAML file",
        "missing": "cannot read: No such file or directory",
    }
    assert documents.read_file(tmp_path / "big", 11) == b"x" * 11
