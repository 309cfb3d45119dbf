"""Bearer tokens read directly by the core: API keys, Clerk session tokens, redaction."""

from __future__ import annotations

import base64
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from capymock.core.auth import (
    MAX_TOKEN,
    Denied,
    Keyring,
    Principal,
    UnknownKey,
    authenticate,
    mint_session_token,
    read_session_token,
    redact,
)

NOW = datetime(2026, 1, 1, 9, 0, tzinfo=UTC)
EPOCH = int(NOW.timestamp())
SEND = "send 'Authorization: Bearer <token>'"


def _segment(value: object) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _token(**claims: Any) -> str:
    payload = {"sub": "user_1", "exp": EPOCH + 60, **claims}
    return f"{_segment({'alg': 'RS256'})}.{_segment({k: v for k, v in payload.items() if v is not None})}.sig"


def _decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _refused(token: str) -> str:
    with pytest.raises(Denied) as refused:
        read_session_token(token, NOW)
    return str(refused.value)


def _header_refused(header: str | None) -> str:
    with pytest.raises(Denied) as refused:
        authenticate(header, Keyring(), NOW)
    return str(refused.value)


def test_a_v2_token_names_its_organization() -> None:
    assert read_session_token(_token(v=2, o={"id": "org_a"}), NOW) == Principal("org_a")


def test_a_v2_token_without_o_reads_org_id() -> None:
    assert read_session_token(_token(v=2, org_id="org_b"), NOW) == Principal("org_b")


def test_a_v2_token_without_any_organization_is_refused() -> None:
    assert _refused(_token(v=2)) == "session token has no active organization"


def test_an_o_claim_counts_only_in_version_2() -> None:
    assert read_session_token(_token(o={"id": "org_a"}, org_id="org_b"), NOW) == Principal("org_b")


@pytest.mark.parametrize("organization", ["", 5])
def test_an_empty_or_odd_organization_is_refused(organization: object) -> None:
    assert _refused(_token(v=2, o={"id": organization})) == "session token has no active organization"


def test_a_token_without_nbf_holds() -> None:
    assert read_session_token(_token(org_id="org_a"), NOW) == Principal("org_a")


@pytest.mark.parametrize("nbf", ["soon", True])
def test_a_malformed_nbf_is_refused(nbf: object) -> None:
    assert (
        _refused(_token(org_id="org_a", nbf=nbf))
        == "session token has a malformed 'nbf' (seconds since 1970)"
    )


def test_a_token_not_yet_valid_is_refused() -> None:
    assert _refused(_token(org_id="org_a", nbf=EPOCH + 1)) == "session token is not valid yet ('nbf')"


def test_a_token_valid_from_now_holds() -> None:
    assert read_session_token(_token(org_id="org_a", nbf=EPOCH), NOW) == Principal("org_a")


def test_a_token_expiring_now_is_refused() -> None:
    assert _refused(_token(org_id="org_a", exp=EPOCH)) == "session token has expired"


def test_a_token_without_expiry_is_refused() -> None:
    assert _refused(_token(org_id="org_a", exp="later")) == (
        "session token has no expiry ('exp', seconds since 1970)"
    )


def test_times_past_the_largest_float_are_read() -> None:
    assert read_session_token(_token(org_id="org_a", exp=10**400, nbf=-(10**400)), NOW) == Principal("org_a")
    assert _refused(_token(org_id="org_a", exp=-(10**400))) == "session token has expired"
    assert _refused(_token(org_id="org_a", nbf=10**400)) == "session token is not valid yet ('nbf')"


def test_times_with_a_fraction_of_a_second_are_read() -> None:
    token = _token(org_id="org_a", exp=EPOCH + 0.5, nbf=EPOCH - 0.5)
    assert read_session_token(token, NOW) == Principal("org_a")
    assert _refused(_token(org_id="org_a", exp=EPOCH - 0.5)) == "session token has expired"
    assert _refused(_token(org_id="org_a", nbf=EPOCH + 0.5)) == "session token is not valid yet ('nbf')"


def test_a_token_without_subject_is_refused() -> None:
    assert _refused(_token(org_id="org_a", sub="")) == "session token has no subject ('sub')"


def test_a_payload_that_is_no_object_is_refused() -> None:
    token = f"{_segment({'alg': 'RS256'})}.{_segment([1])}.sig"
    assert _refused(token) == "malformed session token: header and payload must be JSON objects"


def test_nan_is_not_json() -> None:
    raw = '{"sub": "user_1", "org_id": "org_a", "exp": NaN}'
    token = f"{_segment({'alg': 'RS256'})}.{base64.urlsafe_b64encode(raw.encode()).decode()}.sig"
    assert _refused(token) == "malformed session token: segments must be base64url-encoded JSON"


def test_a_minted_v2_token_has_clerks_layout() -> None:
    token = mint_session_token(organization_id="org_a", user_id="user_1", issued_at=NOW)
    header, payload, signature = token.split(".")
    assert "=" not in token
    assert json.loads(_decode(header)) == {"alg": "RS256", "typ": "JWT", "kid": "capymock"}
    assert json.loads(_decode(payload)) == {
        "sub": "user_1",
        "sid": "sess_user_1",
        "iss": "https://clerk.capymock.invalid",
        "iat": EPOCH,
        "nbf": EPOCH,
        "exp": EPOCH + 3600,
        "v": 2,
        "o": {"id": "org_a", "rol": "admin", "slg": "org_a"},
    }
    assert _decode(signature) == b"capymock-unsigned"


def test_a_minted_token_is_compact_json() -> None:
    token = mint_session_token(organization_id="org_a", user_id="user_1", issued_at=NOW)
    payload = _decode(token.split(".")[1])
    assert payload == json.dumps(json.loads(payload), separators=(",", ":")).encode()


def test_a_minted_v1_token_has_clerks_layout() -> None:
    token = mint_session_token(
        organization_id="org_a", user_id="user_1", issued_at=NOW, version=1, role="member", lifetime="5m"
    )
    claims = json.loads(_decode(token.split(".")[1]))
    assert {k: claims[k] for k in ("org_id", "org_role", "org_slug", "exp")} == {
        "org_id": "org_a",
        "org_role": "org:member",
        "org_slug": "org_a",
        "exp": EPOCH + 300,
    }
    assert "v" not in claims


def test_a_minted_token_is_read_back() -> None:
    token = mint_session_token(
        organization_id="org_a", user_id="user_1", issued_at=NOW - timedelta(minutes=1)
    )
    assert read_session_token(token, NOW) == Principal("org_a")


def test_only_versions_1_and_2_are_minted() -> None:
    with pytest.raises(ValueError, match=r"^Clerk session tokens come in versions 1 and 2, not 3$"):
        mint_session_token(organization_id="org_a", user_id="user_1", issued_at=NOW, version=3)


def test_a_missing_header_is_refused() -> None:
    assert _header_refused(None) == f"missing Authorization header; {SEND}"


def test_a_bare_token_is_not_echoed_as_a_scheme() -> None:
    assert _header_refused("sekrit") == f"unsupported authorization scheme; {SEND}"


def test_a_scheme_that_is_no_name_is_not_echoed() -> None:
    assert _header_refused("Basic: dXNlcg==") == f"unsupported authorization scheme; {SEND}"


def test_a_named_scheme_is_echoed() -> None:
    assert _header_refused("Basic dXNlcg==") == f"unsupported authorization scheme 'Basic'; {SEND}"


def test_a_token_with_a_space_is_malformed() -> None:
    assert _header_refused("Bearer two words") == f"malformed bearer token; {SEND}"


def test_a_token_of_the_longest_length_is_read() -> None:
    token = "capy_live_" + "a" * (MAX_TOKEN - len("capy_live_"))
    with pytest.raises(UnknownKey):
        authenticate(f"Bearer {token}", Keyring(), NOW)


def test_a_longer_token_is_refused_unread() -> None:
    token = "capy_live_" + "a" * (MAX_TOKEN + 1 - len("capy_live_"))
    assert _header_refused(f"Bearer {token}") == f"the bearer token is longer than {MAX_TOKEN} characters"


def test_a_refused_token_counts_for_any_token_organization() -> None:
    assert authenticate("Bearer nonsense", Keyring(), NOW, "org_any") == Principal("org_any")


def test_a_key_needs_the_prefix() -> None:
    with pytest.raises(ValueError) as refused:
        Keyring().add("sk_live_0123456789", "org_a")
    assert str(refused.value) == "API keys look like capy_live_..., got 'sk_l…'"


def test_a_key_needs_more_than_the_prefix() -> None:
    with pytest.raises(ValueError, match="API keys look like capy_live_"):
        Keyring().add("capy_live_", "org_a")


def test_an_added_key_is_accepted() -> None:
    keyring = Keyring()
    keyring.add("capy_live_x", "org_a", "proj_a")
    assert authenticate("Bearer capy_live_x", keyring, NOW) == Principal("org_a", "proj_a")


@pytest.mark.parametrize(
    ("token", "shown"),
    [
        ("capy_live_0123456789", "capy_live_0123…"),
        ("capy_live_0123", "…"),
        ("capy_live_01234", "capy_live_0123…"),
        ("sk_live_0123", "sk_l…"),
        ("abcd", "…"),
        ("abcde", "abcd…"),
    ],
)
def test_redact_keeps_the_prefix_and_four_characters(token: str, shown: str) -> None:
    assert redact(token) == shown
