"""The command shortcut hands every request it does not serve to the app untouched, body included."""

from __future__ import annotations

from types import SimpleNamespace

from pydantic import BaseModel, ConfigDict

from services.runtime.auth import TokenVerifier, issue_token
from services.runtime.http import CommandShortcut, ShortcutMiddleware

SECRET = "unit-secret-0123456789abcdef0123456789"


class Greeting(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: str


async def _never(*_: object) -> BaseModel:
    raise AssertionError("the shortcut must not run this request")


async def _serve(headers: list[tuple[bytes, bytes]], chunks: list[bytes]) -> tuple[bytes, list[str]]:
    """Send ``chunks`` as the body of ``POST /greetings``; returns what the inner app read and its messages."""
    seen: list[str] = []
    received = b""

    async def app(scope, receive, send):
        nonlocal received
        more = True
        while more:
            message = await receive()
            seen.append(message["type"])
            received += message.get("body", b"")
            more = message.get("more_body", False)

    messages = [
        {"type": "http.request", "body": chunk, "more_body": i < len(chunks) - 1} for i, chunk in enumerate(chunks)
    ]

    async def receive():
        return messages.pop(0)

    async def send(message):
        raise AssertionError("only the inner app answers here")

    state = SimpleNamespace(renshe=SimpleNamespace(verifier=TokenVerifier(secret=SECRET)))
    scope = {
        "type": "http",
        "method": "POST",
        "path": "/greetings",
        "headers": headers,
        "app": SimpleNamespace(state=state),
    }
    middleware = ShortcutMiddleware(app, [CommandShortcut("POST", "/greetings", Greeting, _never)])
    await middleware(scope, receive, send)
    return received, seen


async def test_a_body_the_shortcut_read_in_chunks_reaches_the_app_whole():
    token = issue_token(SECRET, subject="s", role="admin", region="43")
    headers = [(b"content-type", b"application/json"), (b"authorization", f"Bearer {token}".encode())]
    body, _ = await _serve(headers, [b'{"text": ', b'"hi", "extra": 1}'])  # extra: refused by the model
    assert body == b'{"text": "hi", "extra": 1}'


async def test_a_request_without_a_token_reaches_the_app_whole():
    body, _ = await _serve([(b"content-type", b"application/json")], [b'{"te', b'xt": "hi"}'])
    assert body == b'{"text": "hi"}'


async def test_other_content_types_and_idempotent_requests_are_not_read_by_the_shortcut():
    token = issue_token(SECRET, subject="s", role="admin", region="43")
    auth = (b"authorization", f"Bearer {token}".encode())
    for headers in (
        [(b"content-type", b"text/plain"), auth],
        [(b"content-type", b"application/json"), auth, (b"idempotency-key", b"k")],
    ):
        body, seen = await _serve(headers, [b'{"text": ', b'"hi"}'])
        assert body == b'{"text": "hi"}' and seen == ["http.request", "http.request"]
