"""Summarise a mutmut run over capymock/core/ (`make mutate`).

Reads mutmut's results (`mutants/capymock/core/*.py.meta`) and the equivalent mutants listed in
`benchmarks/mutate_equivalent.txt`, prints killed / survived / timeout / no tests / equivalent
per module and the share of non-equivalent mutants killed (a timeout counts as killed: the
tests noticed), and writes the same to `benchmarks/results/mutate.md`.

Exit 1 when that share is below `--fail-under` (default 95), or when an entry of the
equivalents file names a mutant that does not exist or was killed (the list went stale); a
listed mutant that timed out is only reported (on a loaded machine a slow run times out).
"""

from __future__ import annotations

import argparse
import json
import sys
import tomllib
from collections import Counter
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
META = ROOT / "mutants" / "capymock" / "core"
EQUIVALENT = ROOT / "benchmarks" / "mutate_equivalent.txt"
REPORT = ROOT / "benchmarks" / "results" / "mutate.md"

STATUS = {1: "killed", 3: "killed", 0: "survived", 5: "no tests", 33: "no tests", 34: "skipped"}
STATUS.update({code: "timeout" for code in (36, -24, 24, 152, 255)})
COLUMNS = ("killed", "timeout", "survived", "no tests", "other", "equivalent")


def read_equivalents(path: Path) -> dict[str, str]:
    """Mutant name -> the reason it is equivalent, from `name  reason` lines (# comments)."""
    found: dict[str, str] = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, _, reason = line.partition(" ")
        found[name] = reason.strip()
    return found


def read_results(folder: Path) -> dict[str, dict[str, int | None]]:
    """Module file name -> mutant name -> mutmut's exit code for it."""
    return {
        meta.name.removesuffix(".meta"): json.loads(meta.read_text())["exit_code_by_key"]
        for meta in sorted(folder.glob("*.py.meta"))
    }


def status(code: int | None) -> str:
    return STATUS.get(code, "other") if code is not None else "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fail-under", type=float, default=95.0)
    args = parser.parse_args()
    if not META.is_dir():
        print("mutate: no results; run `make mutate`", file=sys.stderr)
        return 1
    equivalents = read_equivalents(EQUIVALENT)
    results = read_results(META)
    rows: dict[str, Counter[str]] = {}
    unkilled: list[str] = []
    seen: set[str] = set()
    for module, codes in results.items():
        counts: Counter[str] = Counter()
        for name, code in codes.items():
            seen.add(name)
            if name in equivalents:
                counts["equivalent"] += 1
                continue
            kind = status(code)
            counts[kind] += 1
            if kind not in ("killed", "timeout"):
                unkilled.append(f"{name} ({kind})")
        if codes:
            rows[module] = counts
    stale = [name for name in equivalents if name not in seen]
    stale += [name for name in equivalents if name in seen and _status_of(results, name) == "killed"]
    slow = [name for name in equivalents if name in seen and _status_of(results, name) == "timeout"]
    total: Counter[str] = sum(rows.values(), Counter())
    settings = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["mutmut"]
    left_out = ", ".join(f"`{p}`" for p in settings.get("do_not_mutate", [])) or "none"
    lines = [
        "# Mutation score of capymock/core/",
        "",
        f"`make mutate`: mutmut {_version()} over `capymock/core/` with the tests listed in",
        "`[tool.mutmut]` of `pyproject.toml`; equivalent mutants are listed, with a reason each, in",
        "`benchmarks/mutate_equivalent.txt`. A timeout counts as killed.",
        "",
        f"Not mutated: {left_out}. `capymock/system/` (files, the environment, the wall clock:",
        "`load_spec`, the document cache, `SystemClock`) is not core and stays out of scope; its tests",
        "(`test_core_documents.py`, the `SystemClock` ones) are not needed to kill core mutants.",
        "",
        "| module | " + " | ".join(COLUMNS) + " | killed of non-equivalent |",
        "|---|" + "---:|" * (len(COLUMNS) + 1),
    ]
    for module, counts in [*rows.items(), ("**all**", total)]:
        lines.append(
            f"| {module} | " + " | ".join(str(counts[c]) for c in COLUMNS) + f" | {_score(counts)} |"
        )
    score = _percent(total)
    lines += ["", f"{score:.1f} % of the non-equivalent mutants of capymock/core/ are killed."]
    if unkilled:
        lines += ["", "Not killed (`.venv/bin/mutmut show NAME` shows the change):", ""]
        lines += [f"- `{name}`" for name in sorted(unkilled)]
    text = "\n".join(lines) + "\n"
    print(text)
    REPORT.write_text(text)
    for name in stale:
        print(f"mutate: {name} is listed as equivalent but was killed or no longer exists", file=sys.stderr)
    for name in slow:
        print(f"mutate: {name} (listed as equivalent) timed out: a loaded machine?", file=sys.stderr)
    if stale or score < args.fail_under:
        return 1
    return 0


def _version() -> str:
    try:
        return metadata.version("mutmut")
    except metadata.PackageNotFoundError:
        return "(not installed)"


def _status_of(results: dict[str, dict[str, int | None]], name: str) -> str:
    return next(status(codes.get(name)) for codes in results.values() if name in codes)


def _percent(counts: Counter[str]) -> float:
    judged = sum(counts[c] for c in COLUMNS if c != "equivalent")
    return 100.0 * (counts["killed"] + counts["timeout"]) / judged if judged else 100.0


def _score(counts: Counter[str]) -> str:
    return f"{_percent(counts):.1f} %"


if __name__ == "__main__":
    sys.exit(main())
