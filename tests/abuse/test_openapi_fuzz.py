"""Every listed service's OpenAPI document driven by schemathesis with a valid token.

No generated request may get a 5xx, and every 4xx is an RFC 9457 problem document; a 422 names the field
(docs/design.md, "Security and data"). The number of examples per operation is pinned so CI stays bounded.
"""

from __future__ import annotations

from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode

from tests.abuse.conftest import RunningApi, bearer

pytestmark = pytest.mark.integration

#: Generated requests per operation (the whole suite runs in about three minutes).
EXAMPLES = 20


def _example(op: dict[str, Any], schemas: dict[str, Any]) -> Any:
    media = op.get("requestBody", {}).get("content", {}).get("application/json", {})
    if "example" in media:
        return media["example"]
    schema = media.get("schema", {})
    schema = schemas.get(schema.get("$ref", "").rsplit("/", 1)[-1], schema)
    examples = schema.get("examples") or [None]
    return examples[0]


def real_ids(api: RunningApi, spec: dict[str, Any]) -> dict[str, str]:
    """Ids of real entries: each create operation the document links from (``links`` in its answer) is sent
    its documented example, and the ``*_id`` fields of what it answers are kept by name."""
    schemas = spec.get("components", {}).get("schemas", {})
    ids: dict[str, str] = {}
    with api.client() as http:
        for path, ops in spec["paths"].items():
            op = ops.get("post")
            if op is None or "{" in path or not any("links" in r for r in op.get("responses", {}).values()):
                continue
            body = _example(op, schemas)
            if not isinstance(body, dict):
                continue
            for name, value in ids.items():  # a vacancy names the employer created before it
                if name in body:
                    body[name] = value
            response = http.post(path, json=body, headers=bearer())
            if response.status_code < 300:
                ids.update({k: str(v) for k, v in response.json().items() if k.endswith("_id") and v})
    return ids


def _check_response(case: Any, response: Any) -> None:
    # Decoded leniently: a file download (the XLSX reports) is not text.
    body = response.content[:300].decode("utf-8", errors="replace")
    where = f"{case.method} {case.formatted_path} -> {response.status_code}: {body}"
    assert response.status_code < 500, where
    if 400 <= response.status_code < 500:
        content_type = (response.headers.get("content-type") or [""])[0]
        assert content_type.startswith("application/problem+json"), where
        body = response.json()
        assert body.get("status") == response.status_code and body.get("detail"), where
        if response.status_code == 422:
            assert body.get("field"), where


def test_generated_requests_get_no_server_error_and_problem_documents(api: RunningApi) -> None:
    openapi = schemathesis.openapi.from_url(api.url + "/openapi.json")
    ids = real_ids(api, openapi.raw_schema)
    reached: set[str] = set()
    failures: list[str] = []
    for result in openapi.get_all_operations():
        operation = result.ok()
        strategy = operation.as_strategy(generation_mode=GenerationMode.POSITIVE) | operation.as_strategy(
            generation_mode=GenerationMode.NEGATIVE
        )

        @given(case=strategy, use_real_ids=st.booleans())
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            derandomize=True,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
            database=None,
        )
        def run(case: Any, use_real_ids: bool) -> None:
            if use_real_ids and case.path_parameters:
                case.path_parameters.update({k: ids[k] for k in case.path_parameters if k in ids})
            response = case.call(base_url=api.url, headers=bearer(), timeout=60)
            if case.path_parameters and response.status_code < 300:
                reached.add(case.operation.label)
            _check_response(case, response)

        try:
            run()
        except Exception as exc:
            failures.append(f"{operation.label}: {str(exc).splitlines()[0]}")
    assert not failures, "\n".join(failures)
    if ids:  # the real ids took generated requests past 404 into the aggregates
        assert reached, f"no operation on {sorted(ids)} ever succeeded"
