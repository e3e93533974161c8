"""Where a stack could leak the personal data a load sent it: every message of every topic read from offset 0, a
dump of the whole database, and every log file of the stack (docs/design.md "Security and data": events carry no
name, ID number or phone; personal data is stored encrypted).

``leaks`` looks for the very ID numbers, names and phones the load sent, as text, after undoing JSON's escapes; a
keyed hash or a ciphertext of them is no leak.
"""

from __future__ import annotations

import json
import re
import subprocess
import urllib.parse
from collections.abc import Iterable, Iterator
from pathlib import Path

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from services.runtime.devstack import pg_bin
from tests.e2e.conftest import RunningStack

_ID_OR_PHONE = re.compile(r"(?<!\d)(?:\d{17}[\dXx]|1\d{10})(?!\d)")
_HAN = re.compile(r"[\u4e00-\u9fff]{2,}")


def findings(text: str, personal: set[str]) -> set[str]:
    """The strings of ``personal`` that occur in ``text`` (whole ID numbers and phones, names of 2 to 4 characters
    anywhere inside a run of Chinese)."""
    found = {m.group() for m in _ID_OR_PHONE.finditer(text) if m.group().upper() in personal or m.group() in personal}
    for run in _HAN.findall(text):
        found |= {run[i : i + n] for n in (2, 3, 4) for i in range(len(run) - n + 1) if run[i : i + n] in personal}
    return found


def _unescaped(value: bytes) -> str:
    text = value.decode(errors="replace")
    try:
        return text + json.dumps(json.loads(text), ensure_ascii=False)
    except ValueError:
        return text


async def topic_texts(bootstrap_servers: str) -> dict[str, list[str]]:
    """Every message of every topic from offset 0, as text, by topic."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers)
    await admin.start()
    try:
        topics = [t for t in await admin.list_topics() if not t.startswith("__")]
    finally:
        await admin.close()
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap_servers, enable_auto_commit=False)
    await consumer.start()
    texts: dict[str, list[str]] = {topic: [] for topic in topics}
    try:
        partitions = [TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        # The embedded broker's end offsets are not to be trusted (it gives the last batch's first offset + 1),
        # so the topics are read until two fetches in a row bring nothing.
        empty = 0
        while empty < 2:
            batches = await consumer.getmany(timeout_ms=3_000, max_records=5_000)
            empty = 0 if batches else empty + 1
            for tp, records in batches.items():
                texts[tp.topic] += [_unescaped(r.value) for r in records if r.value is not None]
    finally:
        await consumer.stop()
    return texts


def database_dump(stack: RunningStack) -> str:
    """``pg_dump`` of every schema's data: the stores, inboxes, dead letters and every read model."""
    url = urllib.parse.urlsplit(stack.env["DATABASE_URL"])
    dumped = subprocess.run(
        [str(pg_bin() / "pg_dump"), "--data-only", "-h", str(url.hostname), "-p", str(url.port), "-U", "postgres"],
        capture_output=True,
        check=True,
        timeout=600,
    )
    return _unescaped(dumped.stdout)


def log_files(stack: RunningStack) -> Iterator[Path]:
    """Every log the stack writes: its processes' and Postgres's."""
    yield from sorted((stack.data_dir / "logs").glob("*.log"))
    yield from sorted((stack.data_dir / "pg").glob("*.log"))


def leaks(places: Iterable[tuple[str, str]], personal: set[str]) -> dict[str, set[str]]:
    """For each (place, text) that holds some of ``personal``: what it holds."""
    found: dict[str, set[str]] = {}
    for place, text in places:
        if hits := findings(text, personal):
            found.setdefault(place, set()).update(hits)
    return found
