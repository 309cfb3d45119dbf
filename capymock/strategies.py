"""Hypothesis strategies for Capy Jobs API data, built from the spec and its lifecycle.

Every job `jobs()` draws is valid under the spec's `Job` schema and is one the lifecycle can
produce, because it is made by walking legal transitions, not by filtering (`unreachable=True`
asks for the opposite, on purpose). Needs the
`hypothesis` extra: `pip install 'capymock[hypothesis]'`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

try:
    from hypothesis import strategies as st
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("capymock.strategies needs hypothesis: pip install 'capymock[hypothesis]'") from None

from capymock.core.auth import API_KEY_PREFIX
from capymock.core.defaults import DEFAULT_ORGANIZATION, DEFAULT_PROJECT, GENERATED_TYPES
from capymock.core.job import Job, compose_job
from capymock.core.lifecycle import Lifecycle
from capymock.core.reachability import oracle_for
from capymock.core.spec import JOB, Spec
from capymock.core.timestamps import format_timestamp
from capymock.core.transitions import legal_targets, shortest_path, transition
from capymock.system.specs import load_spec

__all__ = ["api_keys", "job_lists", "jobs"]

_EARLIEST = datetime(2020, 1, 1, tzinfo=UTC)
_LATEST = datetime(2030, 1, 1, tzinfo=UTC)
_IDS = st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
_STEP = st.integers(min_value=0, max_value=7200).map(lambda seconds: timedelta(seconds=seconds))


def jobs(
    *,
    state: str | None = None,
    project_id: str | None = None,
    organization_id: str | None = None,
    spec: Spec | None = None,
    unreachable: bool = False,
    mock: Any = None,
) -> st.SearchStrategy[dict[str, Any]]:
    """Jobs as the API sends them (all fields), optionally in one `state` or project.

    Each is made by walking the lifecycle's legal transitions from the initial state. By
    default a job is in the mock's default organization and project (`org_demo`,
    `proj_demo`); given a `mock` (a `capy_mock` handle), in its organization and one of its
    projects, so `mock.add_job(**job)` takes it and the mock's token reads it. With
    `unreachable=True`, each is such a job with one derived thing changed so that no walk
    produces it (valid under the schema, as odd data from a deployment may be): for consumer
    tests of what a client does with it.
    """
    spec = spec or load_spec()
    lifecycle = spec.lifecycle
    if state is not None and state not in lifecycle.states:
        raise ValueError(f"{state!r} is not a state; states: {', '.join(lifecycle.states)}")
    projects = _projects(project_id, mock)
    organization = _organization(organization_id, mock)
    walked = projects.flatmap(lambda project: _walked_jobs(spec, state, project, organization))
    if not unreachable:
        return walked
    oracle = oracle_for(spec)
    broken = st.tuples(walked, st.data()).map(lambda drawn: _broken(spec, drawn[0], drawn[1]))
    return broken.filter(lambda job: not oracle.explain(job).explained)


def _organization(organization_id: str | None, mock: Any) -> str:
    """The organization a job is drawn in: the one given, `mock`'s, or the default."""
    return organization_id or (mock.organization_id if mock is not None else DEFAULT_ORGANIZATION)


def _projects(project_id: str | None, mock: Any) -> st.SearchStrategy[str]:
    """The project a job is drawn in: the one given, one of `mock`'s, or the default."""
    if project_id is not None:
        return st.just(project_id)
    projects = mock.projects() if mock is not None else []
    return st.sampled_from(projects) if projects else st.just(DEFAULT_PROJECT)  # an empty mock makes it


def _broken(spec: Spec, job: dict[str, Any], data: st.DataObject) -> dict[str, Any]:
    """`job` with one thing the lifecycle derives changed: a counter, the nullness of a derived
    field, or a timestamp moved before the creation."""
    lifecycle = spec.lifecycle
    counter, limit = lifecycle.retry.counter, lifecycle.retry.limit
    derived = sorted(_managed(lifecycle) - {lifecycle.field, counter, limit})
    name = data.draw(st.sampled_from([counter, *derived]), label="changed field")
    if name == counter:
        value: Any = data.draw(
            st.integers(min_value=0, max_value=job[limit]).filter(lambda n: n != job[counter])
        )
    elif job.get(name) is not None:
        created = datetime.fromisoformat(job[JOB.created].replace("Z", "+00:00"))
        earlier = format_timestamp(created - timedelta(hours=1))
        if name in spec.required_job_fields:
            value = earlier  # a required field is never null: it moves instead
        else:
            value = data.draw(st.sampled_from([None, earlier])) if name in lifecycle.stamped else None
    else:
        value = format_timestamp(_LATEST) if name in lifecycle.stamped else "worker-" + data.draw(_IDS)
    return {**job, name: value}


@st.composite
def _walked_jobs(
    draw: st.DrawFn, spec: Spec, state: str | None, project_id: str, organization_id: str
) -> dict[str, Any]:
    lifecycle = spec.lifecycle
    moment = draw(
        st.datetimes(
            min_value=_EARLIEST.replace(tzinfo=None),
            max_value=_LATEST.replace(tzinfo=None),
            timezones=st.just(UTC),
        )
    )
    moment = moment.replace(microsecond=0)
    given = {
        JOB.project: project_id,
        JOB.type: draw(st.sampled_from([*GENERATED_TYPES, "preview"])),
        lifecycle.retry.limit: draw(st.integers(min_value=1, max_value=5)),
        **draw(_free_fields(spec)),
    }
    created = compose_job(
        spec,
        given,
        job_id="job_" + draw(_IDS),
        organization_id=organization_id,
        now=format_timestamp(moment),
    )
    job = created
    for _ in range(draw(st.integers(min_value=0, max_value=12))):
        targets = legal_targets(lifecycle, job)
        if not targets or (state is not None and job[lifecycle.field] == state and draw(st.booleans())):
            break
        moment += draw(_STEP)
        job = Job(transition(lifecycle, job, draw(st.sampled_from(targets)), format_timestamp(moment)))
    if state is not None and job[lifecycle.field] != state:
        # Go on to `state`; if the walk has used up its retries, walk there from the start.
        onward = _continue_to(lifecycle, job, state, moment, draw) or _continue_to(
            lifecycle, created, state, moment, draw
        )
        if onward is None:
            raise ValueError(f"the lifecycle has no legal path to {state!r}")
        job = onward
    return dict(job)


def _continue_to(lifecycle: Lifecycle, job: Job, goal: str, moment: datetime, draw: st.DrawFn) -> Job | None:
    """`job` walked on along a shortest legal path to `goal`; None if it cannot get there."""
    while job[lifecycle.field] != goal:
        step = _next_towards(lifecycle, job, goal)
        if step is None:
            return None
        moment += draw(_STEP)
        job = Job(transition(lifecycle, job, step, format_timestamp(moment)))
    return job


def _next_towards(lifecycle: Lifecycle, job: Job, goal: str) -> str | None:
    """The first state on a shortest legal path from `job`'s state to `goal`."""
    path = shortest_path(lifecycle, job[lifecycle.field], goal, first=legal_targets(lifecycle, job))
    return path[0] if path else None


def _managed(lifecycle: Lifecycle) -> set[str]:
    """Fields the lifecycle derives: walks set them, draws never do."""
    return {lifecycle.field, lifecycle.retry.counter, lifecycle.retry.limit, *lifecycle.derived}


def _free_fields(spec: Spec) -> st.SearchStrategy[dict[str, Any]]:
    """Optional fields nobody derives, each null or a value of its schema type."""
    managed = _managed(spec.lifecycle) | set(spec.required_job_fields)
    properties = spec.job_schema["properties"]
    optional = {name: _value_of(properties[name]) for name in spec.job_fields if name not in managed}
    return st.fixed_dictionaries({}, optional=optional)


def _value_of(schema: Mapping[str, Any]) -> st.SearchStrategy[Any]:
    kinds = schema.get("type", "string")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    options = {
        "null": st.none(),
        "integer": st.integers(min_value=-(2**31), max_value=2**31 - 1),
        "string": _TEXT,
        "boolean": st.booleans(),
    }
    return st.one_of(*[options[k] for k in kinds if k in options])


def job_lists(
    *,
    project_id: str | None = None,
    organization_id: str | None = None,
    min_size: int = 0,
    max_size: int = 25,
    spec: Spec | None = None,
    mock: Any = None,
) -> st.SearchStrategy[list[dict[str, Any]]]:
    """A project's jobs as `listProjectJobs` answers them: unique ids, newest first (the
    project and organization as `jobs()` chooses them)."""
    if not 0 <= min_size <= max_size:
        raise ValueError(f"need 0 <= min_size <= max_size, got {min_size} and {max_size}")
    spec = spec or load_spec()
    organization = _organization(organization_id, mock)
    return _projects(project_id, mock).flatmap(
        lambda project: _job_lists(project, organization, min_size, max_size, spec)
    )


@st.composite
def _job_lists(
    draw: st.DrawFn,
    project: str,
    organization: str,
    min_size: int,
    max_size: int,
    spec: Spec,
) -> list[dict[str, Any]]:
    one = jobs(project_id=project, organization_id=organization, spec=spec)
    drawn = draw(st.lists(one, min_size=min_size, max_size=max_size, unique_by=lambda job: job[JOB.id]))
    return sorted(drawn, key=lambda job: (job[JOB.created], job[JOB.id]), reverse=True)


def api_keys() -> st.SearchStrategy[str]:
    """API keys in the `capy_live_...` format."""
    return st.text("abcdefghijklmnopqrstuvwxyz0123456789_", min_size=8, max_size=40).map(
        lambda rest: API_KEY_PREFIX + rest
    )
