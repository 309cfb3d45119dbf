"""Parsed spec and scenario files are kept on disk as JSON, so a start with unchanged files skips
PyYAML: each test starts fresh interpreters, as `capymock serve` starts, with its own cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from cli_helpers import serving
from conftest import http

pytestmark = pytest.mark.slow

LOAD = """
import json, sys
from capymock.mock import Mock
mock = Mock(spec=sys.argv[2] if len(sys.argv) > 2 else None)
try:
    mock.load(sys.argv[1])
except Exception as exc:
    print(json.dumps({"error": str(exc)}))
else:
    print(json.dumps({"view": mock.world.view(), "yaml": "yaml" in sys.modules}))
"""

SCENARIO = """\
name: kept
start: "2026-01-01T09:00:00Z"
projects: [proj_a]
jobs:
  - id: job_a
    project: proj_a
    steps: [{state: pending}, {after: 5s, state: claimed, claimed_by: w1}]
"""


def load(
    cache: Path | str,
    scenario: Path | str,
    spec: Path | None = None,
    cwd: Path | None = None,
    **env_vars: str,
) -> dict[str, object]:
    """Load `scenario` in a fresh interpreter (in `cwd`) with `cache` as the cache folder (and `env_vars`)."""
    args = [sys.executable, "-c", LOAD, str(scenario), *([str(spec)] if spec else [])]
    env = {**os.environ, "CAPYMOCK_CACHE": str(cache), **env_vars}
    done = subprocess.run(args, capture_output=True, text=True, timeout=60, env=env, cwd=cwd)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout)
    return result


def without_clock(view: object) -> object:
    assert isinstance(view, dict)
    return {key: value for key, value in view.items() if key != "now"}


@pytest.mark.parametrize(
    "scenario", ["happy-path", "retry-then-succeed", "auth-scopes", "flaky-api", "busy-project"]
)
def test_a_second_start_skips_yaml_and_loads_the_same_world(tmp_path: Path, scenario: str) -> None:
    first = load(tmp_path, scenario)
    second = load(tmp_path, scenario)
    off = load("off", scenario)
    assert first["yaml"] is True and second["yaml"] is False and off["yaml"] is True
    assert without_clock(second["view"]) == without_clock(first["view"]) == without_clock(off["view"])


def test_an_edited_file_is_read_again(tmp_path: Path) -> None:
    scenario = tmp_path / "kept.yaml"
    scenario.write_text(SCENARIO)
    cache = tmp_path / "cache"
    assert [job["id"] for job in load(cache, scenario)["view"]["jobs"]] == ["job_a"]  # type: ignore[index]
    scenario.write_text(SCENARIO.replace("job_a", "job_b"))  # the same size: the time tells
    os.utime(scenario, ns=(scenario.stat().st_atime_ns, scenario.stat().st_mtime_ns + 1_000_000))
    again = load(cache, scenario)
    assert [job["id"] for job in again["view"]["jobs"]] == ["job_b"]  # type: ignore[index]
    assert again["yaml"] is True


def test_a_kept_scenario_another_spec_refuses_is_reported_with_its_line(tmp_path: Path) -> None:
    scenario = tmp_path / "kept.yaml"
    scenario.write_text(SCENARIO)
    cache = tmp_path / "cache"
    load(cache, scenario)  # kept, valid under the bundled spec
    bundled = Path(__file__).resolve().parent.parent / "openapi.yaml"
    strict = tmp_path / "openapi.yaml"
    strict.write_text(bundled.read_text().replace("pending: [claimed, cancelled]", "pending: [cancelled]", 1))
    failed = load(cache, scenario, strict)
    assert "error" in failed, failed
    assert "kept.yaml:7:" in str(failed["error"]), failed  # the step's line: read from the file again


def test_a_corrupt_or_foreign_entry_is_a_miss(tmp_path: Path) -> None:
    scenario = tmp_path / "kept.yaml"
    scenario.write_text(SCENARIO)
    cache = tmp_path / "cache"
    load(cache, scenario)
    entries = sorted(cache.glob("scenario-*.json"))
    assert len(entries) == 1
    entries[0].write_text('{"key": [1], "document": {"projects": ["proj_evil"]}')  # cut short
    assert load(cache, scenario)["view"]["jobs"][0]["id"] == "job_a"  # type: ignore[index]
    kept = json.loads(entries[0].read_text())
    kept["key"] = "0" * 64  # the key of other bytes: not this file's
    kept["document"]["jobs"][0]["id"] = "job_forged"
    entries[0].write_text(json.dumps(kept))
    assert load(cache, scenario)["view"]["jobs"][0]["id"] == "job_a"  # type: ignore[index]


def test_an_unwritable_cache_folder_or_keeping_off_changes_nothing(tmp_path: Path) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    scenario = tmp_path / "kept.yaml"
    scenario.write_text(SCENARIO)
    for _ in range(2):
        assert load(blocked / "cache", scenario)["view"]["jobs"][0]["id"] == "job_a"  # type: ignore[index]
    assert blocked.read_text() == "not a folder"
    home, xdg = tmp_path / "home", tmp_path / "xdg"  # where the cache would go without CAPYMOCK_CACHE
    here = tmp_path / "here"
    here.mkdir()
    for _ in range(2):
        assert load("off", scenario, cwd=here, HOME=str(home), XDG_CACHE_HOME=str(xdg))["yaml"] is True
    assert not home.exists() and not xdg.exists() and list(here.iterdir()) == []


def test_serve_keeps_the_spec_and_its_scenario_and_starts_from_them(tmp_path: Path) -> None:
    env = {**os.environ, "CAPYMOCK_CACHE": str(tmp_path / "cache")}
    banners = []
    for _ in range(2):
        with serving(["--scenario", "happy-path", "--quiet"], env=env) as served:
            assert http(served.curl_url, headers={"Authorization": f"Bearer {served.token}"}).status == 200
            banners.append(served.banner.replace(served.url, "URL"))
        kept = sorted(entry.name.split("-")[0] for entry in (tmp_path / "cache").glob("*.json"))
        assert kept == ["scenario", "spec"]
    assert banners[0] == banners[1]
