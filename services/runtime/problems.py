"""Errors as RFC 9457 problem documents, and JSON answers: how every service's HTTP layer speaks.

Errors are types (``services.runtime.errors``) mapped to a status here, once (docs/design.md "Security and
data": a clear 4xx naming the field and the reason, never a 500 for bad input).
"""

from __future__ import annotations

from typing import Any

import orjson
from fastapi.responses import Response
from pydantic import BaseModel

from services.runtime.errors import (
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    PreconditionRequired,
    RuleViolated,
    Unauthorized,
    UnsupportedMediaType,
)

_STATUS = {RuleViolated: 422, NotFound: 404, Conflict: 409, Forbidden: 403, Unauthorized: 401}
_TITLES = {
    422: "Unprocessable Content",
    404: "Not Found",
    409: "Conflict",
    403: "Forbidden",
    401: "Unauthorized",
    400: "Bad Request",
    500: "Internal Server Error",
}
_STATUS.update({PreconditionRequired: 428, PayloadTooLarge: 413, UnsupportedMediaType: 415})
_TITLES.update({428: "Precondition Required", 413: "Content Too Large", 415: "Unsupported Media Type"})
_TITLES[503] = "Service Unavailable"

#: Seconds a client is asked to wait before retrying while the database is unreachable.
RETRY_AFTER_SECONDS = 1


def problem(status: int, detail: str, **extra: Any) -> Response:
    """An RFC 9457 problem document."""
    body = {"type": "about:blank", "title": _TITLES.get(status, "Error"), "status": status, "detail": detail}
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return Response(orjson.dumps(body), status_code=status, media_type="application/problem+json", headers=headers)


def unavailable(
    correlation_id: str | None = None, detail: str = "the database is unreachable; retry the request"
) -> Response:
    """503 with ``Retry-After``: a dependency is down, so the command was not accepted and may be sent again.

    Only a 2xx means an event is stored; a retry of a command that did commit before the connection broke
    is answered as the same command would be the second time (409 naming the entity, or the idempotency key's
    first answer).
    """
    response = problem(503, detail, correlation_id=correlation_id)
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def problem_for(error: DomainError) -> Response:
    """The problem document a domain error is answered with."""
    return problem(status_for(error), error.detail, field=error.field, **error.extra)


def status_for(error: DomainError) -> int:
    """The HTTP status a domain error maps to (400 for a kind without its own)."""
    return next((code for kind, code in _STATUS.items() if isinstance(error, kind)), 400)


def json_response(body: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A JSON response serialised with orjson (pydantic models are dumped in JSON mode)."""
    if isinstance(body, BaseModel):
        body = body.model_dump(mode="json")
    return Response(orjson.dumps(body), status_code=status_code, media_type="application/json", headers=headers)
