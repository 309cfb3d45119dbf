"""The deployment's failed answers as the scenario file's faults: one per (method, path,
status), as often as it failed; a failure outside the spec's operations as a comment."""

from __future__ import annotations

import re

from capymock.core.routing import NoRoute, WrongMethod, router_for
from capymock.core.spec import Spec
from capymock.record.naming import Names, renamed_path_id
from capymock.record.observations import Failure, Recording
from capymock.record.yaml_text import flow, seconds

_PARAMETER = re.compile(r"\{([^{}]+)\}")


def fault_lines(recording: Recording, spec: Spec, names: Names, timeout: float) -> list[str]:
    """One fault per (method, path, status) the deployment failed, with the first such answer's
    body; a timeout (after `timeout` seconds) as a delayed 504."""
    counted: dict[tuple[str, str, int | None], list[Failure]] = {}
    for failure in recording.failures:
        counted.setdefault((failure.method, failure.path, failure.status), []).append(failure)
    return [
        _fault_line(method, given, status, failures, spec, names, timeout)
        for (method, given, status), failures in counted.items()
    ]


def _fault_line(
    method: str,
    given: str,
    status: int | None,
    failures: list[Failure],
    spec: Spec,
    names: Names,
    timeout: float,
) -> str:
    path, times = _spec_path(method, given, spec, names), len(failures)
    if path is None:
        what = f"{status} answers" if status else "timeouts"
        return f"  # {times} {what} to {method} {given[:200]!r}, not an operation of the spec: not replayed"
    match = f"{{method: {method}, path: {flow(path)}}}"
    body = failures[0].body
    if status is not None and body is not None:
        return f"  - {{match: {match}, status: {status}, times: {times}, body: {flow(names.scrub(body))}}}"
    if status is None:
        delay = seconds(timeout)
        return f"  - {{match: {match}, status: 504, delay: {delay}, times: {times}}}   # no answer in time"
    return f"  - {{match: {match}, status: {status}, times: {times}}}"


def _spec_path(method: str, path: str, spec: Spec, names: Names) -> str | None:
    """`path` with its ids renamed, if it is a path of one of the spec's operations for `method`."""
    try:
        found = router_for(spec).match(method, path)
    except (NoRoute, WrongMethod):
        return None
    operation = found.operation
    if operation.method != method:
        return None  # HEAD, which the router serves as GET: not an operation of its own
    values = {
        name: renamed_path_id(operation.path_fields.get(name), value, names)
        for name, value in found.path_parameters.items()
    }
    return _PARAMETER.sub(lambda parameter: values[parameter.group(1)], operation.path)
