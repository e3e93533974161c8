"""Supervision's part of the demo (劳动保障监察, 调解), planned from what the ledger and insurance already did.

- Complaints (投诉) come from the county's workers: a worker dismissed or forced to resign complains of
  unpaid wages now and then, and an employer that fell behind with its contributions draws complaints
  of unpaid insurance. The inspectors accept most within the 5 working days, refuse a few (not theirs to
  handle); an accepted complaint is a case (立案) that is inspected, ordered to rectify, verified and
  closed, mostly well within its 60 working days; one or two are left open past their limit.
- Every township's grid inspectors (网格化巡查) visit employers each quarter; what they find is followed up.
- Disputes go to the township mediation committees (调解): most are agreed, the rest referred to
  arbitration (仲裁), accepted and awarded at the county.
- Petitions (信访) are assigned and answered.
- Employers' compliance ratings follow from the cases by themselves (supervision's own rules).

Every date is a past day of the window and every command carries an ``Idempotency-Key`` naming its fact.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date, timedelta
from typing import Any

from services.demo.client import Call, DemoFailed, ServiceClient, tally
from services.demo.core import Fact, Simulation

SERVICE = "supervision"
COUNTY = "430527"
#: Chance that a dismissal, or a month of contribution arrears, leads to a complaint.
COMPLAINS_AFTER_DISMISSAL = 0.08
COMPLAINS_AFTER_ARREARS = 0.5
REFUSED = 0.12
#: Of the accepted complaints: the share left open past the limit (at least one), the share with a penalty.
LEFT_OVERDUE = 0.03
PENALISED = 0.15
#: A complaint's request of supervision waits for the employer registration published.
NOT_YET = ("404", "EmployerKnownFromRegistration")


class Supervision:
    """Supervision's history: see the module docstring."""

    service = SERVICE
    reacts_to: tuple[str, ...] = ("registration", "insurance")

    def plan(self, sim: Simulation) -> int:
        """Add complaints and their cases, grid inspections, mediations and petitions; the requests."""
        facts: list[Fact] = []
        employers_of: dict[str, str] = {}
        for fact in sim.history.of_type("EmploymentRegistered"):
            if fact.data.get("employer"):
                employers_of[fact.subject] = str(fact.data["employer"])
        for ended in sim.history.of_type("EmploymentEnded"):
            employer = employers_of.get(ended.subject)
            if employer is None or ended.data["reason"] not in ("dismissed", "resigned_employer_fault"):
                continue
            rng = sim.rng(SERVICE, "complaint", ended.subject, ended.day)
            if rng.random() < COMPLAINS_AFTER_DISMISSAL:
                facts += _complaint(sim, rng, ended.day, employer, ended.subject, "wage_arrears")
        for arrears in sim.history.of_type("ArrearsAssessed"):
            rng = sim.rng(SERVICE, "complaint", arrears.subject, arrears.day)
            if rng.random() < COMPLAINS_AFTER_ARREARS:
                facts += _complaint(sim, rng, arrears.day, arrears.subject, None, "insurance_not_paid")
        _leave_overdue(sim, facts)
        facts += _grid(sim)
        facts += _disputes(sim, employers_of)
        facts += _petitions(sim)
        for fact in facts:
            sim.history.add(fact)
        return sum(1 + len(f.data.get("steps", ())) for f in facts)

    async def load(self, sim: Simulation, api: ServiceClient) -> Counter[str]:
        """Each complaint, inspection, dispute and petition with its steps in order, side by side."""
        counts: Counter[str] = Counter()
        await asyncio.gather(
            *(_complaint_chain(sim, api, f, counts) for f in sim.history.of_type("ComplaintFiled")),
            *(_chain(sim, api, f, counts) for f in sim.history.of_type("GridInspectionRecorded")),
            *(_chain(sim, api, f, counts) for f in sim.history.of_type("MediationApplied")),
            *(_chain(sim, api, f, counts) for f in sim.history.of_type("PetitionRegistered")),
        )
        return counts


MODULE = Supervision()


def _key(sim: Simulation, fact: Fact, step: int) -> str:
    return f"demo-{sim.seed}-{fact.type}-{fact.subject}-{fact.day}-{step}"


def _township(sim: Simulation, employer: str) -> str:
    return sim.population.employers[int(employer.partition(":")[2])].region_code[:9] + "000"


# --- planning ------------------------------------------------------------------------------------------------


def _complaint(sim: Simulation, rng: Any, after: date, employer: str, person: str | None, kind: str) -> list[Fact]:
    """A complaint received some weeks after what it is about, and what the inspectors did with it."""
    today = sim.window.today
    received = after + timedelta(days=rng.randint(7, 60))
    if received >= today:
        return []
    workers = 1 if person else rng.randint(3, 20)
    amount = workers * 100 * rng.randint(3_000, 9_000)
    data: dict[str, Any] = {
        "employer": employer,
        "person": person,
        "type": kind,
        "from": after - timedelta(days=rng.randint(30, 90)),
        "workers": workers,
        "amount_fen": amount,
    }
    steps: list[tuple[str, dict[str, Any], date]] = []
    decided = received + timedelta(days=rng.randint(1, 4))
    if decided > today:
        data["steps"] = steps
        return [Fact(received, "ComplaintFiled", f"complaint:{employer}:{received}:{person}", data, source=SERVICE)]
    if rng.random() < REFUSED:
        # The usual refusal: a dispute over what is owed, for mediation and arbitration, not inspection.
        explanation = "属于劳动争议，请向乡镇调解委员会申请调解或申请劳动仲裁"
        steps.append(("refusal", {"reason": "outside_scope", "explanation": explanation}, decided))
    else:
        steps.append(("acceptance", {}, decided))
        day = decided + timedelta(days=rng.randint(5, 20))
        found = rng.random() < 0.85
        steps.append(("inspections", {"findings": "核查工资支付和社保缴费记录", "violation_found": found}, day))
        if found:
            day += timedelta(days=1)
            steps.append(("rectification-orders", {"requirements": "限期整改，补发补缴", "workdays": 10}, day))
            day += timedelta(days=rng.randint(10, 16))
            steps.append(("rectification-verification", {"complied": True, "wages_paid_fen": amount}, day))
            if rng.random() < PENALISED:
                day += timedelta(days=2)
                basis = "劳动保障监察条例 Art 26"
                steps.append(("penalties", {"amount_fen": 100 * rng.randint(2_000, 20_000), "legal_basis": basis}, day))
        day += timedelta(days=rng.randint(2, 10))
        outcome = ("penalised" if steps[-1][0] == "penalties" else "corrected") if found else "no_violation"
        steps.append(("closure", {"outcome": outcome}, day))
    data["steps"] = [s for s in steps if s[2] <= today]
    return [Fact(received, "ComplaintFiled", f"complaint:{employer}:{received}:{person}", data, source=SERVICE)]


def _leave_overdue(sim: Simulation, facts: list[Fact]) -> None:
    """One or two accepted complaints whose case the inspectors never closed: past the 60 working days."""
    old = [
        f
        for f in facts
        if f.data["steps"] and f.data["steps"][0][0] == "acceptance" and f.day < sim.window.today - timedelta(days=150)
    ]
    rng = sim.rng(SERVICE, "overdue")
    for fact in rng.sample(old, k=min(len(old), max(1, round(LEFT_OVERDUE * len(old))))):
        fact.data["steps"][:] = fact.data["steps"][:2]  # accepted and inspected, then nothing


def _grid(sim: Simulation) -> list[Fact]:
    """Each quarter a township's grid inspectors visit a few of its employers; findings are followed up."""
    out = []
    for index in range(len(sim.population.employers)):
        registered = sim.history.of(f"employer:{index}")[0].day
        for quarter, first, last in sim.window.quarters:
            rng = sim.rng(SERVICE, "grid", index, quarter)
            if rng.random() >= 0.25:
                continue
            day = sim.window.day_in(rng, first, last)
            if day <= registered or day >= sim.window.today:
                continue
            findings = []
            if rng.random() < 0.2:
                findings = [{"scope": "labour_contracts", "description": "部分员工未签书面劳动合同", "workers": 2}]
            steps = []
            if findings and (followed := day + timedelta(days=rng.randint(5, 15))) < sim.window.today:
                steps.append(("follow-up", {"resolved": True, "notes": "已补签合同"}, followed))
            data = {
                "employer": f"employer:{index}",
                "grid": f"第{rng.randint(1, 6)}网格",
                "findings": findings,
                "steps": steps,
            }
            out.append(Fact(day, "GridInspectionRecorded", f"grid:{index}:{quarter}", data, source=SERVICE))
    return out


def _disputes(sim: Simulation, employers_of: dict[str, str]) -> list[Fact]:
    """Some job endings become disputes: mediated and agreed, or referred to arbitration and awarded."""
    out = []
    today = sim.window.today
    for ended in sim.history.of_type("EmploymentEnded"):
        employer = employers_of.get(ended.subject)
        rng = sim.rng(SERVICE, "dispute", ended.subject, ended.day)
        if employer is None or rng.random() >= 0.03:
            continue
        received = ended.day + timedelta(days=rng.randint(5, 40))
        if received >= today:
            continue
        amount = 100 * rng.randint(2_000, 30_000)
        steps: list[tuple[str, dict[str, Any], date]] = [
            ("sessions", {"summary": "双方陈述，核对考勤与工资"}, received + timedelta(days=3))
        ]
        if rng.random() < 0.7:
            steps.append(("agreement", {"amount_agreed_fen": amount * 4 // 5}, received + timedelta(days=8)))
        else:
            steps.append(("failure", {"reason": "双方分歧较大"}, received + timedelta(days=8)))
            steps.append(("arbitration", {}, received + timedelta(days=12)))
            steps.append(("arbitration/acceptance", {}, received + timedelta(days=15)))
            steps.append(("arbitration/award", {"amount_awarded_fen": amount // 2}, received + timedelta(days=50)))
        data = {
            "employer": employer,
            "claim": rng.choice(("追索加班费", "追索拖欠工资", "经济补偿金")),
            "amount_fen": amount,
            "steps": [s for s in steps if s[2] <= today],
        }
        out.append(Fact(received, "MediationApplied", f"dispute:{ended.subject}:{received}", data, source=SERVICE))
    return out


def _petitions(sim: Simulation) -> list[Fact]:
    """A petition or two a month at the county bureau, assigned and answered within weeks."""
    out = []
    for month, last in sim.window.months:
        rng = sim.rng(SERVICE, "petition", month)
        for number in range(rng.randint(1, 3)):
            received = sim.window.day_in(rng, month, last)
            if received >= sim.window.today:
                continue
            steps = [
                ("assignment", {"assignee": "劳动保障监察大队"}, received + timedelta(days=2)),
                ("answer", {"summary": "已调查核实并书面答复"}, received + timedelta(days=rng.randint(15, 50))),
            ]
            data = {
                "channel": rng.choice(("letter", "visit", "phone", "online")),
                "subject": rng.choice(("反映企业拖欠工资", "咨询社保补缴", "反映未签劳动合同")),
                "name": rng.choice(("杨", "龙", "吴", "李")) + rng.choice(("秀成", "国华", "玉梅", "春花")),
                "steps": [s for s in steps if s[2] <= sim.window.today],
            }
            out.append(Fact(received, "PetitionRegistered", f"petition:{month}:{number}", data, source=SERVICE))
    return out


# --- loading -------------------------------------------------------------------------------------------------


def _first(sim: Simulation, fact: Fact) -> tuple[str, dict[str, Any], str]:
    """The request that records the fact (its path, body and the caller's role) and the role of its steps."""
    data, day = fact.data, fact.day.isoformat()
    if fact.type == "GridInspectionRecorded":
        employer = {"employer_id": sim.ids[data["employer"]]}
        body = {"grid": data["grid"], "employer": employer, "findings": data["findings"], "inspected_on": day}
        return "/grid-inspections", body, "township"
    if fact.type == "MediationApplied":
        body = {
            "employer": {"employer_id": sim.ids[data["employer"]]},
            "claim": data["claim"],
            "amount_claimed_fen": data["amount_fen"],
            "region_code": _township(sim, data["employer"]),
            "received_on": day,
        }
        return "/disputes", body, "township"
    body = {"petitioner": {"name": data["name"]}, "channel": data["channel"], "subject": data["subject"]}
    return "/petitions", {**body, "region_code": COUNTY, "received_on": day}, "county"


_STEP_DATE = {
    "follow-up": "followed_up_on",
    "sessions": "held_on",
    "agreement": "agreed_on",
    "failure": "failed_on",
    "arbitration": "on",
    "arbitration/acceptance": "on",
    "arbitration/award": "awarded_on",
    "assignment": "assigned_on",
    "answer": "answered_on",
    "acceptance": "accepted_on",
    "refusal": "refused_on",
    "inspections": "inspected_on",
    "rectification-orders": "ordered_on",
    "rectification-verification": "verified_on",
    "penalties": "decided_on",
    "closure": "closed_on",
}
_IDS = {"/grid-inspections": "inspection_id", "/disputes": "dispute_id", "/petitions": "petition_id"}


async def _chain(sim: Simulation, api: ServiceClient, fact: Fact, counts: Counter[str]) -> None:
    """A grid inspection, dispute or petition, then its steps in order."""
    path, body, role = _first(sim, fact)
    region = COUNTY if role == "county" else _township(sim, fact.data["employer"])
    token = sim.staff.token(role, region)
    call = Call("POST", path, body, ok=(201,), token=token, key=_key(sim, fact, 0), wait_for=NOT_YET)
    first = await api.send(call)
    replies = [first]
    url = f"{path}/{first.json()[_IDS[path]]}"
    for number, (step, step_body, day) in enumerate(fact.data["steps"], start=1):
        if step.startswith("arbitration"):
            token = sim.staff.token("county", COUNTY)
        step_body = {**step_body, _STEP_DATE[step]: day.isoformat()}
        call = Call("POST", f"{url}/{step}", step_body, ok=(200, 422), token=token, key=_key(sim, fact, number))
        reply = await api.send(call)
        if reply.status == 422:
            # Supervision's deadline check referred the dispute to arbitration by itself, its 15 days of
            # mediation being long past, between the application and this step: the demo's steps stop there.
            if reply.json().get("rule") != "MediationStillOpen":
                raise DemoFailed(f"POST {call.path}: 422 {reply.body}")
            counts["mediations lapsed to arbitration by the deadline check"] += 1
            break
        replies.append(reply)
    tally(counts, fact.type, replies[:1])
    tally(counts, f"{fact.type} steps", replies[1:])


async def _complaint_chain(sim: Simulation, api: ServiceClient, fact: Fact, counts: Counter[str]) -> None:
    """A complaint received at the village station (or the township), decided by an inspector, its case run."""
    data = fact.data
    person = sim.population.persons[int(str(data["person"]).partition(":")[2])] if data["person"] else None
    region = person.region_code if person else _township(sim, data["employer"])
    body = {
        "region_code": region,
        "complainant": {"name": person.name if person else "职工代表", "phone": person.phone if person else None},
        "employer": {"employer_id": sim.ids[data["employer"]]},
        "complaint_type": data["type"],
        "facts": "拖欠工资" if data["type"] == "wage_arrears" else "未依法缴纳社会保险费",
        "violation_from": data["from"].isoformat(),
        "received_on": fact.day.isoformat(),
        "workers_concerned": data["workers"],
        "amount_claimed_fen": data["amount_fen"],
    }
    intake = sim.staff.token("village" if person else "township", region)
    filed = await api.send(
        Call("POST", "/complaints", body, ok=(201,), token=intake, key=_key(sim, fact, 0), wait_for=NOT_YET)
    )
    inspector = sim.staff.token("inspector", COUNTY)
    url, replies = f"/complaints/{filed.json()['complaint_id']}", []
    for number, (step, step_body, day) in enumerate(data["steps"], start=1):
        step_body = {**step_body, _STEP_DATE[step]: day.isoformat()}
        reply = await api.send(Call("POST", f"{url}/{step}", step_body, token=inspector, key=_key(sim, fact, number)))
        replies.append(reply)
        if step == "acceptance":
            url = f"/cases/{reply.json()['case_id']}"
    tally(counts, "complaints filed", [filed])
    tally(counts, "complaint and case steps", replies)
