"""Tokens and region scope."""

from __future__ import annotations

import pytest

from services.runtime.auth import Principal, Role, TokenVerifier, issue_token
from services.runtime.errors import Forbidden, Unauthorized

SECRET = "unit-secret-0123456789abcdef0123456789ab"


def test_a_token_names_subject_role_and_region():
    principal = TokenVerifier(secret=SECRET).verify(
        issue_token(SECRET, subject="s1", role="township", region="430527100")
    )
    assert principal == Principal("s1", Role.TOWNSHIP, "430527100000")


@pytest.mark.parametrize("token", ["", "garbage", issue_token("x" * 40, subject="s", role="admin", region="43")])
def test_invalid_tokens_are_unauthorized(token):
    with pytest.raises(Unauthorized):
        TokenVerifier(secret=SECRET).verify(token)


def test_an_expired_token_is_unauthorized():
    with pytest.raises(Unauthorized, match="expired"):
        TokenVerifier(secret=SECRET).verify(issue_token(SECRET, subject="s", role="admin", region="43", ttl_seconds=-5))


def test_scope_covers_the_subtree_only():
    township = Principal("s", Role.TOWNSHIP, "430527100000")
    assert township.covers("430527100201") and township.covers("430527100000")
    assert not township.covers("430527101201") and not township.covers("430527000000")
    with pytest.raises(Forbidden):
        township.require_region("430527101201")
    assert not Principal("a", Role.ANALYST, "430000000000").sees_persons


def test_a_process_refuses_to_start_without_a_real_token_secret():
    from pydantic import SecretStr

    from services.registration.app import RegistrationSettings, create_app
    from services.runtime.process import MissingSetting, verifier_for

    with pytest.raises(MissingSetting, match="JWT_SECRET"):
        verifier_for(RegistrationSettings(jwt_secret=SecretStr("")))
    assert verifier_for(RegistrationSettings(jwt_jwks_url="https://idp.example/jwks")) is not None
    with pytest.raises(MissingSetting, match="PII_SECRET"):
        create_app(RegistrationSettings(jwt_secret=SecretStr(SECRET)))
