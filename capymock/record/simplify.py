"""A recorded file made to validate: each job or fault a validation problem names written
again more simply (a job one `Fallback` level down, a fault as a comment)."""

from __future__ import annotations

import re

from capymock.errors import ScenarioError
from capymock.record.job_entry import Fallback, JobWriter
from capymock.record.yaml_text import comment, is_entry

_INDEXED = re.compile(r"^(jobs|faults)\[(\d+)\]")


def simplify(
    exc: ScenarioError, blocks: list[list[str]], writers: list[JobWriter], faults: list[str]
) -> bool:
    """Write each job or fault a problem names more simply; False when a problem names neither."""
    entries = [index for index, block in enumerate(blocks) if is_entry(block)]
    fault_entries = [index for index, line in enumerate(faults) if line.startswith("  - ")]
    simplified = False
    for problem in exc.problems:
        found = _INDEXED.match(problem.path)
        if found is None:
            return False
        kind, index = found.group(1), int(found.group(2))
        if kind == "jobs" and index < len(entries):
            block = entries[index]
            blocks[block] = _simpler(writers[block], problem.message)
            simplified = True
        elif kind == "faults" and index < len(fault_entries):
            line = fault_entries[index]
            faults[line] = f"  # {comment(faults[line].strip())}: not replayed ({comment(problem.message)})"
            simplified = True
    return simplified


def _simpler(writer: JobWriter, why: str) -> list[str]:
    writer.level = min(writer.level + 1, Fallback.COMMENT)
    return writer.lines(writer.level, why)
