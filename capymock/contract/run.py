"""Contract checks of a live deployment against `openapi.yaml`, on schemathesis' engine.

`run_contract()` first makes sure the deployment answers and takes the token, and finds real
ids (the given project's jobs, or the given job's project). Schemathesis then runs its phases
with those ids (`engine.py`), every response going through schemathesis' own checks and
capymock's (`checks.py`). Then each path parameter is given an id that cannot exist, every
operation gets a forged credential of each kind (`credentials.py`), and with `--watch` the
project is read on and every change of a job judged. Only the spec's safe operations are
called (writes only with `--allow-writes`, and only with forged credentials), at a bounded
rate, and the token is never printed. A run that could not tell (unreachable, token rejected,
an unknown project or job, no `Job` body seen) is exit 2. Needs the `contract` extra.
"""

from __future__ import annotations

import random
import time
from pathlib import Path
from typing import Any

try:
    import requests
    from schemathesis.core.rate_limit import build_limiter, ratelimit

    from capymock.contract.engine import MAX_READS, UNKNOWN_IDS, Engine, Ids, OutOfTime, Settings
except ImportError:  # pragma: no cover - exercised only without the extra
    raise ImportError("capymock contract needs schemathesis: pip install 'capymock[contract]'") from None

from capymock.contract import rules
from capymock.contract.checks import RunContext, body_of
from capymock.contract.credentials import NEGATIVE_AUTH
from capymock.contract.failures import FailureReader
from capymock.contract.report import ContractReport
from capymock.core import rates
from capymock.core.operations import SAFE_METHODS, Operation
from capymock.core.spec import JOB, Spec
from capymock.errors import ContractError
from capymock.system.specs import load_spec

REAL_DATA_CHECK = "real_data_reachable"
MISSING = "capymock-contract-missing"
"""A project and job id no deployment has: the unknown-ids pass asks for them, for the 404s."""
WHOLE_LIST = 100
"""The `limit` that reads a project's whole list when the spec gives `limit` no maximum."""
DEFAULT_RATE = "10/s"
MAX_WATCH = 86_400.0
"""The longest `--watch`: a day."""
WATCH_ROUNDS = 4
"""The most rounds of reads a second while watching (with no rate limit, too)."""
DEFAULT_TOKEN_VARIABLE = "CAPY_TOKEN"


def parse_rate(rate: str | float | None) -> str | None:
    """A rate as schemathesis takes it ("10/s", "300/m") from "10/s", "300/m", "2" (None or 0: unlimited).

    Raises:
        ContractError: not a rate.
    """
    try:
        return rates.parse_rate(rate)
    except ValueError as exc:
        raise ContractError(f"--rate-limit {exc}") from None


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
    token_variable: str = DEFAULT_TOKEN_VARIABLE,
    allow_writes: bool = False,
    watch: float = 0.0,
) -> ContractReport:
    """Check a deployment at `base_url` against the spec; see the module docstring.

    Returns the report: exit code 0 conformant, 1 violations, 2 when the run could not tell.

    Raises:
        ContractError: bad arguments or an unusable spec.
    """
    if max_examples < 1:
        raise ContractError("--max-examples must be at least 1")
    if not 0 <= watch <= MAX_WATCH:
        raise ContractError(f"--watch must be between 0 and {MAX_WATCH:g} seconds")
    if not token or any(not char.isprintable() or char.isspace() for char in token):
        raise ContractError("the token is empty or holds a space, line break or control character")
    if not token_variable.isidentifier():
        raise ContractError(f"--token-env {token_variable!r} is not an environment variable name")
    settings = Settings(
        spec=load_spec(spec),
        base_url=base_url.rstrip("/"),
        token=token,
        seed=seed if seed is not None else random.randrange(2**32),
        rate=parse_rate(rate_limit),
        deadline=time.monotonic() + max_time + watch,
        timeout=timeout,
        max_examples=max_examples,
        token_variable=token_variable,
        allow_writes=allow_writes,
        watch=watch,
    )
    return _Runner(settings).run(project_id, job_id)


class _Runner:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.spec = settings.spec
        self.report = ContractReport(settings.base_url, settings.seed)
        self.context = RunContext(settings.spec)
        self.session = requests.Session()
        self.limiter = build_limiter(settings.rate) if settings.rate else None
        self.reader = FailureReader(settings.spec, settings.token, settings.token_variable, self.report)
        self.engine = Engine(settings, self.context, self.reader, self.report)

    def run(self, project_id: str | None, job_id: str | None) -> ContractReport:
        started = time.monotonic()
        try:
            self.probe()
            ids = self.discover(project_id, job_id)
            self.engine.run(self.engine.with_examples(ids), self.engine.config(ids))
            # Ids no deployment has: its 404s (and what else it answers them with) are checked too.
            few = min(5, self.settings.max_examples)
            missing = Ids(project=MISSING, jobs=[MISSING])
            self.engine.run(
                self.engine.document(),
                self.engine.config(missing, examples=few, phases=UNKNOWN_IDS, fix_job=True),
            )
            self.not_found(ids)
            self.auth_negatives(ids)
            self.watch(ids, job_id)
        except ContractError as exc:
            self.report.error = str(exc)
        except OutOfTime:
            self.report.stopped_early = "stopped at the time limit"
        finally:
            self.session.close()
        self.report.jobs_checked = self.context.jobs_checked
        if not self.report.error and not self.report.violations and self.report.jobs_checked == 0:
            self.report.error = (
                "no Job body was checked: the deployment listed or showed no job; give --project-id "
                "(a project of the token's with jobs) or --job-id, so real jobs are checked"
            )
        self.report.seconds = time.monotonic() - started
        return self.report

    # -- our own requests ---------------------------------------------------------------

    def send(
        self,
        path: str,
        *,
        headers: dict[str, str] | None = None,
        query: dict[str, Any] | None = None,
        method: str = "GET",
    ) -> Any:
        """One request of capymock's own. The only way it sends a method that is not safe: with
        `--allow-writes`, and then never with the caller's token."""
        if method not in SAFE_METHODS and not (self.settings.allow_writes and headers is not None):
            raise AssertionError(f"capymock contract never sends {method} here")  # a capymock bug
        if time.monotonic() >= self.settings.deadline:
            raise OutOfTime
        ratelimit(self.limiter, self.settings.base_url)
        self.report.requests += 1
        auth = {"Authorization": f"Bearer {self.settings.token}"} if headers is None else headers
        try:
            return self.session.request(
                method,
                self.settings.base_url + path,
                headers=auth,
                params=query,
                timeout=self.settings.timeout,
            )
        except requests.RequestException as exc:
            raise ContractError(f"cannot connect to {self.settings.base_url}: {_reason(exc)}") from None

    def probe(self) -> None:
        """One request first, so an unreachable deployment is one clear error."""
        self.send("/", headers={})

    def discover(self, project_id: str | None, job_id: str | None) -> Ids:
        """The real ids to test with; a token the deployment rejects stops the run (exit 2)."""
        ids = Ids(project=project_id)
        if job_id is not None:
            getting = self.spec.reading
            body = self.read_real(getting, {JOB.id: job_id}, f"job {job_id!r}")
            job = next((job for _, job in getting.jobs_in(body)), None)
            ids.jobs.append(job_id)
            owner = job.get(JOB.project) if isinstance(job, dict) else None
            if ids.project is None and isinstance(owner, str):
                ids.project = owner
                self.report.notes.append(f"checking project {owner!r}, the project of job {job_id!r}")
        if ids.project is not None:
            listing = self.spec.listing
            where = {JOB.project: ids.project}
            most = rules.limit_keyword(listing, "maximum")
            page = listing.page_size
            whole = {page.name: WHOLE_LIST if most is None else most} if page is not None else None
            body = self.read_real(listing, where, f"project {ids.project!r}", whole)
            jobs = rules.listed_jobs(listing, body) or []
            ids.jobs += _reads(self.spec, jobs)
            self.context.remember(jobs)
            self.check_page(listing, where, body)
            self.check_limit_bounds(listing, where)
        if project_id is None and job_id is None:
            self.check_token()
        ids.jobs = list(dict.fromkeys(ids.jobs))
        return ids

    def read_real(
        self, operation: Operation, parameters: dict[str, str], what: str, query: dict[str, Any] | None = None
    ) -> Any:
        path = operation.fill_fields(parameters)
        response = self.send(path, query=query)
        if response.status_code == 401:
            raise ContractError(
                f"the deployment rejected the token (401 for {what}): is it expired or rotated?"
            )
        if response.status_code in (403, 404):  # a mistake in the run's set-up, not a defect
            option = "--job-id" if JOB.id in parameters else "--project-id"
            raise ContractError(
                f"the given {what} answers {response.status_code}: is {option} one this token can read?"
            )
        label = operation.label
        if response.status_code == 200:
            self.report.passed(label, REAL_DATA_CHECK)
        else:
            self.report.violated(
                self.reader.plain(
                    label, REAL_DATA_CHECK, f"the given {what} answers 200", response, path, "status"
                )
            )
        return body_of(response)

    def check_page(self, listing: Operation, where: dict[str, str], whole: Any) -> None:
        """A list cut short by `limit` must be the newest jobs of the whole list."""
        jobs = rules.listed_jobs(listing, whole)
        if jobs is None or len(jobs) < 2 or listing.page_size is None:
            return
        size = max(1, min(3, len(jobs) - 1))
        name = listing.page_size.name
        path = listing.fill_fields(where)
        response = self.send(path, query={name: size})
        label = listing.label
        found = rules.page(listing, whole, body_of(response), size) if response.status_code == 200 else []
        for finding in found:
            self.report.violated(
                self.reader.plain(
                    label, finding.check, finding.rule, response, f"{path}?{name}={size}", finding.where
                )
            )
        if response.status_code == 200 and not found:
            self.report.passed(label, rules.PAGE)

    def check_limit_bounds(self, listing: Operation, where: dict[str, str]) -> None:
        """`limit` at and beyond each bound the spec gives, whatever the seed: out of range or not an
        integer is a 400, the bounds themselves are accepted."""
        if listing.page_size is None:
            return
        name = listing.page_size.name
        low, high = rules.limit_keyword(listing, "minimum"), rules.limit_keyword(listing, "maximum")
        path, label = listing.fill_fields(where), listing.label
        beyond = [bound + step for bound, step in ((low, -1), (high, 1)) if bound is not None]
        within = [bound for bound in (low, high) if bound is not None]
        probes = [(value, 400) for value in (*beyond, "", "abc", "1.5")] + [(value, 200) for value in within]
        span = f"{'' if low is None else low}..{'' if high is None else high}"
        for value, expected in probes:
            response = self.send(path, query={name: value})
            if response.status_code == expected:
                self.report.passed(label, rules.BOUNDS)
                continue
            rule = (
                f"{name}={value!r} is {'outside' if expected == 400 else 'within'} the parameter's schema "
                f"(an integer {span}): the answer is {expected}, not {response.status_code}"
            )
            self.report.violated(
                self.reader.plain(
                    label, rules.BOUNDS, rule, response, f"{path}?{name}={value}", f"request {name}={value}"
                )
            )

    def check_token(self) -> None:
        """Without real ids, one request tells whether the token is accepted at all."""
        path = self.spec.listing.fill_fields({JOB.project: "capymock-contract-probe"})
        if self.send(path).status_code == 401:
            raise ContractError("the deployment rejected the token (401): is it expired or rotated?")

    # -- auth --------------------------------------------------------------------------

    def auth_negatives(self, ids: Ids) -> None:
        """No token, a garbage token and an unknown API key each get a 401 that says why. An
        operation that writes is asked only with `--allow-writes` (and never with the real token)."""
        for operation in self.spec.operations:
            if not operation.security_schemes or not (operation.safe or self.settings.allow_writes):
                continue
            path = self.real_path(operation, ids)
            for kind, headers in NEGATIVE_AUTH:
                response = self.send(path, headers=headers, method=operation.method)
                label = operation.label
                if response.status_code != 401:
                    rule = f"with {kind}, {label} answers 401, not {response.status_code}"
                    self.report.violated(
                        self.reader.plain(label, rules.AUTH, rule, response, path, "Authorization", headers)
                    )
                    continue
                found = rules.challenge(401, response.headers, body_of(response))
                for finding in found:
                    self.report.violated(
                        self.reader.plain(
                            label,
                            rules.AUTH,
                            f"with {kind}: {finding.rule}",
                            response,
                            path,
                            finding.where,
                            headers,
                        )
                    )
                if not found:
                    self.report.passed(label, rules.AUTH)

    # -- watching ------------------------------------------------------------------------

    def watch(self, ids: Ids, job_id: str | None) -> None:
        """For `--watch` seconds, poll the project's list and the given job (at the rate limit,
        at most `WATCH_ROUNDS` a second) and join every read of a job to the one before: the
        only check that sees a job move illegally over time."""
        until = time.monotonic() + self.settings.watch
        listing, reading = self.spec.listing, self.spec.reading
        page = {listing.page_size.name: WHOLE_LIST} if listing.page_size is not None else None
        while time.monotonic() < until:
            began = time.monotonic()
            if ids.project is not None:
                self.watched(listing, listing.fill_fields({JOB.project: ids.project}), page)
            if job_id is not None:
                self.watched(reading, reading.fill_fields({JOB.id: job_id}), None)
            time.sleep(max(0.0, min(1 / WATCH_ROUNDS - (time.monotonic() - began), until - time.monotonic())))

    def watched(self, operation: Operation, path: str, query: dict[str, Any] | None) -> None:
        """One read while watching: its jobs explained, and each joined to its read before."""
        response = self.send(path, query=query)
        if response.status_code != 200:
            return  # other answers are the other checks' to judge
        jobs = list(operation.jobs_in(body_of(response)))
        found = rules.explained_jobs(self.spec, jobs) + self.context.observe(jobs)
        label = operation.label
        for finding in found:
            self.report.violated(
                self.reader.plain(label, finding.check, finding.rule, response, path, finding.where)
            )
        if not found:
            self.report.passed(label, rules.JOINED)

    # -- not found -----------------------------------------------------------------------

    def not_found(self, ids: Ids) -> None:
        """Each path parameter, given a value no deployment has (the others real), answers the
        not-found status the operation documents: a missing project as well as a missing job."""
        for operation in self.spec.operations:
            if not operation.safe or not operation.documents(404):
                continue
            for name, named in operation.path_fields.items():
                real = self.real_values(ids)
                path = operation.fill_fields({**real, named: MISSING})
                response = self.send(path, method=operation.method)
                label = operation.label
                # A key scoped to one project may be refused any other (403) without learning
                # whether it exists, where the operation documents 403; a missing job is a 404.
                refusable = named != JOB.id and operation.documents(403)
                if response.status_code == 404 or (refusable and response.status_code == 403):
                    self.report.passed(label, rules.NOT_FOUND)
                    continue
                what = "job" if named == JOB.id else named.removesuffix("_id")
                answer = "404 (or 403 for a key it is not in scope of)" if refusable else "404"
                status = response.status_code
                rule = f"{name} {MISSING!r} names no {what}: the answer is {answer}, not {status}"
                self.report.violated(self.reader.plain(label, rules.NOT_FOUND, rule, response, path, name))

    def real_values(self, ids: Ids) -> dict[str, str]:
        """The real project and job (a made-up id where none is known), by the `Job` field."""
        return {
            JOB.project: ids.project or "capymock-contract",
            JOB.id: ids.jobs[0] if ids.jobs else "capymock-contract",
        }

    def real_path(self, operation: Operation, ids: Ids) -> str:
        """`operation`'s path with the real project and job (a made-up id where none is known)."""
        return operation.fill_fields(self.real_values(ids))


def _reads(spec: Spec, jobs: list[Any]) -> list[str]:
    """Up to `MAX_READS` listed job ids to read one by one: one of each state first, then in list order."""
    by_state: dict[Any, str] = {}
    ordered = []
    for job in jobs:
        identifier = rules.job_id(job)
        if identifier is None:
            continue
        ordered.append(identifier)
        state = job.get(spec.lifecycle.field)
        if isinstance(state, str):
            by_state.setdefault(state, identifier)
    return list(dict.fromkeys([*by_state.values(), *ordered]))[:MAX_READS]


def _reason(exc: BaseException) -> str:
    text = str(exc)
    for marker in ("Connection refused", "Name or service not known", "timed out", "No route to host"):
        if marker in text:
            return marker
    return text.splitlines()[0][:200] if text else type(exc).__name__
