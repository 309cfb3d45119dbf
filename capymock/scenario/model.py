"""A scenario as data: organizations, projects, keys, scripted jobs and faults, checked and frozen.

The loader makes these from files; the world plays them. Nothing here reads a file.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from capymock.core.spec import JOB

DocPath = tuple[str | int, ...]
"""Where a value sits in a document: `("jobs", 0, "steps", 3, "state")`."""


@dataclass(frozen=True)
class Step:
    """One scripted move of a job: to `state`, after a time or a number of reads."""

    state: str
    after: timedelta | None = None
    after_polls: int | None = None
    fields: Mapping[str, Any] = field(default_factory=dict)
    age: timedelta | None = None
    """Taken this long before the scenario's start (a step of the job's past)."""
    origin: DocPath = ()
    """Where the step sits in the scenario document."""


@dataclass(frozen=True)
class ScriptedJob:
    """A job of a scenario: its fixed fields, when it appears, and its steps after the first."""

    fields: Mapping[str, Any]
    """Job fields: id, project_id and any others the scenario gives."""
    age: timedelta
    """Created this long before the scenario's start."""
    first: Step
    """The state it is created in; `first.after` delays its creation past the start."""
    steps: tuple[Step, ...] = ()
    origin: DocPath = ()
    generated: bool = False
    history: tuple[Step, ...] = ()
    """Steps taken before the start, oldest first (each with an `age`): the job is already
    through them when the scenario starts."""

    @property
    def id(self) -> str:
        return str(self.fields[JOB.id])

    @property
    def project_id(self) -> str:
        return str(self.fields[JOB.project])


@dataclass(frozen=True)
class TokenGrant:
    """An API key a scenario declares: organization-wide, or scoped to one project."""

    token: str
    project: str | None = None


@dataclass(frozen=True)
class Fault:
    """An injected failure or latency for requests that match."""

    method: str | None = None
    path: str | None = None
    operation: str | None = None
    query: Mapping[str, str] = field(default_factory=dict)
    status: int | None = None
    delay: timedelta = timedelta(0)
    times: int | None = None
    body: Any = None
    origin: DocPath = ()


@dataclass(frozen=True)
class Scenario:
    """A parsed, checked scenario."""

    name: str
    description: str
    source: str
    start: datetime | None
    organization: str
    projects: tuple[str, ...]
    tokens: tuple[TokenGrant, ...]
    jobs: tuple[ScriptedJob, ...]
    faults: tuple[Fault, ...]
    starts_now: bool = False
    """`start: now`: the clock starts at the real time of the load."""
    size: int = 0
    """Bytes of the text it was parsed from (0: not parsed from text)."""
