"""The supervision API in-process on a fresh database of the test Postgres, with tokens to call it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from typing import Any

import httpx
import psycopg
from pydantic import SecretStr

from contracts.identifiers import credit_code_check_character
from services.runtime.auth import issue_token
from services.supervision.app import SupervisionSettings
from services.supervision.app import create_app as supervision_app
from tests.integration.helpers import fresh_database

SECRET = "test-secret-0123456789abcdef0123456789"
PII_SECRET = "pii-" + SECRET
COUNTY = "430527"
TOWNSHIP = "430527100000"
OTHER_TOWNSHIP = "430527101000"
VILLAGE = "430527100201"


def token(role: str = "inspector", region: str = COUNTY, subject: str = "inspector-1") -> dict[str, str]:
    """Authorization header of a caller."""
    return {"Authorization": f"Bearer {issue_token(SECRET, subject=subject, role=role, region=region)}"}


def credit_code(serial: int) -> str:
    """A valid unified social credit code (GB 32100) for test employer ``serial``."""
    body = f"91430527MA{serial:07d}"
    return body + credit_code_check_character(body)


def employer(serial: int = 1, region_code: str = TOWNSHIP) -> dict[str, str]:
    """A free-text employer body."""
    return {"credit_code": credit_code(serial), "name": f"绥宁县第{serial}竹木加工厂", "region_code": region_code}


def complaint_body(**overrides: Any) -> dict[str, Any]:
    """A wage-arrears complaint received at the village station."""
    body: dict[str, Any] = {
        "region_code": VILLAGE,
        "complainant": {"name": "杨秀成", "id_number": "430527199003070011", "phone": "13800000001"},
        "employer": employer(),
        "complaint_type": "wage_arrears",
        "facts": "2026年6月起拖欠三名工人工资共12000元",
        "violation_from": "2026-06-01",
        "received_on": "2026-07-01",
        "workers_concerned": 3,
        "amount_claimed_fen": 1_200_000,
    }
    body.update(overrides)
    return body


@asynccontextmanager
async def supervision_client(
    infra: Any, *, today: date | None = None, **settings: Any
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of a fresh supervision API; ``client.database_url`` names its database, ``client.app`` the app."""
    url = fresh_database(infra, "sup")
    app = supervision_app(
        SupervisionSettings(
            database_url=url,
            kafka_bootstrap_servers=infra.bootstrap_servers,
            jwt_secret=SecretStr(SECRET),
            pii_secret=SecretStr(PII_SECRET),
            **settings,
        )
    )
    if today is not None:
        app.state.supervision.context.today = lambda: today
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test", timeout=120) as http:
            http.database_url = url  # type: ignore[attr-defined]
            http.app = app  # type: ignore[attr-defined]
            yield http


def rows(database_url: str, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Rows from the test database's supervision schema."""
    with psycopg.connect(database_url, options="-c search_path=supervision,public") as conn:
        return list(conn.execute(sql, params).fetchall())


def events(database_url: str, stream_id: str | None = None) -> list[tuple[str, dict[str, Any]]]:
    """``(type, data)`` of the store's events, of one stream or all, in position order."""
    if stream_id is None:
        return [(t, d) for t, d in rows(database_url, "SELECT type, data FROM events ORDER BY position")]
    return [
        (t, d)
        for t, d in rows(
            database_url, "SELECT type, data FROM events WHERE stream_id = %s ORDER BY position", (stream_id,)
        )
    ]


def new_id() -> str:
    """A random id that names nothing."""
    return str(uuid.uuid4())
