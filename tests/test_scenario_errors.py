"""Broken scenario files: the precise message of each, and that a failed load changes nothing.

Every file under tests/data/broken/ has exactly one defect (its first line says which). The
expected messages are `file:line:column: path: message`, with the file as given relative to
the current directory: the tests run from the repository root and pass relative paths.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

import capymock
from capymock.scenario.loader import load_scenario
from conftest import ROOT, http

BROKEN = Path("tests/data/broken")
STATES = "pending, claimed, running, succeeded, failed, cancelled"
STEP_FIELDS = (
    "state, after, after_polls, age, attempts, claimed_at, claimed_by, cluster_id, completed_at, error, "
    "last_exit_code, last_stderr, last_stdout, locked_resource, max_attempts, preview_database_id, "
    "retry_classification, started_at, type"
)
TOP_LEVEL_FIELDS = "name, description, start, organization, projects, tokens, jobs, faults"
DURATION = "a duration such as 250ms, 2s, 1.5s, 3m, 1h, or a number of seconds"
# PyYAML words syntax errors differently with and without libyaml (capymock uses libyaml when present).
UNCLOSED_FLOW_MAPPING = (
    "did not find expected ',' or '}'" if yaml.__with_libyaml__ else "expected ',' or '}', but got '{'"
)


@dataclass(frozen=True)
class Case:
    file: str
    problems: tuple[str, ...]
    """The expected problems, each as `file:line:column: path: message` minus the file."""

    @property
    def path(self) -> Path:
        return BROKEN / self.file

    def expected(self) -> list[str]:
        return [f"{self.path}:{problem}" for problem in self.problems]


CASES = [
    Case(
        "typo_state.yaml",
        (f"12:16: jobs[0].steps[2].state: 'runing' is not one of {STATES} (did you mean 'running'?)",),
    ),
    Case(
        "unknown_step_field.yaml",
        (
            "10:37: jobs[0].steps[1].claimed_bye: unknown field 'claimed_bye' (did you mean 'claimed_by'?);"
            f" expected one of: {STEP_FIELDS}",
        ),
    ),
    Case(
        "unknown_top_level_key.yaml",
        (
            "3:1: descripton: unknown field 'descripton' (did you mean 'description'?);"
            f" expected one of: {TOP_LEVEL_FIELDS}",
        ),
    ),
    Case("bad_duration.yaml", (f"10:17: jobs[0].steps[1].after: '5 sec' is not {DURATION}",)),
    Case("wrong_type.yaml", ("8:19: jobs[0].max_attempts: expected an integer, got 'three'",)),
    Case("missing_project.yaml", ("5:5: jobs[0]: missing required field 'project'",)),
    Case(
        "illegal_transition.yaml",
        (
            "10:28: jobs[0].steps[1].state: cannot go from 'pending' to 'succeeded';"
            " legal next states: claimed, cancelled",
        ),
    ),
    Case(
        "retry_past_max_attempts.yaml",
        (
            "14:28: jobs[0].steps[4].state: cannot go from 'failed' to 'pending';"
            " attempts 1 has reached max_attempts 1; legal next states: none, it is final",
        ),
    ),
    Case(
        "attempts_over_max.yaml",
        (
            "11:9: jobs[0].steps[0]: the job would break the lifecycle in state 'pending':"
            " pending with attempts 1 of max_attempts 1: the only way back to pending is a retry,"
            " legal while attempts < max_attempts",
        ),
    ),
    Case(
        "duplicate_job_id.yaml",
        ("7:10: jobs[2].id: job id 'job_deploy_1' is already used by jobs[0]",),
    ),
    Case(
        "undeclared_project.yaml",
        (
            "6:14: jobs[0].project: 'proj_wbe' is not a declared project (did you mean 'proj_web'?);"
            " projects: proj_web, proj_api",
        ),
    ),
    Case(
        "generate_undeclared_project.yaml",
        (
            "5:28: jobs[0].project: 'proj_wbe' is not a declared project (did you mean 'proj_web'?);"
            " projects: proj_web",
        ),
    ),
    Case(
        "generate_unknown_field.yaml",
        (
            "5:39: jobs[0].state: unknown field 'state' (did you mean 'states'?);"
            " expected one of: generate, project, states, types, max_attempts, every, seed,"
            " durations, retries",
        ),
    ),
    Case(
        "token_unknown_project.yaml",
        (
            "6:54: tokens[1].project: 'proj_api' is not a declared project (did you mean 'proj_web'?);"
            " projects: proj_web",
        ),
    ),
    Case(
        "token_bad_prefix.yaml",
        ("5:13: tokens[0].token: 'capy_test_web_0123456789abcdef' is not an API key: capy_live_...",),
    ),
    Case(
        "fault_unknown_path.yaml",
        (
            "7:33: faults[0].match.path: no operation has the path '/v1/job/job_deploy_1';"
            " paths: /v1/jobs/{jobID}, /v1/projects/{projectID}/jobs",
        ),
    ),
    Case(
        "fault_wrong_method.yaml",
        ("5:22: faults[0].match.method: /v1/jobs/job_deploy_1 does not answer POST; it answers GET, HEAD",),
    ),
    Case(
        "fault_unknown_operation.yaml",
        (
            "5:25: faults[0].match.operation: 'getjob' is not an operation (did you mean 'getJob'?);"
            " operations: listProjectJobs, getJob",
        ),
    ),
    Case(
        "fault_without_effect.yaml",
        ("5:5: faults[0]: a fault needs 'status', 'delay' or both; this one has neither",),
    ),
    Case(
        "after_polls_first_step.yaml",
        ("9:23: jobs[0].steps[0].after_polls: the first step creates the job; it cannot wait for reads",),
    ),
    Case("after_and_after_polls.yaml", ("10:9: jobs[0].steps[1]: give 'after' or 'after_polls', not both",)),
    Case(
        "invalid_yaml.yaml",
        (f"6:5: not valid YAML: {UNCLOSED_FLOW_MAPPING} (while parsing a flow mapping at 5:5)",),
    ),
    Case("duplicate_key.yaml", ("8:5: jobs[0].type: duplicate key: 'type' is already given on line 7",)),
    Case(
        "bad_start.yaml",
        ("3:8: start: 'next tuesday at nine' is not a date-time (2026-01-01T09:00:00Z) or now",),
    ),
    Case(
        "not_a_mapping.yaml",
        ('2:1: expected a mapping, got [{"name": "not-a-mapping"}, {"projects": ["proj_web"]}]',),
    ),
    Case(
        "empty.yaml",
        ("1:1: missing required field 'projects'",),
    ),
    Case(
        "huge_duration.yaml",
        ("10:17: jobs[0].steps[1].after: 99999999999999 is longer than 100 years",),
    ),
    Case(
        "age_and_delayed_creation.yaml",
        (
            "7:10: jobs[0].age: give 'age' (created before the start) or an 'after' on the first step"
            " (created after it), not both",
        ),
    ),
    Case(
        "past_steps_out_of_order.yaml",
        (
            "11:15: jobs[0].steps[2].age: 9m before the start is earlier than the step before it "
            "(8m before it); steps before the start go oldest first",
        ),
    ),
    Case(
        "past_step_after_a_timed_one.yaml",
        (
            "11:15: jobs[0].steps[2].age: a step with an 'age' (taken before the start) comes right "
            "after the first step, before every step with 'after' or 'after_polls'",
        ),
    ),
    Case(
        "duration_past_year_9999.yaml",
        ("11:17: jobs[0].steps[1].after: 1767258000000 is longer than 100 years",),
    ),
]


def _params(cases: list[Case], *, for_load: bool) -> list[Any]:
    return [pytest.param(case, id=case.file.removesuffix(".yaml")) for case in cases]


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(ROOT)


def test_every_broken_file_has_a_case() -> None:
    assert sorted(p.name for p in (ROOT / BROKEN).glob("*.yaml")) == sorted(c.file for c in CASES)
    assert len(CASES) >= 14


@pytest.mark.parametrize("case", _params(CASES, for_load=False))
def test_the_error_names_file_line_column_path_and_problem(case: Case) -> None:
    with pytest.raises(capymock.ScenarioError) as raised:
        load_scenario(case.path, capymock.load_spec())
    assert [str(p) for p in raised.value.problems] == case.expected()
    assert str(raised.value) == "\n".join(case.expected())


@pytest.mark.parametrize("case", _params(CASES, for_load=True))
def test_loading_into_a_running_mock_changes_nothing(case: Case) -> None:
    mock = capymock.Mock(scenario="retry-then-succeed")
    mock.advance("3s")  # away from the scenario's start, so a reset would show
    before = (mock.scenario, mock.jobs(), mock.state(), mock.clock.now(), mock.organization_id)
    with pytest.raises(capymock.ScenarioError):
        mock.load(case.path)
    assert (mock.scenario, mock.jobs(), mock.state(), mock.clock.now(), mock.organization_id) == before
    assert mock.job("job_deploy_1")["state"] == "running"
    mock.reset()  # the baseline is still the previous scenario's
    assert mock.scenario == "retry-then-succeed"
    assert mock.job("job_deploy_1")["state"] == "pending"


def test_a_served_mock_keeps_answering_from_its_scenario_after_a_failed_load() -> None:
    with capymock.serve("retry-then-succeed") as mock:
        mock.advance("3s")
        auth = {"Authorization": f"Bearer {mock.token}"}
        before = http(f"{mock.url}/v1/projects/proj_web/jobs?limit=100", headers=auth)
        with pytest.raises(capymock.ScenarioError):
            mock.load(BROKEN / "typo_state.yaml", "demo")
        after = http(f"{mock.url}/v1/projects/proj_web/jobs?limit=100", headers=auth)
        assert before.status == 200
        assert (after.status, after.body) == (before.status, before.body)
        scoped = {"Authorization": "Bearer capy_live_web_0123456789abcdef"}  # the scenario's own key
        assert http(f"{mock.url}/v1/jobs/job_deploy_1", headers=scoped).body["job"]["state"] == "running"


def test_one_file_with_several_problems_reports_them_all_in_file_order(tmp_path: Path) -> None:
    scenario = tmp_path / "several.yaml"
    scenario.write_text(
        "projects: [proj_web]\n"
        "tokens:\n"
        "  - {token: capy_test_x, project: proj_web}\n"
        "jobs:\n"
        "  - {id: job_1, project: proj_web, max_attempts: three}\n"
        "  - {id: job_2, project: proj_web, steps: [{state: runing}]}\n"
    )
    with pytest.raises(capymock.ScenarioError) as raised:
        load_scenario(scenario, capymock.load_spec())
    # Outside the current directory the path is printed as given.
    assert [str(p) for p in raised.value.problems] == [
        f"{scenario}:3:13: tokens[0].token: 'capy_test_x' is not an API key: capy_live_...",
        f"{scenario}:5:50: jobs[0].max_attempts: expected an integer, got 'three'",
        f"{scenario}:6:52: jobs[1].steps[0].state: 'runing' is not one of {STATES} (did you mean 'running'?)",
    ]


def test_an_absolute_path_inside_the_current_directory_is_printed_relative() -> None:
    with pytest.raises(capymock.ScenarioError) as raised:
        load_scenario(ROOT / BROKEN / "wrong_type.yaml", capymock.load_spec())
    assert str(raised.value) == (
        "tests/data/broken/wrong_type.yaml:8:19: jobs[0].max_attempts: expected an integer, got 'three'"
    )


def test_problems_carry_their_location_as_data() -> None:
    with pytest.raises(capymock.ScenarioError) as raised:
        load_scenario(BROKEN / "typo_state.yaml", capymock.load_spec())
    (problem,) = raised.value.problems
    assert problem.to_dict() == {
        "file": "tests/data/broken/typo_state.yaml",
        "line": 12,
        "column": 16,
        "path": "jobs[0].steps[2].state",
        "message": f"'runing' is not one of {STATES} (did you mean 'running'?)",
        "text": str(problem),
    }
