"""capymock's own checks, registered with schemathesis as check classes.

Schemathesis builds one instance of each per run, handing it that run's `RunContext` (through
the run's configuration), so the checks close over the run's `Spec` and what it has seen: no
state is kept between runs or keyed by anything global. Registered but not configured (a
schemathesis run of someone else's in the same process), they check nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import schemathesis

from capymock.contract import rules
from capymock.contract.rules import Finding, Findings
from capymock.core.operations import Operation, Role
from capymock.core.reachability import oracle_for
from capymock.core.spec import JOB, Spec

MAX_KEPT = 10_000
"""Jobs a run remembers (what lists said of them, their latest read), the latest seen kept."""


@dataclass
class RunContext:
    """What one contract run's checks share: the spec, the listed jobs, and what was seen."""

    spec: Spec
    listed: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Job id -> the project and organization a list showed it with."""
    jobs_checked: int = 0
    """Job bodies seen in 2xx answers (a run that saw none has checked no `Job`)."""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _last: tuple[Any, Any] = (None, None)
    """The last response read, and its body: every check reads the same answer in turn."""

    def body(self, response: Any) -> Any:
        """`body_of(response)`, read once for all the checks of one answer."""
        with self.lock:
            if self._last[0] is not response:
                self._last = (response, body_of(response))
            return self._last[1]

    seen: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    """Job id -> the latest read of it that the lifecycle explains."""

    def observe(self, jobs: Iterable[tuple[str, Any]]) -> list[Finding]:
        """Join each job read with the read of it before, in the order the answers came (a job
        the lifecycle does not explain is `JobExplained`'s to report, and is not kept)."""
        found = []
        oracle = oracle_for(self.spec)
        with self.lock:
            for path, job in jobs:
                identifier = rules.job_id(job)
                if identifier is None or not oracle.explain(job).explained:
                    continue
                before = self.seen.pop(identifier, None)
                if before is not None:
                    found += rules.joined(self.spec, path, before, job)
                self.seen[identifier] = job  # the next read is judged against this one
                if len(self.seen) > MAX_KEPT:  # a deployment's ids are many: the oldest read goes
                    del self.seen[next(iter(self.seen))]
        return found

    def remember(self, jobs: Iterable[Any]) -> None:
        """What a list said of each job, for the read-back checks."""
        with self.lock:
            for job in jobs:
                identifier = rules.job_id(job)
                if identifier is not None:
                    self.listed.pop(identifier, None)
                    self.listed[identifier] = {f: job.get(f) for f in (JOB.project, JOB.organization)}
                    if len(self.listed) > MAX_KEPT:
                        del self.listed[next(iter(self.listed))]


def operation_id(case: Any) -> str | None:
    value = case.operation.definition.raw.get("operationId")
    return value if isinstance(value, str) else None


def operation_of(run: RunContext, case: Any) -> Operation | None:
    """The spec's operation a schemathesis case called (None: one the spec does not have)."""
    identifier = operation_id(case)
    return run.spec.find_operation(identifier) if identifier is not None else None


def listing_of(run: RunContext, case: Any, response: Any) -> Operation | None:
    """The operation of a 200 answer that lists jobs (None: another answer)."""
    operation = operation_of(run, case)
    return (
        operation
        if operation is not None and operation.role is Role.LISTS and response.status_code == 200
        else None
    )


def body_of(response: Any) -> Any:
    """The response's body as JSON (RFC 8259: no `NaN` or `Infinity`), or None when it is not."""
    return _parsed(_text(response))[0]


def not_json(response: Any) -> str | None:
    """Why the response's body is not JSON, with where the reader stopped; None when it is."""
    return _parsed(_text(response))[1]


def _parsed(text: str) -> tuple[Any, str | None]:
    """`text` read as JSON, and None; or None, and why it is not JSON."""
    try:
        return json.loads(text, parse_constant=_no_constant), None
    except _Constant as exc:
        at = text.find(exc.name)
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        return None, f"{exc.name} is not a JSON value: line {line} column {column} (char {at})"
    except ValueError as exc:
        return None, str(exc)


def _text(response: Any) -> str:
    content = getattr(response, "content", None)
    if isinstance(content, bytes):
        return content.decode("utf-8", "replace")
    return content if isinstance(content, str) else str(getattr(response, "text", ""))


class _Constant(ValueError):
    """`NaN`, `Infinity` or `-Infinity`: Python's JSON reader takes them, JSON does not."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.name = name


def _no_constant(name: str) -> Any:
    raise _Constant(name)


class _CapymockCheck:
    """Runs `findings()` on every response of a configured run; raises them as one failure."""

    check_name = ""
    """The name reports use (schemathesis knows the check by its class name)."""

    def __init__(self, run: RunContext | None = None) -> None:
        self.run = run

    def after_response(self, ctx: Any, response: Any, case: Any) -> bool | None:
        """None: checked and kept; True: not for this response (schemathesis counts it skipped)."""
        if self.run is None:
            return True
        found = self.findings(self.run, response, case, self.run.body(response))
        if found is None:
            return True
        if found:
            raise Findings(found)
        return None

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        """What this answer breaks (None: the check does not apply to it)."""
        raise NotImplementedError


@schemathesis.check
class JobExplained(_CapymockCheck):
    """Every job in a 2xx answer is one some walk of the spec's `x-lifecycle` produces."""

    check_name = rules.EXPLAINED

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        if not 200 <= response.status_code < 300:
            return None
        operation = operation_of(run, case)
        jobs = list(operation.jobs_in(body)) if operation is not None else []
        with run.lock:
            run.jobs_checked += sum(1 for _, job in jobs if isinstance(job, Mapping))
        if operation is not None and operation.role is Role.LISTS:
            run.remember(job for _, job in jobs)
        return rules.explained_jobs(run.spec, jobs)


@schemathesis.check
class ReadsJoined(_CapymockCheck):
    """Each read of a job in a run is joined to the one before by legal moves of the lifecycle."""

    check_name = rules.JOINED

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        operation = operation_of(run, case)
        if operation is None or not 200 <= response.status_code < 300:
            return None
        return run.observe(operation.jobs_in(body))


@schemathesis.check
class ListDistinct(_CapymockCheck):
    """A list holds each job once."""

    check_name = rules.DISTINCT

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        listing = listing_of(run, case, response)
        return None if listing is None else rules.distinct(listing, body)


@schemathesis.check
class LimitHonoured(_CapymockCheck):
    """A list holds at most `limit` jobs (at most the default without one)."""

    check_name = rules.LIMIT

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        listing = listing_of(run, case, response)
        return None if listing is None else rules.limit(listing, case.query or {}, body)


@schemathesis.check
class NewestFirst(_CapymockCheck):
    """A list is ordered newest `created_at` first, ties by `id` descending."""

    check_name = rules.ORDER

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        listing = listing_of(run, case, response)
        return None if listing is None else rules.order(listing, body)


@schemathesis.check
class ListMembership(_CapymockCheck):
    """A project's list holds only that project's jobs, of one organization."""

    check_name = rules.MEMBERSHIP

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        listing = listing_of(run, case, response)
        if listing is None:
            return None
        project = (case.path_parameters or {}).get(listing.parameter_for(JOB.project) or "")
        return rules.membership(listing, project if isinstance(project, str) else None, body)


@schemathesis.check
class ExclusiveLocks(_CapymockCheck):
    """No two running jobs of a list hold the same `locked_resource`."""

    check_name = rules.LOCKS

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        listing = listing_of(run, case, response)
        return None if listing is None else rules.locks(run.spec, listing, body)


@schemathesis.check
class ListedJobReadsBack(_CapymockCheck):
    """Reading a listed job answers that job (not a 404), with the project and organization listed."""

    check_name = rules.READ_BACK

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        reading = operation_of(run, case)
        if reading is None or reading.role is not Role.READS or response.status_code not in (200, 404):
            return None
        requested = (case.path_parameters or {}).get(reading.parameter_for(JOB.id) or "")
        requested = requested if isinstance(requested, str) else None
        with run.lock:
            seen = run.listed.get(requested) if requested is not None else None
        listed = {requested: seen} if requested is not None and seen is not None else {}
        if response.status_code == 404:
            return rules.missing(listed, requested)
        return rules.read_back(listed, requested, body, reading)


@schemathesis.check
class AuthChallenge(_CapymockCheck):
    """A 401 names its scheme (`WWW-Authenticate`) and has an `{"error"}` JSON body."""

    check_name = rules.AUTH

    def findings(self, run: RunContext, response: Any, case: Any, body: Any) -> list[Finding] | None:
        if response.status_code != 401:
            return None
        return rules.challenge(response.status_code, response.headers, body)


OWN_CHECKS = (
    JobExplained,
    ReadsJoined,
    ListDistinct,
    LimitHonoured,
    NewestFirst,
    ListMembership,
    ExclusiveLocks,
    ListedJobReadsBack,
    AuthChallenge,
)
