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
``service`` (its name in ``services/platform.py``), ``plan(sim) -> int`` and ``async load(sim, api)``
(``core.DemoModule``), and one entry in ``MODULES`` below, after the modules whose facts it reacts to:

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
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date

from services.demo import registration
from services.demo.core import DemoModule, DemoReport, run_demo
from services.demo.population import DEFAULT_SEED, generate_population
from services.demo.timeline import Window

#: Every service's part of the simulation, in the order they plan and load (see above).
MODULES: tuple[DemoModule, ...] = (registration.MODULE,)

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


def load_demo(
    env: Mapping[str, str], *, persons: int = DEFAULT_PERSONS, seed: int = DEFAULT_SEED, progress: bool = True
) -> dict[str, int]:
    """``renshe stack demo``: run the simulation; what each service did, as ``"service: what" -> count``."""
    report = simulate(env, persons=persons, seed=seed, progress=progress)
    summary = {f"{service}: {what}": n for service, counts in report.counts.items() for what, n in counts.items()}
    summary.update({f"{service}: not running, skipped": 0 for service in report.skipped})
    return summary
