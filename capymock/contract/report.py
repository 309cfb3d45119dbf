"""What a contract run found: per operation and check, the passes and the violations; as text
a person can act on, and as JUnit XML."""

from __future__ import annotations

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field


@dataclass
class Violation:
    """One way a deployment broke the contract, with one request that shows it."""

    operation: str
    check: str
    message: str
    status: int | None
    excerpt: str
    curl: str
    count: int = 1

    def render(self) -> str:
        got = f"{self.status} {self.excerpt}" if self.status is not None else self.excerpt
        lines = [
            f"✗ {self.operation}  [{self.check}]" + (f"  ({self.count} times)" if self.count > 1 else "")
        ]
        lines += [f"    {line}" for line in self.message.strip().splitlines()]
        lines += [f"    got:       {got}", f"    reproduce: {self.curl}"]
        return "\n".join(lines)


@dataclass
class Outcome:
    passed: int = 0
    violations: list[Violation] = field(default_factory=list)


@dataclass
class ContractReport:
    """The result of `run_contract`: exit code 0 when conformant, 1 on any violation."""

    base_url: str
    seed: int
    outcomes: dict[tuple[str, str], Outcome] = field(default_factory=dict)
    requests: int = 0
    seconds: float = 0.0
    stopped_early: str | None = None

    def passed(self, operation: str, check: str) -> None:
        self.outcomes.setdefault((operation, check), Outcome()).passed += 1

    def violated(self, violation: Violation) -> None:
        outcome = self.outcomes.setdefault((violation.operation, violation.check), Outcome())
        for seen in outcome.violations:
            if seen.message == violation.message:
                seen.count += 1
                return
        outcome.violations.append(violation)

    @property
    def violations(self) -> list[Violation]:
        return [v for outcome in self.outcomes.values() for v in outcome.violations]

    @property
    def exit_code(self) -> int:
        return 1 if self.violations else 0

    def summary(self) -> str:
        operations = len({operation for operation, _ in self.outcomes})
        found = self.violations
        verdict = (
            "conformant"
            if not found
            else f"{len(found)} violation{'s' if len(found) != 1 else ''}: "
            + ", ".join(sorted({f"{v.operation} [{v.check}]" for v in found}))
        )
        early = f"; {self.stopped_early}" if self.stopped_early else ""
        counts = f"{operations} operations, {len(self.outcomes)} checks, {self.requests} requests"
        return f"capymock contract: {counts} in {self.seconds:.1f}s (seed {self.seed}){early}: {verdict}"

    def render(self) -> str:
        blocks = [v.render() for v in self.violations]
        return "\n\n".join([*blocks, self.summary()])

    def junit_xml(self) -> str:
        """One testcase per operation and check."""
        suite = ElementTree.Element(
            "testsuite",
            name="capymock contract",
            tests=str(len(self.outcomes)),
            failures=str(sum(1 for o in self.outcomes.values() if o.violations)),
            time=f"{self.seconds:.3f}",
        )
        for (operation, check), outcome in sorted(self.outcomes.items()):
            case = ElementTree.SubElement(suite, "testcase", classname=operation, name=check)
            if outcome.violations:
                first = outcome.violations[0]
                failure = ElementTree.SubElement(case, "failure", message=first.message.splitlines()[0])
                failure.text = "\n\n".join(v.render() for v in outcome.violations)
        root = ElementTree.Element("testsuites")
        root.append(suite)
        ElementTree.indent(root)
        return ElementTree.tostring(root, encoding="unicode", xml_declaration=True) + "\n"
