"""capymock: mock server, pytest plugin and contract checks for the Capy Jobs API."""

from capymock.auth import redact
from capymock.clock import ManualClock, SystemClock
from capymock.errors import (
    CapymockError,
    IllegalTransition,
    InvalidJob,
    MockFailure,
    Problem,
    ScenarioError,
    SourceLocation,
    SpecError,
)
from capymock.job import Job
from capymock.journal import RecordedRequest
from capymock.mock import Mock
from capymock.scenarios import Scenario, bundled_scenarios, load_scenario, parse_scenario
from capymock.server import serve
from capymock.spec import Spec, load_spec
from capymock.timeline import Fired
from capymock.version import __version__

__all__ = [
    "CapymockError",
    "Fired",
    "IllegalTransition",
    "InvalidJob",
    "Job",
    "ManualClock",
    "Mock",
    "MockFailure",
    "Problem",
    "RecordedRequest",
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
