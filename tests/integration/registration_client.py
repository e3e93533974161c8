"""The registration API in-process on a fresh database of the test Postgres, with tokens to call it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr

from services.registration.app import RegistrationSettings
from services.registration.app import create_app as registration_app
from services.runtime.auth import issue_token
from tests.integration.helpers import fresh_database

SECRET = "test-secret-0123456789abcdef0123456789"


def token(role: str = "county", region: str = "430527", subject: str = "clerk-1") -> dict[str, str]:
    """Authorization header of a caller."""
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, region=region)}"}


@asynccontextmanager
async def registration_client(
    infra: Any, *, headers: dict[str, str] | None = None, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh registration API (sending ``headers`` on every call); ``client.database_url``
    names its database."""
    url = fresh_database(infra, "reg")
    app = registration_app(
        RegistrationSettings(
            database_url=url,
            kafka_bootstrap_servers=infra.bootstrap_servers,
            jwt_secret=SecretStr(SECRET),
            pii_secret=SecretStr("pii-" + SECRET),
            **settings,
        )
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", headers=headers, timeout=120) as http:
            http.database_url = url  # type: ignore[attr-defined]
            yield http


def count(database_url: str, sql: str) -> int:
    """One number from the test database."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute(sql).fetchone()
    assert row is not None
    return int(row[0])
