"""Without a fault, every request gets an answer, and every one is counted once.

``python -m bench visibility-latency`` at 500 commands/s lost 3 to 24 of about 5,000 requests per run to
``ConnectionResetError`` (2026-12-02). The client dropped them: its pool reused connections that had sat idle
past uvicorn's keep-alive timeout (5 s) after a burst, which the server had closed (or was closing as the
request went out). ``bench.loadgen.StdlibClient`` now drops connections idle for ``IDLE_EXPIRY`` (2 s) or
already closed by the server; the second test pins that down on a single connection.
"""

from __future__ import annotations

import asyncio
import random
import time

import orjson
import pytest

from bench.data import person_body
from bench.loadgen import IDLE_EXPIRY, StdlibClient
from tests.e2e.conftest import RunningStack
from tests.faults.conftest import verify, with_load

pytestmark = [pytest.mark.e2e, pytest.mark.faults]


async def test_without_a_fault_every_request_is_answered_and_counted_once(fault_stack: RunningStack):
    load = await with_load(fault_stack, None, rate=500.0, seconds=10.0)
    report = await verify(fault_stack, load, "no fault at 500/s")
    assert report.accepted == 5_000

    # A connection left idle until the server closes it is not reused: the next request still gets its answer.
    headers = {**fault_stack.headers, "content-type": "application/json"}
    client = StdlibClient(fault_stack.env["REGISTRATION_URL"], headers, connections=1)
    rng = random.Random(7)
    try:
        status, _ = await client.post("/persons", orjson.dumps(person_body(9_000_000, rng)))
        assert status == 201
        ((reader, _, _),) = client._idle
        idle_since = time.monotonic()
        async with asyncio.timeout(120):
            while not reader.at_eof():  # uvicorn closes it after its keep-alive timeout
                await reader.read(1)
        closed_after = time.monotonic() - idle_since
        assert closed_after > IDLE_EXPIRY, f"the server closed an idle connection after {closed_after:.1f} s"
        status, _ = await client.post("/persons", orjson.dumps(person_body(9_000_001, rng)))
        assert status == 201
    finally:
        await client.aclose()
    print(f"the server closed an idle keep-alive connection after {closed_after:.1f} s")
