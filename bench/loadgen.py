"""The HTTP load generator, run as its own process so it never shares an event loop with what it measures.

``python -m bench.loadgen`` reads a JSON ``LoadSpec`` on stdin and writes a JSON result on stdout.

- ``closed``: ``concurrency`` requests in flight until ``count`` have been sent (throughput).
- ``paced``: open loop, request ``i`` is sent at ``start + i / rate`` whatever the earlier ones are doing;
  the monotonic completion time of every 201 is returned (visibility latency). ``time.monotonic`` is
  CLOCK_MONOTONIC, shared by every process on the machine, so the parent can compare it with its own.

Two HTTP clients are available. Against a no-op HTTP server on this 2-core machine, ``httpx`` costs
about 0.7 ms of CPU per request (at most ~1,400 requests/s from one process), and one ``AsyncClient``
with 64 pooled connections about 3 ms (~350 requests/s), so the 64 requests in flight are spread
round-robin over ``concurrency / 8`` clients of 8 connections each. ``StdlibClient``, a minimal
keep-alive HTTP/1.1 client on asyncio streams, costs about 0.02 ms per request (~50,000 requests/s
against the same no-op server) and serves as a cross-check that a figure measures the API, not the
generator.
"""

from __future__ import annotations

import asyncio
import json
import random
import resource
import sys
import time
import urllib.parse
from collections import Counter
from dataclasses import asdict, dataclass
from typing import Any, Literal

import httpx
import orjson

from bench.data import person_body


@dataclass(frozen=True)
class LoadSpec:
    """What to send: ``count`` ``POST /persons`` with citizen IDs from ``first_index`` on."""

    mode: Literal["closed", "paced"]
    client: Literal["httpx", "stdlib"]
    url: str
    token: str
    first_index: int
    count: int
    concurrency: int = 64
    rate: float = 500.0
    max_seconds: float = 300.0
    seed: int = 0

    def to_json(self) -> bytes:
        """The spec as the child reads it."""
        return orjson.dumps(asdict(self))


#: Seconds a pooled connection may sit idle before the stdlib client drops it instead of reusing it. The services
#: keep idle connections 75 s (``services.runtime.process.KEEP_ALIVE_SECONDS``); this client's clock runs behind
#: the server's by however late its busy loop reads an answer, so it expires them far earlier than that.
IDLE_EXPIRY = 2.0

#: Connections per httpx client; more per client makes httpx's pool the bottleneck.
HTTPX_CONNECTIONS_PER_CLIENT = 8


class StdlibClient:
    """A minimal HTTP/1.1 keep-alive client on asyncio streams, for the cross-check and the paced load.

    It sends ``POST`` requests with a ``Content-Length`` body and reads responses framed the same way,
    which is all uvicorn sends for these routes; anything else is a ``ValueError``.
    """

    def __init__(self, url: str, headers: dict[str, str], connections: int, timeout: float = 60.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme != "http" or not parts.hostname or not parts.port:
            raise ValueError(f"need an http://host:port URL, got {url}")
        self.host, self.port, self.timeout = parts.hostname, parts.port, timeout
        self._head = f"host: {self.host}:{self.port}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        #: Pooled connections with the time each went idle, most recently used last.
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter, float]] = []
        self._slots = asyncio.Semaphore(connections)

    async def post(self, path: str, body: bytes) -> tuple[int, str]:
        """``POST path`` on a pooled connection: the status and the response body."""
        status, _, payload = await self.exchange(path, body)
        return status, payload

    async def exchange(self, path: str, body: bytes) -> tuple[int, dict[str, str], str]:
        """``POST path`` on a pooled connection: the status, the headers (names lower case) and the body."""
        async with self._slots:
            reader, writer = self._take_idle() or await asyncio.open_connection(self.host, self.port)
            try:
                async with asyncio.timeout(self.timeout):
                    head = f"POST {path} HTTP/1.1\r\n{self._head}content-length: {len(body)}\r\n\r\n"
                    writer.write(head.encode() + body)
                    await writer.drain()
                    status, headers = await self._read_head(reader)
                    payload = await reader.readexactly(int(headers.get("content-length", "0")))
            except BaseException:
                writer.close()
                raise
            if headers.get("connection", "").lower() == "close":
                writer.close()
            else:
                self._idle.append((reader, writer, time.monotonic()))
            return status, headers, payload.decode(errors="replace")

    def _take_idle(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The most recently used pooled connection the server has not closed and will not close under us.

        uvicorn closes a connection idle for its keep-alive timeout. Reusing one the server already closed, or
        is closing while the request travels, ends in a reset without an answer; so connections idle longer
        than ``IDLE_EXPIRY`` (far under the server's timeout) or already at EOF are dropped.
        """
        now = time.monotonic()
        while self._idle:
            reader, writer, since = self._idle.pop()
            if now - since < IDLE_EXPIRY and not reader.at_eof() and not writer.is_closing():
                return reader, writer
            writer.close()
        return None

    @staticmethod
    async def _read_head(reader: asyncio.StreamReader) -> tuple[int, dict[str, str]]:
        """Status and headers (names lower case); a chunked response is a ``ValueError``."""
        status_line = await reader.readline()
        if not status_line:
            raise ConnectionResetError("the server closed the connection")
        status, headers = int(status_line.split()[1]), {}
        while (line := await reader.readline()) not in (b"\r\n", b""):
            name, _, value = line.partition(b":")
            headers[name.strip().lower().decode()] = value.strip().decode(errors="replace")
        if "transfer-encoding" in headers:
            raise ValueError("chunked responses are not supported")
        return status, headers

    async def aclose(self) -> None:
        """Close the pooled connections."""
        for _, writer, _ in self._idle:
            writer.close()
        self._idle.clear()


class Sender:
    """Posts bodies to ``/persons`` with the chosen client: (status, body), or raises on transport errors."""

    def __init__(self, spec: LoadSpec) -> None:
        self.spec = spec
        self.headers = {"authorization": f"Bearer {spec.token}", "content-type": "application/json"}
        self._httpx: list[httpx.AsyncClient] = []
        self._stdlib: StdlibClient | None = None
        self._next = 0

    async def __aenter__(self) -> Sender:
        if self.spec.client == "httpx":
            per_client = min(HTTPX_CONNECTIONS_PER_CLIENT, self.spec.concurrency)
            limits = httpx.Limits(max_connections=per_client, max_keepalive_connections=per_client)
            self._httpx = [
                httpx.AsyncClient(base_url=self.spec.url, headers=self.headers, limits=limits, timeout=60.0)
                for _ in range(max(1, self.spec.concurrency // per_client))
            ]
        else:
            self._stdlib = StdlibClient(self.spec.url, self.headers, self.spec.concurrency)
        return self

    async def __aexit__(self, *exc: object) -> None:
        for client in self._httpx:
            await client.aclose()
        if self._stdlib is not None:
            await self._stdlib.aclose()

    async def post(self, body: bytes) -> tuple[int, str]:
        """One ``POST /persons``: its status and (for errors) its body."""
        if self._stdlib is not None:
            return await self._stdlib.post("/persons", body)
        self._next = (self._next + 1) % len(self._httpx)
        reply = await self._httpx[self._next].post("/persons", content=body)
        return reply.status_code, reply.text


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


async def generate(spec: LoadSpec) -> dict[str, Any]:
    """Send the load; returns status counts, timings and (paced) every 201's completion time."""
    rng = random.Random(spec.seed)
    bodies = [orjson.dumps(person_body(spec.first_index + i, rng)) for i in range(spec.count)]
    statuses: Counter[str] = Counter()
    samples: dict[str, str] = {}
    created_at: list[float] = []
    async with Sender(spec) as sender:

        async def post(body: bytes) -> None:
            try:
                status, text = await sender.post(body)
            except (httpx.HTTPError, TimeoutError, OSError, EOFError, ValueError) as exc:
                statuses[type(exc).__name__] += 1
                return
            if status == 201:
                created_at.append(time.monotonic())
            else:
                samples.setdefault(str(status), text[:300])
            statuses[str(status)] += 1

        cpu_before = _cpu_seconds()
        started = time.monotonic()
        deadline = started + spec.max_seconds
        max_lag = 0.0
        if spec.mode == "closed":
            queue = iter(bodies)

            async def worker() -> None:
                for body in queue:
                    if time.monotonic() > deadline:
                        return
                    await post(body)

            await asyncio.gather(*(worker() for _ in range(spec.concurrency)))
            sent_in = time.monotonic() - started
        else:
            tasks = []
            for i, body in enumerate(bodies):
                due = started + i / spec.rate
                delay = due - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                max_lag = max(max_lag, time.monotonic() - due)
                if time.monotonic() > deadline:
                    break
                tasks.append(asyncio.create_task(post(body)))
            sent_in = time.monotonic() - started
            await asyncio.gather(*tasks)
        elapsed = time.monotonic() - started
        cpu = _cpu_seconds() - cpu_before
    return {
        "statuses": dict(statuses),
        "samples": samples,
        "started": started,
        "elapsed": elapsed,
        "sent_in": sent_in,
        "max_lag": max_lag,
        "cpu_seconds": cpu,
        "created_at": created_at if spec.mode == "paced" else [],
    }


def main() -> None:
    """Read the spec from stdin, generate, write the result to stdout."""
    spec = LoadSpec(**json.loads(sys.stdin.buffer.read()))
    try:
        import uvloop

        runner = asyncio.Runner(loop_factory=uvloop.new_event_loop)
    except ImportError:
        runner = asyncio.Runner()
    with runner:
        result = runner.run(generate(spec))
    sys.stdout.buffer.write(orjson.dumps(result))


if __name__ == "__main__":
    main()
