"""``make demo``: the demo county's last two years, simulated and sent through the services' public APIs.

The county (绥宁县 430527, ``population.py``) is simulated from eight quarters back to today
(``timeline.Window``): residents entering the ledger, jobs starting and ending, unemployment
registrations, moves, deaths, retirements, the quarterly survey, employers and their vacancies, service
points. Every fact carries its own past date, so reporting's figures, series, ``as_of`` views and
quarterly reports show a labour market rather than one day's ledger. Nothing writes a table: the demo
is a client of the APIs like any other (docs/design.md section 8).

Deterministic for a seed (``--seed``) and a day, sized by ``--persons``, idempotent (a second run writes
nothing twice, see ``registration.py``), with a progress bar on stderr.

Adding a service's history (the hook)
-------------------------------------
Each service contributes one module, ``services/demo/<service>.py``, with an object that has
``service`` (its name in ``services/platform.py``), ``reacts_to`` (the modules whose loading it waits for),
``plan(sim) -> int`` and ``async load(sim, api)`` (``core.DemoModule``), and one entry in ``MODULES`` below,
after the modules whose facts it reacts to. Modules that react to the same ones load side by side
(assistance and supervision both after insurance):

- ``plan`` is pure. It reads what earlier modules planned from ``sim.history`` (``Fact``: a day, the
  event type it becomes, a subject such as ``person:17``, data such as ``reason`` and ``involuntary``),
  adds its own facts with ``sim.history.add`` and returns how many requests ``load`` will send (the
  progress bar's total). It draws randomness only from ``sim.rng(service, ...)``: its own streams, so
  adding a module never changes what the others produce.
- ``load`` sends those facts through its own API with ``api`` (a ``client.ServiceClient`` for
  ``<SERVICE>_URL`` with the development token: ``send``, ``send_all``, ``send_chains``), reads the ids
  of subjects other modules created from ``sim.ids`` (``sim.ids["person:17"]`` is that person's
  ``person_id``), records its own, and returns a ``Counter`` of what it did. It must be idempotent the
  same way: let the service say what already exists (a 409, a version) rather than remember it.

For example, insurance's benefit claims after registration's involuntary job losses::

    class Insurance:
        service = "insurance"
        reacts_to = ("registration",)

        def plan(self, sim: Simulation) -> int:
            claims = 0
            for lost in sim.history.of_type("UnemploymentRegistered"):
                if lost.data["involuntary"] and sim.rng(self.service, lost.subject, lost.day).random() < 0.7:
                    sim.history.add(Fact(lost.day + timedelta(days=5), "BenefitClaimed", lost.subject,
                                         source=self.service))
                    claims += 1
            return claims

        async def load(self, sim: Simulation, api: ServiceClient) -> Counter[str]:
            calls = [Call("POST", "/benefit-claims", {"person_id": sim.ids[f.subject],
                                                      "claimed_on": f.day.isoformat()}, ok=(201, 409))
                     for f in sim.history.of_type("BenefitClaimed")]
            return Counter(f"claims {r.status}" for r in await api.send_all(calls))

    MODULE = Insurance()        # and in MODULES: (registration.MODULE, insurance.MODULE)

A module whose service is not running (no ``<SERVICE>_URL`` in ``stack.env``) is skipped and named in
the summary. Its facts are then not planned, so what the others send stays the same.

The modules today: ``registration.py`` (the ledger, households included), ``insurance.py``,
``assistance.py`` and ``supervision.py``, in that order; ``episodes.py`` reads a person's jobs and
unemployment spells from the history for them. What they share:

- A module loads after the relays have published what the modules it reacts to wrote; a request that needs
  another service's reaction (insurance must have seen the person, assistance must have opened the case)
  names the refusals that mean "not yet" in ``Call.wait_for`` and is sent again until the reaction is there.
- Staff steps go as the demo's staff (``core.Staff``: ``sim.staff.token("township", code)``), signed with the
  stack's ``JWT_SECRET``, which ``renshe stack demo`` reads from the data directory's ``secrets.env``.
- Commands without a natural key send an ``Idempotency-Key`` naming their fact (``Call.key``); a second run
  gets the first run's answers back (``Reply.replayed``), which ``client.tally`` counts as "already there".
- A reacting service checks a command against its state *today*, after the whole ledger history has been
  written: so benefits, services and certifications are planned for the spells still open today.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from pathlib import Path

from services.demo import assistance, insurance, registration, supervision
from services.demo.core import DemoModule, DemoReport, run_demo
from services.demo.population import DEFAULT_SEED, generate_population
from services.demo.timeline import Window

#: Every service's part of the simulation, in the order they plan and load (see above).
MODULES: tuple[DemoModule, ...] = (registration.MODULE, insurance.MODULE, assistance.MODULE, supervision.MODULE)

#: The day the population's ages are counted on. Fixed rather than today, so that a run on another day
#: generates the same residents (the same ID numbers) and finds them already registered.
POPULATION_DAY = date(2026, 7, 1)
DEFAULT_PERSONS = 20_000


def simulate(
    env: Mapping[str, str],
    *,
    persons: int = DEFAULT_PERSONS,
    seed: int = DEFAULT_SEED,
    today: date | None = None,
    progress: bool = True,
    modules: Sequence[DemoModule] = MODULES,
) -> DemoReport:
    """Simulate the county and send it to the running stack whose ``stack.env`` values are ``env``."""
    day = today or date.today()
    population = generate_population(persons, seed=seed, as_of=min(POPULATION_DAY, day))
    return run_demo(env, modules, population=population, seed=seed, window=Window.ending(day), progress=progress)


def staff_secret(data_dir: Path) -> dict[str, str]:
    """``JWT_SECRET`` of the local stack in ``data_dir`` (its ``secrets.env``), for ``simulate``'s ``env``: the
    demo acts as village, township and county staff and inspectors, not only as the development admin."""
    path = data_dir / "secrets.env"
    if not path.exists():
        return {}
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {"JWT_SECRET": values["JWT_SECRET"]} if "JWT_SECRET" in values else {}


def load_demo(
    env: Mapping[str, str], *, persons: int = DEFAULT_PERSONS, seed: int = DEFAULT_SEED, progress: bool = True
) -> dict[str, int]:
    """``renshe stack demo``: run the simulation; what each service did, as ``"service: what" -> count``."""
    report = simulate(env, persons=persons, seed=seed, progress=progress)
    summary = {f"{service}: {what}": n for service, counts in report.counts.items() for what, n in counts.items()}
    summary.update({f"{service}: not running, skipped": 0 for service in report.skipped})
    return summary
