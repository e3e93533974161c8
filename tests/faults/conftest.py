"""The fault suite's harness: a real local stack, steady load over HTTP, and the checks every fault ends with.

Each fault test starts its own stack (the processes ``make up`` starts), drives ``POST /persons`` at a steady
rate for the whole test while it injects its fault through supervisord, lets the stack settle, and then
checks, for every service that publishes a topic (``services.platform.publishing()``):

- every command answered 2xx is in its service's event store (a 2xx means the event is stored);
- reporting's inbox holds exactly the store's event ids: nothing missing, nothing applied twice;
- nothing was dead-lettered;
- the live figures at every level and every month equal a rebuild of reporting from the complete log
  (``renshe reporting rebuild``, which first makes the relays republish what the broker lost).

``FaultReport`` prints commands accepted, events stored, events in reporting, duplicates and recovery time.
Faults are marked ``faults``; ``pytest -m "not faults"`` skips them locally.
"""

from __future__ import annotations

import asyncio
import os
import random
import shutil
import socket
import subprocess
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import psycopg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.data import person_body
from bench.loadgen import StdlibClient
from services.platform import publishing
from services.runtime import kafka
from services.stack import read_env
from tests.e2e.conftest import RENSHE, RunningStack

#: The reporting consumer whose inbox every producing service's events reach.
PROJECTION = "reporting.projection"


#: Connections the load may open (open loop: a request never waits for a free one if it can help it).
CONNECTIONS = 256

#: Where the fault stacks keep their data (see ``fault_stack``).
STACKS = Path(tempfile.gettempdir()) / "renshe-faults"

#: Where each fault's report is appended, for the lead to quote.
REPORTS = Path(__file__).resolve().parents[2] / "test-output" / "faults.md"


def _port_base() -> int:
    """A base port whose next 30 ports are free, below Linux's ephemeral range (32768-60999).

    Inside that range a port found free may be taken a moment later by any outgoing connection on the machine
    (a relay's port once collided so), and ``stack up`` fails."""
    for _ in range(100):
        base = random.randrange(20_000, 32_700, 100)
        try:
            for port in range(base, base + 30):
                with socket.socket() as sock:
                    sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
    raise RuntimeError("no free port range")


def start_stack(tmp_path: Path, attempts: int = 3) -> RunningStack:
    """``renshe stack up`` on a fresh port range, again in a new directory on another range if it fails.

    On a loaded machine ``pg_ctl start`` or a process's readiness can miss its deadline, or a port be taken in
    the moment between choosing the range and binding it; none of that is the fault under test."""
    failures = []
    for attempt in range(attempts):
        data_dir = tmp_path / f"stack-{attempt}"
        args = ["--data-dir", str(data_dir), "--port-base", str(_port_base()), "--ready-timeout", "180"]
        up = subprocess.run(
            [RENSHE, "stack", "up", *args],
            capture_output=True,
            text=True,
            timeout=400,
        )
        if up.returncode == 0:
            return RunningStack(data_dir, read_env(data_dir))
        failures.append(up.stdout[-3000:] + up.stderr[-3000:])
        print(f"renshe stack up, attempt {attempt + 1}, failed (retrying on other ports): {failures[-1][-600:]}")
        subprocess.run([RENSHE, "stack", "down", "--data-dir", str(data_dir)], timeout=120)
    raise RuntimeError(f"renshe stack up failed {attempts} times:\n" + "\n---\n".join(failures))


@pytest.fixture
def fault_stack(request: pytest.FixtureRequest) -> Iterator[RunningStack]:
    """A fresh local stack per fault, so one fault's damage never explains another's result.

    Its data lives outside pytest's temporary root: every pytest session on the machine sets
    ``/tmp/pytest-of-<user>`` back to mode 0700, which locks the embedded Postgres (run as its own system user)
    out of its data directory: initdb, a start or the socket's lock file then fail with "Permission denied".
    The directory is removed after a passing test and kept (logs included) after a failing one."""
    STACKS.mkdir(exist_ok=True)
    # Short: the socket path under it must stay within 107 bytes.
    root = Path(tempfile.mkdtemp(prefix=f"{request.node.name.removeprefix('test_')[:16]}-", dir=STACKS))
    failed_before = request.session.testsfailed
    running = start_stack(root)
    try:
        yield running
    finally:
        subprocess.run([RENSHE, "stack", "down", "--data-dir", str(running.data_dir)], timeout=120)
    if request.session.testsfailed == failed_before:
        shutil.rmtree(root, ignore_errors=True)


#: Of every ten requests: seven register a person, one files a petition (supervision), one creates a public-welfare
#: post (assistance) and one hires a person registered earlier at the load's employer, to which insurance's worker
#: reacts with an ``EnrolmentExpected``. So every producing service's store, relay and worker carries events while
#: the fault hits (``verify`` checks that each stored some), and a reaction applied twice would show.
MIX = ("person",) * 7 + ("petition", "post", "hire")

#: The load's employer (a valid unified social credit code, GB 32100).
EMPLOYER = {"credit_code": "91350100M000100Y43", "name": "绥宁县长铺竹木加工厂", "region_code": "430527100000"}


@dataclass
class Load:
    """A bounded open-loop load: request ``i`` leaves at ``start + i / rate``, whatever the others are doing."""

    stack: RunningStack
    rate: float = 300.0
    seconds: float = 15.0
    first_index: int = 5_000_000
    statuses: Counter[int] = field(default_factory=Counter)
    #: Requests that got no HTTP answer at all (connection reset, refused, timed out), by exception type.
    unanswered: Counter[str] = field(default_factory=Counter)
    #: The stream each accepted command named, by kind of command (``MIX``).
    accepted: dict[str, list[str]] = field(default_factory=lambda: {kind: [] for kind in MIX})
    #: 503 answers without a ``Retry-After`` header (the API must always say when to retry).
    without_retry_after: int = 0
    #: When the first and the last 5xx arrived (monotonic), to see that they fall inside the fault.
    unavailable_at: list[float] = field(default_factory=list)
    #: 5xx answers by status and the path's first segment, to tell which API a fault made unavailable.
    unavailable: Counter[str] = field(default_factory=Counter)
    #: Every ID number, name and phone the load sent, which no topic, read model or log may show.
    personal: set[str] = field(default_factory=set)

    @property
    def commands(self) -> int:
        """How many commands were accepted (2xx, or 409 for a registration a retry found done)."""
        return sum(len(ids) for ids in self.accepted.values())

    async def run(self) -> None:
        """Send ``rate * seconds`` commands (``MIX``); a 5xx is retried once a second with the same body.

        The client is the benchmarks' lean asyncio one (``bench.loadgen.StdlibClient``): httpx's pool spends
        CPU per waiting request and fell to a few requests a second under this open loop on a busy machine."""
        rng = random.Random(self.first_index)
        count = int(self.rate * self.seconds)
        headers = {**self.stack.headers, "content-type": "application/json"}
        clients = {
            var: StdlibClient(self.stack.env[var], headers, CONNECTIONS, timeout=60.0)
            for var in ("REGISTRATION_URL", "SUPERVISION_URL", "ASSISTANCE_URL")
        }
        try:
            employer = await self._send(
                clients["REGISTRATION_URL"], "/employers", orjson.dumps(EMPLOYER), "employer_id"
            )
            assert employer is not None, "the load's employer was not registered"
            hireable: list[str] = []
            start = time.monotonic()
            tasks = []
            for i in range(count):
                delay = start + i / self.rate - time.monotonic()
                if delay > 0:
                    await asyncio.sleep(delay)
                kind = MIX[i % len(MIX)]
                if kind == "hire" and not hireable:
                    kind = "person"
                var, path, body, key = self._command(kind, self.first_index + i, rng, employer, hireable)
                tasks.append(asyncio.create_task(self._accept(kind, clients[var], path, body, key, hireable)))
            await asyncio.gather(*tasks)
        finally:
            for client in clients.values():
                await client.aclose()

    def _command(
        self, kind: str, index: int, rng: random.Random, employer: str, hireable: list[str]
    ) -> tuple[str, str, bytes, str]:
        """The API, path, body and answer key of the stream id of one command of ``kind``."""
        person = person_body(index, rng)
        if kind == "person":
            self.personal |= {person["id_number"], person["name"], person["phone"]}
            return "REGISTRATION_URL", "/persons", orjson.dumps(person), "person_id"
        if kind == "petition":
            self.personal |= {person["name"], person["phone"]}
            petition = {
                "petitioner": {"name": person["name"], "phone": person["phone"]},
                "channel": "visit",
                "subject": "反映某厂拖欠工资",
                "region_code": person["region_code"],
            }
            return "SUPERVISION_URL", "/petitions", orjson.dumps(petition), "petition_id"
        if kind == "post":
            post = {
                "region_code": "430527100000",
                "unit": "长铺镇人民政府",
                "title": "保洁员",
                "positions": 2,
                "monthly_subsidy_fen": 150_000,
                "term_starts_on": "2026-01-01",
                "term_ends_on": "2028-12-31",
            }
            return "ASSISTANCE_URL", "/public-welfare-posts", orjson.dumps(post), "id"
        hire = {"kind": "unit", "employer_id": employer, "started_on": time.strftime("%Y-%m-%d")}
        return "REGISTRATION_URL", f"/persons/{hireable.pop()}/employment", orjson.dumps(hire), "person_id"

    async def _accept(
        self, kind: str, client: StdlibClient, path: str, body: bytes, key: str, hireable: list[str]
    ) -> None:
        stream = await self._send(client, path, body, key)
        if stream is None:
            return
        self.accepted[kind].append(stream)
        if kind == "person":
            hireable.append(stream)

    async def _send(self, client: StdlibClient, path: str, body: bytes, key: str) -> str | None:
        """The stream id the answer names; None when the request got no answer (counted in ``unanswered``)."""
        for _ in range(120):
            try:
                status, headers, text = await client.exchange(path, body)
            except (OSError, EOFError, TimeoutError) as exc:
                self.unanswered[type(exc).__name__] += 1
                return None
            self.statuses[status] += 1
            if status in (200, 201, 409):
                return str(orjson.loads(text)[key])
            if status < 500:
                raise AssertionError(f"{path}: {status}: {text}")
            self.unavailable_at.append(time.monotonic())
            self.unavailable[f"{status} {path.split('/')[1]}"] += 1
            if status == 503 and "retry-after" not in headers:
                self.without_retry_after += 1
            # 503 while a dependency is down: the client retries after the time asked for, as a clerk's would.
            await asyncio.sleep(float(headers.get("retry-after", "1")))
        raise AssertionError(f"{path}: still {status} after 120 tries: {text}")


@dataclass
class FaultReport:
    """What one fault test measured."""

    fault: str
    accepted: int
    stored: dict[str, int]
    in_reporting: int
    duplicates: int
    dead_letters: int
    unanswered: int
    recovery_seconds: float

    statuses: dict[int, int] = field(default_factory=dict)
    unavailable: dict[str, int] = field(default_factory=dict)

    def __str__(self) -> str:
        stored = ", ".join(f"{s} {n}" for s, n in self.stored.items())
        answers = ", ".join(f"{code}: {n}" for code, n in sorted(self.statuses.items()))
        return (
            f"{self.fault}: {self.accepted} commands accepted; events stored: {stored}; {self.in_reporting} in "
            f"reporting; {self.duplicates} duplicates; {self.dead_letters} dead letters; {self.unanswered} "
            f"unanswered; recovered {self.recovery_seconds:.1f} s after the load ended (answers {answers}"
            + (f"; 5xx by route: {self.unavailable}" if self.unavailable else "")
            + ")"
        )

    def write(self) -> None:
        """Print the report and append it to ``test-output/faults.md``."""
        print(self)
        REPORTS.parent.mkdir(exist_ok=True)
        with REPORTS.open("a", encoding="utf-8") as out:
            when = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime())
            load = os.getloadavg()[0]
            out.write(f"- {when} (load average {load:.1f}): {self}\n")


def _query(stack: RunningStack, sql: str, params: tuple[object, ...] = ()) -> list[tuple[object, ...]]:
    with psycopg.connect(stack.env["DATABASE_URL"], autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def _store_ids(stack: RunningStack) -> dict[str, set[str]]:
    """Every event id of every producing service's store."""
    return {
        service.name: {str(r[0]) for r in _query(stack, f"SELECT event_id FROM {service.name}.events")}
        for service in publishing()
    }


def _dead_letters(stack: RunningStack) -> dict[str, int]:
    """How many messages each service's workers dead-lettered, by schema."""
    schemas = _query(stack, "SELECT table_schema FROM information_schema.tables WHERE table_name = 'dead_letters'")
    return {
        str(schema): int(_query(stack, f"SELECT count(*) FROM {schema}.dead_letters")[0][0])  # type: ignore[call-overload]
        for (schema,) in schemas
    }


def _inbox_ids(stack: RunningStack) -> list[str]:
    return [str(r[0]) for r in _query(stack, "SELECT event_id FROM reporting.inbox WHERE consumer = %s", (PROJECTION,))]


def _figures(stack: RunningStack) -> dict[tuple[object, ...], object]:
    rows = _query(stack, "SELECT region_code, metric, value FROM reporting.v_region_metrics")
    months = _query(stack, "SELECT region_code, metric, month, change_in_month FROM reporting.v_region_month")
    return {(*r[:-1],): r[-1] for r in rows} | {("month", *r[:-1]): r[-1] for r in months}


def _states(stack: RunningStack) -> dict[tuple[str, str], object]:
    """What reporting remembers of each entity, to name the ones a rebuild remembers otherwise."""
    rows = _query(stack, "SELECT kind, entity_id, state FROM reporting.entity_states")
    return {(str(kind), str(entity)): state for kind, entity, state in rows}


async def _records_of(stack: RunningStack, service: str, key: str) -> list[tuple[object, ...]]:
    """Every message of ``key`` on the service's topic as the broker holds it now, in log order: partition, offset,
    headers (log epoch, stamped offset, store position) and event type."""
    topic = f"{service}.events"
    bootstrap = stack.env["KAFKA_BOOTSTRAP_SERVERS"]
    partitions = [TopicPartition(topic, p) for p in sorted(await kafka.end_offsets(bootstrap, topic) or {})]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    found: list[tuple[object, ...]] = []
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        idle = 0
        while idle < 3 and [tp for tp in partitions if await consumer.position(tp) < ends[tp]]:
            batch = await consumer.getmany(timeout_ms=1000)
            idle = 0 if batch else idle + 1
            for tp, records in batch.items():
                for r in records:
                    if r.key == key.encode():
                        headers = {k: bytes(v).decode() for k, v in r.headers}
                        found.append((tp.partition, r.offset, headers, orjson.loads(r.value).get("type")))
    finally:
        await consumer.stop()
    return found


async def _explain(
    stack: RunningStack,
    live: dict[tuple[object, ...], object],
    rebuilt: dict[tuple[object, ...], object],
    live_states: dict[tuple[str, str], object],
    live_applied: dict[object, object],
    output: str,
) -> str:
    """The figures and entities a rebuild disagrees on, with each such stream's events in store order (and when the
    live projection applied each), and the rebuild's own output: what a failing fault run needs to tell which side
    is wrong."""
    figures = {k: (live.get(k), rebuilt.get(k)) for k in live.keys() | rebuilt.keys() if live.get(k) != rebuilt.get(k)}
    states = _states(stack)
    entities = {k: (live_states.get(k), states.get(k)) for k in live_states.keys() | states.keys()}
    differ = {k: v for k, v in entities.items() if v[0] != v[1]}
    streams = []
    for kind, entity in list(differ)[:5]:
        for service in publishing():
            rows = _query(
                stack,
                f"SELECT position, event_id::text, type, recorded_at FROM {service.name}.events WHERE stream_id = %s"
                " ORDER BY position",
                (entity,),
            )
            rows = [(*row, live_applied.get(row[1])) for row in rows]
            if rows:
                streams.append(f"{kind} {entity} in {service.name}: {rows}")
                streams.append(f"on {service.name}.events: {await _records_of(stack, service.name, entity)}")
    return (
        f"{len(figures)} figures (live, rebuilt): {dict(sorted(figures.items(), key=str)[:20])}; "
        f"{len(differ)} entities (live, rebuilt): {dict(list(differ.items())[:5])}; "
        + "; ".join(streams)
        + f"; rebuild said: {output[-2000:]}"
    )


#: Where each kind of accepted command (``MIX``) must have left its event: service, event type.
STORED_AS = {
    "person": ("registration", "PersonRegistered"),
    "petition": ("supervision", "PetitionRegistered"),
    "post": ("assistance", "PublicWelfarePostCreated"),
    "hire": ("registration", "EmploymentRegistered"),
}
#: What a hire makes insurance's worker append to the person's stream, once.
HIRE_REACTION = ("insurance", "EnrolmentExpected")


def _streams(stack: RunningStack, service: str, event_type: str) -> Counter[str]:
    """How many events of ``event_type`` each stream of ``service``'s store holds."""
    rows = _query(stack, f"SELECT stream_id, count(*) FROM {service}.events WHERE type = %s GROUP BY 1", (event_type,))
    return Counter({str(stream): int(n) for stream, n in rows})  # type: ignore[call-overload]


async def settled(
    stack: RunningStack,
    also: frozenset[str] = frozenset(),
    hires: frozenset[str] = frozenset(),
    *,
    timeout: float = 240.0,
) -> float:
    """Wait until reporting's inbox holds every stored event and ``also``, and insurance has reacted to every hire
    (and stays so); the seconds it took."""
    started = time.monotonic()
    steady = 0
    while steady < 3:
        expected = set().union(*_store_ids(stack).values()) | also
        reacted = hires <= set(_streams(stack, *HIRE_REACTION))
        steady = steady + 1 if expected and expected <= set(_inbox_ids(stack)) and reacted else 0
        if time.monotonic() - started > timeout:
            missing = len(expected - set(_inbox_ids(stack)))
            unreacted = len(hires - set(_streams(stack, *HIRE_REACTION)))
            raise AssertionError(
                f"after {timeout}s reporting still misses {missing} of {len(expected)} events and insurance "
                f"{unreacted} of {len(hires)} hires"
            )
        await asyncio.sleep(1.0)
    return time.monotonic() - started


async def ctl(stack: RunningStack, *args: str) -> str:
    """``renshe stack ctl`` off the event loop, so that the load keeps its pace while supervisorctl runs."""
    return await asyncio.to_thread(stack.ctl, *args)


def dead_letters(stack: RunningStack) -> list[dict[str, object]]:
    """What ``GET /dead-letters`` of reporting lists, as a county officer sees it."""
    reply = httpx.get(f"{stack.env['REPORTING_URL']}/dead-letters", headers=stack.headers, timeout=30)
    assert reply.status_code == 200, reply.text
    listed: list[dict[str, object]] = reply.json()["dead_letters"]
    return listed


async def verify(
    stack: RunningStack,
    load: Load,
    fault: str,
    *,
    poison: frozenset[str] = frozenset(),
    dead: int | None = None,
    rebuild: bool = True,
) -> FaultReport:
    """The checks every fault ends with (module docstring); returns the report it prints.

    ``poison`` names the event ids a test put on a topic itself that must end dead-lettered (and so in the inbox,
    which records them so that they are not retried), not in the figures; ``dead`` how many dead letters to
    expect (default: one per poison id; an undecodable message has no id)."""
    hires = frozenset(load.accepted["hire"])
    recovery = await settled(stack, poison, hires)
    stores = _store_ids(stack)
    for kind, (service, event_type) in STORED_AS.items():
        lost = set(load.accepted[kind]) - set(_streams(stack, service, event_type))
        assert not lost, f"{len(lost)} accepted {kind} commands have no {event_type} in {service}'s store"
    assert all(stores.values()), (
        f"a producing service stored nothing under the load: { {s: len(i) for s, i in stores.items()} }"
    )
    reactions = _streams(stack, *HIRE_REACTION)
    twice = {person: n for person, n in reactions.items() if n > 1}
    assert not twice, f"insurance reacted more than once to {len(twice)} hires"
    assert set(reactions) == hires, "insurance reacted to hires the load never made, or missed some"
    stored_persons = set(_streams(stack, *STORED_AS["person"]))
    inbox = _inbox_ids(stack)
    every_stored = set().union(*stores.values())
    assert set(inbox) == every_stored | poison, "reporting's inbox differs from the stores"
    dead_lettered = _dead_letters(stack)
    report = FaultReport(
        fault,
        load.commands,
        {name: len(ids) for name, ids in stores.items()},
        len(set(inbox) - poison),
        len(inbox) - len(set(inbox)),
        dead_lettered.pop("reporting", 0),
        sum(load.unanswered.values()),
        recovery,
        dict(load.statuses),
        dict(load.unavailable),
    )
    report.write()
    assert report.dead_letters == (len(poison) if dead is None else dead)
    if not poison and dead is None:
        assert not any(dead_lettered.values()), f"other workers dead-lettered events: {dead_lettered}"
    assert report.unanswered == 0, f"requests without an answer: {dict(load.unanswered)}"
    assert load.without_retry_after == 0, f"{load.without_retry_after} answers 503 without Retry-After"
    county = _query(
        stack,
        "SELECT value FROM reporting.v_region_metrics WHERE region_code = '430527000000' AND metric = 'labour_force'",
    )
    assert county and county[0][0] == len(stored_persons)
    if rebuild:
        live = _figures(stack)
        live_states = _states(stack)
        live_applied = dict(
            _query(stack, "SELECT event_id::text, applied_at FROM reporting.inbox WHERE consumer = %s", (PROJECTION,))
        )
        rebuilt = await asyncio.to_thread(
            subprocess.run,
            [RENSHE, "reporting", "rebuild", "--env-file", str(stack.data_dir / "stack.env")],
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert rebuilt.returncode == 0, rebuilt.stdout + rebuilt.stderr
        again = _figures(stack)
        if again != live:
            raise AssertionError(
                "the live figures differ from a rebuild from the complete log: "
                + await _explain(stack, live, again, live_states, live_applied, rebuilt.stdout + rebuilt.stderr)
            )
    return report


async def with_load(stack: RunningStack, fault: Callable[[], AsyncIterator[None]] | None = None, **load_args) -> Load:
    """Run the load while ``fault`` (an async generator of injection steps) runs beside it."""
    load = Load(stack, **load_args)
    runner = asyncio.create_task(load.run())
    if fault is not None:
        async for _ in fault():
            pass
    await runner
    return load
