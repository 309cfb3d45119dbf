"""Contract checks of a live deployment against `openapi.yaml`, built on schemathesis 4.

`run_contract()` sends each operation of the spec generated valid and invalid requests, the
deployment's real projects and jobs, and requests without or with a garbage token; every
response goes through schemathesis' built-in checks and capymock's own (lifecycle
invariants, `limit`, list order). Only the spec's operations are called, at a bounded rate
and for a bounded time, and the token is never printed. Needs the `contract` extra.
"""

from __future__ import annotations

import contextlib
import random
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

try:
    import requests
    import schemathesis
    from hypothesis import HealthCheck, Phase, given, settings
    from hypothesis import seed as hypothesis_seed
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import CHECKS, load_all_checks
    from schemathesis.core.failures import FailureGroup
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("capymock contract needs schemathesis: pip install 'capymock[contract]'") from None

from capymock.contract import checks as contract_checks
from capymock.contract.report import ContractReport, Violation
from capymock.core.auth import redact
from capymock.core.spec import GET_JOB, JOB, LIST_JOBS, Spec, load_spec
from capymock.errors import ContractError

BUILT_IN_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
)
ONCE_PER_OPERATION = ("ignored_auth",)
AUTH_CHECK = "auth_required"
REAL_DATA_CHECK = "real_data_reachable"
GARBAGE_TOKEN = "capymock-contract-not-a-token"
DEFAULT_RATE = "10/s"


def parse_rate(rate: str | float | None) -> float | None:
    """Requests per second from "10/s", "300/m", "2" (None or "0": unlimited)."""
    if rate is None:
        return None
    text = str(rate).strip()
    number, _, unit = text.partition("/")
    per = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0}.get(unit.strip())
    try:
        value = float(number)
    except ValueError:
        value = -1.0
    if per is None or value < 0:
        raise ContractError(f"--rate-limit {text!r}: expected a rate like 10/s, 300/m or 5")
    return value / per if value else None


@dataclass
class _Pacer:
    """At most `rate` requests a second, and nothing after the deadline."""

    rate: float | None
    deadline: float
    _next: float = 0.0

    def wait(self) -> bool:
        now = time.monotonic()
        if now >= self.deadline:
            return False
        if self.rate:
            if self._next > now:
                time.sleep(self._next - now)
            self._next = max(now, self._next) + 1.0 / self.rate
        return True


class _OutOfTime(Exception):
    pass


def run_contract(
    base_url: str,
    token: str,
    *,
    project_id: str | None = None,
    job_id: str | None = None,
    max_examples: int = 25,
    seed: int | None = None,
    rate_limit: str | float | None = DEFAULT_RATE,
    max_time: float = 300.0,
    spec: str | Path | None = None,
    timeout: float = 10.0,
) -> ContractReport:
    """Check a deployment at `base_url` against the spec; see the module docstring.

    Raises:
        ContractError: bad arguments, an unusable spec, or a deployment that cannot be reached.
    """
    if max_examples < 1:
        raise ContractError("--max-examples must be at least 1")
    if not token or any(not char.isprintable() or char.isspace() for char in token):
        raise ContractError("the token is empty or holds a space, line break or control character")
    loaded = load_spec(spec)
    runner = _Runner(
        loaded,
        base_url.rstrip("/"),
        token,
        seed if seed is not None else random.randrange(2**32),
        _Pacer(parse_rate(rate_limit), time.monotonic() + max_time),
        timeout,
    )
    return runner.run(project_id, job_id, max_examples)


class _Runner:
    def __init__(
        self, spec: Spec, base_url: str, token: str, seed: int, pacer: _Pacer, timeout: float
    ) -> None:
        self.spec, self.base_url, self.token, self.pacer, self.timeout = spec, base_url, token, pacer, timeout
        self.schema = schemathesis.openapi.from_path(spec.source)
        self.schema.config.update(base_url=base_url)
        # The token is sent on every request; auth itself is checked by ignored_auth and
        # auth_required, so generated invalid data never drops or mangles it.
        self.schema.config.generation.with_security_parameters = False
        contract_checks.bind(self.schema, spec)
        self.operations = {op.definition.raw.get("operationId"): op for op in _operations(self.schema)}
        self.checks = _checks()
        self.session = requests.Session()
        self.report = ContractReport(base_url, seed)
        self.auth = {"Authorization": f"Bearer {token}"}
        self.once_done: set[tuple[str, str]] = set()

    def run(self, project_id: str | None, job_id: str | None, max_examples: int) -> ContractReport:
        started = time.monotonic()
        try:
            self.probe()
            real_ids = self.real_data(project_id, job_id)
            for operation in self.operations.values():
                self.auth_negatives(operation, real_ids)
            for operation in self.operations.values():
                for mode in (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE):
                    self.generated(operation, mode, max_examples)
        except _OutOfTime:
            self.report.stopped_early = "stopped at the time limit"
        finally:
            self.session.close()
        self.report.seconds = time.monotonic() - started
        return self.report

    # -- sending ----------------------------------------------------------------------

    def send(self, case: Any, headers: dict[str, str] | None = None) -> Any:
        if not self.pacer.wait():
            raise _OutOfTime
        self.report.requests += 1
        try:
            return case.call(
                session=self.session, headers=self.auth if headers is None else headers, timeout=self.timeout
            )
        except requests.ConnectionError as exc:
            raise ContractError(f"cannot connect to {self.base_url}: {_reason(exc)}") from None

    def probe(self) -> None:
        """One request first, so an unreachable deployment is one clear error."""
        try:
            self.session.get(self.base_url + "/", timeout=self.timeout)
        except requests.RequestException as exc:
            raise ContractError(f"cannot connect to {self.base_url}: {_reason(exc)}") from None

    # -- checking ---------------------------------------------------------------------

    def validate(self, case: Any, response: Any, checks: Iterable[Any]) -> None:
        label = case.operation.label
        operation_id = case.operation.definition.raw.get("operationId")
        for check in checks:
            name = check.__name__
            if contract_checks.ONLY_FOR.get(check, operation_id) != operation_id:
                continue
            if name in ONCE_PER_OPERATION:
                if (label, name) in self.once_done:
                    continue
                self.once_done.add((label, name))
            try:
                case.validate_response(response, checks=[check], headers=self.auth)
            except FailureGroup as group:
                for failure in group.exceptions:
                    self.violation(case, name, _failure_text(failure), response)
            except AssertionError as exc:
                self.violation(case, name, str(exc), response)
            else:
                self.report.passed(label, name)

    def violation(self, case: Any, check: str, message: str, response: Any, headers: str = "token") -> None:
        status = getattr(response, "status_code", None)
        # The token goes before anything is cut: a token cut in half would survive a later scrub.
        excerpt = _excerpt(self.scrub(getattr(response, "text", ""))) if response is not None else ""
        self.report.violated(
            Violation(
                case.operation.label,
                check,
                self.scrub(message),
                status,
                excerpt,
                self.curl(case, headers),
            )
        )

    def curl(self, case: Any, headers: str) -> str:
        query = f"?{urlencode(case.query, doseq=True)}" if case.query else ""
        url = f"{self.base_url}{case.formatted_path}{query}"
        auth = {
            "token": ' -H "Authorization: Bearer $CAPY_TOKEN"',
            "none": "",
            "garbage": f" -H 'Authorization: Bearer {GARBAGE_TOKEN}'",
        }[headers]
        return f"curl -i{auth} '{url}'"

    def scrub(self, text: str) -> str:
        return text.replace(self.token, redact(self.token)) if self.token else text

    # -- the three kinds of requests --------------------------------------------------

    def generated(self, operation: Any, mode: Any, max_examples: int) -> None:
        """Schemathesis-generated cases for one operation in one mode (valid or invalid data)."""

        @hypothesis_seed(self.report.seed)
        @settings(
            max_examples=max_examples,
            database=None,
            deadline=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(operation.as_strategy(generation_mode=mode))
        def one(case: Any) -> None:
            self.validate(case, self.send(case), self.checks)

        with contextlib.suppress(Unsatisfiable):  # e.g. no invalid value for a free-form string parameter
            one()

    def real_data(self, project_id: str | None, job_id: str | None) -> list[str]:
        """Check the deployment's own project and jobs; return job ids to use elsewhere."""
        listing, getting = self.operations.get(LIST_JOBS), self.operations.get(GET_JOB)
        ids: list[str] = []
        if project_id and listing is not None:
            for query in ({}, {"limit": 1}, {"limit": 100}):
                case = listing.Case(path_parameters={"projectID": project_id}, query=query)
                response = self.send(case)
                self.expect_ok(case, response, f"project {project_id!r}")
                envelope = self.spec.operation(LIST_JOBS).envelope or ""
                jobs = _json(response).get(envelope, []) if response.status_code == 200 else []
                ids += [
                    job[JOB.id] for job in jobs if isinstance(job, dict) and isinstance(job.get(JOB.id), str)
                ]
        ids = list(dict.fromkeys(([job_id] if job_id else []) + ids))[:10]
        if getting is None:
            return ids
        for identifier in ids:
            case = getting.Case(path_parameters={"jobID": identifier})
            self.expect_ok(case, self.send(case), f"job {identifier!r}")
        return ids

    def expect_ok(self, case: Any, response: Any, what: str) -> None:
        if response.status_code == 200:
            self.report.passed(case.operation.label, REAL_DATA_CHECK)
        else:
            self.violation(case, REAL_DATA_CHECK, f"expected 200 for the given {what}", response)
        self.validate(case, response, self.checks)

    def auth_negatives(self, operation: Any, real_ids: list[str]) -> None:
        """No token and a garbage token must both get 401 with an {"error"} body."""
        if not operation.security:
            return
        parameters = {
            p.name: real_ids[0] if real_ids else "capymock-contract" for p in operation.path_parameters
        }
        case = operation.Case(path_parameters=parameters)
        for kind, headers in (("none", {}), ("garbage", {"Authorization": f"Bearer {GARBAGE_TOKEN}"})):
            response = self.send(case, headers=headers)
            body = _json(response)
            if response.status_code == 401 and isinstance(body.get("error"), str):
                self.report.passed(operation.label, AUTH_CHECK)
                continue
            who = "no token" if kind == "none" else "a garbage token"
            self.violation(
                case, AUTH_CHECK, f'expected 401 with an {{"error"}} body for {who}', response, kind
            )


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _checks() -> list[Any]:
    load_all_checks()
    by_name = {getattr(check, "__name__", ""): check for check in CHECKS.get_all()}
    wanted = (*BUILT_IN_CHECKS, *ONCE_PER_OPERATION)
    return [by_name[name] for name in wanted if name in by_name] + list(contract_checks.OWN_CHECKS)


def _failure_text(failure: Any) -> str:
    """The failure's title and the gist of its message (schemathesis adds schema and value dumps)."""
    title = getattr(failure, "title", "") or type(failure).__name__
    kept: list[str] = []
    for line in (getattr(failure, "message", "") or str(failure)).splitlines():
        if line.startswith(("Schema at", "Value:")) or len(kept) == 6:
            break
        if line.strip():
            kept.append(line.strip())
    return "\n".join([title, *kept])


def _excerpt(text: str, size: int = 300) -> str:
    flat = " ".join(text.split())
    return flat if len(flat) <= size else flat[: size - 1] + "…"


def _json(response: Any) -> dict[str, Any]:
    try:
        value = response.json()
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if marker in text:
            return marker
    return text.splitlines()[0][:200] if text else type(exc).__name__
