"""The API remembers its answers per store version: a property test that it never serves a stale
or an unchecked one.

Two mocks are driven in lockstep through the same state changes, clock steps, key changes,
faults, validation switches and resets. Mock A gets each request as it is, so repeated
requests are answered from memory; mock B gets it with a query parameter never sent before
(the API ignores unknown ones), so B computes every answer afresh. Their answers must be the
same, byte for byte, whatever happened in between.
"""

from __future__ import annotations

import itertools
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from werkzeug.test import Client

import capymock
from capymock import ManualClock
from conftest import BREAKS_GET_JOB

SCENARIO = "auth-scopes"
START = datetime.fromisoformat("2026-01-01T09:00:00+00:00")
ORG_TOKEN = "capy_live_acme_org_5f2c9d1e7a3b4c60"
ALPHA_TOKEN = "capy_live_acme_alpha_8b1e4f7a2c9d3e51"
ADDED_TOKEN = "capy_live_added_0123456789abcdef"
PROJECTS = ["proj_alpha", "proj_beta", "proj_gamma", "proj_missing"]
JOBS = ["job_alpha_deploy", "job_alpha_build", "job_beta_test", "job_added_1", "job_added_2", "job_nope"]
TARGETS = ["pending", "claimed", "running", "failed", "succeeded", "cancelled"]
RECENT = 4
SPEC = Path(capymock.__file__).parent / "openapi.yaml"

paths = st.one_of(
    st.builds(
        lambda project, limit: (
            f"/v1/projects/{project}/jobs" + (f"?limit={limit}" if limit is not None else "")
        ),
        st.sampled_from(PROJECTS),
        st.sampled_from([None, 1, 2, 25, 0, "x"]),
    ),
    st.builds(lambda job: f"/v1/jobs/{job}", st.sampled_from(JOBS)),
)
tokens = st.sampled_from(["org", "org", "alpha", "added", "clerk", "unknown", None])


class Lockstep(RuleBasedStateMachine):
    """Mock A answers from memory where it can; mock B never can. They must agree."""

    spec: Path | None = None

    def __init__(self) -> None:
        super().__init__()
        self.mocks = [
            capymock.Mock(scenario=SCENARIO, spec=self.spec, clock=ManualClock(START)) for _ in range(2)
        ]
        self.clients = [Client(mock.wsgi_app) for mock in self.mocks]
        self.nonce = itertools.count()
        self.clerk: str | None = None
        self.recent: list[tuple[str, str, dict[str, str]]] = []

    @initialize()
    def mint(self) -> None:
        self.clerk = self.mocks[0].clerk_token(expires_in="90s")  # expires as the clock moves

    def both(self, action: Any) -> None:
        for mock in self.mocks:
            action(mock)

    @rule(path=paths, token=tokens, head=st.booleans(), repeat=st.integers(1, 3),
          prefer=st.sampled_from([None, "code=404", "code=200"]))  # fmt: skip
    def request(self, path: str, token: str | None, head: bool, prefer: str | None, repeat: int) -> None:
        headers = {}
        if token is not None:
            value = {"org": ORG_TOKEN, "alpha": ALPHA_TOKEN, "added": ADDED_TOKEN, "clerk": self.clerk}
            headers["Authorization"] = f"Bearer {value.get(token, 'capy_live_unknown_0000000000')}"
        if prefer:
            headers["Prefer"] = prefer
        for _ in range(repeat):
            self.ask("HEAD" if head else "GET", path, headers)

    @precondition(lambda self: self.recent)
    @rule()
    def ask_again(self) -> None:
        """The last few requests again, most likely since the state changed: the memory's hits."""
        for asked in reversed(self.recent):
            self.ask(*asked)

    def ask(self, method: str, path: str, headers: dict[str, str]) -> None:
        fresh = f"{path}{'&' if '?' in path else '?'}nonce={next(self.nonce)}"
        a = self.clients[0].open(path, method=method, headers=headers)
        b = self.clients[1].open(fresh, method=method, headers=headers)
        assert (a.status_code, a.get_data()) == (b.status_code, b.get_data()), (method, path, headers)
        assert a.headers.get("Content-Length") == b.headers.get("Content-Length")
        if (method, path, headers) not in self.recent:
            self.recent = [(method, path, headers), *self.recent[: RECENT - 1]]

    @rule(seconds=st.sampled_from([0.5, 1, 3, 7, 30, 120]))
    def advance(self, seconds: float) -> None:
        self.both(lambda mock: mock.advance(seconds))

    @rule(job=st.sampled_from(JOBS[3:5]), project=st.sampled_from(PROJECTS[:3]))
    def add_job(self, job: str, project: str) -> None:
        if any(j.id == job for j in self.mocks[0].jobs()):
            return
        self.both(lambda mock: mock.add_project(project))
        self.both(lambda mock: mock.add_job(id=job, project_id=project))

    @rule(job=st.sampled_from(JOBS[:5]), state=st.sampled_from(TARGETS))
    def move(self, job: str, state: str) -> None:
        results = []
        for mock in self.mocks:
            try:
                mock.set_state(job, state)
                results.append("moved")
            except (KeyError, capymock.IllegalTransition, capymock.InvalidJob) as exc:
                results.append(type(exc).__name__)
        assert results[0] == results[1]

    @rule(project=st.sampled_from([None, "proj_alpha", "proj_beta"]))
    def add_token(self, project: str | None) -> None:
        self.both(lambda mock: mock.add_token(ADDED_TOKEN, project=project))

    @rule(path=st.sampled_from(["/v1/jobs/{jobID}", "/v1/projects/{projectID}/jobs"]),
          status=st.sampled_from([500, 503, 429]), times=st.integers(1, 2))  # fmt: skip
    def fault(self, path: str, status: int, times: int) -> None:
        self.both(lambda mock: mock.fail("GET", path, status=status, times=times))

    @rule(on=st.booleans())
    def validation(self, on: bool) -> None:
        for mock in self.mocks:
            mock.validate = on

    @rule()
    def reset(self) -> None:
        self.both(lambda mock: mock.reset())

    @invariant()
    def no_defect_but_the_spec_s(self) -> None:
        if self.spec is None:
            assert self.mocks[0].defects() == self.mocks[1].defects() == []

    def teardown(self) -> None:
        for mock in self.mocks:
            mock.clear_defects()


TestTheBundledSpec = Lockstep.TestCase
TestTheBundledSpec.settings = settings(
    max_examples=200, stateful_step_count=50, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)


@pytest.fixture(scope="module")
def wrong_spec(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A spec whose getJob 200 body is a list: every job answer breaks it."""
    path = tmp_path_factory.mktemp("spec") / "openapi.yaml"
    path.write_text(SPEC.read_text().replace(*BREAKS_GET_JOB))
    return path


def test_an_answer_that_breaks_the_spec_is_never_remembered_as_sound(wrong_spec: Path) -> None:
    class Unchecked(Lockstep):
        spec = wrong_spec

    Unchecked.TestCase.settings = settings(
        max_examples=30, stateful_step_count=30, deadline=None, suppress_health_check=[HealthCheck.too_slow]
    )
    Unchecked.TestCase("runTest").runTest()


def test_a_validated_answer_is_served_again_unchanged_and_a_broken_one_is_a_500_each_time(
    wrong_spec: Path,
) -> None:
    mock = capymock.Mock(scenario=SCENARIO, spec=wrong_spec, clock=ManualClock(START))
    client = Client(mock.wsgi_app)
    auth = {"Authorization": f"Bearer {ORG_TOKEN}"}
    mock.validate = False
    assert client.get("/v1/jobs/job_alpha_deploy", headers=auth).status_code == 200
    assert client.get("/v1/jobs/job_alpha_deploy", headers=auth).status_code == 200
    mock.validate = True
    for _ in range(3):  # the 200 above was never checked: it is not served now
        assert client.get("/v1/jobs/job_alpha_deploy", headers=auth).status_code == 500
    assert len(mock.defects()) == 3  # each answer checked and reported, none remembered
    mock.clear_defects()
