"""Scenario files -> `Scenario` objects: organizations, projects, keys, scripted jobs, faults.

A file is checked against the scenario JSON Schema first, then against the spec: the
lifecycle must allow every step, references must resolve, ids must be unique. Every problem
names the file, line, column and path. Nothing here touches a running mock.
"""

from __future__ import annotations

import dataclasses
import functools
import threading
from collections import OrderedDict
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema_rs

from capymock.core.defaults import DEFAULT_ORGANIZATION, MAX_JOBS
from capymock.core.durations import parse_duration
from capymock.core.spec import JOB, Spec
from capymock.core.suggest import did_you_mean
from capymock.core.timestamps import parse_timestamp
from capymock.errors import Problem, ScenarioError
from capymock.scenario.checks import check_semantics, check_size, check_values
from capymock.scenario.filler import generate
from capymock.scenario.located import Located
from capymock.scenario.model import DocPath, Fault, Scenario, ScriptedJob, Step, TokenGrant
from capymock.scenario.schema import build_scenario_schema
from capymock.scenario.wording import schema_problem
from capymock.system import documents

BUNDLED_DIR = Path(__file__).parent.parent / "scenarios"


@functools.lru_cache(maxsize=8)
def _schema_for(spec: Spec) -> tuple[dict[str, Any], Any]:
    schema = build_scenario_schema(spec)
    return schema, jsonschema_rs.Draft202012Validator(schema, validate_formats=True)


def bundled_scenarios() -> dict[str, Path]:
    """Bundled scenario names -> their files."""
    return dict(_bundled())


@functools.lru_cache(maxsize=1)
def _bundled() -> tuple[tuple[str, Path], ...]:
    return tuple((path.stem, path) for path in sorted(BUNDLED_DIR.glob("*.yaml")))


def find_scenario_file(reference: str | Path, base: Path | None = None) -> Path:
    """The file a scenario reference names: a path (relative to `base`), or a bundled name.

    Raises:
        ScenarioError: neither a file nor a bundled scenario, or a path to something that is not
            a regular file (a folder, a named pipe, a device).
    """
    candidate = Path(reference)
    if base is not None and not candidate.is_absolute():
        candidate = base / candidate
    if candidate.is_file():
        return candidate
    bundled = bundled_scenarios()
    if str(reference) in bundled:
        return bundled[str(reference)]
    if _exists(candidate):  # a folder, a named pipe, a device: said before anything is read
        raise ScenarioError([Problem(None, "", _not_a_file(candidate))])
    if candidate.suffix in (".yaml", ".yml") or "/" in str(reference):
        looked = candidate.absolute()
        raise ScenarioError([Problem(None, "", f"{reference}: no such scenario file (looked for {looked})")])
    hint = did_you_mean(str(reference), bundled)
    message = (
        f"no scenario file or bundled scenario called {str(reference)!r}{hint}; bundled: {', '.join(bundled)}"
    )
    raise ScenarioError([Problem(None, "", message)])


def load_scenario(
    reference: str | Path,
    spec: Spec,
    base: Path | None = None,
    *,
    source: bytes | None = None,
    max_jobs: int = MAX_JOBS,
) -> Scenario:
    """Read, check and parse a scenario by path or bundled name (`source`: the file's bytes,
    already read), of at most `max_jobs` jobs in all.

    The file is read once, whole (at most `documents.MAX_FILE_BYTES`); bytes read before are not
    parsed again: `Scenario`s are frozen, so every load of the same bytes shares one.
    """
    path = find_scenario_file(reference, base)
    if source is None:
        try:
            source = documents.read_file(path)
        except documents.UnreadableFile as exc:
            raise ScenarioError([Problem(None, "", str(exc))]) from None
    return _load_bytes(source, str(path), display_path(path), spec, max_jobs)


_PARSED: OrderedDict[tuple[str, str, str, Spec, int], Scenario] = OrderedDict()
_PARSED_LOCK = threading.Lock()
_PARSED_MAX = 64


def _load_bytes(source: bytes, path: str, shown: str, spec: Spec, max_jobs: int) -> Scenario:
    key = (documents.digest(source), path, shown, spec, max_jobs)
    with _PARSED_LOCK:
        found = _PARSED.get(key)
        if found is not None:
            _PARSED.move_to_end(key)
            return found
    scenario = _parse_file(source, path, shown, spec, max_jobs)
    with _PARSED_LOCK:
        _PARSED[key] = scenario
        while len(_PARSED) > _PARSED_MAX:
            _PARSED.popitem(last=False)
    return scenario


def _parse_file(source: bytes, path: str, shown: str, spec: Spec, max_jobs: int) -> Scenario:
    default_name = Path(path).stem
    document = documents.recall("scenario", source)
    if document is not None:
        try:
            scenario = _parse_located(Located(document, {}, {}), spec, shown, default_name, max_jobs)
            return dataclasses.replace(scenario, size=len(source))
        except ScenarioError:
            pass  # checked again below, to say where in the file each problem is
    try:
        text = source.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ScenarioError([Problem(None, "", f"{path}: cannot read: {exc}")]) from None
    located = _located(text, shown)
    scenario = dataclasses.replace(
        _parse_located(located, spec, shown, default_name, max_jobs), size=len(source)
    )
    documents.keep("scenario", source, located.data)
    return scenario


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system, say
        return False


def _not_a_file(path: Path) -> str:
    return documents.not_regular(path) or f"{path}: not a regular file; give a YAML file"


def parse_scenario(
    text: str,
    spec: Spec,
    *,
    source: str = "<scenario>",
    default_name: str = "scenario",
    max_jobs: int = MAX_JOBS,
) -> Scenario:
    """Check and parse scenario YAML text, of at most `max_jobs` jobs in all.

    Raises:
        ScenarioError: with every problem found, each with its location.
    """
    scenario = _parse_located(_located(text, source), spec, source, default_name, max_jobs)
    return dataclasses.replace(scenario, size=len(text.encode("utf-8", "surrogatepass")))


def _located(text: str, source: str) -> Located:
    from capymock.scenario.yaml_source import load_located  # here: PyYAML only when parsing

    located = load_located(text, source)
    return Located({}, located.values, located.keys) if located.data is None else located


def fault_document(
    method: str | None,
    path: str,
    status: int | None,
    times: int | None,
    delay: timedelta | float | str | None,
    body: Any,
) -> dict[str, Any]:
    """A fault in its scenario-file form, from `Mock.fail`'s arguments (a timedelta delay in seconds)."""
    raw: dict[str, Any] = {"match": {"path": path, **({"method": method} if method else {})}}
    if isinstance(delay, timedelta):
        delay = delay.total_seconds()
    given = {"status": status, "times": times, "delay": delay, "body": body}
    return raw | {key: value for key, value in given.items() if value is not None}


def check_fault(raw: Any, spec: Spec) -> Fault:
    """A fault in its scenario-file form, checked as it would be in a file.

    Raises:
        ScenarioError: the fault is malformed, or names a path or operation the spec lacks.
    """
    located = Located({"projects": ["_"], "faults": [raw]}, {}, {})
    try:
        return _parse_located(located, spec, "fault", "fault").faults[0]
    except ScenarioError as exc:
        prefix = "faults[0]"
        trimmed = [Problem(None, p.path.removeprefix(prefix).lstrip("."), p.message) for p in exc.problems]
        raise ScenarioError(trimmed) from None


def _parse_located(
    located: Located, spec: Spec, source: str, default_name: str, max_jobs: int = MAX_JOBS
) -> Scenario:
    schema, validator = _schema_for(spec)
    problems = [schema_problem(e, schema, located) for e in validator.iter_errors(located.data)]
    problems = problems or check_size(located.data, located, max_jobs) or check_values(located.data, located)
    if problems:
        raise ScenarioError(sorted(problems, key=_order))
    scenario = _build(located.data, spec, source, default_name)
    problems = check_semantics(scenario, located, spec)
    if problems:
        raise ScenarioError(sorted(problems, key=_order))
    return scenario


def _order(problem: Problem) -> tuple[int, int]:
    where = problem.location
    return (where.line, where.column) if where else (0, 0)


def display_path(path: Path) -> str:
    """How errors name the scenario file at `path`: relative to the working folder when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _build(data: dict[str, Any], spec: Spec, source: str, default_name: str) -> Scenario:
    organization = data.get("organization", DEFAULT_ORGANIZATION)
    jobs: list[ScriptedJob] = []
    for index, entry in enumerate(data.get("jobs", [])):
        origin = ("jobs", index)
        jobs.extend(
            generate(entry, spec, origin) if "generate" in entry else [_scripted(entry, spec, origin)]
        )
    return Scenario(
        name=data.get("name", default_name),
        description=data.get("description", ""),
        source=source,
        start=parse_timestamp(data["start"]) if data.get("start", "now") != "now" else None,
        organization=organization,
        projects=tuple(data["projects"]),
        tokens=tuple(TokenGrant(t["token"], t.get("project")) for t in data.get("tokens", [])),
        jobs=tuple(jobs),
        faults=tuple(parse_fault(f, ("faults", i)) for i, f in enumerate(data.get("faults", []))),
        starts_now=data.get("start") == "now",
    )


def _scripted(entry: Mapping[str, Any], spec: Spec, origin: DocPath) -> ScriptedJob:
    fields = {k: v for k, v in entry.items() if k not in ("project", "age", "steps")}
    fields[JOB.project] = entry["project"]
    if "steps" in entry:
        steps = [_step(raw, (*origin, "steps", i)) for i, raw in enumerate(entry["steps"])]
    else:
        steps = [Step(spec.lifecycle.initial, origin=origin)]
    past = next((i for i, step in enumerate(steps[1:], 1) if step.age is None), len(steps))
    age = parse_duration(entry.get("age", 0))
    return ScriptedJob(fields, age, steps[0], tuple(steps[past:]), origin, history=tuple(steps[1:past]))


def _step(raw: Mapping[str, Any], origin: DocPath) -> Step:
    return Step(
        state=raw["state"],
        after=parse_duration(raw["after"]) if "after" in raw else None,
        after_polls=raw.get("after_polls"),
        fields={k: v for k, v in raw.items() if k not in ("state", "after", "after_polls", "age")},
        origin=origin,
        age=parse_duration(raw["age"]) if "age" in raw else None,
    )


def parse_fault(raw: Mapping[str, Any], origin: DocPath = ()) -> Fault:
    """A fault from its (already schema-checked) scenario or control-API form."""
    match = raw["match"]
    return Fault(
        method=match["method"].upper() if "method" in match else None,
        path=match.get("path"),
        operation=match.get("operation"),
        query=dict(match.get("query", {})),
        status=raw.get("status"),
        delay=parse_duration(raw.get("delay", 0)),
        times=raw.get("times"),
        body=raw.get("body"),
        origin=origin,
    )
