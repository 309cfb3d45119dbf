"""The layer rules of ARCHITECTURE.md hold: import-linter's contracts in pyproject.toml (layers
point downward, no cycle between sibling modules, a sans-IO core)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def test_every_import_contract_is_kept() -> None:
    command = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    if command is None:
        pytest.fail("lint-imports is missing: install the test extra (pip install -e '.[test]')")
    result = subprocess.run([command, "--no-cache"], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_every_module_has_a_row_in_the_architecture_table() -> None:
    text = (ROOT / "ARCHITECTURE.md").read_text(encoding="utf-8")
    package = ROOT / "capymock"
    modules = sorted(
        str(path.relative_to(package))
        for pattern in ("*.py", "*.html")
        for path in package.rglob(pattern)
        if path.name != "__init__.py"
    )
    assert [module for module in modules if f"`{module}`" not in text] == []
