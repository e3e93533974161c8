"""Supervision's OpenAPI document is its manual too: every operation has a summary, every request body an
example (the same checks as ``test_openapi.py``, which names the other services' apps)."""

from __future__ import annotations

from typing import Any

import pytest

from tests.contract.test_openapi import SECRETS, _has_example, _operations


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        for name, value in SECRETS.items():
            patch.setenv(name, value)
        from services.supervision.app import create_app

        return create_app().openapi()


def test_every_operation_has_a_summary(spec):
    assert not [f"{method} {path}" for method, path, op in _operations(spec) if not op.get("summary")]


def test_every_request_body_has_an_example(spec):
    schemas = spec.get("components", {}).get("schemas", {})
    missing = [
        f"{method} {path}"
        for method, path, op in _operations(spec)
        for media in op.get("requestBody", {}).get("content", {}).values()
        if not _has_example(media, schemas)
    ]
    assert not missing
