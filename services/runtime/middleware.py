"""ASGI middleware every service API runs: correlation ids and request metrics, and command shortcuts."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache

import psycopg
from prometheus_client import Counter, Histogram
from pydantic import BaseModel
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.runtime.auth import Principal
from services.runtime.deps import correlation_id, principal_of
from services.runtime.errors import (
    DomainError,
)
from services.runtime.eventstore import Metadata
from services.runtime.problems import json_response, problem_for, unavailable

REQUESTS = Counter("renshe_http_requests_total", "HTTP requests", ["method", "route", "status"])
LATENCY = Histogram("renshe_http_request_seconds", "HTTP request latency", ["method", "route"])


#: Scope key naming the route a request was served under when no Starlette route served it (shortcuts).
ROUTE_LABEL = "renshe.route"


class CorrelationMiddleware:
    """Takes ``X-Correlation-ID`` from the request (or makes one), exposes it to handlers, echoes it back,
    and counts requests per route. Plain ASGI: BaseHTTPMiddleware costs too much per request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = dict(scope["headers"]).get(b"x-correlation-id")
        cid = incoming.decode()[:128] if incoming else str(uuid.uuid4())
        token = correlation_id.set(cid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", []).append((b"x-correlation-id", cid.encode()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            correlation_id.reset(token)
            path = scope.get(ROUTE_LABEL) or getattr(scope.get("route"), "path", "unmatched")
            REQUESTS.labels(scope["method"], path, status).inc()
            LATENCY.labels(scope["method"], path).observe(time.perf_counter() - started)


#: Runs a shortcut's command: the app, the caller, the validated body and the event metadata (and, for a path
#: with parameters, those by name).
ShortcutCommand = Callable[..., Awaitable[BaseModel]]


@dataclass(frozen=True)
class CommandShortcut:
    """A hot command route served without FastAPI's per-request machinery when the request is plain.

    Plain means: the route's method and path, ``Content-Type: application/json``, a valid bearer token, no
    ``Idempotency-Key``, and a body that validates as ``model``. Then ``run`` is awaited and its result
    answered with ``status_code`` (a ``DomainError`` with its problem document), exactly as the route's
    handler would. Anything else goes to the app unchanged, with the body already read replayed, so every
    error (401 before 422, 413, 415 ...) and the idempotent path stay the route's own. The route must
    still exist: it serves those requests and the OpenAPI document.
    """

    method: str
    path: str
    model: type[BaseModel]
    run: ShortcutCommand
    status_code: int = 201
    #: Answer the result's ``version`` as ETag, as a route changing a stream does. A path with ``{name}``
    #: segments passes them to ``run`` by name; its requests with If-Match go to the route.
    etag: bool = False

    def match(self, path: str) -> dict[str, str] | None:
        """The path's parameters when ``path`` is one of this shortcut's, else None."""
        if "{" not in self.path:
            return {} if path == self.path else None
        found = _template(self.path).fullmatch(path)
        return None if found is None else found.groupdict()


@lru_cache(maxsize=64)
def _template(path: str) -> re.Pattern[str]:
    """``/cases/{case_id}/guidance`` as a pattern whose groups are its parameters (no ``/`` in one)."""
    return re.compile(re.sub(r"\\{(\w+)\\}", r"(?P<\1>[^/]+)", re.escape(path)))


class ShortcutMiddleware:
    """Serves ``CommandShortcut`` requests; sits inside ``CorrelationMiddleware`` (ids, metrics).

    Why: on the registration API, routing, dependency solving and body parsing in FastAPI and Starlette
    cost about a third of the CPU of a ``POST /persons`` (py-spy under bench http-post-persons), more than
    the command itself; the machine's two cores are the bound on commands per second.
    """

    def __init__(self, app: ASGIApp, shortcuts: Sequence[CommandShortcut] = ()) -> None:
        self.app = app
        self.shortcuts = {(s.method, s.path): s for s in shortcuts if "{" not in s.path}
        self.templates = [s for s in shortcuts if "{" in s.path]

    def _shortcut(self, method: str, path: str) -> tuple[CommandShortcut, dict[str, str]] | None:
        exact = self.shortcuts.get((method, path))
        if exact is not None:
            return exact, {}
        for shortcut in self.templates:
            params = shortcut.match(path) if shortcut.method == method else None
            if params is not None:
                return shortcut, params
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = self._shortcut(scope.get("method", ""), scope.get("path", "")) if scope["type"] == "http" else None
        if found is None:
            await self.app(scope, receive, send)
            return
        shortcut, params = found
        authorization, content_type = b"", b""
        for name, value in scope["headers"]:
            if name == b"authorization":
                authorization = value
            elif name == b"content-type":
                content_type = value
            elif name == b"idempotency-key" or (name == b"if-match" and params):
                content_type = b""  # the route stores the response with the command, or checks the version
                break
        if content_type != b"application/json":
            await self.app(scope, receive, send)
            return
        body, more, message = b"", True, None
        while more:
            message = await receive()
            if message["type"] != "http.request":
                break  # the client went away: the app sees the same message
            body += message.get("body", b"")
            more = message.get("more_body", False)
        outcome = None if more else self._plain(scope, shortcut, authorization, body)
        if outcome is None:
            await self.app(scope, _replay(body, message, receive), send)
            return
        principal, command = outcome
        scope[ROUTE_LABEL] = shortcut.path  # counted under the route's path, as the route's requests are
        metadata = Metadata(actor=principal.subject, correlation_id=correlation_id.get())
        try:
            result = await shortcut.run(scope["app"], principal, command, metadata, **params)
        except DomainError as refused:
            response = problem_for(refused)
        except psycopg.OperationalError:  # Postgres unreachable or no pooled connection in time (as http.py)
            response = unavailable(correlation_id.get())
        else:
            response = json_response(result, shortcut.status_code)
            version = getattr(result, "version", None) if shortcut.etag else None
            if version is not None:
                response.headers["ETag"] = f'"{version}"'
        await response(scope, receive, send)

    @staticmethod
    def _plain(
        scope: Scope, shortcut: CommandShortcut, authorization: bytes, body: bytes
    ) -> tuple[Principal, BaseModel] | None:
        """The caller and the validated body, or None when the route must decide."""
        try:
            principal = principal_of(authorization.decode("latin-1"), scope["app"].state.renshe.verifier)
            principal.require_writer()  # an analyst's write is the route's to refuse
            return principal, shortcut.model.model_validate_json(body)
        except (DomainError, ValueError):  # pydantic's ValidationError is a ValueError
            return None


def _replay(body: bytes, last: Message | None, receive: Receive) -> Receive:
    """A ``receive`` that hands the app the body read so far, then whatever ``receive`` has next."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]
    if last is not None and last["type"] != "http.request":
        pending = [{"type": "http.request", "body": body, "more_body": True}, last]

    async def replay() -> Message:
        return pending.pop(0) if pending else await receive()

    return replay
