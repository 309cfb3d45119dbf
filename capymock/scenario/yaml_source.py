"""YAML text -> plain data, plus where in the file every value and key came from."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import yaml

from capymock.core.yaml_loader import SafeLoader
from capymock.errors import Problem, ScenarioError, SourceLocation
from capymock.scenario.model import DocPath


@dataclass(frozen=True)
class Located:
    """A YAML document as plain data, with the source location of each node."""

    data: Any
    values: dict[DocPath, SourceLocation]
    keys: dict[DocPath, SourceLocation]

    def at(self, path: DocPath) -> SourceLocation | None:
        """Where the value at `path` starts; for a path that does not exist, its nearest parent."""
        for end in range(len(path), -1, -1):
            found = self.values.get(path[:end])
            if found is not None:
                return found
        return None

    def key_at(self, path: DocPath) -> SourceLocation | None:
        """Where the key naming `path` starts (falls back to `at`)."""
        return self.keys.get(path) or self.at(path)


def format_path(path: DocPath) -> str:
    """`("jobs", 0, "steps", 3, "state")` -> `jobs[0].steps[3].state`."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}"
    return text.lstrip(".")


def load_located(text: str, source: str) -> Located:
    """Parse one YAML document, keeping locations.

    Raises:
        ScenarioError: the text is not YAML, or a mapping repeats a key.
    """
    try:
        node = yaml.compose(text, Loader=SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = SourceLocation(source, mark.line + 1, mark.column + 1) if mark else None
        context = exc.context_mark
        opened = (
            f" ({exc.context} at {context.line + 1}:{context.column + 1})" if exc.context and context else ""
        )
        raise ScenarioError([Problem(where, "", f"not valid YAML: {exc.problem or exc}{opened}")]) from None
    builder = _Builder(source)
    if node is None:  # an empty file, or only comments
        return Located(None, {(): SourceLocation(source, 1, 1)}, {})
    data = builder.build(node, ())
    if builder.problems:
        raise ScenarioError(builder.problems)
    return Located(data, builder.values, builder.keys)


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.constructor = yaml.SafeLoader("")
        self.values: dict[DocPath, SourceLocation] = {}
        self.keys: dict[DocPath, SourceLocation] = {}
        self.problems: list[Problem] = []

    def mark(self, node: yaml.Node) -> SourceLocation:
        return SourceLocation(self.source, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: DocPath) -> Any:
        self.values[path] = self.mark(node)
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return _plain(self.constructor.construct_object(node, deep=True))

    def build_mapping(self, node: yaml.MappingNode, path: DocPath) -> dict[Any, Any]:
        self.constructor.flatten_mapping(node)  # YAML merge keys (<<)
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                problem = Problem(self.mark(key_node), format_path(path), "a key must be a plain value")
                self.problems.append(problem)
                continue
            key = str(key_node.value)  # as written: `true:` is the key 'true'
            child = (*path, key)
            if key in result:
                message = f"duplicate key: {key!r} is already given on line {self.keys[child].line}"
                self.problems.append(Problem(self.mark(key_node), format_path(child), message))
            self.keys[child] = self.mark(key_node)
            result[key] = self.build(value_node, child)
        return result


def _plain(value: Any) -> Any:
    """YAML timestamps as RFC 3339 strings, so the data is JSON-shaped."""
    if isinstance(value, datetime):  # without a time zone it stays so, and fails the date-time check
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    return value
