"""The ids and values a recorded file shows in place of the deployment's own: placeholders
for its ids (`--rename`), `[redacted]` for the fields it was told to keep out (`--redact`)."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote

from capymock.core.spec import JOB

REDACTED = "[redacted]"


def segment(value: Any) -> bool:
    """Whether `value` can be an id in a scenario (and a URL path)."""
    return isinstance(value, str) and bool(value) and "/" not in value


class Names:
    """Stable placeholders for organization, project and job ids (`--rename`), in first-seen
    order, and the fields whose values are redacted."""

    def __init__(self, rename: bool, redact: tuple[str, ...] = ()) -> None:
        self.rename, self.redact = rename, redact
        self._given: dict[tuple[str, str], str] = {}
        self._pattern: re.Pattern[str] | None = None
        self._by_id: dict[str, str] = {}

    def _name(self, kind: str, value: str, first: str | None = None) -> str:
        if not self.rename:
            return value
        key = (kind, value)
        if key not in self._given:
            count = sum(1 for k in self._given if k[0] == kind) + 1
            self._given[key] = first if first and count == 1 else f"{kind}_{count}"
        return self._given[key]

    def register(self, organization: str | None, projects: list[str], jobs: list[str]) -> None:
        """Hand out every placeholder up front, so ids are replaced the same everywhere."""
        if organization is not None:
            self.organization(organization)
        for project in projects:
            self.project(project)
        for job in jobs:
            self.job(job)
        self._pattern = None

    def shown(self, name: str, value: Any) -> Any:
        """The value of field `name` as the file shows it: redacted, its ids renamed."""
        return self.scrub(REDACTED if name in self.redact and value is not None else value)

    def scrub(self, value: Any) -> Any:
        """`value` with every registered id inside its strings replaced (`--rename`), at any depth.
        An empty id is never found inside a string (it would be found between any two characters)."""
        if not self.rename or not any(real for _, real in self._given):
            return value
        if isinstance(value, str):
            return self._scrub_text(value)
        if isinstance(value, list):
            return [self.scrub(item) for item in value]
        if isinstance(value, dict):
            return {key: self.scrub(item) for key, item in value.items()}
        return value

    def _scrub_text(self, text: str) -> str:
        if self._pattern is None:
            ids = sorted({real for _, real in self._given if real}, key=len, reverse=True)
            self._pattern = re.compile(r"(?<![\w-])(" + "|".join(map(re.escape, ids)) + r")(?![\w-])")
            self._by_id = {real: name for (_, real), name in self._given.items()}
        return self._pattern.sub(lambda found: self._by_id[found.group(1)], text)

    def organization(self, value: str) -> str:
        return self._name("org", value, "org_recorded")

    def project(self, value: str) -> str:
        return self._name("proj", value)

    def job(self, value: str) -> str:
        return self._name("job", value)


def renamed_path_id(job_field: str | None, value: str, names: Names) -> str:
    """The id `value` of a path parameter naming `job_field` (a project, a job) as the file shows it."""
    if not names.rename:
        return value
    name = unquote(value)
    return (
        names.project(name) if job_field == JOB.project else names.job(name) if job_field == JOB.id else value
    )
