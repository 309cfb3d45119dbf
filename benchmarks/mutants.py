"""Kill rate of `capymock contract` on the single-defect mutants of the reference server.

    .venv/bin/python benchmarks/mutants.py [--seed N] [--sample K] [--jobs J] [--max-examples M]
                                           [--max-time S] [--only NAME,...] [--list]

Runs `python -m capymock contract` (as subprocesses, J at a time) against the conformant
reference server (tests/reference/server.py; must exit 0), each mutant of
tests/reference/mutants.py (exit 1 = killed, 0 = survived, anything else = error) and
`capymock serve --scenario busy-project` (must exit 0). `--sample K` runs K mutants spread over
the families (0, the default, runs all). Prints a markdown summary and writes it to
benchmarks/results/mutants.md (a sampled or `--only` run to mutants-sample.md.tmp, ignored by
git). Exit 0 only when every observable spec-violating mutant is killed and nothing conformant
(the reference, capymock serve, the mutants the spec allows) is reported as a violation.

The `capymock` run is whichever `python -m capymock` resolves to from the current directory.
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from reference.mutants import Mutant, build_mutants  # noqa: E402
from reference.server import Mutation, serve  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SERVE_PROJECT = "proj_busy"
TAIL_LINES = 8
RUN_TIMEOUT = 900.0


@dataclass(frozen=True)
class Target:
    """One server to run the contract against, and what its run should end with."""

    name: str
    family: str
    rule: str
    expect_violations: bool
    observable: bool = True
    mutation: Mutation | None = None
    kind: str = "mutant"  # "mutant", "reference" or "capymock"

    @classmethod
    def of(cls, mutant: Mutant) -> Target:
        return cls(
            mutant.name,
            mutant.family,
            mutant.rule,
            mutant.violates_spec,
            mutant.observable,
            mutant.mutation,
        )


@dataclass(frozen=True)
class Outcome:
    """How one contract run ended."""

    target: Target
    exit_code: int | None
    seconds: float
    tail: str
    stopped_early: bool

    @property
    def verdict(self) -> str:
        if self.exit_code == 0:
            return "conformant"
        return "violations" if self.exit_code == 1 else "error"

    @property
    def as_expected(self) -> bool:
        return self.verdict == ("violations" if self.target.expect_violations else "conformant")


# -- running ----------------------------------------------------------------------------


def contract_command(url: str, token: str, project: str, args: argparse.Namespace) -> list[str]:
    return [
        sys.executable,
        "-m",
        "capymock",
        "contract",
        "--base-url",
        url,
        "--token",
        token,
        "--project-id",
        project,
        "--rate-limit",
        "0",
        "--max-examples",
        str(args.max_examples),
        "--seed",
        str(args.seed),
        "--max-time",
        str(args.max_time),
    ]


def _tail(text: str, lines: int = TAIL_LINES) -> str:
    kept = [line.rstrip() for line in text.splitlines() if line.strip()]
    return "\n".join(kept[-lines:])


def run_contract(url: str, token: str, project: str, target: Target, args: argparse.Namespace) -> Outcome:
    started = time.monotonic()
    try:
        done = subprocess.run(
            contract_command(url, token, project, args),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return Outcome(target, None, time.monotonic() - started, f"timed out after {RUN_TIMEOUT:g} s", False)
    output = done.stdout + done.stderr
    return Outcome(
        target,
        done.returncode,
        time.monotonic() - started,
        _tail(output),
        "stopped at the time limit" in output,
    )


def run_reference(target: Target, args: argparse.Namespace) -> Outcome:
    with serve(target.mutation) as (url, token, project):
        return run_contract(url, token, project, target, args)


@contextmanager
def capymock_serve() -> Iterator[tuple[str, str]]:
    """`capymock serve --scenario busy-project` on a free port: yields (url, token)."""
    command = [
        sys.executable,
        "-m",
        "capymock",
        "serve",
        "--port",
        "0",
        "--quiet",
        "--scenario",
        "busy-project",
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    url = token = ""
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if found := re.search(r"mock at (http://\S+)", line):
            url = found.group(1)
        if found := re.match(r"\s*token\s+(capy_live_\S+)", line):
            token = found.group(1)
        if url and token:
            break
    # keep reading, so the server never blocks on a full pipe
    threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
    try:
        if not (url and token):
            raise RuntimeError("capymock serve printed no URL and token:\n" + "".join(seen[-TAIL_LINES:]))
        yield url, token
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def run_capymock(target: Target, args: argparse.Namespace) -> Outcome:
    started = time.monotonic()
    try:
        with capymock_serve() as (url, token):
            return run_contract(url, token, SERVE_PROJECT, target, args)
    except RuntimeError as exc:
        return Outcome(target, None, time.monotonic() - started, str(exc), False)


def run_one(target: Target, args: argparse.Namespace) -> Outcome:
    runner: Callable[[Target, argparse.Namespace], Outcome] = (
        run_capymock if target.kind == "capymock" else run_reference
    )
    try:
        return runner(target, args)
    except Exception as exc:  # a broken target is one error in the report, not a crashed benchmark
        return Outcome(target, None, 0.0, f"{type(exc).__name__}: {exc}", False)


# -- choosing ---------------------------------------------------------------------------


def sample(mutants: tuple[Mutant, ...], size: int, seed: int) -> list[Mutant]:
    """`size` mutants spread over the families (round robin, shuffled by `seed`); 0: all."""
    if size <= 0 or size >= len(mutants):
        return list(mutants)
    rng = random.Random(seed)
    families: dict[str, list[Mutant]] = {}
    for mutant in mutants:
        families.setdefault(mutant.family, []).append(mutant)
    for members in families.values():
        rng.shuffle(members)
    chosen: list[Mutant] = []
    while len(chosen) < size:
        for members in families.values():
            if members and len(chosen) < size:
                chosen.append(members.pop())
    return chosen


def targets(mutants: list[Mutant]) -> list[Target]:
    conformant = [
        Target("reference", "conformant", "the reference server honours the spec", False, kind="reference"),
        Target(
            "capymock serve",
            "conformant",
            "capymock serve (busy-project) honours the spec",
            False,
            kind="capymock",
        ),
    ]
    return conformant + [Target.of(mutant) for mutant in mutants]


# -- reporting --------------------------------------------------------------------------


def _checker() -> str:
    """Which capymock the runs used (relative to the checkout when it is this one's), and its git state."""
    where = subprocess.run(
        [sys.executable, "-c", "import capymock; print(capymock.__file__)"], capture_output=True, text=True
    ).stdout.strip()
    commit = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    ).stdout.strip()
    dirty = subprocess.run(
        ["git", "-C", str(ROOT), "status", "--porcelain", "capymock"], capture_output=True, text=True
    ).stdout.strip()
    if not where:
        return "?"
    package = Path(where).resolve().parent
    if package != ROOT / "capymock":
        return str(package)  # an installed capymock, not this checkout's
    return f"{package.relative_to(ROOT)} (repository at {commit}{' + uncommitted changes' if dirty else ''})"


def _block(text: str) -> list[str]:
    return ["```", text or "(no output)", "```"]


def render(outcomes: list[Outcome], args: argparse.Namespace, seconds: float) -> str:
    mutants = [o for o in outcomes if o.target.kind == "mutant"]
    conformant = [o for o in outcomes if o.target.kind != "mutant"]
    required = [o for o in mutants if o.target.expect_violations and o.target.observable]
    unseen = [o for o in mutants if o.target.expect_violations and not o.target.observable]
    allowed = [o for o in mutants if not o.target.expect_violations]
    killed = [o for o in required if o.verdict == "violations"]
    survived = [o for o in required if o.verdict == "conformant"]
    errors = [o for o in mutants if o.verdict == "error"]
    alarms = [o for o in conformant + allowed if o.verdict == "violations"]
    rate = 100.0 * len(killed) / len(required) if required else 100.0
    lines = [
        "# capymock contract: mutant kill rate",
        "",
        f"- checker: `{_checker()}`",
        f"- runs: `--max-examples {args.max_examples} --seed {args.seed} --rate-limit 0 "
        f"--max-time {args.max_time:g}`, {args.jobs} at a time; "
        f"{'all mutants' if not (args.sample or args.only) else 'a sample'}",
        f"- mutants: {len(mutants)} ({len(required)} observable spec violations, "
        f"{len(unseen)} not observable from the run's inputs, {len(allowed)} allowed by the spec)",
        f"- **kill rate: {len(killed)}/{len(required)} = {rate:.1f} %**; survived {len(survived)}, "
        f"errors {len(errors)}, false alarms {len(alarms)}",
        f"- wall time: {seconds:.0f} s",
        "",
        "| family | mutants | violations | killed | survived | errors | not observable (killed) "
        "| allowed (flagged) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for family in dict.fromkeys(o.target.family for o in mutants):
        members = [o for o in mutants if o.target.family == family]
        need = [o for o in members if o.target.expect_violations and o.target.observable]
        hidden = [o for o in members if o.target.expect_violations and not o.target.observable]
        free = [o for o in members if not o.target.expect_violations]
        lines.append(
            f"| {family} | {len(members)} | {len(need)} "
            f"| {sum(o.verdict == 'violations' for o in need)} "
            f"| {sum(o.verdict == 'conformant' for o in need)} "
            f"| {sum(o.verdict == 'error' for o in members)} "
            f"| {len(hidden)} ({sum(o.verdict == 'violations' for o in hidden)}) "
            f"| {len(free)} ({sum(o.verdict == 'violations' for o in free)}) |"
        )
    lines += ["", "## Conformant servers", ""]
    for outcome in conformant:
        mark = (
            "ok"
            if outcome.as_expected
            else "**false alarm**"
            if outcome.verdict == "violations"
            else "**error**"
        )
        lines.append(f"- {outcome.target.name}: exit {outcome.exit_code} ({mark}, {outcome.seconds:.1f} s)")
        if not outcome.as_expected:
            lines += _block(outcome.tail)
    sections: list[tuple[str, list[Outcome]]] = [
        ("Survivors (spec violations not reported)", survived),
        ("Errors", errors),
        ("False alarms on changes the spec allows", [o for o in allowed if o.verdict == "violations"]),
    ]
    for title, members in sections:
        lines += ["", f"## {title}: {len(members)}", ""]
        for outcome in members:
            lines += [
                f"### `{outcome.target.name}` ({outcome.target.family})",
                "",
                f"rule: {outcome.target.rule}",
                "",
            ]
            lines += _block(outcome.tail)
    lines += ["", f"## Not observable from a token and its project: {len(unseen)}", ""]
    lines += [
        f"- `{o.target.name}`: {o.target.rule} ({'killed' if o.verdict == 'violations' else o.verdict})"
        for o in unseen
    ]
    stopped = [o.target.name for o in outcomes if o.stopped_early]
    if stopped:
        lines += ["", f"Stopped at the time limit ({len(stopped)}): {', '.join(stopped)}"]
    return "\n".join(lines) + "\n"


def passed(outcomes: list[Outcome]) -> bool:
    """Every observable violation killed, and nothing conformant reported."""
    return all(o.as_expected for o in outcomes if o.target.observable)


# -- main -------------------------------------------------------------------------------


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description="Kill rate of capymock contract on reference-server mutants."
    )
    parser.add_argument("--seed", type=int, default=1, help="contract seed, and the sample's (default 1)")
    parser.add_argument("--sample", type=int, default=0, help="run this many mutants (default 0: all)")
    parser.add_argument("--jobs", type=int, default=4, help="contract runs at a time (default 4)")
    parser.add_argument("--max-examples", type=int, default=25, help="per operation and phase (default 25)")
    parser.add_argument(
        "--max-time", type=float, default=120.0, help="per contract run, seconds (default 120)"
    )
    parser.add_argument("--only", default="", help="comma-separated mutant names to run")
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    mutants = build_mutants()
    if args.list:
        for mutant in mutants:
            flags = "" if mutant.violates_spec else "  [allowed]"
            flags += "" if mutant.observable else "  [not observable]"
            print(f"{mutant.family:10} {mutant.name:48} {mutant.rule}{flags}")
        counts = Counter(mutant.family for mutant in mutants)
        print(f"{len(mutants)} mutants: " + ", ".join(f"{family} {n}" for family, n in counts.items()))
        return 0
    if args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - {mutant.name for mutant in mutants})
        if unknown:
            print(f"unknown mutants: {', '.join(unknown)}", file=sys.stderr)
            return 2
        chosen = [mutant for mutant in mutants if mutant.name in wanted]
    else:
        chosen = sample(mutants, args.sample, args.seed)
    started = time.monotonic()
    work = targets(chosen)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda target: run_one(target, args), work))
    report = render(outcomes, args, time.monotonic() - started)
    print(report, end="")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "mutants.md" if not (args.sample or args.only) else "mutants-sample.md.tmp"
    (RESULTS / name).write_text(report)
    print(f"\nwritten to {(RESULTS / name).relative_to(ROOT)}")
    return 0 if passed(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
