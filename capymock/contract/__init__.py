"""`capymock contract`: check that a live deployment honours `openapi.yaml`, on schemathesis.

Needs the `contract` extra (`pip install 'capymock[contract]'`). `run_contract()` returns a
`ContractReport` (exit code 0 conformant, 1 violations, 2 could not tell); `ContractError`
means the arguments were unusable. Names are imported when first used, so the report can be
written (and the missing extra named) even where schemathesis is not installed.
"""

from __future__ import annotations

import importlib as _importlib
from typing import TYPE_CHECKING as _TYPE_CHECKING
from typing import Any as _Any

if _TYPE_CHECKING:
    from capymock.contract.report import ContractReport, Violation
    from capymock.contract.run import parse_rate, run_contract
    from capymock.errors import ContractError

_EXPORTS = {
    "ContractError": "capymock.errors",
    "ContractReport": "capymock.contract.report",
    "Violation": "capymock.contract.report",
    "parse_rate": "capymock.contract.run",
    "run_contract": "capymock.contract.run",
}

__all__ = ["ContractError", "ContractReport", "Violation", "parse_rate", "run_contract"]


def __getattr__(name: str) -> _Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'capymock.contract' has no attribute {name!r}")
    value = getattr(_importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return list(__all__)
