"""Assistance's part of the demo (就业援助), planned from the ledger's history and sent through assistance's API.

Assistance opens a case for every unemployment registration by itself (its reaction to registration's
events), with the registration's own date, and closes it on re-employment. This module adds what staff
do with the cases still open today, each on a past day of its spell:

- vocational guidance soon after the registration, home visits, training referrals and completions;
- hard-to-employ certification (就业困难人员认定) through all three levels for the urban 4050s and the
  long-term unemployed: the village station applies, the township reviews and gives public notice, the
  county decides after the notice;
- public-welfare posts (公益性岗位) of each township, filled with certified persons;
- referrals to the vacancies open today, some of them hired: the placement (安置就业) that registration
  records as employment and insurance answers by stopping the benefit;
- zero-employment households (零就业家庭): assistance detects them from the household snapshots registration
  publishes; the township confirms most, dismisses a few (business income), and a few refuse help; a
  member's placement clears the rest.

Only what is still open today can be served: assistance checks a command against the case as it is now,
and the ledger's later changes have already closed the cases of people back in work. Detection and
confirmation of households carry the day of the run, because registration's household events do
(``POST /households`` takes no date). Every command carries an ``Idempotency-Key`` naming its fact.
"""

from __future__ import annotations

import asyncio
from collections import Counter, defaultdict
from datetime import date, timedelta
from typing import Any

from contracts.retirement import is_working_age
from services.demo.client import Call, ServiceClient, tally
from services.demo.core import Fact, Simulation
from services.demo.episodes import all_spells, last_status_day, status_today
from services.demo.timeline import anniversary
from services.registration.domain.working_age import age_on

SERVICE = "assistance"
COUNTY = "430527"
#: Women of 40 and men of 50 and over (4050): a category of hard-to-employ when urban.
AGE_4050 = {"female": 40, "male": 50}
#: Reactions a command waits for: the case registration's unemployment opens, the vacancy it publishes,
#: the household snapshots that detect a zero-employment household.
NOT_YET = ("404", "ApplicantHasOpenCase", "ReferralToOpenVacancy", "ConfirmationFollowsDetection")
_SERVICES = {"GuidanceGiven": ("guidance", "given_on"), "HomeVisited": ("home-visits", "visited_on")}


class Assistance:
    """Assistance's history: see the module docstring."""

    service = SERVICE
    reacts_to: tuple[str, ...] = ("registration", "insurance")

    def plan(self, sim: Simulation) -> int:
        """Add the services, certifications, posts, referrals and household steps; the requests ``load`` sends."""
        facts: list[Fact] = []
        today = sim.window.today
        vacancies = _open_vacancies(sim)
        posts = _posts(sim, facts)
        for spell in all_spells(sim, "unemployment"):
            if not spell.open or status_today(sim, spell.subject) != "registered_unemployed":
                continue
            subject, registered = spell.subject, spell.start.day
            rng = sim.rng(SERVICE, "case", subject)
            person = sim.population.persons[int(subject.partition(":")[2])]
            township = _region_today(sim, subject)[:9] + "000"
            facts.append(Fact(today, "CaseServed", subject, {}, source=SERVICE))
            if (given := registered + timedelta(days=rng.randint(3, 30))) < today:
                facts.append(Fact(given, "GuidanceGiven", subject, {"topic": "求职技巧"}, source=SERVICE))
            if rng.random() < 0.4 and (visited := registered + timedelta(days=rng.randint(10, 60))) < today:
                facts.append(Fact(visited, "HomeVisited", subject, {}, source=SERVICE))
            if rng.random() < 0.2 and (referred := registered + timedelta(days=rng.randint(20, 90))) < today:
                done = referred + timedelta(days=rng.randint(30, 75))
                data = {"occupation": rng.choice(("家政服务员", "电工", "叉车司机", "育婴员")), "completed": done}
                facts.append(Fact(referred, "TrainingReferred", subject, data, source=SERVICE))
            certified = _certification(sim, facts, subject, person, registered, rng)
            after = last_status_day(sim, subject) + timedelta(days=1)
            if certified and after <= today and rng.random() < 0.5 and posts.get(township):
                post = posts[township]
                if post["vacant"] > 0:
                    post["vacant"] -= 1
                    started = max(after, certified + timedelta(days=1), post["starts"])
                    if started <= today:
                        data = {"post": post["subject"]}
                        facts.append(Fact(started, "PublicWelfarePostFilled", subject, data, source=SERVICE))
                        continue
            nearby = [v for v in vacancies if v["township"] == township and v["left"] > 0]
            if nearby and after <= today and rng.random() < 0.6:
                vacancy = rng.choice(nearby)
                outcome = rng.choices(("hired", "not_hired", "no_show"), (40, 45, 15))[0]
                if outcome == "hired":
                    vacancy["left"] -= 1
                referred_on = sim.window.day_in(rng, after, today)
                data = {"vacancy": vacancy["subject"], "outcome": outcome}
                facts.append(Fact(referred_on, "JobReferred", subject, data, source=SERVICE))
        facts += _households(sim)
        for fact in facts:
            sim.history.add(fact)
        return sum(_REQUESTS.get(f.type, 1) for f in facts)

    async def load(self, sim: Simulation, api: ServiceClient) -> Counter[str]:
        """Cases' services and certifications, posts, then households, then referrals and post fills."""
        counts: Counter[str] = Counter()
        cases = await _cases(sim, api)
        await asyncio.gather(_serve(sim, api, cases, counts), _certify(sim, api, counts), _open_posts(sim, api, counts))
        await _confirm_households(sim, api, counts)
        await _place(sim, api, cases, counts)
        return counts


MODULE = Assistance()
#: Requests per fact where a fact is more than one.
_REQUESTS = {"HardToEmployApplied": 3, "JobReferred": 2, "TrainingReferred": 2}


def _key(sim: Simulation, fact: Fact, what: str = "") -> str:
    return f"demo-{sim.seed}-{fact.type}-{fact.subject}-{fact.day}{what}"


def _region_today(sim: Simulation, subject: str) -> str:
    region = ""
    for fact in sim.history.of(subject):
        if fact.type in ("PersonRegistered", "PersonMoved"):
            region = str(fact.data["region_code"])
    return region


# --- planning ------------------------------------------------------------------------------------------------


def _certification(
    sim: Simulation, facts: list[Fact], subject: str, person: Any, registered: date, rng: Any
) -> date | None:
    """Apply, review, decide for an urban 4050 or a long-term unemployed; the day certified, or None."""
    today = sim.window.today
    long_term = anniversary(registered, 1) + timedelta(days=7)
    applied = registered + timedelta(days=rng.randint(20, 60))
    aged = person.hukou == "urban" and age_on(person.birth_date, applied) >= AGE_4050[person.sex]
    if not aged:
        applied = max(applied, long_term)
    if not (aged or long_term <= today) or rng.random() >= 0.7:
        return None
    reviewed = applied + timedelta(days=rng.randint(3, 8))
    decided = reviewed + timedelta(days=rng.randint(14, 25))  # after the notice of 5 working days
    if decided >= today:
        return None
    data = {"reviewed": reviewed, "decided": decided}
    facts.append(Fact(applied, "HardToEmployApplied", subject, data, source=SERVICE))
    return decided


def _posts(sim: Simulation, facts: list[Fact]) -> dict[str, dict[str, Any]]:
    """One public-welfare post per township, its term of three years starting early in the window."""
    posts: dict[str, dict[str, Any]] = {}
    townships = sorted({v.region_code[:9] + "000" for v in sim.population.service_points})
    for township in townships:
        if township.endswith("000000"):
            continue
        rng = sim.rng(SERVICE, "post", township)
        starts = sim.window.day_in(rng, sim.window.start, sim.window.start + timedelta(days=200))
        data = {
            "region_code": township,
            "title": rng.choice(("保洁员", "护林员", "治安巡逻员", "公共设施管护员")),
            "positions": rng.randint(2, 6),
            "subsidy_fen": 100 * rng.randint(1_200, 1_800),
            "ends": anniversary(starts, 3) - timedelta(days=1),  # at most three years (docs/rules.md)
        }
        subject = f"post:{township}"
        facts.append(Fact(starts, "PublicWelfarePostCreated", subject, data, source=SERVICE))
        posts[township] = {"subject": subject, "vacant": data["positions"], "starts": starts}
    return posts


def _open_vacancies(sim: Simulation) -> list[dict[str, Any]]:
    """Vacancies open today with positions left, by township."""
    filled = Counter(f.subject for f in sim.history.of_type("VacancyFilled"))
    closed = {f.subject for f in sim.history.of_type("VacancyClosed")}
    employers = sim.population.employers
    out = []
    for fact in sim.history.of_type("VacancyOpened"):
        if fact.subject in closed or fact.data["closes"] <= sim.window.today:
            continue
        left = int(fact.data["positions"]) - filled[fact.subject]
        employer = employers[int(str(fact.data["employer"]).partition(":")[2])]
        out.append({"subject": fact.subject, "left": left, "township": employer.region_code[:9] + "000"})
    return out


def _households(sim: Simulation) -> list[Fact]:
    """Each household zero-employment today (as assistance detects it): confirmed, dismissed or refusing."""
    out = []
    today = sim.window.today
    persons = sim.population.persons
    for household in sim.history.of_type("HouseholdCreated"):
        statuses = []
        for member, _ in household.data["members"]:
            person = persons[int(member.partition(":")[2])]
            status = status_today(sim, member)
            working_age = is_working_age(person.birth_date, person.sex, today)  # type: ignore[arg-type]
            if status not in ("retired", "deceased") and working_age:
                statuses.append(status)
        if "registered_unemployed" not in statuses or "employed" in statuses:
            continue
        draw = sim.rng(SERVICE, "household", household.subject).random()
        step = "dismissed" if draw < 0.1 else ("refused" if draw < 0.18 else "confirmed")
        out.append(Fact(today, "ZeroEmploymentHousehold", household.subject, {"step": step}, source=SERVICE))
    return out


# --- loading -------------------------------------------------------------------------------------------------


def _village(sim: Simulation, subject: str) -> str:
    return _region_today(sim, subject)


async def _cases(sim: Simulation, api: ServiceClient) -> dict[str, str]:
    """The case id of each person served, once assistance has opened it (its reaction to registration)."""
    facts = sim.history.of_type("CaseServed")
    calls = [Call("GET", f"/persons/{sim.ids[f.subject]}/case", ok=(200,), wait_for=("404",)) for f in facts]
    return {f.subject: str(r.json()["case_id"]) for f, r in zip(facts, await api.send_all(calls), strict=True)}


async def _serve(sim: Simulation, api: ServiceClient, cases: dict[str, str], counts: Counter[str]) -> None:
    chains: dict[str, list[Call]] = defaultdict(list)
    for fact in sim.history.of_type(*_SERVICES):
        route, field = _SERVICES[fact.type]
        body: dict[str, Any] = {field: fact.day.isoformat()}
        if fact.type == "GuidanceGiven":
            body |= {"topic": fact.data["topic"], "outcome": "已制定求职计划"}
        else:
            body |= {"findings": "本人有就业意愿，希望就近就业", "needs": ["就近就业", "技能培训"]}
        token = sim.staff.token("village", _village(sim, fact.subject))
        call = Call("POST", f"/cases/{cases[fact.subject]}/{route}", body, token=token, key=_key(sim, fact))
        chains[fact.subject].append(call)
    for replies in await api.send_chains(list(chains.values())):
        tally(counts, "services recorded", replies)
    # The training's id is in the referral's answer; a second run reads it from the replayed answer.
    trainings = sim.history.of_type("TrainingReferred")
    referrals = await api.send_all(
        Call(
            "POST",
            f"/cases/{cases[f.subject]}/trainings",
            {"occupation": f.data["occupation"], "provider": "绥宁县职业中专", "referred_on": f.day.isoformat()},
            token=sim.staff.token("village", _village(sim, f.subject)),
            key=_key(sim, f),
        )
        for f in trainings
    )
    tally(counts, "trainings referred", referrals)
    calls = []
    for fact, reply in zip(trainings, referrals, strict=True):
        if fact.data["completed"] >= sim.window.today:
            continue
        training = reply.json()["events"][0]["data"]["training_id"]
        body = {"certificate": f"{fact.data['occupation']}五级", "completed_on": fact.data["completed"].isoformat()}
        path = f"/cases/{cases[fact.subject]}/trainings/{training}/completion"
        calls.append(Call("POST", path, body, key=_key(sim, fact, "done")))
    tally(counts, "trainings completed", await api.send_all(calls))


async def _certify(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    """Village applies, township reviews, county decides: three people at three levels."""

    async def certify(fact: Fact) -> None:
        village = _village(sim, fact.subject)
        body = {"person_id": sim.ids[fact.subject], "applied_on": fact.day.isoformat()}
        apply = Call(
            "POST",
            "/hard-to-employ/applications",
            body,
            ok=(201,),
            token=sim.staff.token("village", village),
            key=_key(sim, fact),
            wait_for=NOT_YET,
        )
        reply = await api.send(apply)
        path = f"/hard-to-employ/applications/{reply.json()['id']}"
        review = {"passed": True, "reason": "材料齐全", "reviewed_on": fact.data["reviewed"].isoformat()}
        token = sim.staff.token("township", village[:9] + "000")
        await api.send(Call("POST", f"{path}/review", review, token=token, key=_key(sim, fact, "review")))
        decision = {"certify": True, "reason": "公示无异议", "decided_on": fact.data["decided"].isoformat()}
        token = sim.staff.token("county", COUNTY)
        decided = await api.send(Call("POST", f"{path}/decision", decision, token=token, key=_key(sim, fact, "decide")))
        counts["hard-to-employ certified, already there" if decided.replayed else "hard-to-employ certified"] += 1

    await asyncio.gather(*(certify(f) for f in sim.history.of_type("HardToEmployApplied")))


async def _open_posts(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    facts = sim.history.of_type("PublicWelfarePostCreated")
    calls = []
    for fact in facts:
        data = fact.data
        body = {
            "region_code": data["region_code"],
            "unit": "乡镇人民政府",
            "title": data["title"],
            "positions": data["positions"],
            "monthly_subsidy_fen": data["subsidy_fen"],
            "term_starts_on": fact.day.isoformat(),
            "term_ends_on": data["ends"].isoformat(),
        }
        token = sim.staff.token("township", data["region_code"])
        calls.append(Call("POST", "/public-welfare-posts", body, ok=(201,), token=token, key=_key(sim, fact)))
    replies = await api.send_all(calls)
    for fact, reply in zip(facts, replies, strict=True):
        sim.ids[fact.subject] = str(reply.json()["id"])
    tally(counts, "public-welfare posts created", replies)


async def _confirm_households(sim: Simulation, api: ServiceClient, counts: Counter[str]) -> None:
    """The township's confirmation or dismissal, then a refusal of help for some (all today: see above)."""
    chains = []
    for fact in sim.history.of_type("ZeroEmploymentHousehold"):
        path = f"/households/{sim.ids[fact.subject]}/zero-employment"
        region = str(sim.history.of(fact.subject)[0].data["region_code"])
        token = sim.staff.token("township", region[:9] + "000")
        if fact.data["step"] == "dismissed":
            first = Call("POST", f"{path}/dismissal", {"reason": "有经营性收入"}, token=token, wait_for=NOT_YET)
            chain = [first]
        else:
            chain = [Call("POST", f"{path}/confirmation", {}, token=token, wait_for=NOT_YET)]
            if fact.data["step"] == "refused":
                chain.append(Call("POST", f"{path}/refusal", {}, token=token))
        chains.append(
            [
                Call(c.method, c.path, c.body, token=c.token, key=_key(sim, fact, c.path), wait_for=c.wait_for)
                for c in chain
            ]
        )
    for replies in await api.send_chains(chains):
        tally(counts, "zero-employment household steps", replies)


async def _place(sim: Simulation, api: ServiceClient, cases: dict[str, str], counts: Counter[str]) -> None:
    """Referrals with their outcomes (a hire is a placement) and post fills, person by person."""

    async def refer(fact: Fact) -> None:
        vacancy = sim.ids.get(str(fact.data["vacancy"]))
        if vacancy is None:  # opened by an earlier run: its referrals are there already
            return
        case, token = cases[fact.subject], sim.staff.token("village", _village(sim, fact.subject))
        body = {"vacancy_id": vacancy, "referred_on": fact.day.isoformat()}
        call = Call("POST", f"/cases/{case}/referrals", body, token=token, key=_key(sim, fact), wait_for=NOT_YET)
        referral = (await api.send(call)).json()["events"][0]["data"]["referral_id"]
        outcome: dict[str, Any] = {"outcome": fact.data["outcome"], "recorded_on": fact.day.isoformat()}
        if fact.data["outcome"] == "hired":
            outcome["started_on"] = fact.day.isoformat()
        path = f"/cases/{case}/referrals/{referral}/outcome"
        reply = await api.send(Call("POST", path, outcome, token=token, key=_key(sim, fact, "outcome")))
        tally(counts, f"referrals {fact.data['outcome']}", [reply])

    async def fill(fact: Fact) -> None:
        post = str(fact.data["post"])
        body = {"person_id": sim.ids[fact.subject], "started_on": fact.day.isoformat()}
        token = sim.staff.token("township", post.partition(":")[2])
        path = f"/public-welfare-posts/{sim.ids[post]}/fills"
        tally(
            counts,
            "public-welfare posts filled",
            [await api.send(Call("POST", path, body, token=token, key=_key(sim, fact)))],
        )

    await asyncio.gather(
        *(refer(f) for f in sim.history.of_type("JobReferred")),
        *(fill(f) for f in sim.history.of_type("PublicWelfarePostFilled")),
    )
