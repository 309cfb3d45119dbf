"""Kill rate of `capymock contract` on the single-defect mutants of the reference server.

    .venv/bin/python benchmarks/mutants.py [--seeds 1,2,3] [--sample K] [--jobs J]
                                           [--max-examples M] [--max-time S] [--only NAME,...]
                                           [--conformant-only] [--list]

Runs `python -m capymock contract` (as subprocesses, J at a time), once with each seed of
`--seeds`, against the conformant reference server (tests/reference/server.py; must exit 0),
each mutant of tests/reference/mutants.py (exit 1 = killed, 0 = survived, anything else =
error) and `capymock serve --scenario NAME --speed 20` for every bundled scenario, checked on
each project the scenario has jobs in with the key the scenario grants (its organization-wide
key, else the project's own; a scenario that grants none: the key the banner shows), while its
jobs move (each must exit 0). `--sample K` runs K mutants spread over the families (0, the
default, runs all). Prints a markdown summary and writes it to benchmarks/results/mutants.md (a
sampled, `--only` or `--conformant-only` run to mutants-sample.md.tmp, ignored by git). Exit 0
only when, at every seed, every observable spec-violating mutant is killed and nothing
conformant (the reference, capymock serve, the mutants the spec allows) is reported as a
violation.

The `capymock` run is whichever `python -m capymock` resolves to from the current directory.
"""

from __future__ import annotations

import argparse
import os
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

from capymock.scenario.loader import bundled_scenarios, load_scenario  # noqa: E402
from capymock.system.specs import load_spec  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results"
SERVE_SPEED = 20
"""`capymock serve --speed`: the scenarios' jobs move while the contract reads them."""
TAIL_LINES = 8
RUN_TIMEOUT = 900.0
DEFAULT_SEEDS = "1,2,3"


@dataclass(frozen=True)
class Scripted:
    """A bundled scenario served by `capymock serve`, the project checked, the key used (None:
    the organization-wide key the banner shows), and the statuses its faults answer."""

    scenario: str
    project: str
    token: str | None
    faults: tuple[int, ...] = ()


def scripted() -> list[Scripted]:
    """Each bundled scenario with each project it has jobs in. The key is organization-wide: the
    scenario's own when it declares one, else the one every served scenario grants (the banner's
    first). A project-scoped key would make the run's missing-project probe a question the spec
    leaves open (403 "may not act on this project" or 404 "no such project")."""
    spec = load_spec()
    found = []
    for name in bundled_scenarios():
        scenario = load_scenario(name, spec)
        whole = next((grant.token for grant in scenario.tokens if grant.project is None), None)
        statuses = tuple(sorted({fault.status for fault in scenario.faults if fault.status is not None}))
        for project in dict.fromkeys(job.project_id for job in scenario.jobs):
            found.append(Scripted(name, project, whole, statuses))
    return found


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
    seed: int = 1
    served: Scripted | None = None

    @classmethod
    def of(cls, mutant: Mutant, seed: int) -> Target:
        return cls(
            mutant.name,
            mutant.family,
            mutant.rule,
            mutant.violates_spec,
            mutant.observable,
            mutant.mutation,
            seed=seed,
        )


@dataclass(frozen=True)
class Outcome:
    """How one contract run ended."""

    target: Target
    exit_code: int | None
    seconds: float
    tail: str
    stopped_early: bool
    strays: int = 0
    """Violations on an answer whose status no fault of the served scenario gives."""

    @property
    def verdict(self) -> str:
        if self.exit_code == 0:
            return "conformant"
        if self.exit_code == 1 and self.faults and self.strays == 0:
            return "faults only"
        return "violations" if self.exit_code == 1 else "error"

    @property
    def faults(self) -> tuple[int, ...]:
        return self.target.served.faults if self.target.served is not None else ()

    @property
    def as_expected(self) -> bool:
        if self.target.expect_violations:
            return self.verdict == "violations"
        return self.verdict in ("conformant", "faults only")


def strays(output: str, statuses: tuple[int, ...]) -> int:
    """The violations a report names whose answer (`got:`) has none of `statuses`."""
    blocks = re.split(r"^✗ ", output, flags=re.MULTILINE)[1:]
    found = 0
    for block in blocks:
        got = re.search(r"^\s+got:\s+(\d{3})\b", block, flags=re.MULTILINE)
        found += got is None or int(got.group(1)) not in statuses
    return found


# -- running ----------------------------------------------------------------------------


def contract_command(url: str, token: str, project: str, seed: int, args: argparse.Namespace) -> list[str]:
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
        str(seed),
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
            contract_command(url, token, project, target.seed, args),
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT,
        )
    except subprocess.TimeoutExpired:
        return Outcome(target, None, time.monotonic() - started, f"timed out after {RUN_TIMEOUT:g} s", False)
    output = done.stdout + done.stderr
    statuses = target.served.faults if target.served is not None else ()
    return Outcome(
        target,
        done.returncode,
        time.monotonic() - started,
        _tail(output),
        "stopped at the time limit" in output,
        strays(done.stdout, statuses) if statuses else 0,
    )


def run_reference(target: Target, args: argparse.Namespace) -> Outcome:
    with serve(target.mutation) as (url, token, project):
        return run_contract(url, token, project, target, args)


@contextmanager
def capymock_serve(scenario: str) -> Iterator[tuple[str, str]]:
    """`capymock serve --scenario SCENARIO --speed 20` on a free port: yields (url, the first
    organization-wide token of the banner)."""
    command = [
        sys.executable,
        "-m",
        "capymock",
        "serve",
        "--port",
        "0",
        "--quiet",
        "--scenario",
        scenario,
        "--speed",
        str(SERVE_SPEED),
    ]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert process.stdout is not None
    url = token = ""
    seen: list[str] = []
    for line in process.stdout:
        seen.append(line)
        if found := re.search(r"mock at (http://\S+)", line):
            url = found.group(1)
        if (found := re.match(r"\s*token\s+(capy_live_\S+) \(organization ", line)) and not token:
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
    served = target.served
    assert served is not None
    try:
        with capymock_serve(served.scenario) as (url, shown):
            return run_contract(url, served.token or shown, served.project, target, args)
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


def conformant_targets(seed: int) -> list[Target]:
    """The reference server, and `capymock serve` running each bundled scenario (per project)."""
    found = [
        Target(
            "reference",
            "conformant",
            "the reference server honours the spec",
            False,
            kind="reference",
            seed=seed,
        )
    ]
    for served in scripted():
        key = "the default organization key" if served.token is None else "the scenario's organization key"
        if served.faults:
            statuses = ", ".join(map(str, served.faults))
            key += f"; its faults' {statuses} are undocumented, so only they may be reported"
        found.append(
            Target(
                f"capymock serve --scenario {served.scenario} --speed {SERVE_SPEED} ({served.project})",
                "conformant",
                f"capymock serve ({served.scenario}, {served.project}, {key}) honours the spec",
                False,
                kind="capymock",
                seed=seed,
                served=served,
            )
        )
    return found


def targets(mutants: list[Mutant], seeds: list[int]) -> list[Target]:
    return [
        target
        for seed in seeds
        for target in conformant_targets(seed) + [Target.of(mutant, seed) for mutant in mutants]
    ]


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


def _mark(outcome: Outcome) -> str:
    if outcome.verdict == "faults only":
        return f"ok: only its faults' {'/'.join(map(str, outcome.faults))} answers reported"
    if outcome.as_expected:
        return "ok"
    return "**false alarm**" if outcome.verdict == "violations" else f"**{outcome.verdict}**"


def _seed_line(seed: int, outcomes: list[Outcome]) -> str:
    """One seed's kill rate, and what the conformant servers and allowed mutants said."""
    mutants = [o for o in outcomes if o.target.kind == "mutant"]
    conformant = [o for o in outcomes if o.target.kind != "mutant"]
    required = [o for o in mutants if o.target.expect_violations and o.target.observable]
    allowed = [o for o in mutants if not o.target.expect_violations]
    killed = sum(o.verdict == "violations" for o in required)
    rate = 100.0 * killed / len(required) if required else 100.0
    return (
        f"- seed {seed}: **kill rate {killed}/{len(required)} = {rate:.1f} %**; survived "
        f"{sum(o.verdict == 'conformant' for o in required)}, errors "
        f"{sum(o.verdict == 'error' for o in mutants)}; false alarms "
        f"{sum(o.verdict == 'violations' for o in conformant)} of {len(conformant)} conformant servers, "
        f"{sum(o.verdict == 'violations' for o in allowed)} of {len(allowed)} allowed mutants; "
        f"conformant servers in error {sum(o.verdict == 'error' for o in conformant)}"
    )


def render(outcomes: list[Outcome], args: argparse.Namespace, seconds: float) -> str:
    seeds = list(dict.fromkeys(o.target.seed for o in outcomes))
    mutants = [o for o in outcomes if o.target.kind == "mutant"]
    conformant = [o for o in outcomes if o.target.kind != "mutant"]
    by_name: dict[str, list[Outcome]] = {}
    for outcome in mutants:
        by_name.setdefault(outcome.target.name, []).append(outcome)
    required = [
        runs for runs in by_name.values() if runs[0].target.expect_violations and runs[0].target.observable
    ]
    unseen = [
        runs
        for runs in by_name.values()
        if runs[0].target.expect_violations and not runs[0].target.observable
    ]
    allowed = [runs for runs in by_name.values() if not runs[0].target.expect_violations]
    killed = [runs for runs in required if all(o.verdict == "violations" for o in runs)]
    rate = 100.0 * len(killed) / len(required) if required else 100.0
    survived = [o for runs in required for o in runs if o.verdict == "conformant"]
    errors = [o for o in mutants if o.verdict == "error"]
    flagged = [o for runs in allowed for o in runs if o.verdict == "violations"]
    alarms = [o for o in conformant if o.verdict == "violations"]
    broken = [o for o in conformant if o.verdict == "error"]
    selection = "all mutants" if not (args.sample or args.only or args.conformant_only) else "a sample"
    lines = [
        "# capymock contract: mutant kill rate",
        "",
        f"- checker: `{_checker()}`",
        f"- runs: `--max-examples {args.max_examples} --seed SEED --rate-limit 0 "
        f"--max-time {args.max_time:g}` for each seed of {', '.join(map(str, seeds))}, "
        f"{args.jobs} at a time; {selection}; {len(outcomes)} contract runs",
        f"- mutants: {len(by_name)} ({len(required)} observable spec violations, "
        f"{len(unseen)} not observable from the run's inputs, {len(allowed)} allowed by the spec)",
        f"- **killed at every seed: {len(killed)}/{len(required)} = {rate:.1f} %**; survivals "
        f"{len(survived)}, errors {len(errors)}, false alarms {len(alarms) + len(flagged)} "
        f"(conformant servers {len(alarms)}, allowed mutants {len(flagged)}), conformant servers in "
        f"error {len(broken)}, over all seeds",
    ]
    lines += [_seed_line(seed, [o for o in outcomes if o.target.seed == seed]) for seed in seeds]
    lines += [
        f"- wall time: {seconds:.0f} s ({seconds / 60:.1f} min) on {os.cpu_count()} cores",
        "",
        "Per family, over every seed: a violation counts as killed when every seed killed it, an "
        "allowed mutant as flagged when any seed flagged it.",
        "",
        "| family | mutants | violations | killed | survived | errors | not observable (killed) "
        "| allowed (flagged) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for family in dict.fromkeys(runs[0].target.family for runs in by_name.values()):
        members = [runs for runs in by_name.values() if runs[0].target.family == family]
        need = [runs for runs in members if runs[0].target.expect_violations and runs[0].target.observable]
        hidden = [
            runs for runs in members if runs[0].target.expect_violations and not runs[0].target.observable
        ]
        free = [runs for runs in members if not runs[0].target.expect_violations]
        lines.append(
            f"| {family} | {len(members)} | {len(need)} "
            f"| {sum(all(o.verdict == 'violations' for o in runs) for runs in need)} "
            f"| {sum(any(o.verdict == 'conformant' for o in runs) for runs in need)} "
            f"| {sum(any(o.verdict == 'error' for o in runs) for runs in members)} "
            f"| {len(hidden)} ({sum(all(o.verdict == 'violations' for o in runs) for runs in hidden)}) "
            f"| {len(free)} ({sum(any(o.verdict == 'violations' for o in runs) for runs in free)}) |"
        )
    lines += [
        "",
        "## Conformant servers",
        "",
        "Each must exit 0. `capymock serve` runs at `--speed 20`, so the scenario's jobs move while "
        "they are read.",
        "",
        "| server | " + " | ".join(f"seed {seed}" for seed in seeds) + " |",
        "|---|" + "---|" * len(seeds),
    ]
    servers: dict[str, dict[int, Outcome]] = {}
    for outcome in conformant:
        servers.setdefault(outcome.target.name, {})[outcome.target.seed] = outcome
    for name, runs in servers.items():
        cells = [
            f"exit {runs[seed].exit_code} ({_mark(runs[seed])}, {runs[seed].seconds:.1f} s)"
            if seed in runs
            else "-"
            for seed in seeds
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    for outcome in alarms + broken:
        lines += ["", f"### `{outcome.target.name}`, seed {outcome.target.seed}", ""]
        lines += _block(outcome.tail)
    sections: list[tuple[str, list[Outcome]]] = [
        ("Survivors (spec violations not reported)", survived),
        ("Errors", errors),
        ("False alarms on changes the spec allows", flagged),
    ]
    for title, members in sections:
        lines += ["", f"## {title}: {len(members)}", ""]
        for outcome in members:
            lines += [
                f"### `{outcome.target.name}` ({outcome.target.family}), seed {outcome.target.seed}",
                "",
                f"rule: {outcome.target.rule}",
                "",
            ]
            lines += _block(outcome.tail)
    lines += ["", f"## Not observable from a token and its project: {len(unseen)}", ""]
    lines += [
        f"- `{runs[0].target.name}`: {runs[0].target.rule} ("
        + ", ".join(
            f"seed {o.target.seed} {'killed' if o.verdict == 'violations' else o.verdict}" for o in runs
        )
        + ")"
        for runs in unseen
    ]
    stopped = [f"{o.target.name} (seed {o.target.seed})" for o in outcomes if o.stopped_early]
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
    parser.add_argument(
        "--seeds",
        default=DEFAULT_SEEDS,
        help=f"comma-separated contract seeds, each a run of everything; the first also draws the sample "
        f"(default {DEFAULT_SEEDS})",
    )
    parser.add_argument("--seed", type=int, help="one contract seed: the same as --seeds N")
    parser.add_argument("--sample", type=int, default=0, help="run this many mutants (default 0: all)")
    parser.add_argument("--jobs", type=int, default=4, help="contract runs at a time (default 4)")
    parser.add_argument("--max-examples", type=int, default=25, help="per operation and phase (default 25)")
    parser.add_argument(
        "--max-time", type=float, default=120.0, help="per contract run, seconds (default 120)"
    )
    parser.add_argument("--only", default="", help="comma-separated mutant names to run")
    parser.add_argument(
        "--conformant-only", action="store_true", help="run only the conformant servers, no mutant"
    )
    parser.add_argument("--list", action="store_true", help="list the mutants and exit")
    args = parser.parse_args(argv)
    text = str(args.seed) if args.seed is not None else args.seeds
    try:
        args.seed_list = list(dict.fromkeys(int(part) for part in text.split(",") if part.strip()))
    except ValueError:
        parser.error(f"--seeds takes whole numbers separated by commas, not {text!r}")
    if not args.seed_list:
        parser.error("--seeds names no seed")
    return args


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
    if args.conformant_only:
        chosen = []
    elif args.only:
        wanted = args.only.split(",")
        unknown = sorted(set(wanted) - {mutant.name for mutant in mutants})
        if unknown:
            print(f"unknown mutants: {', '.join(unknown)}", file=sys.stderr)
            return 2
        chosen = [mutant for mutant in mutants if mutant.name in wanted]
    else:
        chosen = sample(mutants, args.sample, args.seed_list[0])
    started = time.monotonic()
    work = targets(chosen, args.seed_list)
    with ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        outcomes = list(pool.map(lambda target: run_one(target, args), work))
    report = render(outcomes, args, time.monotonic() - started)
    print(report, end="")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "mutants.md" if not (args.sample or args.only or args.conformant_only) else "mutants-sample.md.tmp"
    (RESULTS / name).write_text(report)
    print(f"\nwritten to {(RESULTS / name).relative_to(ROOT)}")
    return 0 if passed(outcomes) else 1


if __name__ == "__main__":
    sys.exit(main())
