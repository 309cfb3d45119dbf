"""The reference server honours the spec (checked here by plain HTTP against openapi.yaml, not by
capymock), its mutants each change some answer, and `capymock contract` passes the reference and
kills a sample of mutants spread over the families (benchmarks/mutants.py runs them all)."""

from __future__ import annotations

import itertools
import subprocess
import sys
from collections.abc import Iterator
from datetime import datetime
from http.client import HTTPConnection
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import yaml
from reference.mutants import build_mutants, jobs_in, mutant
from reference.server import (
    ORG_KEY,
    OTHER_PROJECT,
    PROJECT,
    PROJECT_KEY,
    Exchange,
    Mutation,
    Reference,
    reference_jobs,
    route,
    serve,
)

from conftest import ORACLE, ROOT, SPEC_PATH, Reply, http

pytestmark = pytest.mark.slow

DOCUMENT = yaml.safe_load(SPEC_PATH.read_text())
JOB_SCHEMA = DOCUMENT["components"]["schemas"]["Job"]
LIFECYCLE = JOB_SCHEMA["x-lifecycle"]
STATES = DOCUMENT["components"]["schemas"]["JobState"]["enum"]
LIMIT = next(
    p for p in DOCUMENT["paths"]["/v1/projects/{projectID}/jobs"]["get"]["parameters"] if p["name"] == "limit"
)["schema"]
KNOWN_INVARIANTS = {"bounded", "set_in", "exactly_in", "null_in", "ordered", "not_before", "exclusive"}
JOB = ORACLE.validator("/components/schemas/Job")

SAMPLE = (
    "state_out_of_enum",
    "completed_at_no_zone",
    "listProjectJobs_envelope_wrong_type",
    "claimed_by_null_while_claimed_in_get_only",
    "completed_at_before_created_at",
    "status_401_without_www_authenticate",
    "status_404_as_html",
    "limit_accepts_0",
    "limit_default_ignored",
    "order_ties_ascending",
    "limit_returns_oldest_page",
    "list_other_project_job",
    "get_finished_job_404",
    "updated_at_before_completed_at",
    "list_repeats_a_job",
    "list_missing_project_empty",
    "get_shows_a_finished_job_new",
    "auth_garbage_token_accepted",
    "auth_session_token_unchecked",
)


# -- an independent reading of x-lifecycle --------------------------------------------------------


def _instant(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def broken_invariants(job: dict[str, Any]) -> list[str]:
    """Every invariant of the spec's x-lifecycle that `job` breaks."""
    rules, state = LIFECYCLE["invariants"], job[LIFECYCLE["field"]]
    broken = []
    for name, bound in rules.get("bounded", {}).items():
        if not bound["minimum"] <= job[name] <= job[bound["maximum_field"]]:
            broken.append(f"bounded {name}")
    for name, states in rules.get("set_in", {}).items():
        if state in states and job[name] is None:
            broken.append(f"set_in {name}")
    for name, states in rules.get("exactly_in", {}).items():
        if (state in states) != (job[name] is not None):
            broken.append(f"exactly_in {name}")
    for name, states in rules.get("null_in", {}).items():
        if state in states and job[name] is not None:
            broken.append(f"null_in {name}")
    chain = [_instant(job[name]) for name in rules.get("ordered", []) if job[name] is not None]
    if any(later < earlier for earlier, later in itertools.pairwise(chain)):
        broken.append("ordered")
    for name, floor in rules.get("not_before", {}).items():
        if _instant(job[name]) < _instant(job[floor]):
            broken.append(f"not_before {name}")
    return broken


# -- the reference over HTTP ------------------------------------------------------------------


@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    with serve() as (url, _token, _project):
        yield url


def get(base_url: str, path: str, token: str | None = ORG_KEY, method: str = "GET") -> Reply:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    reply = http(base_url + path, method, headers)
    assert reply.headers["Content-Type"] == "application/json"
    if method == "GET":
        ORACLE.check(method, urlsplit(path).path, reply.status, reply.body)
    return reply


def listed(
    base_url: str, project: str = PROJECT, query: str = "", token: str = ORG_KEY
) -> list[dict[str, Any]]:
    reply = get(base_url, f"/v1/projects/{project}/jobs{query}", token)
    assert reply.status == 200, reply.body
    jobs: list[dict[str, Any]] = reply.body["jobs"]
    return jobs


def test_every_job_has_every_field_and_keeps_every_invariant(base_url: str) -> None:
    assert set(LIFECYCLE["invariants"]) <= KNOWN_INVARIANTS, "a new kind of invariant: teach this test"
    everything = reference_jobs()
    served = listed(base_url, query="?limit=100") + listed(base_url, OTHER_PROJECT, "?limit=100")
    for job in everything + served:
        assert set(job) == set(JOB_SCHEMA["properties"])
        JOB.validate(job)
        assert job["created_at"].endswith("Z") and job["updated_at"].endswith("Z")
        assert broken_invariants(job) == [], job
    for job in served:
        assert get(base_url, f"/v1/jobs/{job['id']}").body == {"job": job}
    for name, states in LIFECYCLE["invariants"].get("exclusive", {}).items():  # across jobs
        held = [job[name] for job in served if job[LIFECYCLE["field"]] in states and job[name] is not None]
        assert len(held) == len(set(held)), f"exclusive {name}"


def test_the_data_covers_states_ties_retries_and_both_sides_of_every_nullable_field(base_url: str) -> None:
    jobs = listed(base_url, query="?limit=100")
    assert len(jobs) >= 30 > int(LIMIT["default"])
    assert {job["state"] for job in jobs} == set(STATES)
    created = [job["created_at"] for job in jobs]
    assert len(set(created)) < len(created)  # equal created_at: the id breaks the tie
    assert any(job["attempts"] > 1 for job in jobs)
    for name, schema in JOB_SCHEMA["properties"].items():
        if "null" in schema.get("type", []):
            values = [job[name] for job in jobs]
            assert None in values and any(v is not None for v in values), name


def test_lists_are_newest_first_ties_by_id_and_limited(base_url: str) -> None:
    every = listed(base_url, query="?limit=100")
    keys = [(_instant(job["created_at"]), job["id"]) for job in every]
    assert keys == sorted(keys, reverse=True) and len(set(keys)) == len(keys)
    assert listed(base_url) == every[: int(LIMIT["default"])]
    assert listed(base_url, query="?limit=1") == every[:1]
    assert listed(base_url, query=f"?limit={LIMIT['maximum']}") == every
    assert all(job["project_id"] == PROJECT for job in every)


@pytest.mark.parametrize("value", ["0", "-1", "101", "1000", "abc", "1.5", "", "1e1", "5&limit=6"])
def test_limit_out_of_bounds_or_not_an_integer_is_400(base_url: str, value: str) -> None:
    reply = get(base_url, f"/v1/projects/{PROJECT}/jobs?limit={value}")
    assert reply.status == 400 and isinstance(reply.body["error"], str)


@pytest.mark.parametrize(
    ("token", "path", "status"),
    [
        (None, f"/v1/projects/{PROJECT}/jobs", 401),
        ("garbage", "/v1/jobs/job_ref_17", 401),
        ("capy_live_unknown", f"/v1/projects/{PROJECT}/jobs", 401),
        (PROJECT_KEY, f"/v1/projects/{PROJECT}/jobs", 200),
        (PROJECT_KEY, f"/v1/projects/{OTHER_PROJECT}/jobs", 403),
        (PROJECT_KEY, "/v1/jobs/job_oth_01", 404),
        (ORG_KEY, "/v1/jobs/job_oth_01", 200),
        (ORG_KEY, "/v1/jobs/job_else_01", 404),
        (ORG_KEY, "/v1/projects/proj_else/jobs", 404),
        (ORG_KEY, "/v1/projects/proj_nope/jobs", 404),
        (ORG_KEY, "/v1/jobs/job_nope", 404),
    ],
)
def test_auth_and_scopes(base_url: str, token: str | None, path: str, status: int) -> None:
    reply = get(base_url, path, token)
    assert reply.status == status
    if status == 401:
        assert reply.headers["WWW-Authenticate"] == 'Bearer realm="capy"'
    if status >= 400:
        assert set(reply.body) == {"error"}


def test_unknown_routes_other_methods_head_and_keep_alive(base_url: str) -> None:
    unknown = get(base_url, "/v2/nothing")
    assert unknown.status == 404 and isinstance(unknown.body["error"], str)
    posted = http(base_url + "/v1/jobs/job_ref_17", "POST", {"Authorization": f"Bearer {ORG_KEY}"}, {"a": 1})
    assert posted.status == 405 and posted.headers["Allow"] == "GET, HEAD" and "error" in posted.body
    full, head = get(base_url, "/v1/jobs/job_ref_17"), get(base_url, "/v1/jobs/job_ref_17", method="HEAD")
    assert head.status == 200 and head.raw == b""
    assert head.headers["Content-Length"] == full.headers["Content-Length"]
    parts = urlsplit(base_url)
    connection = HTTPConnection(parts.hostname or "", parts.port)
    try:
        for _ in range(3):
            connection.request("GET", "/v1/jobs/job_ref_17", headers={"Authorization": f"Bearer {ORG_KEY}"})
            response = connection.getresponse()
            assert response.status == 200 and response.read()
            assert not response.will_close
    finally:
        connection.close()


# -- the corpus -------------------------------------------------------------------------------


PROBED_LIMITS = (
    "",
    "?limit=1",
    "?limit=100",
    "?limit=0",
    "?limit=-1",
    "?limit=101",
    "?limit=1000",
    "?limit=abc",
)
PROBED_LIMITS += ("?limit=1.5", "?limit=")


def _probes() -> list[Exchange]:
    """Requests that between them show every mutant's defect (run in-process, without HTTP)."""
    paths: list[tuple[str, str | None]] = [
        (f"/v1/projects/{PROJECT}/jobs{query}", ORG_KEY) for query in PROBED_LIMITS
    ]
    paths += [(f"/v1/jobs/{job['id']}", ORG_KEY) for job in reference_jobs()]
    paths += [("/v1/jobs/job_nope", ORG_KEY), ("/v1/projects/proj_nope/jobs", ORG_KEY), ("/v2/x", ORG_KEY)]
    forged = (
        None,
        "garbage",
        "capy_live_unknown",
        "eyJhbGciOiJub25lIn0.eyJleHAiOjB9.x",
        "Basic dXNlcjpwdw==",
    )
    paths += [("/v1/jobs/job_ref_17", token) for token in forged]
    paths += [(f"/v1/projects/{OTHER_PROJECT}/jobs", PROJECT_KEY), ("/v1/jobs/job_oth_01", PROJECT_KEY)]
    probes = []
    for path, token in paths:
        split = urlsplit(path)
        operation, params = route(split.path)
        scheme = "" if token and token.startswith("Basic ") else "Bearer "
        headers = {"authorization": f"{scheme}{token}"} if token else {}
        query = parse_qs(split.query, keep_blank_values=True)
        probes.append(Exchange("GET", split.path, query, headers, operation, params))
    return probes


def _answers(mutation: Mutation | None) -> list[tuple[int, list[tuple[str, str]], bytes]]:
    reference = Reference(mutation)
    return [
        (reply.status, sorted(reply.headers.items()), reply.payload())
        for reply in map(reference.answer, _probes())
    ]


def test_the_corpus_is_large_named_and_spread_over_the_families() -> None:
    mutants = build_mutants()
    assert len(mutants) >= 100
    assert len({m.name for m in mutants}) == len(mutants)
    families = {m.family for m in mutants}
    assert {
        "field",
        "lifecycle",
        "reachability",
        "identity",
        "status",
        "limit",
        "order",
        "membership",
        "auth",
    } <= families
    assert all(m.rule for m in mutants)
    assert {m.family for m in mutants if m.name in SAMPLE} == families


def test_every_mutant_changes_some_answer() -> None:
    conformant = _answers(None)
    unchanged = [m.name for m in build_mutants() if _answers(m.mutation) == conformant]
    assert unchanged == []


def _served_jobs(mutation: Mutation) -> list[dict[str, Any]]:
    answers = [Reference(mutation).answer(probe) for probe in _probes()]
    return [job for reply in answers if reply.status == 200 for job in jobs_in(reply.body)]


def test_lifecycle_mutants_break_an_invariant_exactly_when_they_claim_to() -> None:
    for sampled in build_mutants():
        if sampled.family != "lifecycle" or sampled.name == "locked_resource_held_twice":
            continue
        broken = [problem for job in _served_jobs(sampled.mutation) for problem in broken_invariants(job)]
        assert bool(broken) == sampled.violates_spec, (sampled.name, broken)


# -- capymock contract --------------------------------------------------------------------------


CONTRACT = (
    sys.executable,
    "-m",
    "capymock",
    "contract",
    "--rate-limit",
    "0",
    "--max-examples",
    "5",
    "--seed",
    "1",
)


def _contract(mutation: Mutation | None) -> subprocess.CompletedProcess[str]:
    with serve(mutation) as (url, token, project):
        return subprocess.run(
            [*CONTRACT, "--base-url", url, "--token", token, "--project-id", project],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
        )


def test_capymock_contract_passes_the_reference() -> None:
    done = _contract(None)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.parametrize("name", SAMPLE)
def test_capymock_contract_kills_the_mutant(name: str) -> None:
    sampled = mutant(name)
    assert sampled.violates_spec and sampled.observable
    done = _contract(sampled.mutation)
    assert done.returncode == 1, f"{sampled.rule}\n{done.stdout[-2000:]}{done.stderr[-2000:]}"
