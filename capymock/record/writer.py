"""A `Recording` as a scenario file: each job's observed states as steps, `after` the gaps the
deployment's own timestamps show, and the fields each step changed.

Polling can miss states (seen `pending`, then `running`): the gap is filled with the
lifecycle's shortest legal path, marked by a comment, so the file always validates. A move no
legal path explains ends that job's script, as a comment, never as an illegal step. Pure:
text in, text out. The pieces: `job_entry` (a job's lines, from `steps`, `timing` and
`naming`), `fault_entries`, `simplify` (until the file validates), `yaml_text`.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime

from capymock.core.auth import API_KEY_PREFIX
from capymock.core.spec import JOB, Spec
from capymock.core.timestamps import format_timestamp
from capymock.errors import ScenarioError
from capymock.record.fault_entries import fault_lines
from capymock.record.job_entry import Fallback, JobWriter
from capymock.record.naming import Names, segment
from capymock.record.observations import Recording, public_url
from capymock.record.simplify import simplify
from capymock.record.timing import reference_time
from capymock.record.yaml_text import comment, flow, is_entry, seconds
from capymock.scenario.loader import parse_scenario


@dataclass(frozen=True)
class Options:
    """How to write: fields to redact, ids to replace with placeholders, and the schema's location."""

    redact: tuple[str, ...] = ()
    rename: bool = False
    schema: str = "scenario.schema.json"
    interval: float | None = None
    """The polling interval, for the file's header (None: recorded as a proxy)."""
    timeout: float = 10.0


def write_scenario(recording: Recording, spec: Spec, options: Options = Options()) -> str:
    """The scenario that replays `recording`, as YAML text with comments. It always validates:
    a job or fault the checks refuse is written again more simply, or as a comment."""
    return write_checked(recording, spec, options)[0]


def write_checked(
    recording: Recording, spec: Spec, options: Options = Options(), *, shown_as: str = "recorded"
) -> tuple[str, ScenarioError | None]:
    """`write_scenario`'s text, and why it does not validate after all (None: it does; else a
    defect of the writer), its problems located in a file called `shown_as`."""
    names = Names(options.rename, options.redact)
    reference = reference_time(recording)
    jobs = [(job_id, sightings) for job_id, sightings in recording.jobs.items() if sightings]
    organization, projects = _registered(recording, names, [job_id for job_id, _ in jobs])
    header = _header(recording, options, names, reference, organization, projects)
    writers = [JobWriter(job_id, sightings, spec, reference, names) for job_id, sightings in jobs]
    blocks = [writer.lines(Fallback.FULL) for writer in writers]
    faults = fault_lines(recording, spec, names, options.timeout) if recording.failures else []
    for _ in range(len(blocks) * Fallback.COMMENT + len(faults) + 1):  # each round simplifies one
        text = _assemble(header, blocks, faults)
        problem = _problem(text, spec, shown_as)
        if problem is None or not simplify(problem, blocks, writers, faults):
            return text, problem  # a problem no job or fault explains: the caller reports it
    text = _assemble(header, blocks, faults)
    return text, _problem(text, spec, shown_as)


def _registered(recording: Recording, names: Names, job_ids: list[str]) -> tuple[str | None, list[str]]:
    """The organization and the projects the jobs first showed, each id registered with `names`."""
    first_jobs = [recording.jobs[job_id][0].job for job_id in job_ids]
    organization = next((str(o) for j in first_jobs if segment(o := j.get(JOB.organization))), None)
    projects = list(dict.fromkeys(str(p) for j in first_jobs if segment(p := j.get(JOB.project))))
    names.register(organization, projects, job_ids)
    return organization, projects


def _header(
    recording: Recording,
    options: Options,
    names: Names,
    reference: datetime | None,
    organization: str | None,
    projects: list[str],
) -> list[str]:
    """The lines before the jobs."""
    source = comment(public_url(recording.source))
    how = f", polled every {seconds(options.interval)}." if options.interval else ", as a proxy."
    header = [
        f"# yaml-language-server: $schema={options.schema}",
        f"# Recorded by capymock record from {source}",
        f"# on {format_timestamp(recording.started)}{how}",
        "# `after` is the gap the deployment's own timestamps show between two states.",
        "name: recorded",
        f"description: {flow(f'What {source} did, recorded by capymock')}",
    ]
    if reference is not None:
        header.append(
            f'start: "{format_timestamp(reference)}"   # the deployment\'s time when recording began'
        )
    if organization is not None:
        header.append(f"organization: {flow(names.organization(organization))}")
    shown = ", ".join(flow(names.project(p)) for p in projects or ["proj_recorded"])
    token = f"{API_KEY_PREFIX}recorded_{secrets.token_hex(8)}"
    return [
        *header,
        f"projects: [{shown}]",
        "tokens:",
        f"  - {{token: {token}}}   # an organization-wide key of this file's own",
    ]


def _assemble(header: list[str], blocks: list[list[str]], faults: list[str]) -> str:
    lines = [*header, "jobs:" if any(is_entry(b) for b in blocks) else "jobs: []"]
    for block in blocks:
        lines += block
    if faults:
        lines += ["faults:" if is_entry(faults) else "faults: []", *faults]
    return "\n".join(lines) + "\n"


def _problem(text: str, spec: Spec, shown_as: str) -> ScenarioError | None:
    try:
        parse_scenario(text, spec, source=shown_as)
    except ScenarioError as exc:
        return exc
    return None
