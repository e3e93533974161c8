"""The HTTP runtime through the registration and reporting apps: auth, problem+json, idempotency,
correlation ids, health, readiness and metrics (real Postgres and broker, in-process ASGI)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import httpx
import orjson
import psycopg
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr

from contracts.identifiers import citizen_id_check_character
from services.reporting.app import ReportingSettings
from services.reporting.app import create_app as reporting_app
from services.runtime.auth import issue_token
from tests.integration.registration_client import SECRET, registration_client, token

pytestmark = pytest.mark.integration

VILLAGE = "430527100201"


@pytest.fixture
async def client(infra) -> AsyncIterator[httpx.AsyncClient]:
    """The registration API on a fresh database (its own schema lives in it)."""
    async with registration_client(infra) as http:
        yield http


def person(id_number: str = "11010519491231002X", **overrides: str) -> dict[str, str]:
    return {"id_number": id_number, "name": "王芳", "region_code": VILLAGE, **overrides}


async def test_no_token_is_401_problem_json(client):
    response = await client.post("/persons", json=person())
    assert response.status_code == 401
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["status"] == 401


async def test_a_forged_token_is_401(client):
    forged = issue_token("another-secret-0123456789abcdef012345", subject="x", role="admin", region="43")
    response = await client.post("/persons", json=person(), headers={"Authorization": f"Bearer {forged}"})
    assert response.status_code == 401


async def test_writing_outside_the_callers_region_is_403(client):
    other_township = token(role="township", region="430527101000")
    response = await client.post("/persons", json=person(), headers=other_township)
    assert response.status_code == 403
    assert response.json()["field"] == "region_code"


@pytest.mark.parametrize(
    ("body", "field", "reason"),
    [
        (person("110105194912310021"), "id_number", "check character should be X"),
        (person("11010519490231002" + citizen_id_check_character("11010519490231002")), "id_number", "date"),
        (person(region_code="4305271002"), "region_code", "digits"),
        (person(region_code="430527999201"), "region_code", "unknown region"),
        (person(region_code="430527100000"), "region_code", "village or community"),
        ({"name": "无证"}, "id_number", "required"),
    ],
)
async def test_bad_input_is_422_naming_the_field_and_the_reason(client, body, field, reason):
    response = await client.post("/persons", json=body, headers=token())
    assert response.status_code == 422, response.text
    problem = response.json()
    named = [problem.get("field")] + [e["field"] for e in problem.get("errors", [])]
    assert field in named
    assert reason.lower() in problem["detail"].lower()


async def test_a_refused_command_writes_nothing(client):
    await client.post("/persons", json=person(region_code="430527100000"), headers=token())
    with psycopg.connect(client.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM registration.events").fetchone()[0] == 0
        assert conn.execute("SELECT count(*) FROM registration.persons").fetchone()[0] == 0


async def test_duplicate_id_number_is_409_naming_the_existing_person(client):
    first = await client.post("/persons", json=person(), headers=token())
    second = await client.post("/persons", json=person(name="另一个"), headers=token())
    assert first.status_code == 201
    assert second.status_code == 409
    assert second.json()["person_id"] == first.json()["person_id"]


async def test_fifteen_digit_id_is_converted_and_said_so(client):
    response = await client.post("/persons", json=person("110105491231002"), headers=token())
    assert response.status_code == 201
    assert response.json()["id_number_converted_from_15"] is True


async def test_idempotency_key_returns_the_first_result_on_retry(client):
    headers = {**token(), "Idempotency-Key": "retry-1"}
    first = await client.post("/persons", json=person(), headers=headers)
    retry = await client.post("/persons", json=person(), headers=headers)
    assert (first.status_code, retry.status_code) == (201, 201)
    assert retry.json() == first.json()
    assert retry.headers["idempotent-replayed"] == "true"
    reused = await client.post("/persons", json=person("34052419800101001X"), headers=headers)
    assert reused.status_code == 422 and reused.json()["field"] == "Idempotency-Key"


async def test_correlation_id_and_actor_reach_the_event_metadata(client):
    headers = {**token(subject="clerk-42"), "X-Correlation-ID": "corr-abc"}
    response = await client.post("/persons", json=person(), headers=headers)
    assert response.headers["x-correlation-id"] == "corr-abc"
    with psycopg.connect(client.database_url) as conn:
        metadata = conn.execute("SELECT metadata FROM registration.events").fetchone()[0]
    assert metadata == {"actor": "clerk-42", "correlation_id": "corr-abc"}


async def test_pii_is_encrypted_at_rest_and_shown_only_to_roles_allowed(client):
    created = (await client.post("/persons", json=person(phone="13800000000"), headers=token())).json()
    with psycopg.connect(client.database_url) as conn:
        raw = conn.execute("SELECT id_cipher, name_cipher FROM registration.persons").fetchone()
    assert b"11010519491231002X" not in bytes(raw[0]) and "王芳".encode() not in bytes(raw[1])
    full = (await client.get(f"/persons/{created['person_id']}", headers=token())).json()
    assert full["id_number"] == "11010519491231002X" and full["name"] == "王芳"
    inspector = (await client.get(f"/persons/{created['person_id']}", headers=token(role="inspector"))).json()
    assert inspector["name"] is None and "*" in inspector["id_number"]
    analyst = await client.get(f"/persons/{created['person_id']}", headers=token(role="analyst"))
    assert analyst.status_code == 403
    missing = await client.get(f"/persons/{uuid.uuid4()}", headers=token())
    assert missing.status_code == 404


async def test_legacy_credit_code_is_accepted_with_a_warning(client):
    good = await client.post(
        "/employers",
        headers=token(),
        json={"credit_code": "91350100M000100Y43", "name": "甲厂", "region_code": "430527100000"},
    )
    legacy = await client.post(
        "/employers",
        headers=token(),
        json={"credit_code": "91350100M000100Y44", "name": "乙厂", "region_code": "430527100000"},
    )
    bad = await client.post(
        "/employers",
        headers=token(),
        json={"credit_code": "91350100M00010OY43", "name": "丙厂", "region_code": "430527100000"},
    )
    assert good.status_code == 201 and good.json()["warnings"] == []
    assert legacy.status_code == 201 and legacy.json()["credit_code_check_ok"] is False and legacy.json()["warnings"]
    assert bad.status_code == 422 and bad.json()["errors"][0]["field"] == "credit_code"


async def test_health_readiness_and_metrics(client):
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"] == {"database": True, "broker": True}
    await client.post("/persons", json=person(), headers=token())
    metrics = (await client.get("/metrics")).text
    assert 'renshe_http_requests_total{method="POST",route="/persons",status="201"}' in metrics


async def test_reporting_scope_and_unknown_region(infra):
    settings = ReportingSettings(
        database_url=infra.database_url, kafka_bootstrap_servers=infra.bootstrap_servers, jwt_secret=SecretStr(SECRET)
    )
    app = reporting_app(settings)
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        ok = await http.get("/regions/430527/stats", headers=token(role="analyst"))
        assert ok.status_code == 200 and ok.json()["region"] == {
            "code": "430527000000",
            "name": "绥宁县",
            "level": "county",
        }
        township = token(role="township", region="430527100000")
        assert (await http.get("/regions/430527/stats", headers=township)).status_code == 403
        assert (await http.get("/regions/430527100000/children", headers=township)).status_code == 200
        assert (await http.get("/regions/430527999000/stats", headers=token())).status_code == 404
        assert (await http.get("/regions/43x/stats", headers=token())).status_code == 422


async def test_concurrent_registrations_share_commits_and_keep_each_answer(client):
    """Group commit: good, duplicate and refused commands arrive together; each gets its own answer and
    the refused ones write nothing."""
    import asyncio

    def valid(n: int) -> str:
        body = f"43052719850101{n:03d}"
        return body + citizen_id_check_character(body)

    good = [person(valid(n)) for n in range(1, 31)]
    twins = [person(valid(99))] * 6
    refused = [person(valid(200 + n), region_code="430527100000") for n in range(5)]
    responses = await asyncio.gather(
        *[client.post("/persons", json=b, headers=token()) for b in good + twins + refused]
    )
    codes = [r.status_code for r in responses]
    assert codes[:30] == [201] * 30
    assert sorted(codes[30:36]) == [201] + [409] * 5
    winner = next(r.json()["person_id"] for r in responses[30:36] if r.status_code == 201)
    assert all(r.json()["person_id"] == winner for r in responses[30:36] if r.status_code == 409)
    assert codes[36:] == [422] * 5
    with psycopg.connect(client.database_url) as conn:
        assert conn.execute("SELECT count(*) FROM registration.events").fetchone()[0] == 31
        assert conn.execute("SELECT count(*) FROM registration.persons").fetchone()[0] == 31
        assert conn.execute("SELECT count(DISTINCT stream_id) FROM registration.events").fetchone()[0] == 31


# --- the POST /persons shortcut (CommandShortcut) answers exactly as the route does ---------------------

#: Not the shortcut's exact ``application/json``: such requests are served by the FastAPI route.
ROUTE_SERVED = "application/json; charset=utf-8"


def _served_by_route(body: dict[str, str], headers: dict[str, str]) -> dict[str, object]:
    return {"content": orjson.dumps(body), "headers": {**headers, "Content-Type": ROUTE_SERVED}}


def _shape(response: httpx.Response) -> tuple[int, list[str], str]:
    names = sorted(name for name in response.headers if name != "x-correlation-id")
    return response.status_code, names, response.headers["content-type"]


async def test_a_plain_registration_and_one_served_by_the_route_answer_alike(client):
    counted = {"method": "POST", "route": "/persons", "status": "201"}
    before = REGISTRY.get_sample_value("renshe_http_requests_total", counted) or 0.0
    plain = await client.post("/persons", json=person("11010519491231002X"), headers=token())
    routed = await client.post("/persons", **_served_by_route(person("34052419800101001X"), token()))
    assert _shape(plain) == _shape(routed) and plain.status_code == 201
    assert plain.headers["x-correlation-id"] and routed.headers["x-correlation-id"]
    mine, theirs = plain.json(), routed.json()
    assert mine.keys() == theirs.keys()
    assert {k: v for k, v in mine.items() if k not in ("person_id", "id_number", "birth_date", "sex")} == {
        k: v for k, v in theirs.items() if k not in ("person_id", "id_number", "birth_date", "sex")
    }
    assert REGISTRY.get_sample_value("renshe_http_requests_total", counted) == before + 2


async def test_a_duplicate_is_the_same_409_either_way(client):
    first = await client.post("/persons", json=person(), headers=token())
    plain = await client.post("/persons", json=person(name="另一个"), headers=token())
    routed = await client.post("/persons", **_served_by_route(person(name="另一个"), token()))
    assert plain.status_code == routed.status_code == 409
    assert _shape(plain) == _shape(routed)
    assert plain.json() == routed.json() and plain.json()["person_id"] == first.json()["person_id"]


async def test_without_a_token_a_bad_body_is_still_401_and_with_one_422(client):
    bad = {"id_number": "123", "name": "王芳", "region_code": VILLAGE}
    assert (await client.post("/persons", json=bad)).status_code == 401
    invalid = await client.post("/persons", json=bad, headers=token())
    assert invalid.status_code == 422 and invalid.json()["field"] == "id_number"
    extra = await client.post("/persons", json={**person(), "nickname": "x"}, headers=token())
    assert extra.status_code == 422 and extra.json()["field"] == "nickname"
    assert (await client.post("/persons", content=b"{not json", headers=token())).status_code == 422
