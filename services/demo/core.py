"""The simulation every demo module shares: the history so far, the ids the services gave, the run loop.

A run has two phases. First every module, in ``MODULES`` order, *plans*: a pure function of the seed,
the window and what earlier modules put in the history, which adds its own facts (nothing is sent yet).
Then every module, in the same order, *loads*: it sends its facts through its service's public API and
records the ids the service answered (``sim.ids``), which later modules need to refer to the same
person or employer. Planning everything first lets the progress bar know the whole amount of work, and
makes the county one story: insurance's benefit claims follow registration's dismissals because
insurance planned them from those facts.
"""

from __future__ import annotations

import asyncio
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from services.demo.client import DemoFailed, ServiceClient
from services.demo.population import Population
from services.demo.timeline import Window, seeded
from services.runtime.auth import issue_token


@dataclass(frozen=True, slots=True)
class Fact:
    """Something that happened in the simulated county, on a day, to one subject.

    ``type`` is the name of the event the fact becomes in its service (``EmploymentEnded``,
    ``UnemploymentRegistered`` ...): one vocabulary from the simulation to the topics. ``subject`` names
    what it happened to as ``kind:index`` (``person:17`` is ``population.persons[17]``, ``employer:3``,
    ``vacancy:40``); ``data`` holds what a reacting module needs (``reason``, ``involuntary``, ``kind`` ...).
    """

    day: date
    type: str
    subject: str
    data: Mapping[str, Any] = field(default_factory=dict)
    source: str = "registration"


class History:
    """Every fact planned so far, by type and by subject, each list in the order the facts were added."""

    def __init__(self) -> None:
        self._facts: list[Fact] = []
        self._by_type: dict[str, list[Fact]] = defaultdict(list)
        self._by_subject: dict[str, list[Fact]] = defaultdict(list)

    def add(self, fact: Fact) -> None:
        """Record a fact."""
        self._facts.append(fact)
        self._by_type[fact.type].append(fact)
        self._by_subject[fact.subject].append(fact)

    def of_type(self, *types: str) -> list[Fact]:
        """Facts of these types, by day (stable: same-day facts keep the order they were added in)."""
        found = [f for t in types for f in self._by_type.get(t, ())]
        return sorted(found, key=lambda f: f.day)

    def of(self, subject: str) -> list[Fact]:
        """One subject's facts, by day."""
        return sorted(self._by_subject.get(subject, ()), key=lambda f: f.day)

    def subjects(self, kind: str) -> list[str]:
        """Subjects of one kind (``person``) that have facts, in the order they first appeared."""
        prefix = kind + ":"
        return [s for s in self._by_subject if s.startswith(prefix)]

    def __len__(self) -> int:
        return len(self._facts)

    def __iter__(self) -> Iterator[Fact]:
        return iter(sorted(self._facts, key=lambda f: f.day))


@dataclass
class Staff:
    """The staff the simulation acts as, one per role and region (``demo-township-430527100000``).

    Maker-checker steps need different people at different levels (a village applies, the township
    reviews, the county decides), which the development token alone cannot be. The tokens are signed with
    the stack's ``JWT_SECRET`` (its ``secrets.env``); the subjects stay the same from run to run, so an
    ``Idempotency-Key`` sent on a second run finds the first run's answer.
    """

    secret: str | None
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict, repr=False)

    def token(self, role: str, region: str) -> str:
        """A bearer token of the demo's staff member for ``role`` in ``region``."""
        if self.secret is None:
            raise DemoFailed("this part of the demo acts as village, township and county staff: it needs JWT_SECRET")
        if (role, region) not in self._tokens:
            subject = f"demo-{role}-{region}"
            self._tokens[role, region] = issue_token(self.secret, subject=subject, role=role, region=region)
        return self._tokens[role, region]


@dataclass
class Simulation:
    """What the modules share: the seed, the window, the population, the history and the services' ids."""

    seed: int
    window: Window
    population: Population = field(repr=False)
    history: History = field(default_factory=History, repr=False)
    #: ``subject`` -> the id its service gave it (``person:17`` -> a person_id), filled while loading.
    ids: dict[str, str] = field(default_factory=dict, repr=False)
    staff: Staff = field(default_factory=lambda: Staff(None), repr=False)

    def rng(self, *names: object) -> random.Random:
        """A random stream of its own for one purpose (see ``timeline.seeded``)."""
        return seeded(self.seed, *names)


class DemoModule(Protocol):
    """One service's part of the simulation (see the package docstring)."""

    #: The service it talks to, as in ``services/platform.py`` (``registration``, ``insurance`` ...).
    service: str
    #: The modules whose loading it waits for (their facts must be in their services, and on the topics,
    #: before it sends its own); modules that need nothing of each other load side by side.
    reacts_to: tuple[str, ...]

    def plan(self, sim: Simulation) -> int:
        """Add this service's facts to ``sim.history`` (pure: no I/O); return the requests ``load`` will send."""
        ...

    async def load(self, sim: Simulation, api: ServiceClient) -> Counter[str]:
        """Send the planned facts through the service's API; fill ``sim.ids``; count what was done."""
        ...


@dataclass
class DemoReport:
    """What a run did, per module, and how long it took."""

    counts: dict[str, Counter[str]]
    skipped: list[str]
    seconds: float
    caught_up_seconds: float | None
    #: Seconds per part: ``plan`` (all modules), each module's load (from the end of the loads it reacts to,
    #: with its wait for their relays; modules that react to the same ones overlap).
    split: dict[str, float] = field(default_factory=dict)
    #: Per module: requests sent, and of those how many were sent again (a reaction not there yet, a busy
    #: service): ``(sent, resent)``.
    requests: dict[str, tuple[int, int]] = field(default_factory=dict)


def run_demo(
    env: Mapping[str, str],
    modules: Sequence[DemoModule],
    *,
    population: Population,
    seed: int,
    window: Window,
    progress: bool = True,
    catch_up_timeout: float = 300.0,
) -> DemoReport:
    """Plan every module, load each whose service is running (its ``<SERVICE>_URL`` in ``env``), then wait
    until reporting has applied everything (when ``REPORTING_URL`` is given)."""
    return asyncio.run(_run(env, modules, population, seed, window, progress, catch_up_timeout))


async def _run(
    env: Mapping[str, str],
    modules: Sequence[DemoModule],
    population: Population,
    seed: int,
    window: Window,
    progress: bool,
    catch_up_timeout: float,
) -> DemoReport:
    started = time.monotonic()
    sim = Simulation(seed, window, population, staff=Staff(env.get("JWT_SECRET")))
    token = env["DEV_TOKEN"]
    running = [m for m in modules if env.get(f"{m.service.upper()}_URL")]
    skipped = [m.service for m in modules if m not in running]
    planned = {m.service: m.plan(sim) for m in running}
    split = {"plan": time.monotonic() - started}
    counts: dict[str, Counter[str]] = {}
    requests: dict[str, tuple[int, int]] = {}
    loaded = {m.service: asyncio.get_running_loop().create_future() for m in running}

    async def load(module: DemoModule, bar: Progress) -> None:
        before = [service for service in module.reacts_to if service in loaded]
        await asyncio.gather(*(loaded[service] for service in before))
        loading = time.monotonic()
        task = bar.add_task(module.service, total=planned[module.service])
        if before:  # what it reacts to must be on the topics before it asks the services about it
            await _published(env, token, time.monotonic() + catch_up_timeout, before)
        client = ServiceClient(env[f"{module.service.upper()}_URL"], token, on_done=_advance(bar, task))
        try:
            counts[module.service] = await module.load(sim, client)
        finally:
            await client.aclose()
            requests[module.service] = (client.sent, client.resent)
        bar.update(task, completed=planned[module.service])
        split[module.service] = time.monotonic() - loading
        loaded[module.service].set_result(None)

    with _bar(progress) as bar:
        await asyncio.gather(*(load(module, bar) for module in running))
        counts = {m.service: counts[m.service] for m in running}  # in MODULES order, whatever finished first
        caught_up = None
        if env.get("REPORTING_URL"):
            task = bar.add_task("reporting catches up", total=None)
            caught_up = await _catch_up(env, token, catch_up_timeout)
            bar.update(task, total=1, completed=1)
    return DemoReport(counts, skipped, time.monotonic() - started, caught_up, split, requests)


def _bar(enabled: bool) -> Progress:
    """The progress bar, on stderr (stdout keeps the summary), silent when disabled."""
    columns = (
        TextColumn("{task.description:<22}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    return Progress(*columns, console=Console(file=sys.stderr), disable=not enabled, transient=False)


def _advance(bar: Progress, task: Any) -> Callable[[int], None]:
    def advance(weight: int) -> None:
        if weight:
            bar.advance(task, weight)

    return advance


async def _catch_up(env: Mapping[str, str], token: str, timeout: float) -> float:
    """Seconds until every relay has published its whole store (``GET /outbox`` on each ``*_RELAY_URL``)
    and reporting's worker has applied everything on the topics (``GET /status``: ``behind`` 0)."""
    started = time.monotonic()
    await _published(env, token, started + timeout)
    reporting = ServiceClient(env["REPORTING_URL"], token)
    try:
        while (status := await reporting.get("/status")).get("behind") != 0:
            _give_up_after(started + timeout, f"reporting is still {status.get('behind')} events behind")
            await asyncio.sleep(0.25)
    finally:
        await reporting.aclose()
    return time.monotonic() - started


async def _published(env: Mapping[str, str], token: str, deadline: float, services: Sequence[str] = ()) -> None:
    """Until every relay (or those of ``services``) has published its whole store (``GET /outbox`` on each
    ``*_RELAY_URL``)."""
    for name, url in sorted(env.items()):
        if services and name.removesuffix("_RELAY_URL").lower() not in services:
            continue
        if name.endswith("_RELAY_URL") and url:
            relay = ServiceClient(url, token)
            try:
                while (outbox := await relay.get("/outbox"))["position"] < outbox["last_position"]:
                    _give_up_after(deadline, f"{name} has published {outbox['position']} of {outbox['last_position']}")
                    await asyncio.sleep(0.25)
            finally:
                await relay.aclose()


def _give_up_after(deadline: float, what: str) -> None:
    if time.monotonic() > deadline:
        raise DemoFailed(f"{what}; the demo gave up waiting")
