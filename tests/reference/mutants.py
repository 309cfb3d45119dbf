"""Single-defect mutants of the reference server, derived from openapi.yaml.

`build_mutants()` reads the spec (fields, required and nullable fields, types, formats, the state
enum, the `x-lifecycle` invariants, documented statuses and headers, the `limit` bounds) and
makes one `Mutant` per way to break one of its rules. Each carries a stable `name`, its `family`,
the `rule` it breaks and the `Mutation` to serve. `violates_spec=False` marks a change the spec
allows (a contract checker that flags it raises a false alarm); `observable=False` marks a
violation no run given only a token and its project can see (it needs another project's id or
another scope's job id).

Lifecycle defects are applied to one job (the newest that fits) in both answers, and for the
first defect of each invariant kind also in the list only, in the single-job answer only, and in
an old job that only lists longer than the default `limit` show.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from .server import (
    GET_JOB,
    LIST_JOBS,
    OTHER_ORGANIZATION,
    OTHER_PROJECT,
    PROJECT,
    PROJECTS,
    Exchange,
    Mutation,
    Problem,
    Reply,
    Scope,
    order,
    parse_stamp,
    reference_jobs,
    stamp,
)

SPEC_PATH = Path(__file__).resolve().parents[2] / "openapi.yaml"
UNDOCUMENTED_STATUS = 418
BOTH = frozenset({LIST_JOBS, GET_JOB})
WHERE = {"list": frozenset({LIST_JOBS}), "get": frozenset({GET_JOB})}

Job = dict[str, Any]


@dataclass(frozen=True)
class Mutant:
    """One served variant of the reference and the rule it breaks."""

    name: str
    family: str
    rule: str
    mutation: Mutation
    violates_spec: bool = True
    observable: bool = True


# -- reading the spec ---------------------------------------------------------------------


@dataclass(frozen=True)
class Facts:
    """What the mutants need from openapi.yaml."""

    document: dict[str, Any]
    properties: dict[str, dict[str, Any]]
    required: tuple[str, ...]
    lifecycle: dict[str, Any]
    states: tuple[str, ...]
    statuses: dict[str, tuple[int, ...]]
    limit: dict[str, Any]
    envelopes: dict[str, tuple[str, str]]
    headers: dict[int, tuple[str, ...]]

    def types(self, name: str) -> set[str]:
        declared = self.properties[name].get("type", [])
        return {declared} if isinstance(declared, str) else set(declared)

    def nullable(self, name: str) -> bool:
        return "null" in self.types(name)

    def date_times(self) -> list[str]:
        return [name for name, schema in self.properties.items() if schema.get("format") == "date-time"]

    def error_statuses(self) -> list[int]:
        return sorted({status for codes in self.statuses.values() for status in codes if status >= 400})

    def operations_with(self, status: int) -> list[str]:
        return [operation for operation, codes in self.statuses.items() if status in codes]


def _resolve(document: dict[str, Any], node: Any) -> Any:
    while isinstance(node, dict) and "$ref" in node:
        target: Any = document
        for part in node["$ref"].lstrip("#/").split("/"):
            target = target[part]
        node = target
    return node


@cache
def load_facts(path: Path = SPEC_PATH) -> Facts:
    """Read openapi.yaml once."""
    document = yaml.safe_load(path.read_text())
    job = document["components"]["schemas"]["Job"]
    operations = {
        op["operationId"]: op
        for item in document["paths"].values()
        for method, op in item.items()
        if method in ("get", "put", "post", "delete", "patch", "head", "options")
    }
    statuses = {name: tuple(int(code) for code in op["responses"]) for name, op in operations.items()}
    envelopes = {}
    for name, op in operations.items():
        schema = _resolve(document, op["responses"]["200"]["content"]["application/json"]["schema"])
        (key,) = schema["required"]
        envelopes[name] = (key, _resolve(document, schema["properties"][key]).get("type", "object"))
    limit = next(
        _resolve(document, p)["schema"]
        for p in operations[LIST_JOBS].get("parameters", [])
        if _resolve(document, p)["name"] == "limit"
    )
    headers: dict[int, tuple[str, ...]] = {}
    for op in operations.values():
        for code, response in op["responses"].items():
            names = tuple(_resolve(document, response).get("headers", {}))
            if names:
                headers[int(code)] = names
    properties = {name: _resolve(document, schema) for name, schema in job["properties"].items()}
    return Facts(
        document=document,
        properties=properties,
        required=tuple(job["required"]),
        lifecycle=job["x-lifecycle"],
        states=tuple(properties[job["x-lifecycle"]["field"]]["enum"]),
        statuses=statuses,
        limit=limit,
        envelopes=envelopes,
        headers=headers,
    )


# -- building mutations -------------------------------------------------------------------


def jobs_in(body: Any) -> list[Job]:
    """The job objects of a list or single-job answer (none for anything else)."""
    if not isinstance(body, dict):
        return []
    if isinstance(body.get("jobs"), list):
        return [job for job in body["jobs"] if isinstance(job, dict)]
    return [body["job"]] if isinstance(body.get("job"), dict) else []


def edit_jobs(
    edit: Callable[[Job], None], *, where: frozenset[str] = BOTH, only: str | None = None
) -> Mutation:
    """Apply `edit` to every job (or the job `only`) of successful answers of the `where` operations."""

    def rewrite(exchange: Exchange, reply: Reply) -> Reply:
        if reply.status == 200 and exchange.operation in where:
            for job in jobs_in(reply.body):
                if only is None or job.get("id") == only:
                    edit(job)
        return reply

    return Mutation(rewrite=rewrite)


def rewrite_replies(change: Callable[[Exchange, Reply], Reply | None]) -> Mutation:
    """A mutation from a function that returns a changed reply, or None to keep it."""

    def rewrite(exchange: Exchange, reply: Reply) -> Reply:
        return change(exchange, reply) or reply

    return Mutation(rewrite=rewrite)


def replace_step(name: str, override: Callable[..., Any]) -> Mutation:
    return Mutation(steps={name: override})


def _seconds(text: str, delta: float) -> str:
    return stamp(parse_stamp(text) + timedelta(seconds=delta))


@cache
def project_jobs() -> list[Job]:
    """The reference's jobs of its project, in list order (newest first)."""
    return order([job for job in reference_jobs() if job["project_id"] == PROJECT])


def _pick(predicate: Callable[[Job], bool], *, deep: bool = False) -> Job | None:
    """The newest job of the project that fits; with `deep`, the newest one that only lists
    longer than the default `limit` show."""
    start = int(load_facts().limit["default"]) if deep else 0
    return next((job for job in project_jobs()[start:] if predicate(job)), None)


# -- families -------------------------------------------------------------------------------


def _wrong_value(types: set[str]) -> Any:
    """A JSON value of a type `types` does not allow."""
    for candidate, kind in ((7, "integer"), ("7", "string"), (True, "boolean")):
        if kind not in types and not (kind == "integer" and "number" in types):
            return candidate
    return [7]


DATE_TIME_DEFECTS: dict[str, Callable[[str], str]] = {
    "space_no_zone": lambda value: parse_stamp(value).strftime("%Y-%m-%d %H:%M:%S"),
    "no_zone": lambda value: parse_stamp(value).strftime("%Y-%m-%dT%H:%M:%S"),
    "garbage": lambda value: "not a date-time",
}
DATE_TIME_VARIANTS: dict[str, Callable[[str], str]] = {
    "offset_utc": lambda value: parse_stamp(value).isoformat(),
    "fractional_seconds": lambda value: value.replace("Z", ".250Z"),
    "offset_east": lambda value: parse_stamp(value).astimezone(timezone(timedelta(hours=2))).isoformat(),
    "lowercase_t_z": lambda value: value.lower(),
}
"""Valid RFC 3339 spellings of the same instant: not spec violations."""


def _set(name: str, value: Any) -> Callable[[Job], None]:
    def edit(job: Job) -> None:
        job[name] = value

    return edit


def _drop(name: str) -> Callable[[Job], None]:
    def edit(job: Job) -> None:
        job.pop(name, None)

    return edit


def _retype(name: str, value: Any) -> Callable[[Job], None]:
    def edit(job: Job) -> None:
        if job.get(name) is not None:
            job[name] = value

    return edit


def _reformat(name: str, spelling: Callable[[str], str]) -> Callable[[Job], None]:
    def edit(job: Job) -> None:
        if isinstance(job.get(name), str):
            job[name] = spelling(job[name])

    return edit


def _respell_all(names: list[str], spelling: Callable[[str], str]) -> Callable[[Job], None]:
    def edit(job: Job) -> None:
        for name in names:
            if isinstance(job.get(name), str):
                job[name] = spelling(job[name])

    return edit


def field_mutants(facts: Facts) -> Iterator[Mutant]:
    """Per Job field: dropped when required, null when not nullable, a wrong type, a malformed
    date-time, a state outside the enum; and the changes the schema allows."""
    for name, schema in facts.properties.items():
        types = sorted(facts.types(name))
        if name in facts.required:
            yield Mutant(
                f"{name}_missing", "field", f"Job.required: {name} is required", edit_jobs(_drop(name))
            )
        if not facts.nullable(name):
            yield Mutant(
                f"{name}_null",
                "field",
                f"Job.{name} is not nullable ({'/'.join(types)})",
                edit_jobs(_set(name, None)),
            )
        wrong = _wrong_value(set(types))
        yield Mutant(
            f"{name}_wrong_type",
            "field",
            f"Job.{name} has type {'/'.join(types)}, not {type(wrong).__name__}",
            edit_jobs(_retype(name, wrong)),
        )
        if schema.get("format") == "date-time":
            for defect, spelling in DATE_TIME_DEFECTS.items():
                yield Mutant(
                    f"{name}_{defect}",
                    "field",
                    f"Job.{name} has format date-time (RFC 3339): {defect.replace('_', ' ')}",
                    edit_jobs(_reformat(name, spelling)),
                )
        if "enum" in schema:
            yield from _enum_mutants(facts, name, schema["enum"])
    optional = [name for name in facts.properties if name not in facts.required]
    # A field an invariant may need present; `exclusive` constrains only values that are there.
    needing = {kind: rule for kind, rule in facts.lifecycle["invariants"].items() if kind != "exclusive"}
    in_lifecycle = json.dumps(needing)
    for name in optional:
        if f'"{name}"' not in in_lifecycle:
            yield Mutant(
                f"{name}_omitted",
                "field",
                f"Job.{name} is optional: leaving it out is allowed",
                edit_jobs(_drop(name)),
                violates_spec=False,
            )
    yield Mutant(
        "job_extra_field",
        "field",
        "Job allows additional properties: an undocumented field is allowed",
        edit_jobs(_set("priority", 5)),
        violates_spec=False,
    )
    for variant, spelling in DATE_TIME_VARIANTS.items():
        yield Mutant(
            f"date_times_{variant}",
            "field",
            f"RFC 3339 allows this spelling of every date-time: {variant.replace('_', ' ')}",
            edit_jobs(_respell_all(facts.date_times(), spelling)),
            violates_spec=False,
        )


def _enum_mutants(facts: Facts, name: str, values: list[str]) -> Iterator[Mutant]:
    initial = facts.lifecycle["initial"] if name == facts.lifecycle["field"] else values[0]
    unknown = next(word for word in ("queued", "waiting", "new") if word not in values)
    for suffix, value in (("out_of_enum", unknown), ("uppercase", initial.upper())):
        target = _pick(lambda job, v=initial: job.get(name) == v)
        if target is not None:
            yield Mutant(
                f"{name}_{suffix}",
                "field",
                f"Job.{name} is one of {', '.join(values)}; {value!r} is not",
                edit_jobs(_set(name, value), only=target["id"]),
            )


def envelope_mutants(facts: Facts) -> Iterator[Mutant]:
    """The answers' envelopes: the required key missing or of the wrong type; an extra key."""
    for operation, (key, kind) in facts.envelopes.items():
        where = frozenset({operation})

        def missing(
            exchange: Exchange, reply: Reply, key: str = key, kind: str = kind, where: frozenset[str] = where
        ) -> Reply | None:
            if reply.status == 200 and exchange.operation in where:
                reply.body = {"data": reply.body[key]} if kind == "array" else reply.body[key]
                return reply
            return None

        def retyped(
            exchange: Exchange, reply: Reply, key: str = key, kind: str = kind, where: frozenset[str] = where
        ) -> Reply | None:
            if reply.status == 200 and exchange.operation in where:
                value = reply.body[key]
                reply.body[key] = {job["id"]: job for job in value} if kind == "array" else [value]
                return reply
            return None

        def extra(exchange: Exchange, reply: Reply, where: frozenset[str] = where) -> Reply | None:
            if reply.status == 200 and exchange.operation in where:
                reply.body["next_cursor"] = None
                return reply
            return None

        yield Mutant(
            f"{operation}_envelope_missing",
            "envelope",
            f"{operation} 200: {key} is required",
            rewrite_replies(missing),
        )
        yield Mutant(
            f"{operation}_envelope_wrong_type",
            "envelope",
            f"{operation} 200: {key} is {'an array' if kind == 'array' else 'an object'}",
            rewrite_replies(retyped),
        )
        yield Mutant(
            f"{operation}_envelope_extra_key",
            "envelope",
            f"{operation} 200: additional properties are allowed",
            rewrite_replies(extra),
            violates_spec=False,
        )


# -- lifecycle --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Defect:
    """A change that breaks one invariant of one job: which job may carry it, and the edit."""

    name: str
    kind: str
    rule: str
    fits: Callable[[Job], bool]
    edit: Callable[[Job], None]
    prefer: Callable[[Job], bool] | None = None
    """A stricter fit tried first (for `ordered`: the fields between the pair are null)."""


def _value_for(facts: Facts, name: str, job: Job) -> Any:
    """A plausible non-null value for `name` on `job` that keeps the timestamp chain in order."""
    if facts.properties[name].get("format") == "date-time":
        return job["updated_at"]
    for effects in facts.lifecycle.get("on_enter", {}).values():
        if name in effects.get("default", {}):
            return effects["default"][name]
    return "x"


def _set_from(facts: Facts, name: str) -> Callable[[Job], None]:
    def edit(job: Job) -> None:
        job[name] = _value_for(facts, name, job)

    return edit


def _shift_before(name: str, anchor: str) -> Callable[[Job], None]:
    def edit(job: Job) -> None:
        job[name] = _seconds(job[anchor], -1)

    return edit


def _in(state_field: str, state: str) -> Callable[[Job], bool]:
    return lambda job: job.get(state_field) == state


def lifecycle_defects(facts: Facts) -> Iterator[Defect]:
    """One defect per way to break each invariant of `x-lifecycle`."""
    invariants, state_field = facts.lifecycle["invariants"], facts.lifecycle["field"]
    for name, bound in invariants.get("bounded", {}).items():
        most = bound["maximum_field"]
        yield Defect(
            f"{name}_below_minimum",
            "bounded",
            f"bounded: {name} >= {bound['minimum']}",
            lambda job, name=name, bound=bound: job[name] == bound["minimum"],
            _set(name, bound["minimum"] - 1),
        )
        yield Defect(
            f"{name}_above_{most}",
            "bounded",
            f"bounded: {name} <= {most}",
            lambda job, name=name, most=most: job[name] == job[most] > 0,
            lambda job, name=name, most=most: job.__setitem__(name, job[most] + 1),
        )
        yield Defect(
            f"{most}_below_{name}",
            "bounded",
            f"bounded: {name} <= {most}",
            lambda job, name=name: job[name] >= 1,
            lambda job, name=name, most=most: job.__setitem__(most, job[name] - 1),
        )
    for name, states in invariants.get("set_in", {}).items():
        for state in states:
            yield Defect(
                f"{name}_null_while_{state}",
                "set_in",
                f"set_in: {name} is set in state {state}",
                _in(state_field, state),
                _set(name, None),
            )
    for name, states in invariants.get("exactly_in", {}).items():
        for state in facts.states:
            if state in states:
                yield Defect(
                    f"{name}_null_while_{state}",
                    "exactly_in",
                    f"exactly_in: {name} is set in state {state}",
                    _in(state_field, state),
                    _set(name, None),
                )
            else:
                yield Defect(
                    f"{name}_set_while_{state}",
                    "exactly_in",
                    f"exactly_in: {name} is null in state {state} (set only in {', '.join(states)})",
                    _in(state_field, state),
                    _set_from(facts, name),
                )
    for name, states in invariants.get("null_in", {}).items():
        for state in states:
            yield Defect(
                f"{name}_set_while_{state}",
                "null_in",
                f"null_in: {name} is null in state {state}",
                _in(state_field, state),
                _set_from(facts, name),
            )
    chain = invariants.get("ordered", [])
    for first, earlier in enumerate(chain):
        for later in chain[first + 1 :]:
            between = tuple(chain[first + 1 : chain.index(later)])
            yield Defect(
                f"{later}_before_{earlier}",
                "ordered",
                f"ordered: {later} is not before {earlier} ({' <= '.join(chain)})",
                lambda job, pair=(earlier, later): all(job.get(n) is not None for n in pair),
                _shift_before(later, earlier),
                prefer=lambda job, pair=(earlier, later), between=between: (
                    all(job.get(n) is not None for n in pair) and all(job.get(n) is None for n in between)
                ),
            )
    for name, floor in invariants.get("not_before", {}).items():
        yield Defect(
            f"{name}_before_{floor}",
            "not_before",
            f"not_before: {name} is not before {floor}",
            lambda job: True,
            _shift_before(name, floor),
        )


def lifecycle_mutants(facts: Facts) -> Iterator[Mutant]:
    """Every invariant broken in turn on one job; the first of each kind also in the list only,
    the single-job answer only, and an old job."""
    seen_kinds: set[str] = set()
    for defect in lifecycle_defects(facts):
        target = _pick_for(defect)
        if target is None:
            continue
        rule = f"x-lifecycle {defect.rule}"
        yield Mutant(defect.name, "lifecycle", rule, edit_jobs(defect.edit, only=target["id"]))
        if defect.kind in seen_kinds:
            continue
        seen_kinds.add(defect.kind)
        for where, operations in WHERE.items():
            yield Mutant(
                f"{defect.name}_in_{where}_only",
                "lifecycle",
                f"{rule} (in {next(iter(operations))} answers only)",
                edit_jobs(defect.edit, only=target["id"], where=operations),
            )
        old = _pick(defect.fits, deep=True)
        if old is not None:
            yield Mutant(
                f"{defect.name}_in_old_job",
                "lifecycle",
                f"{rule} (in {old['id']}, listed only when limit > {facts.limit['default']})",
                edit_jobs(defect.edit, only=old["id"]),
            )
    yield from _resource_mutants(facts)
    yield from _reachability_variants(facts)


def _pick_for(defect: Defect) -> Job | None:
    preferred = _pick(defect.prefer) if defect.prefer is not None else None
    return preferred or _pick(defect.fits)


def _resource_mutants(facts: Facts) -> Iterator[Mutant]:
    """Job.locked_resource's description: one running job at a time holds a resource."""
    description = facts.properties.get("locked_resource", {}).get("description", "")
    running = [job for job in project_jobs() if job["state"] == "running"]
    holder = next((job for job in running if job["locked_resource"]), None)
    other = next((job for job in running if not job["locked_resource"]), None)
    if "only one running job" in description and holder and other:
        yield Mutant(
            "locked_resource_held_twice",
            "lifecycle",
            f"Job.locked_resource: {description.rstrip('.')}",
            edit_jobs(_set("locked_resource", holder["locked_resource"]), only=other["id"]),
        )


def _reachability_variants(facts: Facts) -> Iterator[Mutant]:
    """Jobs that keep every written invariant but that no walk of the lifecycle produces: the
    lifecycle is what a deployment promises, so each is a violation."""
    state_field = facts.lifecycle["field"]
    counter = facts.lifecycle["retry"]["counter"]
    limit_field = facts.lifecycle["retry"]["limit"]
    cases: list[tuple[str, str, Callable[[Job], bool], Callable[[Job], None]]] = [
        (
            "claimed_without_attempt",
            f"every walk to claimed enters claimed, which adds 1 to {counter}: {counter} >= 1",
            _in(state_field, "claimed"),
            _set(counter, 0),
        ),
        (
            "succeeded_without_started_at",
            "the only way to succeeded is from running, which sets started_at; nothing clears it after",
            _in(state_field, "succeeded"),
            _set("started_at", None),
        ),
        (
            "pending_with_attempts_used_up",
            f"the only way back to pending is a retry, legal while {counter} < {limit_field}",
            lambda job: job[state_field] == "pending" and job[counter] >= 1,
            lambda job: job.__setitem__(limit_field, job[counter]),
        ),
        (
            "updated_at_before_completed_at",
            "every change sets updated_at, so it is never before completed_at",
            lambda job: job.get("completed_at") is not None,
            lambda job: job.__setitem__("updated_at", job["created_at"]),
        ),
    ]
    for name, rule, fits, edit in cases:
        target = _pick(fits)
        if target is not None:
            yield Mutant(name, "reachability", rule, edit_jobs(edit, only=target["id"]))


# -- statuses ---------------------------------------------------------------------------------

HTML = b"<!doctype html><html><body><h1>Error</h1></body></html>"


def _on_status(status: int, change: Callable[[Reply], None]) -> Mutation:
    def rewrite(exchange: Exchange, reply: Reply) -> Reply | None:
        if exchange.operation is not None and reply.status == status:
            change(reply)
            return reply
        return None

    return rewrite_replies(rewrite)


def _to_status(status: int) -> Callable[[Reply], None]:
    return lambda reply: setattr(reply, "status", status)


def _as_html(reply: Reply) -> None:
    reply.headers["Content-Type"] = "text/html; charset=utf-8"
    reply.raw = HTML


def _not_json(reply: Reply) -> None:
    reply.raw = str(reply.body.get("error", "error")).encode() if isinstance(reply.body, dict) else b"error"


def status_mutants(facts: Facts) -> Iterator[Mutant]:
    """Documented errors answered otherwise, headers dropped, success answers malformed."""
    error_schema = facts.document["components"]["schemas"]["Error"]
    (error_key,) = error_schema["required"]
    for status in facts.error_statuses():
        where = ", ".join(facts.operations_with(status))
        seen = status != 403  # the run's org key never meets a project it may not act on
        changes: list[tuple[str, str, Callable[[Reply], None]]] = [
            ("as_418", f"{status} is documented ({where}); {UNDOCUMENTED_STATUS} is not", _to_status(418)),
            ("as_html", f"{status} answers application/json ({where}), not text/html", _as_html),
            ("body_not_json", f"{status} with Content-Type application/json has a JSON body", _not_json),
            (
                f"{error_key}_missing",
                f"Error.required: {error_key} ({status} of {where})",
                lambda reply: setattr(reply, "body", {"message": reply.body[error_key]}),
            ),
            (
                f"{error_key}_not_string",
                f"Error.{error_key} is a string ({status} of {where})",
                lambda reply: setattr(reply, "body", {error_key: {"message": reply.body[error_key]}}),
            ),
        ]
        for suffix, rule, change in changes:
            yield Mutant(
                f"status_{status}_{suffix}", "status", rule, _on_status(status, change), observable=seen
            )
        for header in facts.headers.get(status, ()):
            yield Mutant(
                f"status_{status}_without_{header.lower().replace('-', '_')}",
                "status",
                f"{status} carries the {header} header ({where})",
                _on_status(status, lambda reply, header=header: reply.headers.pop(header, None)),
            )
    for operation in facts.statuses:
        where = frozenset({operation})
        successes: list[tuple[str, str, Callable[[Reply], None]]] = [
            (
                "as_text_plain",
                "200 answers application/json",
                lambda r: r.headers.update({"Content-Type": "text/plain"}),
            ),
            ("body_not_json", "200 has a JSON body", lambda r: setattr(r, "raw", r.payload()[:-7])),
            ("as_201", "201 is not a documented status", _to_status(201)),
        ]
        for suffix, rule, change in successes:

            def rewrite(
                exchange: Exchange,
                reply: Reply,
                change: Callable[[Reply], None] = change,
                where: frozenset[str] = where,
            ) -> Reply | None:
                if exchange.operation in where and reply.status == 200:
                    change(reply)
                    return reply
                return None

            yield Mutant(
                f"{operation}_200_{suffix}", "status", f"{operation}: {rule}", rewrite_replies(rewrite)
            )
    yield Mutant(
        "unknown_job_500",
        "status",
        "getJob: 500 is not documented (an unknown job is a 404)",
        rewrite_replies(
            lambda exchange, reply: (
                Reply(500, {"error": "internal error"})
                if exchange.operation == GET_JOB and reply.status == 404
                else None
            )
        ),
    )
    yield from _status_variants()


def _status_variants() -> Iterator[Mutant]:
    """Changes the spec allows or does not speak about."""

    def unknown_route(change: Callable[[Reply], None]) -> Mutation:
        def rewrite(exchange: Exchange, reply: Reply) -> Reply | None:
            if exchange.operation is None:
                change(reply)
                return reply
            return None

        return rewrite_replies(rewrite)

    def everywhere(change: Callable[[Reply], None]) -> Mutation:
        def rewrite(exchange: Exchange, reply: Reply) -> Reply:
            change(reply)
            return reply

        return Mutation(rewrite=rewrite)

    def ok(reply: Reply) -> None:
        reply.status, reply.body = 200, {"ok": True}

    yield Mutant(
        "unknown_route_html",
        "status",
        "paths the spec does not declare are outside it (404 answered as HTML)",
        unknown_route(_as_html),
        violates_spec=False,
    )
    yield Mutant(
        "unknown_route_200",
        "status",
        "paths the spec does not declare are outside it (200 on an unknown path)",
        unknown_route(ok),
        violates_spec=False,
    )
    yield Mutant(
        "json_with_charset",
        "status",
        "application/json; charset=utf-8 is application/json",
        everywhere(lambda reply: reply.headers.update({"Content-Type": "application/json; charset=utf-8"})),
        violates_spec=False,
    )
    yield Mutant(
        "json_pretty_printed",
        "status",
        "JSON layout and key order carry no meaning",
        everywhere(
            lambda reply: setattr(reply, "raw", json.dumps(reply.body, indent=2, sort_keys=True).encode())
        ),
        violates_spec=False,
    )


# -- limit, order, membership, auth -------------------------------------------------------------


def limit_mutants(facts: Facts) -> Iterator[Mutant]:
    """`limit` bounds and default, from its schema."""
    low, high, default = int(facts.limit["minimum"]), int(facts.limit["maximum"]), int(facts.limit["default"])
    bounds = f"limit is an integer in {low}..{high}"

    def accepting(test: Callable[[str], bool], value: Callable[[str], int]) -> Mutation:
        def override(standard: Callable[[list[str]], int], values: list[str]) -> int:
            return value(values[0]) if len(values) == 1 and test(values[0]) else standard(values)

        return replace_step("parse_limit", override)

    def rejecting(bad: int) -> Mutation:
        def override(standard: Callable[[list[str]], int], values: list[str]) -> int:
            limit = standard(values)
            if limit == bad:
                raise Problem(400, f"limit must be between {low} and {high}")
            return limit

        return replace_step("parse_limit", override)

    integer = re.compile(r"-?[0-9]+")
    accepted: list[tuple[str, str, Callable[[str], bool], Callable[[str], int]]] = [
        (f"limit_accepts_{low - 1}", f"{bounds}: {low - 1} is rejected", lambda t: t == str(low - 1), int),
        (
            "limit_accepts_below_minimum",
            f"{bounds}: every value below {low} (e.g. -1) is rejected",
            lambda t: bool(integer.fullmatch(t)) and int(t) < low,
            int,
        ),
        (f"limit_accepts_{high + 1}", f"{bounds}: {high + 1} is rejected", lambda t: t == str(high + 1), int),
        (
            "limit_accepts_above_maximum",
            f"{bounds}: every value above {high} (e.g. 1000) is rejected",
            lambda t: bool(integer.fullmatch(t)) and int(t) > high,
            int,
        ),
        (
            "limit_accepts_text",
            f"{bounds}: text like abc is rejected",
            lambda t: bool(re.fullmatch(r"[A-Za-z]+", t)),
            lambda t: default,
        ),
        (
            "limit_accepts_decimal",
            f"{bounds}: a decimal like 1.5 is rejected",
            lambda t: bool(re.fullmatch(r"-?[0-9]*\.[0-9]+", t)),
            lambda t: max(low, min(high, int(float(t)))),
        ),
        (
            "limit_accepts_empty",
            f"{bounds}: an empty value is rejected",
            lambda t: t == "",
            lambda t: default,
        ),
    ]
    for name, rule, test, value in accepted:
        yield Mutant(name, "limit", rule, accepting(test, value))
    for bad in (high, low):
        yield Mutant(f"limit_rejects_{bad}", "limit", f"{bounds}: {bad} is accepted", rejecting(bad))

    def unlimited_by_default(standard: Callable[[list[str]], int], values: list[str]) -> int:
        return 10**6 if not values else standard(values)

    yield Mutant(
        "limit_default_ignored",
        "limit",
        f"without limit at most {default} jobs (the default) are listed",
        replace_step("parse_limit", unlimited_by_default),
    )
    yield Mutant(
        "limit_ignored",
        "limit",
        "at most limit jobs are listed",
        replace_step("window", lambda standard, jobs, limit: list(jobs)),
    )
    yield Mutant(
        "limit_plus_one",
        "limit",
        "at most limit jobs are listed (not limit + 1)",
        replace_step("window", lambda standard, jobs, limit: standard(jobs, limit + 1)),
    )
    yield Mutant(
        "limit_caps_at_10",
        "limit",
        "limit is a maximum: fewer jobs than asked for are allowed",
        replace_step("window", lambda standard, jobs, limit: standard(jobs, min(limit, 10))),
        violates_spec=False,
    )


def _order_key(job: Job) -> tuple[datetime, str]:
    return parse_stamp(job["created_at"]), job["id"]


def _shuffled(jobs: list[Job]) -> list[Job]:
    shuffled = list(jobs)
    random.Random(7).shuffle(shuffled)
    return shuffled


def order_mutants(facts: Facts) -> Iterator[Mutant]:
    """Lists not newest `created_at` first with ties by `id` descending."""
    rule = "listProjectJobs: created_at descending, ties by id descending"
    orders: list[tuple[str, str, Callable[[list[Job]], list[Job]]]] = [
        ("order_oldest_first", rule, lambda jobs: sorted(jobs, key=_order_key)),
        (
            "order_ties_ascending",
            f"{rule} (ties ascending)",
            lambda jobs: sorted(
                sorted(jobs, key=lambda job: job["id"]),
                key=lambda job: parse_stamp(job["created_at"]),
                reverse=True,
            ),
        ),
        ("order_shuffled", rule, _shuffled),
        (
            "order_by_updated_at",
            f"{rule} (sorted by updated_at)",
            lambda jobs: sorted(
                jobs, key=lambda job: (parse_stamp(job["updated_at"]), job["id"]), reverse=True
            ),
        ),
        (
            "order_by_id",
            f"{rule} (sorted by id only)",
            lambda jobs: sorted(jobs, key=lambda j: j["id"], reverse=True),
        ),
    ]
    for name, text, sort in orders:
        yield Mutant(name, "order", text, replace_step("order", lambda standard, jobs, sort=sort: sort(jobs)))
    yield Mutant(
        "limit_returns_oldest_page",
        "order",
        f"{rule}: a limited list is the head of that order, not the oldest jobs",
        replace_step(
            "window", lambda standard, jobs, limit: list(jobs[-limit:]) if limit < len(jobs) else jobs
        ),
    )


def _newest_of(project: str) -> Job:
    return order([job for job in reference_jobs() if job["project_id"] == project])[0]


def membership_mutants(facts: Facts) -> Iterator[Mutant]:
    """Lists with other projects' jobs; single-job answers about another job, project or org."""
    stranger, foreigner = (
        _newest_of(OTHER_PROJECT),
        _newest_of(next(p for p, org in PROJECTS.items() if org == OTHER_ORGANIZATION)),
    )
    whole_org = [job for job in reference_jobs() if PROJECTS[job["project_id"]] == PROJECTS[PROJECT]]
    listed = "listProjectJobs lists the jobs of projectID (job.project_id == projectID)"

    def adding(extra: list[Job]) -> Mutation:
        def override(standard: Callable[..., list[Job]], scope: Scope, project_id: str) -> list[Job]:
            jobs = standard(scope, project_id)
            return [*jobs, *extra] if project_id == PROJECT else jobs

        return replace_step("project_jobs", override)

    yield Mutant("list_other_project_job", "membership", listed, adding([stranger]))
    yield Mutant(
        "list_whole_organization",
        "membership",
        listed,
        adding([job for job in whole_org if job["project_id"] != PROJECT]),
    )
    yield Mutant("list_other_organization_job", "membership", listed, adding([foreigner]))

    neighbours = {
        job["id"]: project_jobs()[(i + 1) % len(project_jobs())] for i, job in enumerate(project_jobs())
    }

    def other_id(standard: Callable[..., Job], scope: Scope, job_id: str) -> Job:
        job = standard(scope, job_id)
        return neighbours.get(job_id, job)

    yield Mutant(
        "get_answers_other_id",
        "membership",
        "getJob answers the job whose id is jobID",
        replace_step("find_job", other_id),
    )
    for name, value in (("project_id", OTHER_PROJECT), ("organization_id", OTHER_ORGANIZATION)):
        yield Mutant(
            f"get_claims_other_{name.split('_')[0]}",
            "membership",
            f"links.GetListedJob: a listed job read by getJob is the same job ({name} {value!r} differs)",
            edit_jobs(_set(name, value), where=WHERE["get"]),
        )
    terminal = {state for state, targets in facts.lifecycle["transitions"].items() if not targets}

    def finished_gone(standard: Callable[..., Job], scope: Scope, job_id: str) -> Job:
        job = standard(scope, job_id)
        if job[facts.lifecycle["field"]] in terminal:
            raise Problem(404, f"no job {job_id!r}")
        return job

    yield Mutant(
        "get_finished_job_404",
        "membership",
        f"links.GetListedJob: any listed job's id reads that job (also when {'/'.join(sorted(terminal))})",
        replace_step("find_job", finished_gone),
    )
    yield from _later_state_variant(facts)


def identity_mutants(facts: Facts) -> Iterator[Mutant]:
    """A list that repeats a job (a join with an attempts table); a read that goes back in time."""

    def repeating(standard: Callable[..., list[Job]], scope: Scope, project_id: str) -> list[Job]:
        jobs = standard(scope, project_id)
        return [jobs[0], *jobs] if project_id == PROJECT and jobs else jobs

    def nobody_missing(standard: Callable[..., list[Job]], scope: Scope, project_id: str) -> list[Job]:
        try:
            return standard(scope, project_id)
        except Problem as problem:
            if problem.status == 404:
                return []
            raise

    yield Mutant(
        "list_missing_project_empty",
        "identity",
        "404: a project that does not exist is not found, not an empty list",
        replace_step("project_jobs", nobody_missing),
    )
    yield Mutant(
        "list_repeats_a_job",
        "identity",
        "a list is a set of distinct jobs: each job once (still newest first, within limit)",
        replace_step("project_jobs", repeating),
    )
    state_field = facts.lifecycle["field"]
    initial = facts.lifecycle.get("initial", "pending")
    terminal = {state for state, targets in facts.lifecycle["transitions"].items() if not targets}
    derived = {
        name
        for effect in facts.lifecycle.get("on_enter", {}).values()
        for key in ("now", "default")
        for name in effect.get(key, [])
    }
    counter = facts.lifecycle["retry"]["counter"]

    def fresh_again(job: Job) -> None:
        if job.get(state_field) in terminal:
            job.update({state_field: initial, counter: 0, **dict.fromkeys(derived, None)})
            job["updated_at"] = job["created_at"]

    yield Mutant(
        "get_shows_a_finished_job_new",
        "identity",
        "two reads of one job are joined by legal moves: a finished job never reads as new again",
        edit_jobs(fresh_again, where=WHERE["get"]),
    )


def _later_state_variant(facts: Facts) -> Iterator[Mutant]:
    """getJob shows the job one legal transition later than the lists ever do: read after read,
    the job moves back and forth."""
    state_field = facts.lifecycle["field"]
    into = "cancelled"
    derived = facts.lifecycle.get("on_enter", {}).get(into, {}).get("now", [])
    movable = {state for state, targets in facts.lifecycle["transitions"].items() if into in targets}

    def later(job: Job) -> None:
        if job.get(state_field) in movable:
            moment = _seconds(job["updated_at"], 30)
            job.update({state_field: into, "updated_at": moment, **dict.fromkeys(derived, moment)})

    yield Mutant(
        "get_shows_later_state",
        "identity",
        f"getJob shows a later state ({into}) that later lists never reach: two reads of one job are "
        "joined by legal moves, so a list after it cannot show the state the job left",
        edit_jobs(later, where=WHERE["get"]),
    )


def auth_mutants(facts: Facts) -> Iterator[Mutant]:
    """Bearer auth not enforced, wrong statuses for bad tokens, scopes not enforced."""
    scheme = facts.document["components"]["securitySchemes"]
    (name,) = scheme
    found = re.search(r"\b([a-z]+_[a-z]+_)\.\.\.", scheme[name].get("description", ""))  # capy_live_...
    prefix = found.group(1) if found else None
    unauthorized = "401: the bearer token is missing, malformed, unknown or expired"

    def accept(test: Callable[[str | None], bool]) -> Mutation:
        def override(standard: Callable[[str | None], Scope | None], header: str | None) -> Scope | None:
            return Scope(PROJECTS[PROJECT]) if test(header) else standard(header)

        return replace_step("authenticate", override)

    def token_of(header: str | None) -> str:
        return (header or "").partition(" ")[2].strip()

    yield Mutant("auth_no_token_accepted", "auth", f"{unauthorized} (none)", accept(lambda h: not h))
    yield Mutant(
        "auth_garbage_token_accepted",
        "auth",
        f"{unauthorized} (garbage)",
        accept(lambda h: bool(h) and bool(token_of(h))),
    )
    if prefix is not None:
        yield Mutant(
            "auth_any_live_key_accepted",
            "auth",
            f"{unauthorized} (an unknown {prefix}... key)",
            accept(lambda h: token_of(h).startswith(str(prefix))),
        )
    yield Mutant(
        "auth_session_token_unchecked",
        "auth",
        f"{unauthorized} (a session token is read, not trusted: an expired one is refused)",
        accept(lambda h: token_of(h).count(".") == 2 and (h or "").lower().startswith("bearer ")),
    )
    yield Mutant(
        "auth_basic_scheme_accepted",
        "auth",
        f"{unauthorized} (the scheme is Bearer: Basic credentials are not a token)",
        accept(lambda h: (h or "").lower().startswith("basic ")),
    )
    for who, test in (
        ("garbage_token", lambda e: "authorization" in e.headers),
        ("no_token", lambda e: "authorization" not in e.headers),
    ):

        def forbid(exchange: Exchange, reply: Reply, test: Callable[[Exchange], bool] = test) -> Reply | None:
            if reply.status == 401 and exchange.operation is not None and test(exchange):
                return Reply(403, {"error": "forbidden"})
            return None

        yield Mutant(f"auth_{who}_403", "auth", f"{unauthorized}: 401, not 403", rewrite_replies(forbid))

    def any_project(standard: Callable[..., list[Job]], scope: Scope, project_id: str) -> list[Job]:
        return standard(Scope(scope.organization), project_id)

    yield Mutant(
        "auth_project_key_lists_other_project",
        "auth",
        "403: a project-scoped key may not act on another project",
        replace_step("project_jobs", any_project),
        observable=False,
    )
    yield Mutant(
        "auth_other_scope_job_readable",
        "auth",
        "404: no job outside the caller's scope",
        replace_step("find_job", _unscoped_find),
        observable=False,
    )


def _unscoped_find(standard: Callable[..., Job], scope: Scope, job_id: str) -> Job:
    """Find any job of any organization."""
    for organization in dict.fromkeys(PROJECTS.values()):
        try:
            return standard(Scope(organization), job_id)
        except Problem:
            continue
    return standard(scope, job_id)


FAMILIES: tuple[Callable[[Facts], Iterator[Mutant]], ...] = (
    field_mutants,
    envelope_mutants,
    lifecycle_mutants,
    status_mutants,
    limit_mutants,
    order_mutants,
    membership_mutants,
    identity_mutants,
    auth_mutants,
)


@cache
def build_mutants() -> tuple[Mutant, ...]:
    """Every mutant, in a stable order; names are unique."""
    facts = load_facts()
    mutants = tuple(mutant for family in FAMILIES for mutant in family(facts))
    names = [mutant.name for mutant in mutants]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate mutant names: {duplicates}")
    return mutants


def mutant(name: str) -> Mutant:
    """The mutant called `name`."""
    found = {m.name: m for m in build_mutants()}
    if name not in found:
        raise KeyError(f"no mutant {name!r}")
    return found[name]
