"""The built wheel installs into a fresh virtualenv and serves from there."""

from __future__ import annotations

import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest

from cli_helpers import serving
from conftest import ORACLE, ROOT, http

pytestmark = pytest.mark.slow


def _pip(python: Path, *args: str, cwd: Path | None = None) -> None:
    subprocess.run(
        [str(python), "-m", "pip", "--disable-pip-version-check", "-q", *args],
        check=True,
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_the_wheel_ships_the_spec_and_runs_capymock_serve(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    _pip(Path(sys.executable), "wheel", "--no-deps", "-w", str(dist), str(ROOT))
    (wheel,) = dist.glob("capymock-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "capymock/openapi.yaml" in names
    assert "capymock/py.typed" in names
    pages = {"capymock/web/dashboard.html", "capymock/web/timeline.html"}
    assert {*pages, "capymock/schemas/scenario.schema.json"} <= set(names)
    bundled = {name.rsplit("/", 1)[1] for name in names if name.startswith("capymock/scenarios/")}
    assert bundled == {path.name for path in (ROOT / "capymock" / "scenarios").glob("*.yaml")}
    entry_points = next(name for name in names if name.endswith("entry_points.txt"))
    assert "capymock = capymock.pytest_plugin" in zipfile.ZipFile(wheel).read(entry_points).decode()
    assert not any(name.startswith("tests/") for name in names)

    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    _pip(python, "install", str(wheel))
    # Run from an empty folder, so nothing of the source tree can be imported.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    with serving(command=[str(env / "bin" / "capymock")], cwd=elsewhere) as served:
        reply = http(served.curl_url, headers={"Authorization": f"Bearer {served.token}"})
        assert reply.status == 200
        ORACLE.check("GET", f"/v1/projects/{served.project}/jobs", 200, reply.body)
    where = subprocess.run(
        [str(python), "-c", "import capymock; print(capymock.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=elsewhere,
    ).stdout
    assert str(env) in where
    # `capymock show` finds its page in the installed package.
    page = tmp_path / "happy.html"
    scenario = ROOT / "capymock" / "scenarios" / "happy-path.yaml"
    shown = subprocess.run(
        [str(env / "bin" / "capymock"), "show", str(scenario), "-o", str(page)],
        capture_output=True,
        text=True,
        cwd=elsewhere,
        timeout=120,
    )
    assert shown.returncode == 0, shown.stderr
    assert '<script id="capymock-data" type="application/json">{' in page.read_text(encoding="utf-8")
