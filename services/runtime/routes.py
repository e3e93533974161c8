"""Route helpers every service's API shares: If-Match as a typed dependency, answers with an ETag.

Every stream has a version; a GET answers with it as ``ETag`` and a change sends it back as ``If-Match``,
so a change based on what someone else already changed is a 409 instead of a lost update (RFC 9110
section 13.1.1). See ``docs/adr/0004-service-shape.md``.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import Response

from services.runtime.aggregate import Aggregate, Changed, StreamState
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.deps import CurrentPrincipal, DbConnection
from services.runtime.errors import PreconditionRequired, RuleViolated
from services.runtime.problems import json_response

S = TypeVar("S", bound=StreamState)

IF_MATCH_DESCRIPTION = "The version you read (GET returns it as ETag and in the body); a stale version gets 409"

IfMatchHeader = Annotated[str | None, Header(alias="If-Match", description=IF_MATCH_DESCRIPTION, examples=['"3"'])]

#: OpenAPI responses of the steps every stream route shares.
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such thing"}}
STALE: dict[int | str, dict[str, Any]] = {
    409: {"description": "Changed since the If-Match version; the body names the current version"},
    428: {"description": "If-Match is missing"},
}
INVALID: dict[int | str, dict[str, Any]] = {422: {"description": "A rule refused it; the body names field and rule"}}


def if_match_version(if_match: str) -> int | None:
    """The version named by If-Match (``"3"``, ``W/"3"`` or ``3``); ``*`` means any version."""
    value = if_match.strip().removeprefix("W/").strip('"')
    if value == "*":
        return None
    if not value.isdigit():
        raise RuleViolated(
            "IfMatchNamesAVersion", f"If-Match must be a version number, got {if_match!r}", field="If-Match"
        )
    return int(value)


# The If-Match dependencies are coroutines although they await nothing: FastAPI runs a plain function
# dependency in its thread pool, a thread hop per command that showed in the profile of a small command.
async def required_if_match(if_match: IfMatchHeader = None) -> int | None:
    """The version a change is based on; 428 when If-Match is missing."""
    if if_match is None:
        raise PreconditionRequired(
            'send If-Match with the version you read (the ETag), e.g. If-Match: "1"', field="If-Match"
        )
    return if_match_version(if_match)


async def optional_if_match(if_match: IfMatchHeader = None) -> int | None:
    """The version a change is based on, when the caller sends one (None: any version)."""
    return None if if_match is None else if_match_version(if_match)


def version_from(if_match: str | None, body_version: int | None) -> int | None:
    """The version a change expects, from If-Match or from the body's ``expected_version`` (either may be
    sent; both must then agree). For routes whose clients cannot always set headers (forms, imports)."""
    if if_match is None or if_match.strip() == "*":
        return body_version
    version = if_match_version(if_match)
    if body_version is not None and body_version != version:
        raise RuleViolated("IfMatchIsVersion", "If-Match and expected_version disagree", field="expected_version")
    return version


#: A change that must name the version it is based on (428 without If-Match).
ExpectedVersion = Annotated[int | None, Depends(required_if_match)]
#: A change that may name the version it is based on.
OptionalExpectedVersion = Annotated[int | None, Depends(optional_if_match)]


def with_etag(response: Response, version: int) -> Response:
    """``response`` carrying ``version`` as its ETag."""
    response.headers["ETag"] = f'"{version}"'
    return response


def answer(body: Any, version: int, status_code: int = 200) -> Response:
    """A JSON answer with the stream's version as ETag."""
    return with_etag(json_response(body, status_code), version)


def answer_change(changed: Changed[Any], body: Any, status_code: int = 200) -> Response:
    """The answer to a command: ``body`` with the changed stream's new version as ETag."""
    return answer(body, changed.version, status_code)


def in_scope(
    aggregate: Callable[[Request], Aggregate[S]], path_param: str
) -> Callable[[Request, Principal, Connection], Awaitable[S]]:
    """A dependency loading the stream the path parameter ``path_param`` names, for the caller: 404 when
    there is none, 403 outside the caller's region. ``aggregate`` finds the app's aggregate on the request.

    Use it as ``Annotated[EmployerState, Depends(in_scope(employers, "employer_id"))]``.
    """

    async def load(request: Request, principal: CurrentPrincipal, conn: DbConnection) -> S:
        return await aggregate(request).get(conn, request.path_params[path_param], principal)

    return load


def add_body_route(
    router: APIRouter,
    path: str,
    body: type[Any],
    endpoint: Callable[..., Awaitable[Response]],
    dependencies: dict[str, Any],
    *,
    method: str = "POST",
    **route: Any,
) -> None:
    """Add ``method path`` served by ``endpoint(**values)``, for routes declared by a line each.

    The route's parameters are the path's own (each ``{name}``, a string), ``body`` (the model of the JSON
    body: its validation and OpenAPI are the route's) and ``dependencies`` (parameter name -> annotation,
    such as ``Commands``). FastAPI reads them from the signature built here, so one endpoint function can
    serve every route of a kind whatever its path parameters are called. ``route`` goes to
    ``add_api_route`` (``response_model``, ``summary``, ``name``, ...).
    """
    keyword = inspect.Parameter.KEYWORD_ONLY
    parameters = [inspect.Parameter(name, keyword, annotation=str) for name in re.findall(r"{(\w+)}", path)]
    parameters.append(inspect.Parameter("body", keyword, annotation=body))
    parameters += [inspect.Parameter(name, keyword, annotation=a) for name, a in dependencies.items()]

    async def call(**values: Any) -> Response:
        return await endpoint(**values)

    call.__signature__ = inspect.Signature(parameters)  # type: ignore[attr-defined]
    call.__doc__ = None
    router.add_api_route(path, call, methods=[method], **route)
