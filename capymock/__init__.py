"""capymock: mock server, pytest plugin and contract checks for the Capy Jobs API."""

from capymock.auth import redact
from capymock.clock import ManualClock, SystemClock
from capymock.errors import (
    CapymockError,
    IllegalTransition,
    InvalidJob,
    MockFailure,
    SourceLocation,
    SpecError,
)
from capymock.job import Job
from capymock.journal import RecordedRequest
from capymock.mock import Mock
from capymock.server import serve
from capymock.spec import Spec, load_spec
from capymock.version import __version__

__all__ = [
    "CapymockError",
    "IllegalTransition",
    "InvalidJob",
    "Job",
    "ManualClock",
    "Mock",
    "MockFailure",
    "RecordedRequest",
    "SourceLocation",
    "Spec",
    "SpecError",
    "SystemClock",
    "__version__",
    "load_spec",
    "redact",
    "serve",
]
