"""Schemathesis' side of a contract run: the copy of the spec it is given (the deployment's own
jobs as examples, no operation that writes), its configuration (capymock's checks, the real
ids, the rate), and its event stream read into the report."""

from __future__ import annotations

import copy
import time
from dataclasses import dataclass, field
from typing import Any, cast

import schemathesis
from schemathesis.config import SchemathesisConfig
from schemathesis.engine import StopReason, events, from_schema

from capymock.contract.checks import OWN_CHECKS, RunContext
from capymock.contract.failures import FailureReader
from capymock.contract.report import ContractReport
from capymock.core.refs import follow_refs
from capymock.core.spec import JOB, Spec
from capymock.errors import ContractError

BUILT_IN_CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_headers_conformance",
    "response_schema_conformance",
    "negative_data_rejection",
    "positive_data_acceptance",
    "missing_required_header",
    "ignored_auth",
    "unsupported_method",
    "allow_header_conformance",
)
MAX_READS = 25
"""Listed jobs read one by one (as examples of `getJob`)."""
PHASES = ("examples", "coverage", "fuzzing", "stateful")
UNKNOWN_IDS = ("coverage", "fuzzing")


@dataclass(frozen=True)
class Settings:
    """What one run was asked for."""

    spec: Spec
    base_url: str
    token: str
    seed: int
    rate: str | None
    deadline: float
    timeout: float
    max_examples: int
    token_variable: str
    allow_writes: bool
    watch: float


@dataclass
class Ids:
    """Real ids of the deployment, found before generation starts."""

    project: str | None = None
    jobs: list[str] = field(default_factory=list)


class OutOfTime(Exception):
    """The run's time is up."""


class Engine:
    """Runs schemathesis' phases for one contract run, its answers judged into `report`."""

    def __init__(
        self, settings: Settings, context: RunContext, reader: FailureReader, report: ContractReport
    ) -> None:
        self.settings, self.spec, self.context = settings, settings.spec, context
        self.reader, self.report = reader, report

    def with_examples(self, ids: Ids) -> dict[str, Any]:
        """The spec with the deployment's own jobs as the examples of `getJob`'s id, so schemathesis'
        examples phase reads every listed job (and its other phases make up ids around them)."""
        document = self.document()
        if not ids.jobs:
            return document
        listed = {f"listed_{n}": {"value": job} for n, job in enumerate(ids.jobs[:MAX_READS])}
        for operation in self.spec.operations:
            name = operation.parameter_for(JOB.id)
            if name is None or not operation.safe:
                continue
            item = document["paths"][operation.path]
            for holder in (item.get(operation.method.lower(), {}), item):
                for index, parameter in enumerate(holder.get("parameters", [])):
                    resolved = follow_refs(parameter, document)
                    if resolved.get("name") == name and resolved.get("in") == "path":
                        changed = {k: v for k, v in resolved.items() if k != "example"}
                        holder["parameters"][index] = {**changed, "examples": listed}
        return document

    def document(self) -> dict[str, Any]:
        """A copy of the spec's document for schemathesis, which changes what it is given (the
        `Spec`, shared by every run in the process, must stay as it was read), with only the
        operations whose method is safe: schemathesis' phases never send a write, even with
        `--allow-writes`, and never follow a link to one."""
        document = cast("dict[str, Any]", copy.deepcopy(self.spec.document))  # `load_spec` reads a dict
        return without_writes(document, {op.operation_id for op in self.spec.operations if not op.safe})

    def run(self, document: dict[str, Any], config: SchemathesisConfig) -> None:
        """Schemathesis' phases over `document`, until they end or the run's time is up."""
        schema = schemathesis.openapi.from_dict(document, config=config)
        stream = from_schema(schema).execute()
        for event in stream:
            if time.monotonic() >= self.settings.deadline:
                stream.stop()
                raise OutOfTime
            if isinstance(event, events.ScenarioFinished):
                self.reader.scenario(event.recorder)
            elif isinstance(event, events.NonFatalError):
                message = (
                    event.info.format(base_url_is_set=True)
                    if hasattr(event.info, "format")
                    else str(event.value)
                )
                self.report.notes.append(f"schemathesis could not test {event.label}: {message.strip()}")
            elif isinstance(event, events.FatalError):
                raise ContractError(f"the run stopped: {event.exception}")
            elif isinstance(event, events.EngineFinished):
                if event.stop_reason == StopReason.MAX_TIME:
                    raise OutOfTime
                if event.stop_reason == StopReason.SERVER_UNAVAILABLE:
                    raise ContractError(f"{self.settings.base_url} stopped answering during the run")

    def config(
        self, ids: Ids, *, examples: int | None = None, phases: tuple[str, ...] = (), fix_job: bool = False
    ) -> SchemathesisConfig:
        """The run's schemathesis configuration: the project fixed where known (the job too with
        `fix_job`), `phases` only if given."""
        parameters = {}
        for operation in self.spec.operations:
            for name, named in operation.path_fields.items():
                if named == JOB.project and ids.project is not None:
                    parameters[f"path.{name}"] = ids.project
                elif named == JOB.id and fix_job and ids.jobs:
                    parameters[f"path.{name}"] = ids.jobs[0]
        checks: dict[str, Any] = {"enabled": False}
        checks.update({name: {"enabled": True} for name in BUILT_IN_CHECKS})
        checks.update({check.__name__: {"enabled": True, "run": self.context} for check in OWN_CHECKS})
        values: dict[str, Any] = {
            "base-url": self.settings.base_url,
            "seed": self.settings.seed,
            "headers": {"Authorization": f"Bearer {self.settings.token}"},
            "parameters": parameters,
            "generation": {
                "max-examples": examples or self.settings.max_examples,
                "mode": "all",
                "database": "none",
            },
            # Only what the spec declares is sent: no DELETE or PUT "just to see".
            "phases": {
                "coverage": {"unexpected-methods": []},
                **{name: {"enabled": False} for name in PHASES if phases and name not in phases},
            },
            "checks": checks,
            # No "max-time": with one, schemathesis repeats its phases until the time is up. The
            # deadline is ours to keep (`engine`).
            "request-timeout": self.settings.timeout,
            "workers": 1,
            "cache": {"enabled": False},  # leaves nothing behind in the caller's directory
        }
        if self.settings.rate:
            values["rate-limit"] = self.settings.rate
        return SchemathesisConfig.from_dict(values)


def without_writes(document: dict[str, Any], writes: set[str]) -> dict[str, Any]:
    """`document` (changed in place) without the operations `writes` names, the path items left
    empty, and the links to them."""
    for path, item in list(document.get("paths", {}).items()):
        for method in [
            m for m, raw in item.items() if isinstance(raw, dict) and raw.get("operationId") in writes
        ]:
            del item[method]
        if not any(isinstance(raw, dict) and "operationId" in raw for raw in item.values()):
            del document["paths"][path]
    for item in document.get("paths", {}).values():
        for raw in item.values():
            for response in raw.get("responses", {}).values() if isinstance(raw, dict) else ():
                links = response.get("links") if isinstance(response, dict) else None
                if isinstance(links, dict):
                    for name in [
                        n
                        for n, link in links.items()
                        if isinstance(link, dict) and link.get("operationId") in writes
                    ]:
                        del links[name]
    return document
