"""Tokens that must not let anyone in, against every operation of every listed service; scope refusals.

docs/design.md, "Security and data": a bad or missing token is 401, a caller outside its region subtree or an
analyst asking for a person is 403, and a refused request writes nothing (the event store's count is the same
before and after).
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest

from tests.abuse.conftest import COUNTY, JWT_SECRET, RunningApi, bearer

pytestmark = pytest.mark.integration

VILLAGE = "430527100201"  # 长铺镇's first village
OTHER_VILLAGE = "430527101201"  # a village of 武阳镇, another township
TOWNSHIP = "430527100000"  # 长铺镇


def _b64(part: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()


def _claims(**overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims = {"sub": "abuse-1", "role": "county", "region": COUNTY + "000000", "aud": "renshe", "iat": now}
    claims["exp"] = now + 3600
    claims.update(overrides)
    return {k: v for k, v in claims.items() if v is not None}


def _signed(claims: dict[str, Any], secret: str = JWT_SECRET) -> str:
    return jwt.encode(claims, secret, algorithm="HS256")


#: Tokens no service may accept: each is answered 401.
BAD_TOKENS: dict[str, str] = {
    "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.",
    "alg none, empty signature kept": f"{_b64({'alg': 'none', 'typ': 'JWT'})}.{_b64(_claims())}.c2ln",
    "wrong key": _signed(_claims(), "another-secret-" + "x" * 32),
    "expired": _signed(_claims(exp=int(time.time()) - 120, iat=int(time.time()) - 7200)),
    "not yet valid": _signed(_claims(nbf=int(time.time()) + 3600)),
    "no subject": _signed(_claims(sub=None)),
    "no role": _signed(_claims(role=None)),
    "no region": _signed(_claims(region=None)),
    "no expiry": _signed(_claims(exp=None)),
    "no audience": _signed(_claims(aud=None)),
    "another audience": _signed(_claims(aud="someone-else")),
    "unknown role": _signed(_claims(role="superuser")),
    "region not a division code": _signed(_claims(region="43x527")),
    "signed with a short guessable key": _signed(_claims(), "secret"),
    "garbage": "not.a.token",
}


def _concrete(path: str) -> str:
    """A path of the document with its parameters filled: a region code for codes, a fresh uuid otherwise."""
    return re.sub(r"\{([^}]+)\}", lambda m: VILLAGE if "code" in m.group(1) else str(uuid.uuid4()), path)


def _operations(api: RunningApi) -> list[tuple[str, str]]:
    spec = httpx.get(api.url + "/openapi.json", timeout=30).json()
    methods = {"get", "post", "put", "patch", "delete"}
    return [(m.upper(), _concrete(p)) for p, ops in spec["paths"].items() for m in ops if m in methods]


def _public(path: str) -> bool:
    return path in {"/healthz", "/readyz"} or path.startswith("/dashboard")


def test_bad_tokens_are_401_on_every_operation_and_write_nothing(api: RunningApi) -> None:
    before = api.events()
    wrong: list[str] = []
    with api.client() as http:
        for method, path in _operations(api):
            if _public(path):
                continue
            for name, token in [*BAD_TOKENS.items(), ("no Authorization header", "")]:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                body = {"region_code": VILLAGE} if method in {"POST", "PUT", "PATCH"} else None
                response = http.request(method, path, headers=headers, json=body)
                if response.status_code != 401 or not response.headers["content-type"].startswith(
                    "application/problem+json"
                ):
                    wrong.append(f"{name}: {method} {path} -> {response.status_code} {response.text[:120]}")
    assert not wrong, "\n".join(wrong)
    assert api.events() == before


def test_the_same_requests_with_a_valid_token_are_not_401(api: RunningApi) -> None:
    """The check above can fail: a good token gets past authentication on the same operations."""
    with api.client() as http:
        for method, path in _operations(api):
            body = {"region_code": VILLAGE} if method in {"POST", "PUT", "PATCH"} else None
            response = http.request(method, path, headers=bearer(), json=body)
            assert response.status_code != 401, f"{method} {path}: {response.text[:200]}"


def test_an_analyst_writes_nothing_anywhere(api: RunningApi) -> None:
    """Analysts read aggregates only: every write operation of every service refuses them (403)."""
    before = api.events()
    wrong = []
    with api.client() as http:
        for method, path in _operations(api):
            if method in {"POST", "PUT", "PATCH", "DELETE"}:
                body = None if method == "DELETE" else {"region_code": VILLAGE}
                response = http.request(method, path, headers=bearer("analyst", COUNTY), json=body)
                if response.status_code != 403:
                    wrong.append(f"{method} {path} -> {response.status_code} {response.text[:120]}")
    assert not wrong, "\n".join(wrong)
    assert api.events() == before


def _person(number: str = "430527199003070011", region: str = VILLAGE) -> dict[str, Any]:
    return {"id_number": number, "name": "杨秀成", "region_code": region, "hukou": "rural"}


@pytest.fixture(scope="module")
def registered(registration_api: RunningApi) -> str:
    """A resident of 长铺镇's first village, registered by the county."""
    with registration_api.client() as http:
        response = http.post("/persons", json=_person(), headers=bearer())
    assert response.status_code == 201, response.text
    return str(response.json()["person_id"])


SCOPE_REFUSALS: list[tuple[str, dict[str, str], str, str, dict[str, Any] | None]] = [
    # (why, who, method, path, body)
    (
        "a region outside the issuer's tree",
        bearer("county", "110105"),
        "POST",
        "/persons",
        _person("430527198511230021"),
    ),
    (
        "body region outside the township",
        bearer("township", TOWNSHIP),
        "POST",
        "/persons",
        _person("430527198511230021", OTHER_VILLAGE),
    ),
    (
        "employer outside the township",
        bearer("township", TOWNSHIP),
        "POST",
        "/employers",
        {"credit_code": "91430527MA4L00001B", "name": "竹木加工厂", "region_code": "430527101000"},
    ),
    (
        "batch item outside the village",
        bearer("village", VILLAGE),
        "POST",
        "/persons/batch",
        {"items": [_person("430527198511230021", OTHER_VILLAGE)]},
    ),
    (
        "path region outside the township",
        bearer("township", TOWNSHIP),
        "GET",
        f"/regions/{OTHER_VILLAGE}/survey-pending",
        None,
    ),
    ("query region outside the township", bearer("township", TOWNSHIP), "GET", "/persons?region=430527101000", None),
    (
        "query region outside the village",
        bearer("village", OTHER_VILLAGE),
        "GET",
        f"/vacancies?region={TOWNSHIP}",
        None,
    ),
    ("an analyst registering a person", bearer("analyst", COUNTY), "POST", "/persons", _person("430527198511230021")),
]


@pytest.mark.parametrize(("why", "who", "method", "path", "body"), SCOPE_REFUSALS, ids=[s[0] for s in SCOPE_REFUSALS])
def test_out_of_scope_requests_are_403_and_write_nothing(
    registration_api: RunningApi, registered: str, why: str, who: dict[str, str], method: str, path: str, body: Any
) -> None:
    before = registration_api.events()
    with registration_api.client() as http:
        response = http.request(method, path, headers=who, json=body)
    if method == "POST" and path == "/persons/batch" and response.status_code == 200:
        # A batch answers per item: the item outside the caller's scope is refused with 403.
        assert [r["status"] for r in response.json()["results"]] == [403], response.text
    else:
        assert response.status_code == 403, f"{why}: {response.status_code} {response.text}"
        assert response.headers["content-type"].startswith("application/problem+json")
    assert registration_api.events() == before


@pytest.mark.parametrize("suffix", ["", "/history"])
def test_an_analyst_asking_for_a_person_is_403(registration_api: RunningApi, registered: str, suffix: str) -> None:
    with registration_api.client() as http:
        response = http.get(f"/persons/{registered}{suffix}", headers=bearer("analyst", COUNTY))
        assert response.status_code == 403, response.text
        listing = http.get("/persons", headers=bearer("analyst", COUNTY))
        assert listing.status_code == 403, listing.text
        # the same requests by the county are answered: the refusal is the role's, not the request's
        assert http.get(f"/persons/{registered}{suffix}", headers=bearer()).status_code == 200


def test_a_person_of_another_township_is_403_to_a_township(registration_api: RunningApi, registered: str) -> None:
    before = registration_api.events()
    other = bearer("township", "430527101000")
    with registration_api.client() as http:
        assert http.get(f"/persons/{registered}", headers=other).status_code == 403
        change = http.post(
            f"/persons/{registered}/moves", headers={**other, "If-Match": '"1"'}, json={"region_code": "430527101201"}
        )
        assert change.status_code == 403, change.text
    assert registration_api.events() == before
