"""Bearer tokens -> who is calling: API keys scoped to an organization or a project, and
Clerk session tokens (JWTs) checked against the mock's clock.

Session token signatures are not checked: the mock trusts any structurally valid token
whose claims name a user and an active organization and hold at the mock's `now`.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard

from capymock.core.durations import parse_duration

API_KEY_PREFIX = "capy_live_"
MAX_TOKEN = 8192
"""Longer bearer tokens are refused unread."""
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9-]{0,19}\Z")


@dataclass(frozen=True)
class Principal:
    """The caller a token stands for."""

    organization_id: str
    project_id: str | None = None
    """Set for project-scoped keys: the only project the caller may read."""

    def may_read(self, organization_id: str, project_id: str) -> bool:
        """Whether the caller may read a job of `project_id` in `organization_id`."""
        if organization_id != self.organization_id:
            return False
        return self.project_id is None or self.project_id == project_id


class Denied(Exception):
    """The request carries no acceptable credentials; the message says why."""


class UnknownKey(Denied):
    """An API key of the right shape that the keyring does not hold."""


class Keyring:
    """The API keys a mock accepts, each scoped to an organization or one project."""

    def __init__(self, keys: Iterable[tuple[str, Principal]] = ()) -> None:
        self._keys: dict[str, Principal] = dict(keys)
        self._lock = threading.Lock()

    def add(self, token: str, organization_id: str, project_id: str | None = None) -> Principal:
        """Accept `token` from now on, scoped as given."""
        if not token.startswith(API_KEY_PREFIX) or len(token) <= len(API_KEY_PREFIX):
            raise ValueError(f"API keys look like {API_KEY_PREFIX}..., got {redact(token)!r}")
        principal = Principal(organization_id, project_id)
        with self._lock:
            self._keys[token] = principal
        return principal

    def get(self, token: str) -> Principal | None:
        return self._keys.get(token)

    def items(self) -> tuple[tuple[str, Principal], ...]:
        """Every key and whom it stands for, in the order added."""
        with self._lock:
            return tuple(self._keys.items())


def authenticate(
    header: str | None, keyring: Keyring, now: datetime, any_token_organization: str | None = None
) -> Principal:
    """The principal behind an `Authorization` header value.

    With `any_token_organization`, a token that would be refused is accepted instead as an
    organization-scoped key of that organization.

    Raises:
        Denied: the header is missing or malformed, or the token is unknown or expired.
    """
    token = _bearer_token(header)
    principal = keyring.get(token)
    if principal is not None:
        return principal
    try:
        if looks_like_jwt(token):
            return read_session_token(token, now)
        if token.startswith(API_KEY_PREFIX):
            raise UnknownKey(f"unknown API key {redact(token)}")
        raise Denied(f"the bearer token is neither an API key ({API_KEY_PREFIX}...) nor a session token")
    except Denied:
        if any_token_organization is None:
            raise
        return Principal(any_token_organization)


def _bearer_token(header: str | None) -> str:
    if not header:
        raise Denied("missing Authorization header; send 'Authorization: Bearer <token>'")
    scheme, _, token = header.strip().partition(" ")
    if scheme.lower() != "bearer":
        # Only a scheme's name is shown: a header without one may be a bare token.
        named = f" {scheme!r}" if _SCHEME.match(scheme) and _ else ""
        raise Denied(f"unsupported authorization scheme{named}; send 'Authorization: Bearer <token>'")
    token = token.strip()
    if not token or " " in token:
        raise Denied("malformed bearer token; send 'Authorization: Bearer <token>'")
    if len(token) > MAX_TOKEN:
        raise Denied(f"the bearer token is longer than {MAX_TOKEN} characters")
    return token


def looks_like_jwt(token: str) -> bool:
    """Three dot-separated segments, the shape of a JWT."""
    return token.count(".") == 2


def read_session_token(token: str, now: datetime) -> Principal:
    """The organization-scoped principal of a Clerk session token valid at `now`.

    Both claim layouts Clerk has shipped are read: version 2 (`"v": 2`, the organization in
    `"o": {"id", "rol", "slg"}`) and version 1 (`org_id`, `org_role`).

    Raises:
        Denied: the token is malformed, has no user or active organization, or does not hold at `now`.
    """
    header, payload = (_decode_segment(s) for s in token.split(".")[:2])
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise Denied("malformed session token: header and payload must be JSON objects")
    if not isinstance(payload.get("sub"), str) or not payload["sub"]:
        raise Denied("session token has no subject ('sub')")
    organization_id = _active_organization(payload)
    if organization_id is None:
        raise Denied("session token has no active organization")
    _check_lifetime(payload, now.timestamp())
    return Principal(organization_id)


def _decode_segment(segment: str) -> Any:
    try:
        raw = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        return json.loads(raw, parse_constant=_no_constant)
    except (binascii.Error, ValueError, RecursionError):
        raise Denied("malformed session token: segments must be base64url-encoded JSON") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _active_organization(payload: dict[str, Any]) -> str | None:
    organization = payload.get("o")
    if payload.get("v") == 2 and isinstance(organization, dict):
        value = organization.get("id")
    else:
        value = payload.get("org_id")
    return value if isinstance(value, str) and value else None


def _check_lifetime(payload: dict[str, Any], now: float) -> None:
    expires, not_before = payload.get("exp"), payload.get("nbf")
    if not _is_time(expires):
        raise Denied("session token has no expiry ('exp', seconds since 1970)")
    if now >= expires:
        raise Denied("session token has expired")
    if not_before is not None and not _is_time(not_before):
        raise Denied("session token has a malformed 'nbf' (seconds since 1970)")
    if not_before is not None and now < not_before:
        raise Denied("session token is not valid yet ('nbf')")


def _is_time(value: Any) -> TypeGuard[float]:
    if isinstance(value, bool):
        return False
    # An int of any size is a number (math.isfinite would overflow past 1.8e308); a float must be finite.
    return isinstance(value, int) or (isinstance(value, float) and math.isfinite(value))


def mint_session_token(
    *,
    organization_id: str,
    user_id: str,
    issued_at: datetime,
    lifetime: timedelta | float | str = timedelta(hours=1),
    version: int = 2,
    role: str = "admin",
) -> str:
    """A Clerk-style session token (unsigned) the mock accepts while it holds (`lifetime`: a
    duration as `parse_duration` reads it).

    Version 2 puts the organization in `"o"`; version 1 uses `org_id` and `org_role`.
    """
    if version not in (1, 2):
        raise ValueError(f"Clerk session tokens come in versions 1 and 2, not {version}")
    issued = int(issued_at.timestamp())
    claims: dict[str, Any] = {
        "sub": user_id,
        "sid": f"sess_{user_id}",
        "iss": "https://clerk.capymock.invalid",
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(parse_duration(lifetime).total_seconds()),
    }
    if version == 2:
        claims.update(v=2, o={"id": organization_id, "rol": role, "slg": organization_id})
    else:
        claims.update(org_id=organization_id, org_role=f"org:{role}", org_slug=organization_id)
    header = {"alg": "RS256", "typ": "JWT", "kid": "capymock"}
    segments = [_encode_segment(header), _encode_segment(claims), _b64(b"capymock-unsigned")]
    return ".".join(segments)


def _encode_segment(value: dict[str, Any]) -> str:
    return _b64(json.dumps(value, separators=(",", ":")).encode())


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def redact(token: str) -> str:
    """A token shortened so it can be logged: `capy_live_abcd…`."""
    keep = len(API_KEY_PREFIX) + 4 if token.startswith(API_KEY_PREFIX) else 4
    if len(token) <= keep:
        return "…"
    return token[:keep] + "…"
