"""Check request parameters and response bodies against the spec's JSON Schemas.

Every schema is compiled once, when `Validators` is built for a `Spec`.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema_rs

from capymock.core.operations import Operation, Parameter
from capymock.core.reachability import oracle_for
from capymock.core.spec import JOB_SCHEMA, Spec
from capymock.core.timestamps import timestamp_problem

_INTEGER = re.compile(r"-?[0-9]+\Z")
_DIALECT = "https://json-schema.org/draft/2020-12/schema"


class BadParameter(Exception):
    """A request parameter that does not satisfy its schema."""

    def __init__(self, parameter: Parameter, problem: str) -> None:
        super().__init__(f"invalid {parameter.location} parameter {parameter.name!r}: {problem}")


class BodyMismatch(Exception):
    """A response body that does not satisfy the schema the spec documents for it."""


@dataclass(frozen=True)
class _CompiledParameter:
    parameter: Parameter
    coerce: Callable[[str], Any]
    validator: Any
    default: Any


@functools.lru_cache(maxsize=8)
def validators_for(spec: Spec) -> Validators:
    """The compiled validators of `spec`, built once."""
    return Validators(spec)


class Validators:
    """The compiled validators of one spec: parameters and response bodies.

    A body or field schema is compiled when first used: compiling them all is a few
    milliseconds of `capymock serve`'s cold start, for answers most runs never give.
    """

    def __init__(self, spec: Spec) -> None:
        self._components = spec.document.get("components", {})
        self._parameters = {
            op.operation_id: tuple(_compile_parameter(p) for p in op.parameters) for op in spec.operations
        }
        self._body_schemas = {
            (op.operation_id, status): schema
            for op in spec.operations
            for status, schema in op.responses.items()
            if schema is not None
        }
        self._bodies: dict[tuple[str, int], Any] = {}
        self.job = _compile_body({"$ref": f"#/components/schemas/{JOB_SCHEMA}"}, self._components)
        self._oracle = oracle_for(spec)
        self._properties = spec.job_schema["properties"]
        self._timestamps = tuple(
            name for name in spec.job_fields if self._properties[name].get("format") == "date-time"
        )
        self._fields: dict[str, Any] = {}

    def _body(self, operation_id: str, status: int) -> Any:
        """The compiled schema of a body (None: the status has no JSON body)."""
        key = (operation_id, status)
        compiled = self._bodies.get(key)
        if compiled is None and key in self._body_schemas:
            compiled = self._bodies[key] = _compile_body(self._body_schemas[key], self._components)
        return compiled

    def _field(self, name: str) -> Any:
        """The compiled schema of a `Job` field (None: no such field)."""
        compiled = self._fields.get(name)
        if compiled is None and name in self._properties:
            compiled = self._fields[name] = _compile_body(self._properties[name], self._components)
        return compiled

    def parse_parameters(self, operation: Operation, raw: Mapping[str, str | None]) -> dict[str, Any]:
        """Typed parameter values from raw strings keyed by name (None: absent).

        Raises:
            BadParameter: a value is missing, of the wrong type or out of range.
        """
        values: dict[str, Any] = {}
        for compiled in self._parameters[operation.operation_id]:
            name = compiled.parameter.name
            text = raw.get(name)
            if text is None:
                if compiled.parameter.required:
                    raise BadParameter(compiled.parameter, "required")
                if compiled.default is not None:
                    values[name] = compiled.default
                continue
            values[name] = _check_parameter(compiled, text)
        return values

    def check_body(self, operation: Operation, status: int, body: Any) -> None:
        """Check a response body (JSON bytes, or the JSON value about to be sent) against the
        schema documented for `status`.

        Raises:
            BodyMismatch: the status is undocumented, or the body breaks its schema.
        """
        if not operation.documents(status):
            raise BodyMismatch(f"{operation.operation_id} does not document status {status}")
        validator = self._body(operation.operation_id, status)
        if validator is None:
            return
        _check_body(validator, body, f"{operation.operation_id} {status}")

    def body_errors(
        self, operation: Operation, status: int, body: Any
    ) -> list[tuple[tuple[str | int, ...], str]]:
        """Every place a JSON body breaks the schema documented for `status`: (path, message)."""
        validator = self._body(operation.operation_id, status)
        if validator is None:
            return []
        return [(tuple(error.instance_path), error.message) for error in validator.iter_errors(body)]

    def job_errors(self, job: Mapping[str, Any]) -> list[str]:
        """Where `job` breaks the `Job` schema, one message per problem."""
        return [_describe(error) for error in self.job.iter_errors(dict(job))]

    def field_errors(self, fields: Mapping[str, Any]) -> list[str]:
        """Where given `Job` field values break their schemas (unknown names are not checked here)."""
        found = []
        for name, value in fields.items():
            validator = self._field(name)
            error = next(iter(validator.iter_errors(value)), None) if validator is not None else None
            if error is not None:
                found.append(f"{name}: {error.message}")
        return found

    def job_problems(self, job: Mapping[str, Any]) -> list[str]:
        """Where `job` breaks the `Job` schema, has a date-time capymock cannot compute with (a
        leap second, no zone), or, once it fits, is a job no walk of the lifecycle produces."""
        return self.job_errors(job) or self._timestamp_errors(job) or self._unexplained(job)

    def _unexplained(self, job: Mapping[str, Any]) -> list[str]:
        verdict = self._oracle.explain(job)
        return [] if verdict.explained else [verdict.reason]

    def _timestamp_errors(self, job: Mapping[str, Any]) -> list[str]:
        found = []
        for name in self._timestamps:
            value = job.get(name)
            if isinstance(value, str):
                problem = timestamp_problem(value)
                if problem:
                    found.append(f"{name}: {value!r} {problem}")
        return found


def _compile_body(schema: Mapping[str, Any], components: Mapping[str, Any]) -> Any:
    root = {"$schema": _DIALECT, **schema, "components": components}
    return jsonschema_rs.Draft202012Validator(root, validate_formats=True)


def _check_body(validator: Any, body: Any, what: str) -> None:
    document = body
    if isinstance(body, bytes):
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise BodyMismatch(f"{what}: body is not JSON ({exc})") from None
    if validator.is_valid(document):
        return
    error = next(iter(validator.iter_errors(document)), None)
    if error is not None:
        raise BodyMismatch(f"{what}: {_describe(error)}")


def _describe(error: Any) -> str:
    where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.instance_path)
    return f"{where.lstrip('.') or 'body'}: {error.message}"


def _compile_parameter(parameter: Parameter) -> _CompiledParameter:
    schema = dict(parameter.schema)
    return _CompiledParameter(
        parameter=parameter,
        coerce=_COERCERS.get(_scalar_type(schema), str),
        validator=jsonschema_rs.Draft202012Validator({"$schema": _DIALECT, **schema}, validate_formats=True),
        default=schema.get("default"),
    )


def _check_parameter(compiled: _CompiledParameter, text: str) -> Any:
    try:
        value = compiled.coerce(text)
    except ValueError as exc:
        raise BadParameter(compiled.parameter, str(exc)) from None
    error = next(iter(compiled.validator.iter_errors(value)), None)
    if error is not None:
        raise BadParameter(compiled.parameter, error.message)
    return value


def _scalar_type(schema: Mapping[str, Any]) -> str:
    declared = schema.get("type", "string")
    if isinstance(declared, list):
        declared = next((t for t in declared if t != "null"), "string")
    return str(declared)


def _show(text: str) -> str:
    return repr(text) if len(text) <= 40 else repr(text[:37] + "...")


def _to_integer(text: str) -> int:
    if not _INTEGER.match(text) or len(text) > 40:
        raise ValueError(f"{_show(text)} is not an integer")
    return int(text)


def _to_number(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"{_show(text)} is not a number") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError(f"{_show(text)} is not a finite number")
    return value


def _to_boolean(text: str) -> bool:
    if text not in ("true", "false"):
        raise ValueError(f"{_show(text)} is not true or false")
    return text == "true"


_COERCERS: dict[str, Callable[[str], Any]] = {
    "integer": _to_integer,
    "number": _to_number,
    "boolean": _to_boolean,
}
