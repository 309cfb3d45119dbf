"""The document cache as untrusted input, from outside: each test gives `capymock validate` or
`serve` (subprocesses) a cache folder of its own (`CAPYMOCK_CACHE`), writes into it what a
stranger could, and checks the scenario the file says is the one served."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from cli_helpers import CAPYMOCK, serving
from conftest import http

pytestmark = pytest.mark.slow

SCENARIO = """\
name: kept_aaa
start: "2026-01-01T09:00:00Z"
projects: [proj_a]
jobs:
  - {id: job_aaa, project: proj_a, max_attempts: 3}
"""


def run(command: str, *args: str | Path, cache: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAPYMOCK, command, *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,  # a guard against a hang, not a measure
        env={**os.environ, "CAPYMOCK_CACHE": str(cache)},
    )


def kept_entry(cache: Path) -> Path:
    (entry,) = cache.glob("scenario-*.json")
    return entry


def same_size_and_time(path: Path, text: str) -> None:
    """Write `text` (as long as what `path` holds) and give `path` back its modification time."""
    before = path.stat()
    assert len(text.encode()) == before.st_size
    path.write_text(text)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))


def test_an_edit_that_keeps_size_and_time_is_seen_by_the_next_process(tmp_path: Path) -> None:
    scenario, cache = tmp_path / "kept.yaml", tmp_path / "cache"
    scenario.write_text(SCENARIO)
    assert "kept_aaa" in run("validate", scenario, cache=cache).stdout
    same_size_and_time(scenario, SCENARIO.replace("aaa", "bbb"))
    assert run("validate", scenario, cache=cache).stdout == f"{scenario}: ok (kept_bbb: 1 job)\n"


def test_reload_serves_what_it_compared_when_size_and_time_stay(tmp_path: Path) -> None:
    scenario, cache = tmp_path / "kept.yaml", tmp_path / "cache"
    scenario.write_text(SCENARIO)
    env = {**os.environ, "CAPYMOCK_CACHE": str(cache)}
    with serving(["--scenario", str(scenario), "--reload", "--quiet", "--paused"], env=env) as served:
        assert [job["id"] for job in http(f"{served.url}/_capymock/jobs").body["jobs"]] == ["job_aaa"]
        same_size_and_time(scenario, SCENARIO.replace("aaa", "bbb"))
        served.wait_for_stderr("reloaded kept_bbb")
        assert [job["id"] for job in http(f"{served.url}/_capymock/jobs").body["jobs"]] == ["job_bbb"]


def _write(content: str) -> Callable[[Path], None]:
    def write(entry: Path) -> None:
        key = json.loads(entry.read_text())["key"]
        entry.write_text(f'{{"key": {json.dumps(key)}, "document": {content}}}')

    return write


def _garbage(entry: Path) -> None:
    entry.write_bytes(b"\x00\xff{not json")


def _fifo(entry: Path) -> None:
    entry.unlink()
    os.mkfifo(entry)


def _dev_zero(entry: Path) -> None:
    entry.unlink()
    entry.symlink_to("/dev/zero")


def _folder(entry: Path) -> None:
    entry.unlink()
    entry.mkdir()


POISONS: dict[str, Callable[[Path], None]] = {
    "garbage": _garbage,
    "depth-900": _write("[" * 900 + "]" * 900),
    "nested-100000": _write("[" * 100_000 + "]" * 100_000),
    "nan": _write(  # a fault's body is any value: the schema lets NaN through
        '{"name": "kept_aaa", "projects": ["proj_a"], "jobs": [{"id": "job_aaa", "project": "proj_a", '
        '"max_attempts": 3}], "faults": [{"match": {"path": "/v1/jobs/job_aaa"}, "status": 500, '
        '"body": {"n": NaN}}]}'
    ),
    "overflow": _write(
        '{"name": "kept_aaa", "projects": ["proj_a"], "jobs": [{"id": "job_aaa", '
        '"project": "proj_a", "max_attempts": 1e400}]}'
    ),
    "fifo": _fifo,
    "dev-zero": _dev_zero,
    "folder": _folder,
}


@pytest.mark.parametrize("poison", list(POISONS))
def test_a_poisoned_entry_is_a_miss_and_the_file_is_read_again(tmp_path: Path, poison: str) -> None:
    scenario, cache = tmp_path / "kept.yaml", tmp_path / "cache"
    scenario.write_text(SCENARIO)
    assert run("validate", scenario, cache=cache).returncode == 0
    POISONS[poison](kept_entry(cache))
    done = run("validate", scenario, cache=cache)
    assert (done.returncode, done.stdout, done.stderr) == (0, f"{scenario}: ok (kept_aaa: 1 job)\n", ""), done


@pytest.mark.parametrize("poison", ["nested-100000", "nan"])
def test_serve_starts_from_the_file_past_a_poisoned_entry_and_answers_json(
    tmp_path: Path, poison: str
) -> None:
    scenario, cache = tmp_path / "kept.yaml", tmp_path / "cache"
    scenario.write_text(SCENARIO)
    assert run("validate", scenario, cache=cache).returncode == 0
    POISONS[poison](kept_entry(cache))
    env = {**os.environ, "CAPYMOCK_CACHE": str(cache)}
    with serving(["--scenario", str(scenario), "--quiet", "--paused"], env=env) as served:
        answer = http(f"{served.url}/v1/jobs/job_aaa", headers={"Authorization": f"Bearer {served.token}"})
        assert answer.status == 200, answer

        def refuse(name: str) -> object:
            raise ValueError(f"{name} is not JSON")

        assert json.loads(answer.raw, parse_constant=refuse)["job"]["max_attempts"] == 3
