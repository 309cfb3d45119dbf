"""`capymock validate FILE...`, run as a subprocess from the repository root."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from test_scenario_errors import BROKEN, CASES, Case

import capymock
from capymock.scenario.loader import bundled_scenarios, load_scenario
from cli_helpers import CAPYMOCK
from conftest import ROOT

pytestmark = pytest.mark.slow

BUNDLED = [path.relative_to(ROOT) for path in bundled_scenarios().values()]


def validate(*files: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CAPYMOCK, "validate", *map(str, files)], capture_output=True, text=True, timeout=60, cwd=ROOT
    )


def ok_line(file: Path) -> str:
    scenario = load_scenario(ROOT / file, capymock.load_spec())
    jobs = len(scenario.jobs)
    return f"{file}: ok ({scenario.name}: {jobs} job{'' if jobs == 1 else 's'})"


def test_every_bundled_scenario_is_valid_one_ok_line_each() -> None:
    assert BUNDLED, "no bundled scenarios"
    result = validate(*BUNDLED)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.splitlines() == [ok_line(file) for file in BUNDLED]
    assert any(line.endswith(": 1 job)") for line in result.stdout.splitlines())  # good English


def _cli_params() -> list[object]:
    return [pytest.param(case, id=case.file.removesuffix(".yaml")) for case in CASES]


@pytest.mark.parametrize("case", _cli_params())
def test_a_broken_file_exits_2_with_its_precise_message_and_no_traceback(case: Case) -> None:
    result = validate(case.path)
    assert "Traceback" not in result.stderr
    assert (result.returncode, result.stdout, result.stderr.splitlines()) == (2, "", case.expected())


def test_good_and_bad_files_are_each_reported_and_the_run_fails() -> None:
    by_name = {case.file: case for case in CASES}
    bad = [by_name["typo_state.yaml"], by_name["token_unknown_project.yaml"], by_name["invalid_yaml.yaml"]]
    good = [BUNDLED[0], BUNDLED[-1]]
    result = validate(good[0], bad[0].path, bad[1].path, good[1], bad[2].path)
    assert result.returncode == 2
    stdout = result.stdout.splitlines()
    assert len(stdout) == 2
    assert stdout == [ok_line(file) for file in good]
    assert result.stderr.splitlines() == [line for case in bad for line in case.expected()]


def test_without_files_it_is_a_usage_error() -> None:
    result = validate()
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        "Usage: capymock validate [OPTIONS] FILES...",
        "Try 'capymock validate --help' for help.",
        "",
        "Error: Missing argument 'FILES...'.",
    ]


def test_a_missing_file_is_one_clear_line_and_exit_2() -> None:
    missing = BROKEN / "no_such_file.yaml"
    result = validate(missing)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"{missing}: no such scenario file (looked for {missing.absolute()})"
    ]


def test_a_missing_file_does_not_stop_the_others_being_checked() -> None:
    missing = BROKEN / "no_such_file.yaml"
    result = validate(missing, BUNDLED[0])
    assert result.returncode == 2
    assert result.stdout.splitlines() == [ok_line(BUNDLED[0])]
    assert result.stderr.splitlines() == [
        f"{missing}: no such scenario file (looked for {missing.absolute()})"
    ]


def test_a_directory_is_a_usage_error() -> None:
    result = validate(BROKEN)
    assert (result.returncode, result.stdout) == (2, "")
    assert (
        result.stderr.splitlines()[-1]
        == f"Error: Invalid value for 'FILES...': File '{BROKEN}' is a directory."
    )


def test_a_file_that_is_not_utf8_is_one_line_and_exit_2(tmp_path: Path) -> None:
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"\xff\xfe projects: [proj_web]\n")
    result = validate(binary)
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"{binary}: cannot read: 'utf-8' codec can't decode byte 0xff in position 0: invalid start byte"
    ]


def test_a_missing_spec_is_one_line_and_exit_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CAPYMOCK, "validate", "--spec", str(tmp_path / "nope.yaml"), str(BUNDLED[0])],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert (result.returncode, result.stdout) == (2, "")
    assert result.stderr.splitlines() == [
        f"capymock: error: {tmp_path / 'nope.yaml'}: cannot read the OpenAPI document"
        " (No such file or directory)"
    ]
