"""Without a fault, every request gets an answer, every one is counted once, and no personal data leaks.

``python -m bench visibility-latency`` at 500 commands/s lost 3 to 24 of about 5,000 requests per run to
``ConnectionResetError`` (2026-12-02), and the broker-loss test 13 and 87 of 4,500 on a busy machine. The server
closed them: uvicorn closes a keep-alive connection idle for ``timeout_keep_alive`` (5 s by default), and a client
that reuses it in that moment has its request reset unanswered. A client under load reads an answer late (its
event loop busy elsewhere), so its idea of how long a connection has been idle falls seconds behind the server's:
``bench.loadgen.StdlibClient``, reading answers 3.5 s late and reusing connections after 1.9 s (under its 2 s
expiry), got no answer on 100 of 100 connections from a uvicorn at 5 s and 100 answers from one at 75 s
(2026-12-03). The APIs now keep idle connections for ``services.runtime.process.KEEP_ALIVE_SECONDS`` (75 s), longer
than any client keeps them (httpx 5 s, an ingress 60 s); the test pins that down on a real API.

After the load, every ID number, name and phone it sent is looked for in every message of every topic from offset
0, in a dump of the whole database (every read model included) and in every log file of the stack
(``tests.faults.personal_data``).
"""

from __future__ import annotations

import asyncio
import random
import urllib.parse

import orjson
import pytest

from bench.data import person_body
from tests.e2e.conftest import RunningStack
from tests.faults.conftest import verify, with_load
from tests.faults.personal_data import database_dump, leaks, log_files, topic_texts

pytestmark = [pytest.mark.e2e, pytest.mark.faults]

#: Longer than uvicorn's default keep-alive (5 s) and httpx's pool expiry (5 s), by more than a busy loop's delay.
IDLE_SECONDS = 8.0


async def test_without_a_fault_every_request_is_answered_counted_once_and_no_personal_data_leaks(
    fault_stack: RunningStack,
):
    load = await with_load(fault_stack, None, rate=500.0, seconds=10.0)
    report = await verify(fault_stack, load, "no fault at 500/s")
    assert report.accepted == 5_000

    topics = await topic_texts(fault_stack.env["KAFKA_BOOTSTRAP_SERVERS"])
    messages = sum(len(texts) for texts in topics.values())
    assert messages >= sum(report.stored.values()), f"read {messages} messages of {sum(report.stored.values())} events"
    places = [(f"topic {topic}", text) for topic, texts in topics.items() for text in texts]
    places.append(("the database", await asyncio.to_thread(database_dump, fault_stack)))
    places += [(f"log {path.name}", path.read_text(errors="replace")) for path in log_files(fault_stack)]
    assert len(load.personal) > 10_000
    found = leaks(places, load.personal)
    assert not found, {place: sorted(hits)[:5] for place, hits in found.items()}
    print(f"personal data: none of {len(load.personal)} values in {messages} messages, the database or the logs")

    # A connection idle longer than clients keep theirs is still open and answers (same stack: starting one costs
    # more than this check).
    url = urllib.parse.urlsplit(fault_stack.env["REGISTRATION_URL"])
    assert url.hostname and url.port
    head = "".join(f"{k}: {v}\r\n" for k, v in fault_stack.headers.items())
    rng = random.Random(11)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)

    async def register(index: int) -> bytes:
        body = orjson.dumps(person_body(index, rng))
        writer.write(
            f"POST /persons HTTP/1.1\r\nhost: {url.netloc}\r\n{head}content-type: application/json\r\n"
            f"content-length: {len(body)}\r\n\r\n".encode()
            + body
        )
        await writer.drain()
        status = await reader.readline()
        headers = (await reader.readuntil(b"\r\n\r\n")).decode().lower()
        length = int(headers.split("content-length:", 1)[1].split("\r\n", 1)[0])
        await reader.readexactly(length)
        return status

    try:
        assert (await register(9_000_000)).startswith(b"HTTP/1.1 201")
        await asyncio.sleep(IDLE_SECONDS)
        assert not reader.at_eof(), f"the server closed a connection idle for {IDLE_SECONDS} s"
        # The same connection, not a new one: the request a pooled client would send now.
        assert (await register(9_000_001)).startswith(b"HTTP/1.1 201")
    finally:
        writer.close()
