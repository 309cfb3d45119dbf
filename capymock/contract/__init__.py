"""`capymock contract`: check that a live deployment honours `openapi.yaml`, on schemathesis.

Needs the `contract` extra (`pip install 'capymock[contract]'`). `run_contract()` returns a
`ContractReport`; `ContractError` means the run could not start or go on.
"""

from capymock.contract.report import ContractReport, Violation
from capymock.contract.run import parse_rate, run_contract
from capymock.errors import ContractError

__all__ = ["ContractError", "ContractReport", "Violation", "parse_rate", "run_contract"]
