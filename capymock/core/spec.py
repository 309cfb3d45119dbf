"""OpenAPI text -> a frozen `Spec` of operations, the `Job` schema and its lifecycle.

This is the only module that reads the raw OpenAPI dictionaries; everything else asks a
`Spec`. It reads no file: `capymock.system.specs.load_spec()` does, and hands the text here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from capymock.core.lifecycle import Bound, Effect, Invariants, Lifecycle, Retry
from capymock.core.operations import Operation, Parameter, Role, classify
from capymock.core.refs import BrokenRef, follow_refs
from capymock.errors import SpecError

HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
JOB_SCHEMA = "Job"


@dataclass(frozen=True)
class JobFieldNames:
    """The `Job` fields capymock relies on by role, named once (the spec load checks each exists).

    State and attempt counters are named by the spec's `x-lifecycle` (`Lifecycle.field`,
    `Lifecycle.retry`); these are the rest.
    """

    id: str = "id"
    project: str = "project_id"
    organization: str = "organization_id"
    type: str = "type"
    created: str = "created_at"
    updated: str = "updated_at"


JOB = JobFieldNames()


@dataclass(frozen=True, eq=False)
class Spec:
    """Everything capymock reads from an OpenAPI document.

    Compared and hashed by identity: `load_spec()` returns the same object for the same file.
    """

    title: str
    source: str
    text: str
    document: Mapping[str, Any]
    """The parsed document, kept so JSON Schemas can resolve `#/components/...` refs."""
    operations: tuple[Operation, ...]
    job_fields: tuple[str, ...]
    required_job_fields: tuple[str, ...]
    job_schema: Mapping[str, Any]
    lifecycle: Lifecycle
    listing: Operation
    """The operation that lists a project's jobs (a path parameter names `project_id`)."""
    reading: Operation
    """The operation that reads one job by its id alone."""

    def operation(self, operation_id: str) -> Operation:
        """The operation called `operation_id`; KeyError if the spec has none."""
        return self._by_id[operation_id]

    def find_operation(self, operation_id: str) -> Operation | None:
        """The operation called `operation_id`, or None."""
        return self._by_id.get(operation_id)

    def with_role(self, role: Role) -> tuple[Operation, ...]:
        """Its operations of `role`, in the spec's order."""
        return tuple(op for op in self.operations if op.role is role)

    @functools.cached_property
    def _by_id(self) -> dict[str, Operation]:
        return {op.operation_id: op for op in self.operations}


def jobs_in_body(spec: Spec, operation_id: str | None, body: Any) -> Iterator[tuple[str, Any]]:
    """(JSON path, job) for each job a body of `operation_id` shows, by the operation's role;
    nothing for an unknown operation, one that shows no job, or a body of another shape."""
    operation = spec.find_operation(operation_id) if operation_id is not None else None
    if operation is not None:
        yield from operation.jobs_in(body)


def read_spec(document: dict[str, Any], text: str, source: str) -> Spec:
    """The `Spec` of a parsed OpenAPI `document` (its `text` kept for download).

    Raises:
        SpecError: it lacks what capymock needs.
    """
    return _SpecReader(document, source).read(text)


def parse_document(text: str, source: str) -> dict[str, Any]:
    import yaml  # here: only a spec not parsed before needs PyYAML

    from capymock.core.yaml_loader import SafeLoader

    try:
        document = yaml.load(text, Loader=SafeLoader)
    except yaml.YAMLError as exc:
        raise SpecError(f"{source}: not valid YAML: {exc}") from None
    if not isinstance(document, dict) or "paths" not in document:
        raise SpecError(f"{source}: not an OpenAPI document (no 'paths')")
    return document


class _SpecReader:
    """Turns the raw document into frozen objects, resolving local `$ref`s."""

    def __init__(self, document: dict[str, Any], source: str) -> None:
        self.document = document
        self.source = source
        self.job_schema: Mapping[str, Any] = {}
        self.job_fields: tuple[str, ...] = ()

    def fail(self, where: str, message: str) -> SpecError:
        return SpecError(f"{self.source}: {where}: {message}")

    def follow(self, node: Any) -> Any:
        try:
            return follow_refs(node, self.document)
        except BrokenRef as exc:
            raise self.fail("$ref", str(exc)) from None

    def read(self, text: str) -> Spec:
        info = self.document.get("info") or {}
        job_schema = self.follow(self.document.get("components", {}).get("schemas", {}).get(JOB_SCHEMA))
        if not isinstance(job_schema, dict) or not isinstance(job_schema.get("properties"), dict):
            raise self.fail(f"components.schemas.{JOB_SCHEMA}", "missing, or has no properties")
        fields = tuple(job_schema["properties"])
        missing = [name for name in vars(JOB).values() if name not in fields]
        if missing:
            raise self.fail(f"components.schemas.{JOB_SCHEMA}", f"capymock needs the field(s) {missing}")
        self.job_schema, self.job_fields = job_schema, fields
        operations = self.read_operations()
        return Spec(
            title=str(info.get("title", "")),
            source=self.source,
            text=text,
            document=self.document,
            operations=operations,
            job_fields=fields,
            required_job_fields=tuple(job_schema.get("required", ())),
            job_schema=job_schema,
            lifecycle=self.read_lifecycle(job_schema, fields),
            listing=self.find(
                operations,
                Role.LISTS,
                {JOB.project},
                "a GET whose 200 body wraps an array of Job",
            ),
            reading=self.find(operations, Role.READS, {JOB.id}, "a GET whose 200 body wraps one Job"),
        )

    def find(self, operations: tuple[Operation, ...], role: Role, names: set[str], what: str) -> Operation:
        """The first operation of `role` whose path parameters name exactly the fields `names`."""
        found = next(
            (op for op in operations if op.role is role and set(op.path_fields.values()) == names), None
        )
        if found is None:
            fields = " and ".join(sorted(names))
            raise self.fail(
                "paths",
                f"capymock needs an operation that {role.value}: {what}, with one path parameter "
                f"naming the job's {fields} (such as {{{JOB_SCHEMA.lower()}ID}} for id, {{projectID}} "
                "for project_id)",
            )
        return found

    def is_job(self, schema: Any) -> bool:
        """Whether `schema` is the `Job` schema (by `$ref`, or the same object once followed)."""
        if not isinstance(schema, Mapping):
            return False
        if schema.get("$ref") == f"#/components/schemas/{JOB_SCHEMA}":
            return True
        return "$ref" in schema and self.follow(schema) is self.job_schema

    def read_operations(self) -> tuple[Operation, ...]:
        operations = []
        default_security = self.document.get("security", [])
        for path, item in self.document["paths"].items():
            item = self.follow(item)
            shared = item.get("parameters", [])
            for method in HTTP_METHODS:
                if method in item:
                    operations.append(
                        self.read_operation(path, method, item[method], shared, default_security)
                    )
        ids = [op.operation_id for op in operations]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise self.fail("paths", f"operationId used twice: {', '.join(duplicates)}")
        return tuple(operations)

    def read_operation(
        self, path: str, method: str, raw: dict[str, Any], shared: list[Any], default_security: list[Any]
    ) -> Operation:
        where = f"paths.{path}.{method}"
        operation_id = raw.get("operationId")
        if not isinstance(operation_id, str):
            raise self.fail(where, "every operation needs an operationId")
        by_key = {}
        for raw_param in [*shared, *raw.get("parameters", [])]:
            param = self.read_parameter(where, raw_param)
            by_key[(param.location, param.name)] = param
        security = raw.get("security", default_security)
        responses = self.read_responses(where, raw.get("responses", {}))
        envelope, inside = self.read_envelope(responses.get(200))
        role, fields = classify(method.upper(), inside, self.is_job, path, JOB_SCHEMA, self.job_fields)
        return Operation(
            operation_id=operation_id,
            method=method.upper(),
            path=path,
            parameters=tuple(by_key.values()),
            responses=responses,
            security_schemes=tuple(sorted({name for requirement in security for name in requirement})),
            envelope=envelope,
            role=role,
            path_fields=fields,
        )

    def read_envelope(self, schema: Mapping[str, Any] | None) -> tuple[str | None, Any]:
        """The one property a 200 body requires, and that property's schema (refs followed)."""
        body = self.follow(schema)
        required = body.get("required", []) if isinstance(body, Mapping) else []
        if len(required) != 1:
            return None, None
        inside = body.get("properties", {}).get(required[0]) if isinstance(body, Mapping) else None
        if isinstance(inside, Mapping) and "$ref" in inside and not self.is_job(inside):
            inside = self.follow(inside)
        return str(required[0]), inside

    def read_parameter(self, where: str, raw: Any) -> Parameter:
        raw = self.follow(raw)
        name, location = raw.get("name"), raw.get("in")
        if not isinstance(name, str) or location not in ("path", "query", "header", "cookie"):
            raise self.fail(where, f"parameter without a name or location: {raw!r}")
        return Parameter(
            name=name,
            location=location,
            required=bool(raw.get("required", location == "path")),
            schema=raw.get("schema", {}),
        )

    def read_responses(self, where: str, raw: dict[str, Any]) -> dict[int, Mapping[str, Any] | None]:
        responses: dict[int, Mapping[str, Any] | None] = {}
        for status, response in raw.items():
            if not str(status).isdigit():
                continue  # "default" and "2XX" ranges are not served by the mock
            content = self.follow(response).get("content", {})
            media = content.get("application/json")
            responses[int(status)] = media.get("schema", {}) if media is not None else None
        if not responses:
            raise self.fail(where, "no responses with a numeric status code")
        return responses

    def read_lifecycle(self, job_schema: dict[str, Any], fields: tuple[str, ...]) -> Lifecycle:
        raw = job_schema.get("x-lifecycle")
        where = f"components.schemas.{JOB_SCHEMA}.x-lifecycle"
        if not isinstance(raw, dict):
            raise self.fail(where, "missing: capymock needs the job lifecycle")
        state_field = raw.get("field", "state")
        states = tuple(self.follow(job_schema["properties"].get(state_field, {})).get("enum", ()))
        if not states:
            raise self.fail(where, f"the {state_field!r} property needs an enum of states")
        check = _LifecycleCheck(self, where, states, fields)
        inv = raw.get("invariants", {})
        retry = raw.get("retry", {})
        return Lifecycle(
            field=check.field(state_field),
            states=states,
            initial=check.state(raw.get("initial", states[0])),
            transitions={
                check.state(s): tuple(map(check.state, t)) for s, t in raw.get("transitions", {}).items()
            },
            retry=Retry(
                to=check.state(retry.get("to")),
                counter=check.field(retry.get("counter")),
                limit=check.field(retry.get("limit")),
            ),
            on_enter={check.state(s): check.effect(e) for s, e in raw.get("on_enter", {}).items()},
            on_change=check.effect(raw.get("on_change", {})),
            invariants=Invariants(
                bounded=tuple(
                    Bound(check.field(f), int(b.get("minimum", 0)), check.field(b.get("maximum_field")))
                    for f, b in inv.get("bounded", {}).items()
                ),
                set_in=check.field_states(inv.get("set_in", {})),
                exactly_in=check.field_states(inv.get("exactly_in", {})),
                null_in=check.field_states(inv.get("null_in", {})),
                ordered=tuple(map(check.field, inv.get("ordered", ()))),
                not_before={check.field(f): check.field(o) for f, o in inv.get("not_before", {}).items()},
                exclusive=check.field_states(inv.get("exclusive", {})),
            ),
        )


@dataclass
class _LifecycleCheck:
    """Checks that every name in `x-lifecycle` is a known state or `Job` field."""

    reader: _SpecReader
    where: str
    states: tuple[str, ...]
    fields: tuple[str, ...]

    def state(self, name: Any) -> str:
        if name not in self.states:
            raise self.reader.fail(self.where, f"{name!r} is not a state (states: {', '.join(self.states)})")
        return str(name)

    def field(self, name: Any) -> str:
        if name not in self.fields:
            raise self.reader.fail(self.where, f"{name!r} is not a {JOB_SCHEMA} field")
        return str(name)

    def effect(self, raw: dict[str, Any]) -> Effect:
        return Effect(
            increment=tuple(map(self.field, raw.get("increment", ()))),
            now=tuple(map(self.field, raw.get("now", ()))),
            clear=tuple(map(self.field, raw.get("clear", ()))),
            default={self.field(f): v for f, v in raw.get("default", {}).items()},
        )

    def field_states(self, raw: dict[str, Any]) -> dict[str, frozenset[str]]:
        return {self.field(f): frozenset(map(self.state, s)) for f, s in raw.items()}
