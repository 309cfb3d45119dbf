"""capymock: mock server, pytest plugin and contract checks for the Capy Jobs API.

The names below are imported when first used (PEP 562), so importing the package (as the
pytest plugin does on every pytest run) costs nothing until capymock is really used.
"""

from __future__ import annotations

import importlib as _importlib
import warnings as _warnings
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from capymock.core.auth import redact
    from capymock.core.clock import ManualClock
    from capymock.core.job import Job
    from capymock.core.journal import RecordedRequest
    from capymock.core.spec import Spec
    from capymock.errors import (
        CapymockError,
        ContractError,
        IllegalTransition,
        InvalidJob,
        MockDefect,
        Problem,
        ScenarioError,
        SourceLocation,
        SpecError,
    )
    from capymock.handle import Handle
    from capymock.mock import Mock, serve
    from capymock.remote import RemoteMock
    from capymock.scenario.loader import bundled_scenarios, load_scenario, parse_scenario
    from capymock.scenario.model import Scenario
    from capymock.system.clock import SystemClock
    from capymock.system.specs import load_spec
    from capymock.version import __version__
    from capymock.world.timeline import Fired

_EXPORTS = {
    "CapymockError": "capymock.errors",
    "ContractError": "capymock.errors",
    "Fired": "capymock.world.timeline",
    "Handle": "capymock.handle",
    "IllegalTransition": "capymock.errors",
    "InvalidJob": "capymock.errors",
    "Job": "capymock.core.job",
    "ManualClock": "capymock.core.clock",
    "Mock": "capymock.mock",
    "MockDefect": "capymock.errors",
    "Problem": "capymock.errors",
    "RecordedRequest": "capymock.core.journal",
    "RemoteMock": "capymock.remote",
    "Scenario": "capymock.scenario.model",
    "ScenarioError": "capymock.errors",
    "SourceLocation": "capymock.errors",
    "Spec": "capymock.core.spec",
    "SpecError": "capymock.errors",
    "SystemClock": "capymock.system.clock",
    "__version__": "capymock.version",
    "bundled_scenarios": "capymock.scenario.loader",
    "load_scenario": "capymock.scenario.loader",
    "load_spec": "capymock.system.specs",
    "parse_scenario": "capymock.scenario.loader",
    "redact": "capymock.core.auth",
    "serve": "capymock.mock",
}
_DEPRECATED = {"MockFailure": ("MockDefect", "capymock.MockFailure is now capymock.MockDefect")}

__all__ = [
    "CapymockError",
    "ContractError",
    "Fired",
    "Handle",
    "IllegalTransition",
    "InvalidJob",
    "Job",
    "ManualClock",
    "Mock",
    "MockDefect",
    "Problem",
    "RecordedRequest",
    "RemoteMock",
    "Scenario",
    "ScenarioError",
    "SourceLocation",
    "Spec",
    "SpecError",
    "SystemClock",
    "__version__",
    "bundled_scenarios",
    "load_scenario",
    "load_spec",
    "parse_scenario",
    "redact",
    "serve",
]


def __getattr__(name: str) -> _Any:
    if name in _DEPRECATED:
        new, note = _DEPRECATED[name]
        _warnings.warn(f"{note}; the old name will be removed in 0.3", DeprecationWarning, stacklevel=2)
        return __getattr__(new)
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'capymock' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
