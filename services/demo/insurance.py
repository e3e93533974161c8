"""Insurance's part of the demo (社会保险): enrolments, monthly contributions, arrears, unemployment benefit,
retirees, deaths and survivor claims, planned from the ledger's history and sent through insurance's API.

Planned from registration's facts (``episodes.py``), so the county stays one story:

- a worker's last unit job in the county enrols them in the enterprise pension and unemployment insurance
  on the day it started (at most a year before the window, where the contribution ledger begins), and the
  job's end terminates both (``POST /enrolments/batch``, a person's two types in one item); every month in
  between is in that month's posting of both types' contributions (posted before the terminations: a posting
  needs the enrolment open);
- a few employers fall behind with a month's contributions (欠费), most of them pay later with the surcharge;
- an involuntary job loss followed by an unemployment registration still open today claims the benefit
  (失业保险条例 Art 14) a few days later and is paid month by month since; assistance's placements later
  stop some of them (insurance reacts to the placement's employment);
- each retirement in the window is transferred to community management with a pension and certified yearly;
- each death of an insured person is followed by the family's survivor claim and its payment.

A claim can only be made while the person is registered unemployed *today*: insurance checks the claim
against the ledger as it is now, so an unemployment spell that already ended cannot be claimed after the
fact. Every command carries an ``Idempotency-Key`` naming its fact, so a second run gets the first run's
answers; the contribution postings are idempotent by themselves (person, type and month).
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from services.demo.client import Call, DemoFailed, ServiceClient, batches, tally
from services.demo.core import Fact, Simulation
from services.demo.episodes import Spell, all_spells, month_of
from services.demo.timeline import add_months

SERVICE = "insurance"
#: The types a unit job enrols in.
UNIT_TYPES = ("enterprise_pension", "unemployment")
#: The types whose contributions the demo posts, with the employer's and the worker's rates in per mille
#: (the enterprise pension's 16 % and 8 % since 国办发〔2019〕13号; unemployment insurance's 0.7 % and 0.3 %).
POSTED_TYPES = {"enterprise_pension": (160, 80), "unemployment": (7, 3)}
#: Persons per ``POST /enrolments/batch`` (its limit is 1,000), batches in flight at once, and the pause before
#: a batch's items insurance could not decide yet go again.
ENROLMENTS_PER_BATCH = 500
BATCHES_IN_FLIGHT = 2
WAIT_SECONDS = 0.5
#: Contribution rows per ``POST /contributions`` (its limit is 10,000).
ROWS_PER_POSTING = 5_000
#: Months of contributions recorded before the window (a claim needs a year of them).
LEDGER_MONTHS_BEFORE = 12
#: Share of involuntary losses with an open registration that claim, and of employers that fall behind.
CLAIMS = 0.85
IN_ARREARS = 0.08
#: The first year of the province's income figure in insurance's default settings
#: (``PROVINCE_MONTHLY_INCOME_FEN``). A survivor claim is priced with the figure of the year before the death,
#: so only deaths from the year after it are claimed (a death in 2024 would be refused, 422
#: ``ProvinceIncomeFigureKnown``: the default size's county has some in the window's first quarter).
INCOME_FIGURES_FROM = 2024
#: What reacting services need to have seen before a command about a person or an employer works.
NOT_YET = ("404", "EmployerKnownFromRegistration", "BenefitNeedsUnemploymentRegistration", "SurvivorClaimAfterDeath")


class Insurance:
    """Insurance's history: see the module docstring."""

    service = SERVICE
    reacts_to: tuple[str, ...] = ("registration",)

    def plan(self, sim: Simulation) -> int:
        """Add insurance's facts (enrolments, postings, arrears, claims, retirees, survivors); the requests."""
        window = sim.window
        ledger_start = add_months(window.start, -LEDGER_MONTHS_BEFORE)
        last_month = add_months(window.today, -1)
        facts: list[Fact] = []
        insured: set[str] = set()
        died = {f.subject for f in sim.history.of_type("PersonDied")}
        months_posted: dict[str, int] = defaultdict(int)
        last_jobs: dict[str, Spell] = {}
        for job in all_spells(sim, "job"):
            if (
                job.start.data.get("employer")
                and job.subject not in died
                and not (job.until and job.until < ledger_start)
            ):
                last_jobs[job.subject] = job
        for job in last_jobs.values():
            employer = job.start.data["employer"]
            enrolled = max(job.start.day, ledger_start)
            rng = sim.rng(SERVICE, "job", job.subject, job.start.day)
            data = {"employer": employer, "base_fen": 100 * rng.randint(4_000, 7_500)}
            facts.append(Fact(enrolled, "InsuranceEnrolled", job.subject, data, source=SERVICE))
            insured.add(job.subject)
            if job.end is not None and job.end.type == "EmploymentEnded":
                facts.append(Fact(job.end.day, "EnrolmentTerminated", job.subject, {}, source=SERVICE))
            month = date(enrolled.year, enrolled.month, 1)
            while month <= last_month and (job.until is None or month <= job.until):
                facts.append(Fact(month, "ContributionPosted", job.subject, data, source=SERVICE))
                months_posted[job.subject] += 1
                month = add_months(month, 1)
        facts += _arrears(sim, ledger_start, last_month)
        facts += _claims(sim, months_posted)
        facts += _retirees(sim, insured)
        for death in sim.history.of_type("PersonDied"):
            if death.day.year - 1 < INCOME_FIGURES_FROM:
                continue
            if death.subject in insured or sim.rng(SERVICE, "survivor", death.subject).random() < 0.5:
                delay = timedelta(days=sim.rng(SERVICE, "claim", death.subject).randint(5, 40))
                claimed = min(window.today, death.day + delay)
                facts.append(Fact(claimed, "SurvivorBenefitsClaimed", death.subject, {}, source=SERVICE))
        for fact in facts:
            sim.history.add(fact)
        return _requests(facts)

    async def load(self, sim: Simulation, api: ServiceClient) -> Counter[str]:
        """Enrol, post each month, then the claims, arrears, retirees and survivors (see the module docstring)."""
        counts: Counter[str] = Counter()

        async def contributions() -> None:
            await _post_contributions(sim, api, counts)
            await _enrol(sim, api, counts, "EnrolmentTerminated")

        await _enrol(sim, api, counts, "InsuranceEnrolled")
        await asyncio.gather(
            contributions(),
            _load_arrears(sim, api, counts),
            _load_retirees(sim, api, counts),
            _load_survivors(sim, api, counts),
        )
        await _load_claims(sim, api, counts)
        return counts


MODULE = Insurance()


def _key(sim: Simulation, fact: Fact, what: str = "") -> str:
    """The ``Idempotency-Key`` of the command a fact becomes: the same fact, the same key."""
    return f"demo-{sim.seed}-{fact.type}-{fact.subject}-{fact.day}{what}"


# --- planning ------------------------------------------------------------------------------------------------


def _requests(facts: list[Fact]) -> int:
    """How many requests ``load`` sends for these facts (the progress bar's total)."""
    per_month = Counter(f.day for f in facts if f.type == "ContributionPosted")
    postings = sum(-(-n // ROWS_PER_POSTING) for n in per_month.values()) * len(POSTED_TYPES)
    per_fact = {"InsuranceEnrolled": len(UNIT_TYPES), "EnrolmentTerminated": len(UNIT_TYPES)}
    total = postings
    for fact in facts:
        if fact.type == "ContributionPosted":
            continue
        total += per_fact.get(fact.type, 1) + ("paid_on" in fact.data) + len(fact.data.get("paid", ()))
        total += len(fact.data.get("certified", ())) + (fact.type == "SurvivorBenefitsClaimed")
    return total


def _arrears(sim: Simulation, first: date, last: date) -> list[Fact]:
    """Some employers owe a month's contributions; most pay within months (the surcharge runs meanwhile)."""
    out = []
    for index, employer in enumerate(sim.population.employers):
        rng = sim.rng(SERVICE, "arrears", index)
        if rng.random() >= IN_ARREARS:
            continue
        month = add_months(sim.window.start, rng.randrange(len(sim.window.months) - 1))
        if not first <= month <= last:
            continue
        workers = {"micro": 3, "small": 12, "medium": 40, "large": 120}[employer.size]
        due = add_months(month, 1) + timedelta(days=14)
        data: dict[str, Any] = {"month": month_of(month), "workers": workers, "due_on": due}
        data["amount_fen"] = workers * 100 * rng.randint(700, 1_100)
        if due < sim.window.today:
            if rng.random() < 0.7:
                data["paid_on"] = sim.window.day_in(rng, due + timedelta(days=10), due + timedelta(days=200))
            out.append(Fact(due, "ArrearsAssessed", f"employer:{index}", data, source=SERVICE))
    return out


def _claims(sim: Simulation, months_posted: dict[str, int]) -> list[Fact]:
    """The benefit claims: involuntary losses with a year of contributions, registered unemployed today."""
    out = []
    today = sim.window.today
    for spell in all_spells(sim, "unemployment"):
        if not spell.open or not spell.start.data.get("involuntary") or months_posted[spell.subject] < 13:
            continue
        rng = sim.rng(SERVICE, "claim", spell.subject, spell.start.day)
        if rng.random() >= CLAIMS:
            continue
        registered = spell.start.day
        claimed = min(today, registered + timedelta(days=rng.randint(2, 20)))
        paid: list[str] = []
        month = date(registered.year, registered.month, 1)
        while add_months(month, 1) <= today and len(paid) < 24:  # months that have ended, paid in arrears
            paid.append(month_of(month))
            month = add_months(month, 1)
        out.append(Fact(claimed, "UnemploymentBenefitGranted", spell.subject, {"paid": paid}, source=SERVICE))
    return out


def _retirees(sim: Simulation, insured: set[str]) -> list[Fact]:
    """Insured workers retiring in the window move to community management with a pension (the others
    draw the resident pension, which the township does not manage), certified once a year."""
    out = []
    for retired in sim.history.of_type("PersonRetired"):
        if retired.subject not in insured:
            continue
        rng = sim.rng(SERVICE, "retiree", retired.subject)
        transferred = retired.day + timedelta(days=rng.randint(10, 45))
        if transferred > sim.window.today:
            continue
        certified, day = [], transferred + timedelta(days=rng.randint(300, 360))
        while day <= sim.window.today:
            certified.append(day)
            day += timedelta(days=rng.randint(330, 365))
        data = {
            "retired_on": retired.day,
            "pension_fen": 100 * rng.randint(1_600, 4_200),
            "years": rng.randint(15, 38),
            "certified": certified,
        }
        out.append(Fact(transferred, "RetireeTransferred", retired.subject, data, source=SERVICE))
    return out


# --- loading -------------------------------------------------------------------------------------------------


async def _enrol(sim: Simulation, api: ServiceClient, counts: Counter[str], fact_type: str) -> None:
    """Each insured job's enrolments (or terminations) in both types: one item of ``POST /enrolments/batch`` per
    person. Items insurance cannot decide yet (the worker has not seen the person or the employer) go again in
    a later batch until it has; every batch names itself in its ``Idempotency-Key``, and so does each retry
    (which items it holds follows from the answers before it), so a second run is answered from the first."""
    items = []
    for fact in sim.history.of_type(fact_type):
        changes: list[dict[str, Any]] = []
        for insurance_type in UNIT_TYPES:
            if fact.type == "InsuranceEnrolled":
                changes.append(
                    {
                        "action": "enrolment",
                        "insurance_type": insurance_type,
                        "basis": "employer",
                        "employer_id": sim.ids[fact.data["employer"]],
                        "enrolled_on": fact.day.isoformat(),
                    }
                )
            else:
                end = {"action": "termination", "insurance_type": insurance_type, "on": fact.day.isoformat()}
                changes.append({**end, "reason": "劳动关系终止"})
        items.append({"person_id": sim.ids[fact.subject], "changes": changes})
    what = "enrolments" if fact_type == "InsuranceEnrolled" else "enrolments terminated"

    async def send(number: int, chunk: list[dict[str, Any]]) -> None:
        for attempt in itertools.count():
            key = f"demo-{sim.seed}-{fact_type}-batch-{number}" + (f"-again-{attempt}" if attempt else "")
            weight = 0 if attempt else len(chunk) * len(UNIT_TYPES)
            reply = await api.send(
                Call("POST", "/enrolments/batch", {"items": chunk}, ok=(200,), key=key, weight=weight)
            )
            later = []
            for item, result in zip(chunk, reply.json()["results"], strict=True):
                if result["status"] == 200:
                    counts[f"{what}, already there" if reply.replayed else what] += result["changes"]
                elif _not_yet(result):
                    later.append(item)
                else:
                    raise DemoFailed(f"insurance refused {what[:-1]} {item}: {result}")
            if not later:
                return
            if attempt * WAIT_SECONDS > api.settle_seconds:
                raise DemoFailed(f"insurance still cannot decide {len(later)} {what}, e.g. {later[0]}")
            chunk = later
            await asyncio.sleep(WAIT_SECONDS)

    slots = asyncio.Semaphore(BATCHES_IN_FLIGHT)

    async def in_slot(number: int, chunk: list[dict[str, Any]]) -> None:
        async with slots:
            await send(number, chunk)

    await asyncio.gather(*(in_slot(n, list(c)) for n, c in enumerate(batches(items, ENROLMENTS_PER_BATCH))))


def _not_yet(result: dict[str, Any]) -> bool:
    """A batch item refused because insurance has not yet seen what registration reported."""
    problem = result.get("problem") or {}
    return result["status"] == 404 or problem.get("rule") in NOT_YET


async def _post_contributions(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    """One posting per month and type, split at ``ROWS_PER_POSTING``; a posted row posts nothing twice."""
    rows: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for fact in sim.history.of_type("ContributionPosted"):
        base = int(fact.data["base_fen"])
        for insurance_type, (employer_rate, personal_rate) in POSTED_TYPES.items():
            rows[month_of(fact.day), insurance_type].append(
                {
                    "person_id": sim.ids[fact.subject],
                    "insurance_type": insurance_type,
                    "employer_id": sim.ids[fact.data["employer"]],
                    "base_fen": base,
                    "employer_fen": base * employer_rate // 1000,
                    "personal_fen": base * personal_rate // 1000,
                }
            )
    calls = [
        Call("POST", "/contributions", {"month": month, "rows": list(chunk)}, ok=(200, 201))
        for (month, _), month_rows in sorted(rows.items())
        for chunk in batches(month_rows, ROWS_PER_POSTING)
    ]
    for month_calls in batches(calls, 4):  # postings lock the ledger's months: a few at a time
        for reply in await api.send_all(month_calls):
            body = reply.json()
            if body["refused"]:
                raise DemoFailed(f"insurance refused {body['refused']} contribution rows, e.g. {body['errors'][:3]}")
            if body.get("replayed"):  # the same rows posted before: this is the first posting's answer
                counts["contribution rows already posted"] += body["rows"]
                continue
            counts["contribution rows posted"] += body["posted"]
            counts["contribution rows already posted"] += body["already_posted"]
            counts["contributions fen posted"] += body["employer_fen"] + body["personal_fen"]


async def _load_arrears(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    chains = []
    for fact in sim.history.of_type("ArrearsAssessed"):
        data, path = fact.data, f"/employers/{sim.ids[fact.subject]}/arrears"
        body = {"month": data["month"], "amount_fen": data["amount_fen"], "workers": data["workers"]}
        chain = [Call("POST", path, {**body, "due_on": fact.day.isoformat()}, key=_key(sim, fact), wait_for=NOT_YET)]
        if "paid_on" in data:
            payment = {"amount_fen": data["amount_fen"], "paid_on": data["paid_on"].isoformat()}
            chain.append(Call("POST", f"{path}/{data['month']}/payment", payment, key=_key(sim, fact, "paid")))
        chains.append(chain)
    for replies in await api.send_chains(chains):
        tally(counts, "arrears assessed", replies[:1])
        tally(counts, "arrears paid", replies[1:])


async def _load_claims(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    """Each claim, then its months: as many as the grant allows (the last one granted ends the benefit)."""

    async def claim(fact: Fact) -> None:
        person = sim.ids[fact.subject]
        call = Call(
            "POST",
            f"/persons/{person}/unemployment-benefit",
            {"claimed_on": fact.day.isoformat()},
            key=_key(sim, fact),
            wait_for=NOT_YET,
        )
        reply = await api.send(call)
        tally(counts, "benefits granted", [reply])
        granted = reply.json()["events"][0]["data"]
        for month in list(fact.data["paid"])[: int(granted["months"])]:
            body = {"month": month}
            payment = Call("POST", f"/persons/{person}/unemployment-benefit/payments", body, key=_key(sim, fact, month))
            tally(counts, "benefit months paid", [await api.send(payment)])

    await asyncio.gather(*(claim(f) for f in sim.history.of_type("UnemploymentBenefitGranted")))


async def _load_retirees(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    chains = []
    for fact in sim.history.of_type("RetireeTransferred"):
        person, data = sim.ids[fact.subject], fact.data
        body = {
            "person_id": person,
            "monthly_pension_fen": data["pension_fen"],
            "retired_on": data["retired_on"].isoformat(),
            "contribution_years": data["years"],
            "transferred_on": fact.day.isoformat(),
        }
        chain = [Call("POST", "/retirees", body, key=_key(sim, fact), wait_for=NOT_YET)]
        for day in data["certified"]:
            path = f"/persons/{person}/certifications"
            chain.append(Call("POST", path, {"certified_on": day.isoformat()}, key=_key(sim, fact, str(day))))
        chains.append(chain)
    for replies in await api.send_chains(chains):
        tally(counts, "retirees transferred", replies[:1])
        tally(counts, "retiree certifications", replies[1:])


async def _load_survivors(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    chains = []
    for fact in sim.history.of_type("SurvivorBenefitsClaimed"):
        path = f"/persons/{sim.ids[fact.subject]}/survivor-benefits"
        paid = min(sim.window.today, fact.day + timedelta(days=20))
        chains.append(
            [
                Call("POST", path, {"claimed_on": fact.day.isoformat()}, key=_key(sim, fact), wait_for=NOT_YET),
                Call("POST", path + "/payment", {"paid_on": paid.isoformat()}, key=_key(sim, fact, "paid")),
            ]
        )
    for replies in await api.send_chains(chains):
        tally(counts, "survivor claims paid", replies[1:])
