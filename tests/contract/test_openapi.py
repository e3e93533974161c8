"""The OpenAPI documents are the APIs' manual: every operation has a summary, and every request body an example."""

from __future__ import annotations

import importlib
from typing import Any

import pytest
from fastapi import FastAPI

SECRETS = {"JWT_SECRET": "j" * 40, "PII_SECRET": "p" * 40, "DATABASE_URL": "postgresql://nobody@127.0.0.1:1/none"}


def _apps() -> list[tuple[str, FastAPI]]:
    """Every listed service's API (``services.platform.SERVICES``)."""
    from services.platform import SERVICES

    return [(s.name, importlib.import_module(s.module).create_app()) for s in SERVICES]


def _operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [(method.upper(), path, op) for path, ops in spec["paths"].items() for method, op in ops.items()]


def _has_example(media: dict[str, Any], schemas: dict[str, Any]) -> bool:
    schema = media.get("schema", {})
    ref = schema.get("$ref", "").rsplit("/", 1)[-1]
    return any(("example" in media, "examples" in media, "examples" in schema, "examples" in schemas.get(ref, {})))


@pytest.fixture(scope="module")
def specs(monkeypatch_module: pytest.MonkeyPatch) -> list[tuple[str, dict[str, Any]]]:
    for name, value in SECRETS.items():
        monkeypatch_module.setenv(name, value)
    return [(name, app.openapi()) for name, app in _apps()]


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as patch:
        yield patch


def test_every_operation_has_a_summary(specs: list[tuple[str, dict[str, Any]]]) -> None:
    missing = [
        f"{service} {method} {path}"
        for service, spec in specs
        for method, path, op in _operations(spec)
        if not op.get("summary")
    ]
    assert not missing


def test_every_request_body_has_an_example(specs: list[tuple[str, dict[str, Any]]]) -> None:
    missing = []
    for service, spec in specs:
        schemas = spec.get("components", {}).get("schemas", {})
        for method, path, op in _operations(spec):
            for content_type, media in op.get("requestBody", {}).get("content", {}).items():
                if not _has_example(media, schemas):
                    missing.append(f"{service} {method} {path} ({content_type})")
    assert not missing


def test_the_documents_cover_the_issue_endpoints(specs: list[tuple[str, dict[str, Any]]]) -> None:
    paths = {service: set(spec["paths"]) for service, spec in specs}
    assert {"/persons", "/persons/batch", "/imports/persons", "/persons/{person_id}/history", "/households"} <= paths[
        "registration"
    ]
    assert {"/regions/{code}/stats", "/regions/{code}/series", "/reports/quarterly"} <= paths["reporting"]
