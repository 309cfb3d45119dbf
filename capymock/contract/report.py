"""What a contract run found: per operation and check, the passes and the violations; as text a
person can act on, and as JUnit XML (written on every exit, an error testcase when the run could
not finish). One fault is reported once: a rule broken at many places is one violation naming the
first few, and a fault two checks found at the same places is reported by the more specific one,
which names the other (`SPECIFIC_FIRST`)."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field, replace

from capymock.contract import rules

USAGE_ERROR = 2
OTHER_PLACES = 2
"""Places named beside the first when a rule broke at several (the first three, in all)."""
SPECIFIC_FIRST = (
    rules.READ_BACK,
    rules.DISTINCT,
    rules.MEMBERSHIP,
    rules.LOCKS,
    rules.ORDER,
    rules.PAGE,
    rules.LIMIT,
    rules.BOUNDS,
    rules.NOT_FOUND,
    rules.AUTH,
    rules.EXPLAINED,
    rules.JOINED,
)
"""capymock's checks, the most specific first; schemathesis' checks come after all of them.

When two checks of one operation found a fault at the same places (the same JSON path of the same
job), it is reported once, by the check that comes first here, which names
the other and its rule. A rule of one link or one list (a listed job reads back with its
project; a list holds each job once) names what was broken, where the lifecycle's rules only see
its consequence (a field that never changes changed between two reads); one answer judged alone
(`job_explained`) pins the fault to that answer, where `reads_joined` compares two; and
capymock's rules state the rule in full with its reason (`attempts must be between 0 and
max_attempts (3)`), where schemathesis' schema check quotes one keyword of the schema
(`-1 is less than the minimum of 0`)."""
_INDEX = re.compile(r"\[\d+\]")
_VALUE = re.compile(r"'[^']*'|\([^()]*\)|\b\d[\dT:.Z+-]*\b")


def _shape(where: str) -> str:
    """A place without its indexes: `jobs[3].updated_at` and `jobs[9].updated_at` share one."""
    return _INDEX.sub("[]", where)


def _same_rule(one: Violation, other: Violation) -> bool:
    """Whether two messages state one rule, the values they quote aside."""
    return _VALUE.sub("_", one.message) == _VALUE.sub("_", other.message)


def _rank(check: str) -> int:
    """Where a check stands in `SPECIFIC_FIRST` (schemathesis' checks after all of capymock's)."""
    return SPECIFIC_FIRST.index(check) if check in SPECIFIC_FIRST else len(SPECIFIC_FIRST)


@dataclass
class Violation:
    """One way a deployment broke the contract, with one request that shows it."""

    operation: str
    check: str
    message: str
    """The rule in full, and how this answer broke it."""
    status: int | None
    excerpt: str
    """The answer around the fault (token redacted)."""
    curl: str
    where: str = ""
    """The JSON path (`jobs[3].created_at`), header (`Content-Type: text/html`) or request at fault."""
    job_id: str | None = None
    count: int = 1
    others: list[str] = field(default_factory=list)
    """Other places the same rule broke (`jobs[7].updated_at (job j7)`), the first few."""
    places: set[str] = field(default_factory=set)
    """Every place the rule broke (the first included), to tell whether another check's fault is
    this one; "" stands for any place that names no job (`pinned`)."""
    also: list[tuple[str, str]] = field(default_factory=list)
    """The other checks that found this fault at the same places, and their rules (the first
    line), reported here instead."""

    @property
    def place(self) -> str:
        """Where, and which job."""
        return self.where + (f" (job {self.job_id})" if self.job_id else "")

    @property
    def pinned(self) -> str:
        """The place, if it names a job (a JSON path into it); else "": only a fault at the same
        field of the same job is taken to be one fault."""
        return self.place if self.job_id else ""

    def render(self) -> str:
        times = f"  ({self.count} times)" if self.count > 1 else ""
        lines = [f"✗ {self.operation}  [{self.check}]{times}"]
        if self.where or self.job_id:
            lines.append(f"    at:        {self.place.strip()}")
        if self.others:
            more = self.count - 1 - len(self.others)
            lines.append(
                f"    also at:   {', '.join(self.others)}" + (f" and {more} more" if more > 0 else "")
            )
        lines += [f"    {line}" for line in self.message.strip().splitlines()]
        lines += [f"    also breaks [{check}]: {rule}" for check, rule in self.also]
        got = f"{self.status} {self.excerpt}" if self.status is not None else self.excerpt
        lines += [f"    got:       {got}", f"    reproduce: {self.curl}"]
        return "\n".join(lines)


@dataclass
class Outcome:
    passed: int = 0
    violations: list[Violation] = field(default_factory=list)


@dataclass
class ContractReport:
    """The result of `run_contract`: exit code 0 when conformant, 1 on any violation, 2 when the run
    could not tell (`error` says why)."""

    base_url: str
    seed: int
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    stopped_early: str | None = None
    jobs_checked: int = 0
    error: str | None = None
    """Why the run could not say whether the deployment conforms (exit 2)."""
    notes: list[str] = field(default_factory=list)

    def passed(self, operation: str, check: str) -> None:
        self.outcomes.setdefault((operation, check), Outcome()).passed += 1

    def violated(self, violation: Violation) -> None:
        """Keep a violation; the same rule broken again at a place of the same shape (another
        job of a list, another job read) counts on the first, which names the first few places."""
        outcome = self.outcomes.setdefault((violation.operation, violation.check), Outcome())
        for seen in outcome.violations:
            if _shape(seen.where) == _shape(violation.where) and _same_rule(seen, violation):
                seen.count += 1
                seen.places.add(violation.pinned)
                new = violation.place != seen.place and violation.place not in seen.others
                if new and len(seen.others) < OTHER_PLACES:
                    seen.others.append(violation.place)
                return
        violation.places.add(violation.pinned)
        outcome.violations.append(violation)

    @property
    def violations(self) -> list[Violation]:
        """What the report says: each fault once (see `SPECIFIC_FIRST`)."""
        return [v for found in self.reported().values() for v in found]

    def reported(self) -> dict[tuple[str, str], list[Violation]]:
        """Per operation and check, the violations the report shows: a violation whose every place
        a more specific check of the same operation also broke is shown by that check (the first
        in `SPECIFIC_FIRST` of those that did), which names it in `also`."""
        found = [v for outcome in self.outcomes.values() for v in outcome.violations]
        also: dict[int, list[tuple[str, str]]] = {}
        folded: set[int] = set()
        for violation in found:
            covering = [
                other
                for other in found
                if other.operation == violation.operation
                and _rank(other.check) < _rank(violation.check)
                and violation.places
                and "" not in violation.places  # a fault not pinned to a job is nobody else's
                and violation.places <= other.places
            ]
            if covering:
                winner = min(covering, key=lambda other: _rank(other.check))
                first_line = violation.message.strip().splitlines()[0] if violation.message.strip() else ""
                also.setdefault(id(winner), []).append((violation.check, first_line))
                folded.add(id(violation))
        return {
            key: [
                replace(v, also=also[id(v)]) if id(v) in also else v
                for v in outcome.violations
                if id(v) not in folded
            ]
            for key, outcome in self.outcomes.items()
        }

    def folded_into(self, operation: str, check: str) -> list[str]:
        """The checks that report, in this check's place, the faults it found (none: it reports its
        own)."""
        shown = self.reported()
        return sorted(
            {
                f"[{other}]"
                for (where, other), found in shown.items()
                if where == operation
                for v in found
                if any(name == check for name, _ in v.also)
            }
        )

    @property
    def exit_code(self) -> int:
        if self.violations:
            return 1
        return USAGE_ERROR if self.error else 0

    def summary(self) -> str:
        operations = len({operation for operation, _ in self.outcomes})
        found = self.violations
        if found:
            names = sorted({f"{v.operation} [{v.check}]" for v in found})
            verdict = f"{_count(len(found), 'violation')}: " + ", ".join(names)
        else:
            verdict = f"not checked: {self.error}" if self.error else "conformant"
        early = f"; {self.stopped_early}" if self.stopped_early else ""
        counts = ", ".join(
            (
                _count(operations, "operation"),
                _count(len(self.outcomes), "check"),
                _count(self.requests, "request"),
                _count(self.jobs_checked, "job") + " checked",
            )
        )
        return f"capymock contract: {counts} in {self.seconds:.1f}s (seed {self.seed}){early}: {verdict}"

    def render(self) -> str:
        blocks = [v.render() for v in self.violations]
        return "\n\n".join([*self.notes, *blocks, self.summary()])

    def junit_xml(self) -> str:
        """One testcase per operation and check; an error testcase when the run could not finish."""
        shown = self.reported()
        failures = sum(1 for found in shown.values() if found)
        suite = ElementTree.Element(
            "testsuite",
            name="capymock contract",
            tests=str(len(self.outcomes) + (1 if self.error else 0)),
            failures=str(failures),
            errors=str(1 if self.error else 0),
            time=f"{self.seconds:.3f}",
        )
        for (operation, check), found in sorted(shown.items()):
            case = ElementTree.SubElement(suite, "testcase", classname=operation, name=check)
            if found:
                failure = ElementTree.SubElement(case, "failure", message=found[0].message.splitlines()[0])
                failure.text = "\n\n".join(v.render() for v in found)
            elif self.outcomes[(operation, check)].violations:
                reporters = " and ".join(self.folded_into(operation, check))
                ElementTree.SubElement(
                    case, "system-out"
                ).text = f"what this check found, {reporters} found at the same places: reported there"
        if self.error:
            case = ElementTree.SubElement(suite, "testcase", classname="capymock contract", name="run")
            ElementTree.SubElement(case, "error", message=self.error).text = self.summary()
        root = ElementTree.Element("testsuites")
        root.append(suite)
        ElementTree.indent(root)
        return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def _count(number: int, noun: str) -> str:
    """`number noun`, the noun plural unless the number is one ("1 request", "2 requests")."""
    return f"{number} {noun}{'' if number == 1 else 's'}"
