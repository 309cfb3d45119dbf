"""The spec's paths as a werkzeug routing map: `Router.match(method, path)`.

Routes are built from the spec's operations only; there is no second route table.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from werkzeug.exceptions import MethodNotAllowed, NotFound
from werkzeug.routing import Map, RequestRedirect, Rule

from capymock.spec import Operation, Spec

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


@functools.lru_cache(maxsize=8)
def router_for(spec: Spec) -> Router:
    """The router of `spec`, built once."""
    return Router(spec)


class Router:
    """Matches requests to the spec's operations."""

    def __init__(self, spec: Spec) -> None:
        self._operations = {op.operation_id: op for op in spec.operations}
        self._names: dict[str, dict[str, str]] = {}
        rules = [self._rule(op) for op in spec.operations]
        self._adapter = Map(rules, strict_slashes=True, merge_slashes=False).bind("capymock")

    def _rule(self, operation: Operation) -> Rule:
        # werkzeug wants identifiers as variable names; OpenAPI allows any name.
        names: dict[str, str] = {}

        def variable(found: re.Match[str]) -> str:
            safe = f"p{len(names)}"
            names[safe] = found.group(1)
            return f"<{safe}>"

        template = _TEMPLATE.sub(variable, operation.path)
        self._names[operation.operation_id] = names
        return Rule(template, endpoint=operation.operation_id, methods=[operation.method])

    def match(self, method: str, path: str) -> Match:
        """The operation serving `method path`, with its raw path parameters.

        Raises:
            NoRoute: no operation has this path.
            WrongMethod: the path exists for other methods only (their names in `allowed`).
        """
        try:
            endpoint, values = self._adapter.match(path, method)
        except MethodNotAllowed as exc:
            raise WrongMethod(tuple(sorted(exc.valid_methods or ()))) from None
        except (NotFound, RequestRedirect):
            raise NoRoute(path) from None
        names = self._names[endpoint]
        return Match(self._operations[endpoint], {names[k]: v for k, v in values.items()})

    def allowed(self, path: str) -> tuple[str, ...]:
        """The methods `path` answers to (empty: no operation has this path)."""
        try:
            match = self.match("\x00", path)
        except WrongMethod as exc:
            return exc.allowed
        except NoRoute:
            return ()
        return (match.operation.method,)
