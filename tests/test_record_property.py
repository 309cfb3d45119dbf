"""Whatever a deployment did and whatever the polls missed, `capymock record` writes a file that
validates; when nothing was missed, the file walks exactly the states that were seen."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from capymock.core.timestamps import format_timestamp
from capymock.core.transitions import legal_targets, transition
from capymock.record.observations import Recording
from capymock.record.writer import Options, write_scenario
from capymock.scenario.loader import parse_scenario
from capymock.system.specs import load_spec

SPEC = load_spec()
LIFECYCLE = SPEC.lifecycle
BEGIN = datetime(2026, 3, 1, 10, tzinfo=UTC)
WORKERS = st.sampled_from(["worker-1", "worker-2", "w-ünï"])


@st.composite
def walks(draw: st.DrawFn) -> list[tuple[dict[str, Any], bool]]:
    """A job's bodies as a deployment shows them, one per change, each with whether the lifecycle
    allows it: mostly legal moves, some not."""
    at = BEGIN
    job: dict[str, Any] = {
        "id": "job_walk",
        "project_id": "proj_walk",
        "organization_id": "org_walk",
        "type": "deploy",
        "state": LIFECYCLE.initial,
        "attempts": 0,
        "max_attempts": draw(st.integers(1, 4)),
        "created_at": format_timestamp(at),
        "updated_at": format_timestamp(at),
    }
    frames = [(job, True)]
    for _ in range(draw(st.integers(0, 12))):
        at += timedelta(milliseconds=draw(st.integers(0, 90_000)))
        now = format_timestamp(at)
        legal = legal_targets(LIFECYCLE, job)
        if (legal and draw(st.booleans())) or draw(st.integers(0, 9)):
            if not legal:
                break
            target = draw(st.sampled_from(legal))
            given_fields = {}
            if target == "claimed" and draw(st.booleans()):
                given_fields["claimed_by"] = draw(WORKERS)
            if target in ("failed", "succeeded"):
                given_fields["last_exit_code"] = 0 if target == "succeeded" else draw(st.integers(1, 255))
            if target == "failed" and draw(st.booleans()):
                given_fields["error"] = draw(st.text(max_size=20))
            job = transition(LIFECYCLE, job, target, now, given_fields)
            frames.append((job, True))
        else:  # a move no lifecycle explains (a bug of the deployment, or a state the spec lacks)
            job = {**job, "state": draw(st.sampled_from([*LIFECYCLE.states, "paused"])), "updated_at": now}
            frames.append((job, False))
    return frames


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks(), st.data())
def test_the_written_file_always_validates(
    frames: list[tuple[dict[str, Any], bool]], data: st.DataObject
) -> None:
    kept = [frames[0][0], *(f for f, _ in frames[1:] if data.draw(st.booleans(), label="seen"))]
    recording = Recording(BEGIN, "http://deployment.test")
    for index, frame in enumerate(kept):
        recording.saw(frame, index * 0.5)
    text = write_scenario(recording, SPEC, Options(rename=data.draw(st.booleans(), label="rename")))
    scenario = parse_scenario(text, SPEC, source="recorded.yaml")  # raises if it does not validate
    assert len(scenario.jobs) == 1


@settings(max_examples=200, deadline=None)
@given(walks())
def test_nothing_missed_means_the_same_states(frames: list[tuple[dict[str, Any], bool]]) -> None:
    legal = list(itertools.takewhile(lambda frame: frame[1], frames))
    legal = [frame for frame, _ in legal]
    recording = Recording(BEGIN, "http://deployment.test")
    for index, frame in enumerate(legal):
        recording.saw(frame, index * 0.5)
    scenario = parse_scenario(write_scenario(recording, SPEC), SPEC, source="recorded.yaml")
    job = scenario.jobs[0]
    assert [job.first.state, *(step.state for step in job.steps)] == [frame["state"] for frame in legal]
    seconds = [step.after.total_seconds() if step.after else 0.0 for step in job.steps]
    gaps = [(b_at(b) - b_at(a)).total_seconds() for a, b in itertools.pairwise(legal)]
    assert seconds == gaps


def b_at(frame: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(frame["updated_at"].replace("Z", "+00:00"))


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6,
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(walks(), st.data())
def test_whatever_the_deployment_shows_the_file_validates(
    frames: list[tuple[dict[str, Any], bool]], data: st.DataObject
) -> None:
    """Fields the spec lacks, values its schema refuses, ids no URL holds, states it does not
    know: each is left out or written as a comment, never as something that does not load."""
    recording = Recording(BEGIN, "http://user:secret@deployment.test/api?key=1")
    names = st.sampled_from([*SPEC.job_fields, "extra", "id", "project_id", "state"])
    for index, (frame, _) in enumerate(frames):
        spoiled = dict(frame)
        for name, value in data.draw(st.dictionaries(names, JSON, max_size=3), label="spoiled").items():
            if name != "id":  # a different id is a different job
                spoiled[name] = value
        recording.saw(spoiled, index * 0.5)
    recording.saw({**frames[0][0], "id": data.draw(st.text(max_size=8), label="odd id")}, 0.0)
    for status in data.draw(st.lists(st.sampled_from([500, 502, None]), max_size=3), label="failures"):
        path = data.draw(st.sampled_from(["/v1/jobs/job_walk", "/v1/projects/p/jobs", "/nope", "/v1/jobs/"]))
        recording.failed(data.draw(st.sampled_from(["GET", "POST"])), path, status, 1.0, b'{"error": "x"}')
    options = Options(rename=data.draw(st.booleans(), label="rename"), redact=("error",))
    text = write_scenario(recording, SPEC, options)
    parse_scenario(text, SPEC, source="recorded.yaml")  # raises if it does not validate
    assert "secret" not in text and "key=1" not in text


def first_body(**fields: Any) -> dict[str, Any]:
    at = format_timestamp(BEGIN)
    return {"id": "job_a", "project_id": "proj_a", "organization_id": "org_a", "type": "deploy",
            "state": "pending", "attempts": 0, "max_attempts": 3, "created_at": at, "updated_at": at,
            **fields}  # fmt: skip


@pytest.mark.parametrize("line_break", ["\x85", "\u2028", "\u2029"])
def test_a_line_break_yaml_knows_but_json_does_not_is_kept_in_values_and_comments(line_break: str) -> None:
    recording = Recording(BEGIN, "http://deployment.test")
    recording.saw(first_body(type=f"de{line_break}ploy"), 0.0)
    recording.saw(first_body(id=f"job{line_break}b", project_id="no/project"), 0.0)  # written as a comment
    text = write_scenario(recording, SPEC)
    scenario = parse_scenario(text, SPEC, source="recorded.yaml")  # raises if it does not validate
    assert [job.fields["type"] for job in scenario.jobs] == [f"de{line_break}ploy"]
    assert f"# job job\\u{ord(line_break):04x}b: not replayed" in text


def test_an_empty_id_renamed_leaves_other_values_as_they_were() -> None:
    recording = Recording(BEGIN, "http://deployment.test")
    recording.saw(first_body(error="exit: 1 (job_a)"), 0.0)
    recording.saw(first_body(id=""), 0.0)
    text = write_scenario(recording, SPEC, Options(rename=True, redact=("type",)))
    jobs = parse_scenario(text, SPEC, source="recorded.yaml").jobs
    assert [job.id for job in jobs] == ["job_1", "job_2"]
    assert jobs[0].fields["error"] == "exit: 1 (job_1)"
    assert [job.fields["type"] for job in jobs] == ["[redacted]", "[redacted]"]
