"""capymock's own contract checks take any JSON a deployment may send and only ever report: every
type at every position, malformed and zone-less timestamps, huge numbers, deep nesting."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import capymock
from capymock.contract import rules
from capymock.contract.failures import _centred, _parse_path

SPEC = capymock.load_spec()
FIELDS = list(SPEC.job_fields)
TIMESTAMPS = [
    "2019-08-24 14:15:22",
    "2019-08-24T14:15:22",
    "2026-06-30T23:59:60Z",
    "2019-08-24T14:15:22+05:30",
    "not a date",
    "",
    "2019-08-24",
    "9999-12-31T23:59:59Z",
    "0001-01-01T00:00:00Z",
]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(),
    st.sampled_from([*TIMESTAMPS, *SPEC.lifecycle.states, "queued", "job_1", "proj_1"]),
    st.text(max_size=12),
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=12,
)
jobs = st.dictionaries(st.sampled_from(FIELDS), st.one_of(scalars, values), max_size=len(FIELDS))
bodies = st.one_of(
    values,
    st.builds(lambda items: {"jobs": items}, st.lists(st.one_of(jobs, values), max_size=6)),
    st.builds(lambda job: {"job": job}, st.one_of(jobs, values)),
)
ANY = settings(max_examples=400, deadline=None, suppress_health_check=list(HealthCheck))  # no time limit


def _all_findings(body: Any, query: Any, listed: Any) -> list[rules.Finding]:
    found = [
        *rules.explained(SPEC, SPEC.listing.operation_id, body),
        *rules.explained(SPEC, SPEC.reading.operation_id, body),
        *rules.limit(SPEC.listing, query if isinstance(query, dict) else {}, body),
        *rules.order(SPEC.listing, body),
        *rules.membership(SPEC.listing, "proj_1", body),
        *rules.read_back(listed if isinstance(listed, dict) else {}, "job_1", body, SPEC.reading),
        *rules.challenge(401, {"WWW-Authenticate": "Bearer"}, body),
    ]
    return found


@ANY
@given(body=bodies, query=values, listed=values)
def test_the_own_checks_only_ever_report(body: Any, query: Any, listed: Any) -> None:
    for finding in _all_findings(body, query, listed):
        assert isinstance(finding, rules.Finding) and finding.rule and finding.check


@ANY
@given(job=st.one_of(jobs, values))
def test_the_lifecycle_reads_any_json(job: Any) -> None:
    for field, sentence in SPEC.lifecycle.broken(job):
        assert field in FIELDS and sentence


@ANY
@given(body=bodies, where=st.sampled_from(["jobs[0].created_at", "job.state", "jobs[3]", "x", ""]))
def test_an_excerpt_is_always_made(body: Any, where: str) -> None:
    centred = _centred(body, _parse_path(where))
    assert centred is None or isinstance(centred, str)


def test_a_deeply_nested_body_is_no_crash() -> None:
    deep: Any = []
    for _ in range(5000):
        deep = [deep]
    body = {"jobs": [deep, {"job": deep}]}
    assert all(isinstance(finding, rules.Finding) for finding in _all_findings(body, {}, {}))
    assert _centred(body, ("jobs", 1)) is None  # too deep to show: the excerpt falls back to the text


def test_timestamps_without_a_zone_or_out_of_range_are_no_crash() -> None:
    base = json.loads(json.dumps({name: None for name in FIELDS}))
    for stamp in TIMESTAMPS:
        job = {
            **base,
            "state": "running",
            "created_at": stamp,
            "claimed_at": "2019-08-24T14:15:22Z",
            "started_at": stamp,
            "updated_at": stamp,
        }
        rules.explained(SPEC, SPEC.reading.operation_id, {"job": job})
        rules.order(SPEC.listing, {"jobs": [job, {**job, "created_at": "2019-08-24T14:15:22Z"}]})
