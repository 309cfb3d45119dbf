"""The capymock error tree, and where in a user's file an error sits.

CapymockError
├── SpecError            openapi.yaml cannot be read or is not what capymock needs
├── ScenarioError        a scenario file (or fault) that cannot be loaded; `problems` says where
├── InvalidJob           job fields break the `Job` schema or a lifecycle invariant
├── IllegalTransition    a state change the lifecycle does not allow
├── MockDefect           the mock answered against its own spec, or crashed, while serving
├── OverBudget           a server-wide budget would be crossed (what live sessions hold)
└── ContractError        `capymock contract` could not run: bad arguments, deployment unreachable
"""

from __future__ import annotations

from dataclasses import dataclass


class CapymockError(Exception):
    """Base class of every error capymock raises on purpose."""


@dataclass(frozen=True)
class SourceLocation:
    """A place in a user's file: 1-based line and column."""

    path: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


class SpecError(CapymockError):
    """The OpenAPI document cannot be loaded, or lacks what capymock reads from it."""


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a user's file: where, at which path in the document, and what."""

    location: SourceLocation | None
    path: str
    message: str

    def __str__(self) -> str:
        where = f"{self.location}: " if self.location is not None else ""
        return f"{where}{self.path}: {self.message}" if self.path else f"{where}{self.message}"

    def to_dict(self) -> dict[str, object]:
        place = self.location
        return {
            "file": place.path if place else None,
            "line": place.line if place else None,
            "column": place.column if place else None,
            "path": self.path,
            "message": self.message,
            "text": str(self),
        }

    @classmethod
    def from_dict(cls, raw: dict[str, object]) -> Problem:
        """The problem `to_dict()` wrote."""
        file, line, column = raw.get("file"), raw.get("line"), raw.get("column")
        where = None
        if isinstance(file, str) and file:
            where = SourceLocation(
                file, line if isinstance(line, int) else 0, column if isinstance(column, int) else 0
            )
        return cls(where, str(raw.get("path", "")), str(raw.get("message", "")))


class ScenarioError(CapymockError):
    """A scenario that cannot be loaded. `problems` lists each one with its location."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


class InvalidJob(CapymockError):
    """Job fields that break the `Job` schema or one of the lifecycle invariants."""


class MockDefect(CapymockError):
    """The mock broke its own contract while serving a request (a response off its spec, or a crash).

    Raised in the test that owns the mock (when its `serve()` block ends, or by `Mock.check()`),
    because an error on the server thread must not pass unnoticed.
    """


class OverBudget(CapymockError):
    """A server-wide budget would be crossed: the jobs, or bytes of scenario text, its live sessions hold."""


class IllegalTransition(CapymockError):
    """A job asked to move to a state its lifecycle does not allow from where it is."""

    def __init__(
        self, job_id: str, from_state: str, to_state: str, legal: tuple[str, ...], reason: str = ""
    ) -> None:
        self.job_id, self.from_state, self.to_state, self.legal = job_id, from_state, to_state, legal
        self.reason = reason
        super().__init__(f"job {job_id!r} {self.explanation}")

    @property
    def explanation(self) -> str:
        """Why the move is refused, without the job: `cannot go from 'a' to 'b'; legal next states: ...`."""
        targets = ", ".join(self.legal) if self.legal else "none, it is final"
        why = f"; {self.reason}" if self.reason else ""
        return f"cannot go from {self.from_state!r} to {self.to_state!r}{why}; legal next states: {targets}"


class ContractError(CapymockError):
    """A contract run could not start or go on: bad arguments, or the deployment is unreachable."""
