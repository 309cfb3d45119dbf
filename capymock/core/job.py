"""An immutable job record (fields in the spec's order, cached JSON), and new records with
the defaults filled in."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from datetime import datetime
from typing import Any

from capymock.core.spec import JOB, Spec
from capymock.core.timestamps import parse_timestamp
from capymock.core.transitions import fill_in

DEFAULT_JOB_TYPE = "task"
DEFAULT_MAX_ATTEMPTS = 3


class Job(Mapping[str, Any]):
    """A read-only snapshot of one job.

    Records are never changed in place: a change makes a new `Job`, so a reader holding
    one always sees a consistent job. The JSON encoding is computed once and reused by
    every response that carries the job.
    """

    __slots__ = ("_fields", "_json", "_sort_key")

    def __init__(self, fields: Mapping[str, Any]) -> None:
        self._fields = dict(fields)
        self._json: bytes | None = None
        self._sort_key: tuple[datetime, str] | None = None

    def __getitem__(self, name: str) -> Any:
        return self._fields[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._fields)

    def __len__(self) -> int:
        return len(self._fields)

    def __repr__(self) -> str:
        return f"Job({self._fields!r})"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Job):
            return self._fields == other._fields
        return NotImplemented if not isinstance(other, Mapping) else self._fields == dict(other)

    __hash__ = None  # type: ignore[assignment]

    @property
    def id(self) -> str:
        return str(self._fields[JOB.id])

    @property
    def json(self) -> bytes:
        """The compact JSON encoding of the job."""
        if self._json is None:
            self._json = json.dumps(self._fields, separators=(",", ":"), ensure_ascii=False).encode()
        return self._json

    @property
    def sort_key(self) -> tuple[datetime, str]:
        """(created_at, id): list order is this key, descending."""
        if self._sort_key is None:
            self._sort_key = (parse_timestamp(self._fields[JOB.created]), self.id)
        return self._sort_key

    def to_dict(self) -> dict[str, Any]:
        """A plain, mutable copy of the fields."""
        return dict(self._fields)


def encode(value: Any) -> bytes:
    """Compact JSON for a response body, reusing each `Job`'s cached encoding."""
    if type(value) is Job:
        return value.json
    if isinstance(value, dict):
        items = (json.dumps(str(k)).encode() + b":" + encode(v) for k, v in value.items())
        return b"{" + b",".join(items) + b"}"
    if isinstance(value, (list, tuple)):
        return b"[" + b",".join([v.json if type(v) is Job else encode(v) for v in value]) + b"]"
    return json.dumps(value, ensure_ascii=False).encode()


def plain(value: Any) -> Any:
    """The JSON value that `encode(value)` writes, each `Job` as its field dict (shared: read only)."""
    if isinstance(value, Job):
        return value._fields
    if isinstance(value, dict):
        return {key: plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    return value


def segment_problem(value: Any) -> str | None:
    """Why `value` cannot be a job or project id (None: it can): ids go in URL paths
    (`/v1/jobs/{jobID}`), so they are non-empty strings without `/`."""
    if not isinstance(value, str) or not value:
        return "must be a non-empty string"
    if "/" in value:
        return "cannot contain '/' (it goes in a URL path)"
    return None


def compose_job(spec: Spec, given: Mapping[str, Any], *, job_id: str, organization_id: str, now: str) -> Job:
    """A new job from the fields `given`, every other field defaulted or derived.

    Defaults: `job_id`, the lifecycle's initial state, 0 attempts, 3 max_attempts, type
    "task", `created_at` now. A job given a later state gets what its lifecycle would have
    derived on the shortest way there. Nothing is checked here.
    """
    lifecycle = spec.lifecycle
    created = given.get(JOB.created) or now
    defaults: dict[str, Any] = dict.fromkeys(spec.job_fields)
    defaults[JOB.id] = job_id
    defaults[JOB.organization] = organization_id
    defaults[JOB.type] = DEFAULT_JOB_TYPE
    defaults[JOB.created] = defaults[JOB.updated] = created
    defaults[lifecycle.retry.counter] = 0
    defaults[lifecycle.retry.limit] = DEFAULT_MAX_ATTEMPTS
    return Job(fill_in(lifecycle, defaults, given, created))
