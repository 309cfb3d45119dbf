"""YAML text -> plain data, plus where in the file every value and key came from.

Imported only when a file is parsed: PyYAML's import is a tenth of `capymock serve`'s cold start.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from typing import Any

import yaml

from capymock.core.documents import MAX_DEPTH, MAX_VALUES
from capymock.core.yaml_loader import SafeLoader
from capymock.errors import Problem, ScenarioError, SourceLocation
from capymock.scenario.located import Located, format_path
from capymock.scenario.model import DocPath

__all__ = ["MAX_DEPTH", "MAX_VALUES", "SCALAR_TAGS", "load_located"]

_YAML_TAG = "tag:yaml.org,2002:"
SCALAR_TAGS = frozenset(_YAML_TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp"))
"""The scalar tags of plain YAML; anything else (`!foo`, `!!binary`, `!!python/...`) is refused."""


def load_located(text: str, source: str) -> Located:
    """Parse one YAML document of plain values, keeping locations.

    Raises:
        ScenarioError: the text is not YAML, uses a tag beyond plain YAML, nests too deeply,
            expands (through aliases) past `MAX_VALUES` values, or a mapping repeats a key.
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
    except yaml.reader.ReaderError as exc:  # a character YAML does not allow (NUL, other controls)
        where = _position(text, source, exc.position)
        message = f"not valid YAML: character #x{exc.character:04x} is not allowed in a YAML file"
        raise ScenarioError([Problem(where, "", message)]) from None
    except (yaml.YAMLError, RecursionError) as exc:
        raise ScenarioError([Problem(None, "", f"{source}: not valid YAML: {exc}")]) from None
    if node is None:  # an empty file, or only comments
        return Located(None, {(): SourceLocation(source, 1, 1)}, {})
    builder = _Builder(source)
    try:
        _check_size(node, builder)
        data = builder.build(node, ())
    except _TooBig as exc:
        raise ScenarioError([exc.problem]) from None
    if builder.problems:
        raise ScenarioError(builder.problems)
    return Located(data, builder.values, builder.keys)


def _position(text: str, source: str, index: int) -> SourceLocation:
    before = text[:index]
    return SourceLocation(source, before.count("\n") + 1, index - (before.rfind("\n") + 1) + 1)


def _check_size(root: yaml.Node, builder: _Builder) -> None:
    """Refuse a document whose aliases expand past `MAX_VALUES` values, before building any of it.

    Each distinct node is sized once, so this costs as much as the text, not as its expansion.
    """
    sizes: dict[int, int] = {}

    def size(node: yaml.Node, depth: int) -> int:
        known = sizes.get(id(node))
        if known is not None:
            return known
        if depth > MAX_DEPTH:
            raise _TooBig(
                Problem(builder.mark(node), "", f"lists and mappings nest more than {MAX_DEPTH} deep")
            )
        total = 1
        if isinstance(node, yaml.SequenceNode):
            total += sum(size(item, depth + 1) for item in node.value)
        elif isinstance(node, yaml.MappingNode):
            total += sum(size(key, depth + 1) + size(value, depth + 1) for key, value in node.value)
        if total > MAX_VALUES:
            message = f"the document holds more than {MAX_VALUES:,} values once its aliases are expanded"
            raise _TooBig(Problem(builder.mark(node), "", message))
        sizes[id(node)] = total
        return total

    size(root, 0)


class _TooBig(Exception):
    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


class _Builder:
    def __init__(self, source: str) -> None:
        self.source = source
        self.constructor = yaml.SafeLoader("")
        self.values: dict[DocPath, SourceLocation] = {}
        self.keys: dict[DocPath, SourceLocation] = {}
        self.problems: list[Problem] = []
        self.count = 0

    def mark(self, node: yaml.Node) -> SourceLocation:
        return SourceLocation(self.source, node.start_mark.line + 1, node.start_mark.column + 1)

    def build(self, node: yaml.Node, path: DocPath) -> Any:
        self.count += 1
        if self.count > MAX_VALUES:
            message = f"the document holds more than {MAX_VALUES:,} values once its aliases are expanded"
            raise _TooBig(Problem(self.mark(node), format_path(path), message))
        if len(path) > MAX_DEPTH:
            raise _TooBig(Problem(self.mark(node), "", f"lists and mappings nest more than {MAX_DEPTH} deep"))
        self.values[path] = self.mark(node)
        if isinstance(node, yaml.MappingNode):
            return self.build_mapping(node, path) if self.plain_tag(node, "map", path) else None
        if isinstance(node, yaml.SequenceNode):
            if not self.plain_tag(node, "seq", path):
                return None
            return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
        return self.build_scalar(node, path)

    def plain_tag(self, node: yaml.Node, kind: str, path: DocPath) -> bool:
        if node.tag == _YAML_TAG + kind:
            return True
        self.refuse_tag(node, path)
        return False

    def refuse_tag(self, node: yaml.Node, path: DocPath) -> None:
        tag = str(node.tag).replace(_YAML_TAG, "!!")
        message = f"the tag {tag} is not allowed: scenario files hold plain YAML values"
        self.problems.append(Problem(self.mark(node), format_path(path), message))

    def build_scalar(self, node: yaml.Node, path: DocPath) -> Any:
        if node.tag not in SCALAR_TAGS:
            self.refuse_tag(node, path)
            return None
        try:
            value = _plain(self.constructor.construct_object(node, deep=True))
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError("not a finite number")
            return value
        except (yaml.YAMLError, ValueError, OverflowError) as exc:
            shown = str(node.value) if len(str(node.value)) <= 40 else str(node.value)[:37] + "..."
            message = f"cannot read {shown!r}: {exc}"
            self.problems.append(Problem(self.mark(node), format_path(path), message))
            return None

    def build_mapping(self, node: yaml.MappingNode, path: DocPath) -> dict[Any, Any]:
        try:
            self.constructor.flatten_mapping(node)  # YAML merge keys (<<)
        except yaml.YAMLError as exc:
            problem = getattr(exc, "problem", None) or str(exc)
            self.problems.append(Problem(self.mark(node), format_path(path), f"cannot merge: {problem}"))
            return {}
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
    """YAML timestamps as RFC 3339 strings, so the data is JSON-shaped; a float that is a whole
    number (`40.0`) as that integer."""
    if isinstance(value, datetime):  # without a time zone it stays so, and fails the date-time check
        return value.isoformat().replace("+00:00", "Z")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value
