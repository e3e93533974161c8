"""The demo's HTTP client: keep-alive HTTP/1.1 on asyncio streams, many requests in flight, in order.

Why not httpx: on this project's two-core machines httpx costs about 1.8 ms of CPU per request (measured
in ``bench/http_api.py``), which alone would spend most of the demo's minute; this client costs a few
hundredths of that, so the time goes to the services. It speaks only what the platform's APIs answer:
responses framed by ``Content-Length`` with JSON bodies.

The simulation sends its history in batches where an API takes them (``POST /persons/batch``,
``POST /persons/changes/batch``) and otherwise many single requests at once; a chain of requests about one
thing (a vacancy's fills, then its closure) is sent in order, chains side by side.
"""

from __future__ import annotations

import asyncio
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson

#: Requests in flight at once per service: enough to keep a service's group commit and its Postgres busy.
CONCURRENCY = 16
#: A pooled connection idle longer than this is closed rather than reused: uvicorn closes idle
#: keep-alive connections after 5 s, and a request sent on one it is closing would be lost.
IDLE_SECONDS = 3.0


class DemoFailed(RuntimeError):
    """A service refused what the simulation sent: a bug in the simulation or in the service."""


@dataclass(frozen=True)
class Call:
    """One request: method, path, JSON body, the statuses that count as success, and its weight in work."""

    method: str
    path: str
    body: Any = None
    ok: tuple[int, ...] = (200, 201)
    weight: int = 1
    #: Another caller's bearer token (a township clerk, an inspector); None: the client's own.
    token: str | None = None
    #: ``Idempotency-Key``: a second run sending the same request gets the first answer back instead of a
    #: refusal, for commands that have no natural key of their own (a claim, a confirmation).
    key: str | None = None
    #: Problem ``rule`` names (or ``"404"``) that mean "another service's reaction has not arrived yet":
    #: such an answer is retried until ``ServiceClient.settle_seconds`` have passed.
    wait_for: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reply:
    """A response: its status and its JSON body (None when empty)."""

    status: int
    body: Any
    #: The service answered an ``Idempotency-Key`` it had seen: the first answer, nothing written now.
    replayed: bool = False

    def json(self) -> dict[str, Any]:
        """The body as a JSON object."""
        if not isinstance(self.body, dict):
            raise DemoFailed(f"expected a JSON object, got {self.body!r:.200}")
        return self.body


@dataclass
class ServiceClient:
    """Requests to one service's API as one caller (a bearer token), over a small pool of connections."""

    url: str
    token: str
    concurrency: int = CONCURRENCY
    timeout: float = 300.0
    #: How long a call waits for another service's reaction (``Call.wait_for``) before it fails: a reacting
    #: worker may be minutes behind registration's whole history on a busy machine.
    settle_seconds: float = 600.0
    #: Called with each finished request's weight (the progress bar).
    on_done: Callable[[int], None] = lambda _: None
    #: Requests sent, and how many of them were sent again because the answer meant "not yet" or "busy"
    #: (``Call.wait_for``, a concurrent writer, a 503): where a module's time goes (``DemoReport.requests``).
    sent: int = 0
    resent: int = 0
    _idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = field(default_factory=list, repr=False)

    def __post_init__(self) -> None:
        parts = urllib.parse.urlsplit(self.url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"the demo needs an http://host:port URL, got {self.url}")
        self._host, self._port = parts.hostname, parts.port
        self._common = (
            f"host: {self._host}:{self._port}\r\ncontent-type: application/json\r\naccept: application/json\r\n"
        )
        self._head = self._common.encode() + _authorization(self.token)
        self._slots = asyncio.Semaphore(self.concurrency)

    async def send(self, call: Call) -> Reply:
        """One request; a status outside ``call.ok`` raises ``DemoFailed`` naming the request."""
        deadline = None
        while True:
            async with self._slots:
                reply = await self._exchange(call)
            self.sent += 1
            if not _concurrent(reply) and not (call.wait_for and _not_there_yet(reply, call.wait_for)):
                break
            self.resent += 1
            now = asyncio.get_running_loop().time()
            deadline = deadline or now + self.settle_seconds
            if now > deadline:
                break
            await asyncio.sleep(0.5)
        self.on_done(call.weight)
        if reply.status not in call.ok:
            raise DemoFailed(f"{call.method} {call.path}: {reply.status} {orjson.dumps(reply.body).decode()[:2000]}")
        return reply

    async def send_all(self, calls: Iterable[Call]) -> list[Reply]:
        """Every call, up to ``concurrency`` at once; the replies in the calls' order."""
        return list(await asyncio.gather(*(self.send(call) for call in calls)))

    async def send_chains(self, chains: Iterable[Sequence[Call]]) -> list[list[Reply]]:
        """Each chain's calls one after another (they change one thing), the chains side by side."""

        async def chain(calls: Sequence[Call]) -> list[Reply]:
            return [await self.send(call) for call in calls]

        return list(await asyncio.gather(*(chain(calls) for calls in chains)))

    async def get(self, path: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """``GET path?params``: its JSON object."""
        query = f"?{urllib.parse.urlencode(params)}" if params else ""
        return (await self.send(Call("GET", path + query, ok=(200,), weight=0))).json()

    async def _connection(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        now = asyncio.get_running_loop().time()
        while self._idle:
            reader, writer, since = self._idle.pop()
            if now - since < IDLE_SECONDS and not reader.at_eof():
                return reader, writer
            writer.close()
        return await asyncio.open_connection(self._host, self._port)

    async def _exchange(self, call: Call) -> Reply:
        reader, writer = await self._connection()
        body = b"" if call.body is None else orjson.dumps(call.body)
        head = f"{call.method} {urllib.parse.quote(call.path, safe='/?=&%')} HTTP/1.1\r\n".encode()
        head += self._head if call.token is None else self._common.encode() + _authorization(call.token)
        if call.key is not None:
            head += f"idempotency-key: {call.key}\r\n".encode()
        try:
            async with asyncio.timeout(self.timeout):
                writer.write(head + b"content-length: %d\r\n\r\n" % len(body) + body)
                await writer.drain()
                status, length, close, replayed = await _read_head(reader)
                payload = await reader.readexactly(length) if length else b""
        except BaseException:
            writer.close()
            raise
        if close:
            writer.close()
        else:
            self._idle.append((reader, writer, asyncio.get_running_loop().time()))
        return Reply(status, orjson.loads(payload) if payload else None, replayed)

    async def aclose(self) -> None:
        """Close the pooled connections."""
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()


def _authorization(token: str) -> bytes:
    return f"authorization: Bearer {token}\r\n".encode()


def _concurrent(reply: Reply) -> bool:
    """A 409 for a change that raced another writer of the same stream (a service's worker reacting to
    the same person), or a 503 that asks for a retry (the database was busy): nothing was written, and the
    same request again is the right answer."""
    if reply.status == 503:
        return True
    return reply.status == 409 and isinstance(reply.body, dict) and reply.body.get("field") == "If-Match"


def _not_there_yet(reply: Reply, rules: tuple[str, ...]) -> bool:
    """Whether the answer is one of the refusals a reaction still on its way explains."""
    if reply.status == 404:
        return "404" in rules
    return reply.status in (409, 422) and isinstance(reply.body, dict) and reply.body.get("rule") in rules


async def _read_head(reader: asyncio.StreamReader) -> tuple[int, int, bool, bool]:
    """Status, content length, whether the server closes the connection after this response, and whether
    the answer is a replay of an ``Idempotency-Key``'s first one."""
    status_line = await reader.readline()
    if not status_line:
        raise ConnectionResetError("the service closed the connection")
    status, length, close, replayed = int(status_line.split()[1]), 0, False, False
    while (line := await reader.readline()) not in (b"\r\n", b""):
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"content-length":
            length = int(value)
        elif name == b"connection":
            close = value.strip().lower() == b"close"
        elif name == b"idempotent-replayed":
            replayed = value.strip().lower() == b"true"
        elif name == b"transfer-encoding":
            raise DemoFailed("the service sent a chunked response, which the demo's client does not read")
    return status, length, close, replayed


def batches(items: Sequence[Any], size: int) -> Iterable[Sequence[Any]]:
    """``items`` in consecutive slices of at most ``size``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


def tally(counts: Counter[str], what: str, replies: Iterable[Reply]) -> None:
    """Count the answers as ``what`` when written now, as ``what, already there`` when replayed."""
    for reply in replies:
        counts[f"{what}, already there" if reply.replayed else what] += 1
