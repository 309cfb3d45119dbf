"""The credentials a contract run forges: one of each kind the security scheme names (API keys,
Clerk session tokens) and malformed headers. A conformant deployment answers each with a 401."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from capymock.core.auth import mint_session_token

GARBAGE_TOKEN = "capymock-contract-not-a-token"
UNKNOWN_KEY = "capy_live_capymock_contract_unknown_key"
EXPIRED_SESSION = mint_session_token(
    organization_id="org_capymock_contract",
    user_id="user_capymock_contract",
    issued_at=datetime(2020, 1, 1, tzinfo=UTC),
    lifetime=timedelta(minutes=5),
)
"""A Clerk-shaped session token, unsigned and long expired: no deployment may take it."""
NOT_JSON_SESSION = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.bm90IGpzb24.Y2FweW1vY2stdW5zaWduZWQ"
"""A JWT-shaped token whose payload is not JSON."""
NEGATIVE_AUTH: tuple[tuple[str, dict[str, str]], ...] = (
    ("no token", {}),
    ("a garbage token", {"Authorization": f"Bearer {GARBAGE_TOKEN}"}),
    ("an unknown API key", {"Authorization": f"Bearer {UNKNOWN_KEY}"}),
    ("an expired, unsigned session token", {"Authorization": f"Bearer {EXPIRED_SESSION}"}),
    ("a session token whose payload is not JSON", {"Authorization": f"Bearer {NOT_JSON_SESSION}"}),
    ("an empty bearer token", {"Authorization": "Bearer "}),
    ("another scheme (Basic)", {"Authorization": "Basic Y2FweW1vY2s6Y29udHJhY3Q="}),
)
"""A forged credential of each kind the security scheme names (API keys, Clerk session tokens),
and malformed headers: each gets a 401."""
