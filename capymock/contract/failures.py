"""What schemathesis recorded, and what capymock's own requests got, as `Violation`s that name the
defect: the check, where (JSON path and job, header, status or request), the rule in full, an
excerpt of the answer centred on the fault, and a `curl` that reads the token from a variable."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Mapping
from typing import Any

from capymock.contract.checks import OWN_CHECKS, body_of, not_json, operation_id
from capymock.contract.report import ContractReport, Violation
from capymock.contract.rules import Findings, header, job_id
from capymock.core.auth import redact
from capymock.core.spec import Spec
from capymock.core.validation import validators_for
from capymock.scenario.located import format_path

EXCERPT = 300
OWN_NAMES = {check.__name__: check.check_name for check in OWN_CHECKS}
_FILTERED_AUTH = re.compile(r"-H '(?i:authorization): [^']*'")
_CONTENT_TYPE_FAILURES = ("UndefinedContentType", "MissingContentType", "MalformedMediaType")
_REQUEST_FAILURES = (
    "AcceptedNegativeData",
    "RejectedPositiveData",
    "MissingHeaderNotRejected",
    "IgnoredAuth",
)

Path = tuple[str | int, ...]


class FailureReader:
    """Turns recorded scenarios into the report's passes and violations."""

    def __init__(self, spec: Spec, token: str, token_variable: str, report: ContractReport) -> None:
        self.spec, self.token, self.variable, self.report = spec, token, token_variable, report
        self.validators = validators_for(spec)

    # -- schemathesis scenarios -----------------------------------------------------------

    def scenario(self, recorder: Any) -> None:
        self.report.requests += len(recorder.interactions)
        for case_id, nodes in recorder.checks.items():
            node = recorder.cases.get(case_id)
            if node is None:
                continue
            case, response = node.value, recorder.find_response(case_id=case_id)
            for check in nodes:
                name = OWN_NAMES.get(check.name, check.name)
                label = case.operation.label
                if check.failure_info is None:
                    self.report.passed(label, name)
                    continue
                for violation in self.violations(name, check.failure_info, case, response):
                    self.report.violated(violation)

    def violations(self, name: str, info: Any, case: Any, response: Any) -> list[Violation]:
        failure = info.failure
        curl = self.curl(info.code_sample, case)
        kind = type(failure).__name__
        exception = getattr(failure, "exception", None)
        if isinstance(exception, Findings):
            return [
                self.violation(
                    case, finding.check, finding.rule, response, curl, finding.where, finding.job_id
                )
                for finding in exception.findings
            ]
        if kind == "JsonSchemaError":
            return self.schema_violations(name, failure, case, response, curl)
        where = _where(kind, case, response)
        return [self.violation(case, name, _gist(failure), response, curl, where)]

    def schema_violations(
        self, name: str, failure: Any, case: Any, response: Any, curl: str
    ) -> list[Violation]:
        """Each place the body breaks its schema, worded in full (capymock's validator, not a cut
        message); a body that is not JSON at all is said so, with where the parser stopped."""
        problem = not_json(response)
        if problem:
            return [
                self.violation(case, name, f"the body is not valid JSON: {problem}", response, curl, "body")
            ]
        body, status = body_of(response), getattr(response, "status_code", 0)
        identifier = operation_id(case)  # every operation has one: `load_spec` makes sure
        operation = self.spec.operation(identifier) if identifier is not None else None
        errors = (
            self.validators.body_errors(operation, status, body)
            if operation is not None and operation.documents(status)
            else []
        )
        if not errors:
            errors = [(tuple(getattr(failure, "instance_path", ()) or ()), _gist(failure))]
        seen: dict[str, Violation] = {}
        for path, message in errors[:20]:
            where = format_path(path)
            violation = self.violation(
                case, name, f"{where or 'body'}: {message}", response, curl, where, _job_at(body, path)
            )
            seen.setdefault(violation.message, violation)
        return list(seen.values())

    def violation(
        self,
        case: Any,
        check: str,
        message: str,
        response: Any,
        curl: str,
        where: str = "",
        job: str | None = None,
    ) -> Violation:
        status = getattr(response, "status_code", None)
        return Violation(
            case.operation.label,
            check,
            self.scrub(message),
            status,
            self.excerpt(response, where),
            curl,
            self.scrub(where),
            job,
        )

    def curl(self, code_sample: str | None, case: Any) -> str:
        """schemathesis' own reproduction, the filtered token replaced by the named variable."""
        command = code_sample or case.as_curl_command()
        command = _FILTERED_AUTH.sub(f'-H "Authorization: Bearer ${self.variable}"', command)
        return self.scrub(command.replace("curl -X GET ", "curl -i "))

    # -- capymock's own requests ----------------------------------------------------------

    def plain(
        self,
        label: str,
        check: str,
        rule: str,
        response: Any,
        path: str,
        where: str,
        headers: Mapping[str, str] | None = None,
    ) -> Violation:
        """A violation seen on one of capymock's own requests, sent with the token or with `headers`
        (the ones an auth check sent instead: none, a garbage token)."""
        if headers is None:
            auth = f' -H "Authorization: Bearer ${self.variable}"'
        else:
            auth = "".join(f" -H {shlex.quote(f'{name}: {value}')}" for name, value in headers.items())
        base = getattr(getattr(response, "request", None), "url", None) or path
        return Violation(
            label,
            check,
            self.scrub(rule),
            response.status_code,
            self.excerpt(response, where),
            f"curl -i{auth} '{base}'",
            where,
        )

    # -- excerpts ---------------------------------------------------------------------------

    def excerpt(self, response: Any, where: str) -> str:
        """The answer around the fault: a JSON body centred on `where`, else its start (token redacted
        before anything is cut, so no part of it survives)."""
        if response is None:
            return ""
        name = where.partition(":")[0]
        if name[:1].isupper() and header(getattr(response, "headers", {}) or {}, name) is not None:
            return self.scrub(f"{name}: {header(response.headers, name)}")
        text = self.scrub(getattr(response, "text", "") or "")
        body = body_of(response)
        if body is not None and where and not where.startswith(("status", "body")):
            centred = _centred(body, _parse_path(where))
            if centred is not None:
                return self.scrub(centred)
        flat = " ".join(text.split())
        return flat if len(flat) <= EXCERPT else flat[: EXCERPT - 1] + "…"

    def scrub(self, text: str) -> str:
        return text.replace(self.token, redact(self.token)) if self.token else text


def _where(kind: str, case: Any, response: Any) -> str:
    headers = getattr(response, "headers", {}) or {}
    if kind in _CONTENT_TYPE_FAILURES:
        return f"Content-Type: {header(headers, 'Content-Type') or '(none)'}"
    if kind in ("UndefinedStatusCode", "ServerError"):
        return f"status {getattr(response, 'status_code', '?')}"
    if kind == "MissingHeaders":
        return "headers"
    if kind in _REQUEST_FAILURES:
        query = "&".join(f"{k}={v}" for k, v in (case.query or {}).items())
        return f"request {case.formatted_path}{'?' + query if query else ''}"
    if kind in ("MalformedJson", "ContentDeserializationError"):
        return "body"
    return ""


def _gist(failure: Any) -> str:
    """The failure's title and the lines of its message that say what was wrong."""
    title = getattr(failure, "title", "") or type(failure).__name__
    kept: list[str] = []
    for line in (getattr(failure, "message", "") or str(failure)).splitlines():
        if line.startswith(("Schema at", "Value:", "Schema:")) or len(kept) == 8:
            break
        if line.strip():
            kept.append(line.strip())
    return "\n".join([title, *kept])


def _parse_path(where: str) -> Path:
    parts: list[str | int] = []
    for name, index in re.findall(r"([^.\[\]]+)|\[(\d+)\]", where):
        parts.append(int(index) if index else name)
    return tuple(parts)


def _job_at(body: Any, path: Path) -> str | None:
    """The id of the job a path points into (`jobs[3]...` or `job...`)."""
    node: Any = body
    for part in path:
        if isinstance(node, Mapping) and isinstance(part, str):
            node = node.get(part)
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return None
        found = job_id(node)
        if found is not None:
            return found
    return None


def _centred(body: Any, path: Path) -> str | None:
    """The compact JSON of `body` cut to a window that starts a little before `path`'s value."""
    pieces: list[str] = []
    target: list[int] = []

    def write(node: Any, here: Path) -> None:
        if here == path[: len(here)] and len(here) == len(path) and not target:
            target.append(sum(map(len, pieces)))
        if isinstance(node, Mapping):
            pieces.append("{")
            for index, (key, value) in enumerate(node.items()):
                pieces.append(("," if index else "") + json.dumps(str(key), ensure_ascii=False) + ":")
                write(value, (*here, str(key)))
            pieces.append("}")
        elif isinstance(node, list):
            pieces.append("[")
            for index, value in enumerate(node):
                pieces.append("," if index else "")
                write(value, (*here, index))
            pieces.append("]")
        else:
            pieces.append(json.dumps(node, ensure_ascii=False))

    try:
        write(body, ())
    except (RecursionError, ValueError):
        return None
    if not target:
        return None
    text = "".join(pieces)
    start = max(0, target[0] - EXCERPT // 3)
    window = text[start : start + EXCERPT]
    return ("…" if start else "") + window + ("…" if start + EXCERPT < len(text) else "")
