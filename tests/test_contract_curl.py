"""The `curl` of a violation on one of `capymock contract`'s own requests shows the headers that
request sent: the token read from a variable, or the auth check's own (none, a garbage token)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from capymock.contract.credentials import NEGATIVE_AUTH
from capymock.contract.failures import FailureReader
from capymock.contract.report import ContractReport
from capymock.system.specs import load_spec

URL = "http://deployment.test/v1/projects/proj_1/jobs"


def _response() -> Any:
    return SimpleNamespace(
        status_code=200,
        headers={"Content-Type": "application/json"},
        text="{}",
        json=dict,
        request=SimpleNamespace(url=URL),
    )


def _curl(headers: dict[str, str] | None) -> str:
    reader = FailureReader(load_spec(), "capy_live_secret", "CAPY_TOKEN", ContractReport(URL, 1))
    violation = reader.plain("GET /x", "auth_required", "rule", _response(), "/x", "Authorization", headers)
    return violation.curl


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        ("no token", f"curl -i '{URL}'"),
        ("a garbage token", f"curl -i -H 'Authorization: Bearer capymock-contract-not-a-token' '{URL}'"),
        (
            "an unknown API key",
            f"curl -i -H 'Authorization: Bearer capy_live_capymock_contract_unknown_key' '{URL}'",
        ),
    ],
)
def test_a_negative_auth_curl_sends_what_the_check_sent(kind: str, expected: str) -> None:
    assert _curl(dict(NEGATIVE_AUTH)[kind]) == expected


def test_a_curl_with_the_token_reads_it_from_the_variable() -> None:
    assert _curl(None) == f"curl -i -H \"Authorization: Bearer $CAPY_TOKEN\" '{URL}'"


def test_any_headers_make_a_curl() -> None:
    assert _curl({"Authorization": "Basic it's"}) == f"curl -i -H 'Authorization: Basic it'\"'\"'s' '{URL}'"
