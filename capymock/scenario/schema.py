"""The JSON Schema of scenario files, built from the spec (states and `Job` fields).

The copy shipped as `schemas/scenario.schema.json` (for editors) is this function's output
for the bundled spec; a test keeps the two equal.
"""

from __future__ import annotations

from typing import Any

from capymock.core import durations
from capymock.core.defaults import DEFAULT_ORGANIZATION
from capymock.core.spec import JOB, Spec

SCHEMA_ID = "https://capymock.invalid/schemas/scenario.schema.json"


def build_scenario_schema(spec: Spec) -> dict[str, Any]:
    """The scenario file schema for `spec`."""
    fields = _job_field_schemas(spec, managed_fields(spec))
    states = {"enum": list(spec.lifecycle.states), "x-expected": "a job state"}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "capymock scenario",
        "description": "Organizations, projects, keys and jobs, and how each job moves through its states.",
        "type": "object",
        "additionalProperties": False,
        "required": ["projects"],
        "properties": {
            "name": {"type": "string", "minLength": 1, "description": "Defaults to the file name."},
            "description": {"type": "string"},
            "start": {
                "anyOf": [{"type": "string", "format": "date-time"}, {"const": "now"}],
                "x-expected": "a date-time (2026-01-01T09:00:00Z) or now",
                "description": "Start of the clock: a date-time, or now (the real time of the load).",
            },
            "organization": {"type": "string", "minLength": 1, "default": DEFAULT_ORGANIZATION},
            "projects": {"type": "array", "items": {"$ref": "#/$defs/segment"}, "minItems": 1},
            "tokens": {"type": "array", "items": {"$ref": "#/$defs/token"}},
            "jobs": {"type": "array", "items": {"$ref": "#/$defs/jobEntry"}},
            "faults": {"type": "array", "items": {"$ref": "#/$defs/fault"}},
        },
        "$defs": {
            "duration": {
                "x-expected": durations.EXPECTED,
                "anyOf": [{"type": "number", "minimum": 0}, {"type": "string", "pattern": durations.PATTERN}],
            },
            "state": states,
            "segment": {
                "type": "string",
                "pattern": "^[^/]+$",
                "x-expected": "an id that fits in a URL path (not empty, no '/')",
            },
            "token": _token_schema(),
            "jobEntry": {
                "type": "object",
                "if": {"required": ["generate"]},
                "then": {"$ref": "#/$defs/generate"},
                "else": {"$ref": "#/$defs/job"},
            },
            "job": _job_schema(fields),
            "step": _step_schema(fields),
            "generate": _generate_schema(spec.lifecycle.retry.limit),
            "fault": _fault_schema(),
        },
    }


def managed_fields(spec: Spec) -> tuple[str, ...]:
    """Job fields a scenario sets by other means: `id` and `project` on the job entry, the state by
    steps, `created_at` by `age`, the organization by the scenario, `updated_at` by the mock."""
    return (JOB.id, JOB.project, JOB.organization, spec.lifecycle.field, JOB.created, JOB.updated)


def _job_field_schemas(spec: Spec, managed: tuple[str, ...]) -> dict[str, Any]:
    properties = spec.job_schema["properties"]
    return {
        name: {k: v for k, v in properties[name].items() if k in ("type", "format", "minimum", "description")}
        for name in spec.job_fields
        if name not in managed
    }


def _token_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["token"],
        "properties": {
            "token": {
                "type": "string",
                "pattern": "^capy_live_.+",
                "x-expected": "an API key: capy_live_...",
            },
            "project": {
                "type": "string",
                "description": "Scope the key to this project (default: organization).",
            },
        },
    }


def _job_schema(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["id", "project"],
        "properties": {
            "id": {"$ref": "#/$defs/segment"},
            "project": {"$ref": "#/$defs/segment"},
            "age": {"$ref": "#/$defs/duration", "description": "Created this long before the start."},
            "steps": {"type": "array", "items": {"$ref": "#/$defs/step"}, "minItems": 1},
            **fields,
        },
    }


def _step_schema(fields: dict[str, Any]) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["state"],
        "properties": {
            "state": {"$ref": "#/$defs/state"},
            "after": {"$ref": "#/$defs/duration", "description": "Time after the previous step."},
            "after_polls": {"type": "integer", "minimum": 1, "description": "Reads after the previous step."},
            "age": {
                "$ref": "#/$defs/duration",
                "description": "Taken this long before the start (steps of the job's past come right "
                "after the first, oldest first).",
            },
            **fields,
        },
    }


def _generate_schema(limit_field: str) -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["generate", "project"],
        "properties": {
            "generate": {"type": "integer", "minimum": 1, "maximum": 100000},
            "project": {"$ref": "#/$defs/segment"},
            "states": {"type": "array", "items": {"$ref": "#/$defs/state"}, "minItems": 1},
            "types": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            limit_field: {"type": "integer", "minimum": 1, "maximum": 1000},
            "every": {"$ref": "#/$defs/duration", "description": "Time between two generated jobs."},
            "seed": {"type": "integer"},
            "durations": {
                "type": "object",
                "additionalProperties": {"$ref": "#/$defs/duration"},
                "description": "How long a job of each type typically runs (deploy: 2m, build: 4m, test: 6m, "
                "migrate: 1m, backup: 10m; any other: 1m).",
            },
            "retries": {
                "type": "number",
                "minimum": 0,
                "maximum": 1,
                "description": "The share of jobs retried on the way to their state (default 0.15).",
            },
        },
    }


def _fault_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "required": ["match"],
        "anyOf": [{"required": ["status"]}, {"required": ["delay"]}],
        "x-message": "a fault needs 'status', 'delay' or both; this one has neither",
        "properties": {
            "match": {
                "type": "object",
                "additionalProperties": False,
                "minProperties": 1,
                "properties": {
                    "method": {"type": "string"},
                    "path": {"type": "string", "pattern": "^/", "x-expected": "a path starting with /"},
                    "operation": {"type": "string"},
                    "query": {"type": "object", "additionalProperties": {"type": "string"}},
                },
            },
            "status": {"type": "integer", "minimum": 100, "maximum": 599},
            "delay": {"$ref": "#/$defs/duration"},
            "times": {"type": "integer", "minimum": 1},
            "body": {"description": 'JSON body to answer with (default: an {"error"} object).'},
        },
    }
