"""Operations as the spec declares them, each with its role: lists jobs, reads one, changes one.

A role is read from the operation itself, never from its operationId: the method (safe or
not), the 200 body's envelope (the one property it requires) and whether that holds a `Job`
or an array of them (`$ref` to the `Job` schema), and which `Job` field each path parameter
names (`projectID` is `project_id`, `jobID` the job's `id`). Handlers, the contract's probes
and checks, the recorder and the banner ask these, so an operation added to `openapi.yaml`
is served, checked and recorded by its role.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any
from urllib.parse import quote

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
"""Methods that only read (RFC 9110, 9.2.1): the only ones a contract run sends by default."""


class Role(Enum):
    """What an operation does with jobs, as its method and 200 body say."""

    LISTS = "lists jobs"
    READS = "reads a job"
    CHANGES = "changes a job"
    OTHER = "shows no job"


@dataclass(frozen=True)
class Parameter:
    """One declared parameter of an operation."""

    name: str
    location: str
    required: bool
    schema: Mapping[str, Any]


@dataclass(frozen=True)
class Operation:
    """One method on one path, as the spec declares it, with its role."""

    operation_id: str
    method: str
    path: str
    parameters: tuple[Parameter, ...]
    responses: Mapping[int, Mapping[str, Any] | None]
    """Status code -> JSON Schema of its `application/json` body (None: no JSON body)."""
    security_schemes: tuple[str, ...]
    """Names of the security schemes the operation accepts; empty means no auth."""
    envelope: str | None = None
    """The one property its 200 body wraps the answer in (`jobs`, `job`), if it has exactly one."""
    role: Role = Role.OTHER
    path_fields: Mapping[str, str] = field(default_factory=dict)
    """Path parameter -> the `Job` field it names (`projectID` -> `project_id`, `jobID` -> `id`)."""

    @property
    def label(self) -> str:
        """`GET /v1/jobs/{jobID}`: the operation as reports name it."""
        return f"{self.method} {self.path}"

    @property
    def safe(self) -> bool:
        """Whether the method only reads (GET, HEAD, ...): the contract may send it to a deployment."""
        return self.method in SAFE_METHODS

    def documents(self, status: int) -> bool:
        """Whether the spec lists `status` for this operation."""
        return status in self.responses

    @functools.cached_property
    def header_names(self) -> tuple[str, ...]:
        """The names of its header parameters."""
        return tuple(p.name for p in self.parameters if p.location == "header")

    def parameter(self, name: str) -> Parameter | None:
        """Its parameter called `name`, or None."""
        return next((p for p in self.parameters if p.name == name), None)

    def parameter_for(self, job_field: str) -> str | None:
        """The path parameter that names `job_field` (`project_id` -> `projectID`), or None."""
        return next((name for name, named in self.path_fields.items() if named == job_field), None)

    @functools.cached_property
    def page_size(self) -> Parameter | None:
        """A list's page size: its integer query parameter with bounds or a default (`limit`)."""
        if self.role is not Role.LISTS:
            return None
        return next(
            (
                p
                for p in self.parameters
                if p.location == "query"
                and p.schema.get("type") == "integer"
                and any(key in p.schema for key in ("maximum", "minimum", "default"))
            ),
            None,
        )

    def fill(self, values: Mapping[str, str]) -> str:
        """Its path with each `{name}` replaced by `values[name]`, percent-encoded."""
        path = self.path
        for name, value in values.items():
            path = path.replace("{" + name + "}", quote(value, safe=""))
        return path

    def fill_fields(self, values: Mapping[str, str]) -> str:
        """Its path with each parameter replaced by the value of the `Job` field it names
        (`{project_id: "p"}` fills `{projectID}`); a parameter without a value stays as it is."""
        return self.fill({name: values[named] for name, named in self.path_fields.items() if named in values})

    def jobs_in(self, body: Any) -> Iterator[tuple[str, Any]]:
        """(JSON path, job) for each job its 2xx `body` shows, read from its envelope by its role;
        nothing for an operation that shows no job, or a body of another shape."""
        if self.role is Role.OTHER or self.envelope is None or not isinstance(body, Mapping):
            return
        value = body.get(self.envelope)
        if self.role is Role.LISTS:
            if isinstance(value, list):
                yield from ((f"{self.envelope}[{index}]", job) for index, job in enumerate(value))
        elif value is not None:
            yield self.envelope, value


def classify(
    method: str, envelope_schema: Any, is_job: Any, path: str, job_name: str, job_fields: tuple[str, ...]
) -> tuple[Role, dict[str, str]]:
    """The role of `method path` whose 200 envelope property has `envelope_schema`, and the
    `Job` field each path parameter names.

    Args:
        is_job: tells whether a (possibly `$ref`) schema is the `Job` schema.
        job_name: the `Job` schema's name, so `{jobID}` or `{job_id}` names the job's own id.
    """
    role = Role.OTHER
    if is_job(envelope_schema):
        role = Role.READS if method in SAFE_METHODS else Role.CHANGES
    elif (
        isinstance(envelope_schema, Mapping)
        and envelope_schema.get("type") == "array"
        and is_job(envelope_schema.get("items"))
        and method in SAFE_METHODS
    ):
        role = Role.LISTS
    return role, path_fields(path, job_name, job_fields)


_TEMPLATE = re.compile(r"\{([^{}]+)\}")


def path_fields(path: str, job_name: str, job_fields: tuple[str, ...]) -> dict[str, str]:
    """Path parameter -> the `Job` field it names, matched by letters and digits alone, ignoring
    case: `projectID` names `project_id`; `jobID` (the schema's name and `id`) names `id`."""
    by_key = {_key(name): name for name in job_fields}
    if "id" in job_fields:
        by_key.setdefault(_key(job_name + "id"), "id")
    found = {}
    for name in _TEMPLATE.findall(path):
        named = by_key.get(_key(name))
        if named is not None:
            found[name] = named
    return found


def _key(name: str) -> str:
    return "".join(char for char in name.lower() if char.isalnum())
