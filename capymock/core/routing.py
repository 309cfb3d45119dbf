"""The spec's paths as a router: `Router.match(method, path)` -> the operation and its path
parameters.

Routes are built from the spec's operations only; there is no second route table. An
OpenAPI path template matches whole segments (`{jobID}` is one non-empty segment without
`/`), exactly and without a trailing slash; templates with more literal segments win.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from capymock.core.operations import Operation
from capymock.core.spec import Spec

_TEMPLATE = re.compile(r"\{([^{}]+)\}")


@dataclass(frozen=True)
class Match:
    operation: Operation
    path_parameters: dict[str, str]


class NoRoute(Exception):
    """No operation has this path."""


class WrongMethod(Exception):
    """The path exists, but not for this method."""

    def __init__(self, allowed: tuple[str, ...]) -> None:
        super().__init__(", ".join(allowed))
        self.allowed = allowed


@dataclass(frozen=True)
class _Route:
    pattern: re.Pattern[str]
    names: tuple[str, ...]
    operations: dict[str, Operation]

    @property
    def allowed(self) -> tuple[str, ...]:
        methods = set(self.operations)
        if "GET" in methods:
            methods.add("HEAD")  # HEAD is GET without the body
        return tuple(sorted(methods))


@functools.lru_cache(maxsize=8)
def router_for(spec: Spec) -> Router:
    """The router of `spec`, built once."""
    return Router(spec)


class Router:
    """Matches requests to the spec's operations."""

    def __init__(self, spec: Spec) -> None:
        by_path: dict[str, dict[str, Operation]] = {}
        for operation in spec.operations:
            by_path.setdefault(operation.path, {})[operation.method] = operation
        routes = [_compile(path, operations) for path, operations in by_path.items()]
        # Literal segments win over parameters: /v1/jobs/stats before /v1/jobs/{jobID}.
        self._routes = sorted(routes, key=lambda route: (len(route.names), -route.pattern.pattern.count("/")))

    def match(self, method: str, path: str) -> Match:
        """The operation serving `method path`, with its raw path parameters.

        Raises:
            NoRoute: no operation has this path.
            WrongMethod: the path exists for other methods only (their names in `allowed`).
        """
        for route in self._routes:
            found = route.pattern.fullmatch(path)
            if found is None:
                continue
            operation = route.operations.get("GET" if method == "HEAD" else method)
            if operation is None:
                raise WrongMethod(route.allowed)
            return Match(operation, dict(zip(route.names, found.groups(), strict=True)))
        raise NoRoute(path)

    def allowed(self, path: str) -> tuple[str, ...]:
        """The methods `path` answers to (empty: no operation has this path)."""
        route = next((r for r in self._routes if r.pattern.fullmatch(path)), None)
        return route.allowed if route is not None else ()


def template_pattern(template: str) -> tuple[re.Pattern[str], tuple[str, ...]]:
    """An OpenAPI path template as a regular expression (one group per parameter) and the
    parameter names; a path without parameters matches only itself."""
    parts = _TEMPLATE.split(template)  # literal, name, literal, name, ..., literal
    pattern = "".join(re.escape(part) if index % 2 == 0 else "([^/]+)" for index, part in enumerate(parts))
    return re.compile(pattern), tuple(parts[1::2])


def _compile(template: str, operations: dict[str, Operation]) -> _Route:
    pattern, names = template_pattern(template)
    return _Route(pattern, names, operations)
