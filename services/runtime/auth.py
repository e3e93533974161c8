"""Bearer JWTs: who the caller is (subject), what they do (role) and where (region scope).

docs/design.md, "Security and data": a write outside the caller's region subtree is 403; analysts read aggregates only.
HS256 with a generated secret locally; a JWKS URL in production.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import StrEnum

import jwt
from jwt.types import Options

from contracts.regions import is_within, normalise_region_code
from services.runtime.errors import Forbidden, Unauthorized


class Role(StrEnum):
    """Who a caller is in the service network."""

    VILLAGE = "village"  # 村/社区协理员
    TOWNSHIP = "township"  # 乡镇劳动保障所
    COUNTY = "county"  # 县人社局
    ANALYST = "analyst"  # reads aggregates only
    INSPECTOR = "inspector"  # 劳动保障监察
    ADMIN = "admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller."""

    subject: str
    role: Role
    region: str

    @property
    def sees_persons(self) -> bool:
        """Analysts read aggregates only, never a person."""
        return self.role is not Role.ANALYST

    def require_writer(self) -> None:
        """Refuse (403) a write by an analyst: analysts read aggregates only and change nothing."""
        if not self.sees_persons:
            raise Forbidden("analysts read aggregates only; they change nothing")

    def covers(self, region_code: str) -> bool:
        """Whether ``region_code`` lies in the caller's region subtree."""
        return is_within(region_code, self.region)

    def require_region(self, region_code: str) -> None:
        """Refuse (403) anything outside the caller's region subtree."""
        if not self.covers(region_code):
            raise Forbidden(f"region {region_code} is outside your scope {self.region}", field="region_code")


#: Claims a token must carry: a token without ``exp`` would never expire, and PyJWT checks ``exp`` only when
#: present.
_REQUIRED: Options = {"require": ["exp", "sub", "aud"]}


class TokenVerifier:
    """Checks bearer tokens against a shared secret (HS256) or a JWKS endpoint (RS256 and friends)."""

    def __init__(
        self, *, secret: str, algorithm: str = "HS256", audience: str = "renshe", jwks_url: str | None = None
    ) -> None:
        self.secret = secret
        self.algorithm = algorithm
        self.audience = audience
        self._jwks = jwt.PyJWKClient(jwks_url) if jwks_url else None
        # A clerk sends the same token all day: remember verified tokens until they expire.
        self._verified: dict[str, tuple[Principal, float]] = {}

    def verify(self, token: str) -> Principal:
        """The principal a token names; ``Unauthorized`` when it is invalid or expired."""
        cached = self._verified.get(token)
        if cached is not None and cached[1] > time.time():
            return cached[0]
        principal, expires = self._decode(token)
        if len(self._verified) >= 10_000:
            self._verified.clear()
        self._verified[token] = (principal, expires)
        return principal

    def _decode(self, token: str) -> tuple[Principal, float]:
        try:
            if self._jwks is not None:
                key = self._jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(
                    token, key, algorithms=["RS256", "ES256"], audience=self.audience, options=_REQUIRED
                )
            else:
                claims = jwt.decode(
                    token, self.secret, algorithms=[self.algorithm], audience=self.audience, options=_REQUIRED
                )
            principal = Principal(
                subject=str(claims["sub"]),
                role=Role(claims["role"]),
                region=normalise_region_code(str(claims["region"])),
            )
            return principal, float(claims["exp"])
        except (jwt.PyJWTError, KeyError, ValueError) as exc:
            raise Unauthorized(f"invalid bearer token: {exc}") from exc


def issue_token(
    secret: str,
    *,
    subject: str,
    role: Role | str,
    region: str,
    ttl_seconds: int = 30 * 86400,
    audience: str = "renshe",
    algorithm: str = "HS256",
) -> str:
    """A signed token for local use (the development token, tests); production tokens come from the IdP."""
    now = int(time.time())
    claims = {
        "sub": subject,
        "role": str(Role(role)),
        "region": normalise_region_code(region),
        "aud": audience,
        "iat": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(claims, secret, algorithm=algorithm)
