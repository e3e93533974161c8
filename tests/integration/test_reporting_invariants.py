"""The invariant of the four-level network: thousands of random events over the demo county, applied in
random batches, and every metric at every region, now and on past dates, equals (a) its own events plus
the sum of its children and (b) a naive recomputation from the events written independently here.

It runs over every listed source (``services.reporting.sources.SOURCES``): each needs a ``NaiveSource`` in
``NAIVE`` (a random history of its events and the truth kept the obvious way), and the test fails for a
listed source without one. The sources' histories are interleaved and folded together."""

from __future__ import annotations

import random
import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from contracts.envelope import EventEnvelope
from contracts.insurance import INSURANCE_TYPES
from contracts.reference import demo_county
from contracts.regions import RegionLevel, UrbanRuralClass
from contracts.registration import EMPLOYMENT_KINDS, PERSON_CATEGORIES
from contracts.topics import ASSISTANCE_EVENTS, INSURANCE_EVENTS, REGISTRATION_EVENTS, SUPERVISION_EVENTS
from services.reporting.periods import Window, parse_period, window
from services.reporting.projection import RegionMetricsProjection
from services.reporting.queries import figures, metrics_of
from services.reporting.sources import CATALOGUE, SOURCES
from tests.integration.reporting_fixtures import event, prepare_reporting

pytestmark = pytest.mark.integration
METRICS, METRICS_BY_NAME = CATALOGUE.metrics, CATALOGUE.metrics_by_name

REGIONS = demo_county()
PARENT = {r.code: r.parent for r in REGIONS}
VILLAGES = [r.code for r in REGIONS if r.level is RegionLevel.VILLAGE]
TOWNSHIPS = [r.code for r in REGIONS if r.level is RegionLevel.TOWNSHIP]
URBAN = {
    r.code for r in REGIONS if r.urban_rural_class in (UrbanRuralClass.MAIN_URBAN, UrbanRuralClass.URBAN_RURAL_FRINGE)
}
TODAY = date(2026, 11, 22)
FIRST_DAY = date(2025, 1, 1)
CHECK_DAYS = [date(2025, 3, 31), date(2025, 8, 17), date(2026, 2, 28), date(2026, 6, 30), date(2026, 10, 9), TODAY]
CHECK_PERIODS = ["2025", "2025Q2", "2026Q1", "2026-06", "2026Q3", "2026Q4"]


def chain(code: str) -> list[str]:
    """A region and its ancestors by walking the reference table's parent links."""
    out = []
    current: str | None = code
    while current is not None:
        out.append(current)
        current = PARENT[current]
    return out


#: A source's naive count: (entity kind, state) -> what it adds to each of the source's stock metrics.
NaiveCounts = Callable[[str, dict[str, Any]], dict[str, int]]


@dataclass
class Naive:
    """The truth, kept the obvious way: every entity's whole history of (day, state), and every flow event."""

    counts: NaiveCounts
    histories: dict[tuple[str, str], list[tuple[date, dict[str, Any]]]] = field(default_factory=dict)
    flows: list[tuple[str, str, date, int]] = field(default_factory=list)  # (metric, region, day, value)
    surveyed: set[tuple[str, str]] = field(default_factory=set)

    def change(self, entity_kind: str, entity: str, day: date, **state: Any) -> None:
        history = self.histories.setdefault((entity_kind, entity), [])
        if history:
            # A change that changes nothing dates nothing; one dated before the last change takes effect then.
            day = max(day, history[-1][0])
            state = {**history[-1][1], **state}
            if state == history[-1][1]:
                return
        history.append((day, state))

    def state(self, kind: str, entity: str) -> dict[str, Any]:
        return self.histories[(kind, entity)][-1][1]

    def stocks_at(self, day: date, roll_up: bool = True) -> Counter[tuple[str, str]]:
        """(region, metric) -> value at the end of ``day``, summed up the parent chain (or only where it is)."""
        totals: Counter[tuple[str, str]] = Counter()
        points_at: Counter[str] = Counter()
        for (kind, _), history in self.histories.items():
            states = [s for d, s in history if d <= day]
            if not states:
                continue
            s = states[-1]
            for metric, value in self.counts(kind, s).items():
                for region in chain(s["region"]) if roll_up else [s["region"]]:
                    totals[(region, metric)] += value
            if kind == "service_point":
                points_at[s["region"]] += 1
        for place, count in points_at.items():
            if count and place[6:9] != "000":
                for region in chain(place) if roll_up else [place]:
                    totals[(region, "places_with_point")] += 1
        if self.counts is naive_counts:  # registration's "places" counts the division table itself
            for r in REGIONS:
                if r.level in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
                    for region in chain(r.code) if roll_up else [r.code]:
                        totals[(region, "places")] += 1
        return totals

    def flows_between(self, first: date, last: date, roll_up: bool = True) -> Counter[tuple[str, str]]:
        totals: Counter[tuple[str, str]] = Counter()
        for metric, region, day, value in self.flows:
            if first <= day <= last:
                for r in chain(region) if roll_up else [region]:
                    totals[(r, metric)] += value
        return totals


def naive_counts(kind: str, s: dict[str, Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    if kind == "person":
        if s["status"] in ("not_in_labour_force", "employed", "registered_unemployed"):
            out["labour_force"] = 1
            out[f"labour_force_{s['sex']}"] = 1
            for c in s["categories"]:
                out[f"labour_force_cat_{c}"] = 1
        if s["status"] == "employed":
            out["employed"] = 1
            out[f"employed_{s['kind']}"] = 1
            out["urban_employed"] = int(s["region"] in URBAN)
        if s["status"] == "registered_unemployed":
            out["registered_unemployed"] = 1
            out["urban_registered_unemployed"] = int(s["region"] in URBAN)
    elif kind == "employer":
        out["employers"] = int(s["active"])
    elif kind == "vacancy":
        out["open_vacancies"] = int(s["open"] and s["remaining"] > 0)
        out["open_positions"] = s["remaining"] if s["open"] else 0
    elif kind == "service_point":
        out["service_points"] = 1
        out["service_points_staffed"] = int(s["staffed"])
        out["service_points_compliant"] = int(s["compliant"])
    return out


def random_day(rng: random.Random) -> date:
    return FIRST_DAY + timedelta(days=rng.randrange((TODAY - FIRST_DAY).days + 1))


def random_history(rng: random.Random, count: int) -> tuple[list, Naive]:
    """``count`` events of persons, employers, vacancies and service points, and the naive truth."""
    truth = Naive(naive_counts)
    out = []
    persons: list[str] = []
    alive: set[str] = set()
    employers: list[str] = []
    vacancies: list[str] = []
    points: list[str] = []

    def occurred(day: date) -> datetime:
        # Some events occur late in the UTC evening: the next day in China.
        return datetime.combine(day, time(rng.choice([3, 12, 20])), UTC)

    def china_day(at: datetime) -> date:
        return (at + timedelta(hours=8)).date()

    while len(out) < count:
        roll = rng.random()
        day = random_day(rng)
        if roll < 0.18 or len(alive) < 5:
            pid = f"p{len(persons)}"
            region = rng.choice(VILLAGES)
            at = occurred(day)
            sex = rng.choice(["male", "female"])
            cats = sorted(rng.sample(PERSON_CATEGORIES, rng.randrange(3)))
            out.append(
                event("PersonRegistered", pid, region, occurred=at, region_code=region, sex=sex, categories=cats)
            )
            truth.change(
                "person",
                pid,
                china_day(at),
                region=region,
                sex=sex,
                categories=cats,
                status="not_in_labour_force",
                kind=None,
            )
            persons.append(pid)
            alive.add(pid)
        elif roll < 0.62:
            pid = rng.choice(sorted(alive))
            s = truth.state("person", pid)
            region = s["region"]
            action = rng.choice(
                [
                    "move",
                    "move",
                    "cats",
                    "employ",
                    "end",
                    "unemploy",
                    "dereg",
                    "retire",
                    "die",
                    "survey",
                    "survey",
                    "correct",
                ]
            )
            if action == "move":
                new = rng.choice(VILLAGES)
                out.append(event("PersonMoved", pid, new, from_region_code=region, region_code=new, moved_on=day))
                truth.change("person", pid, day, region=new)
            elif action == "cats":
                cats = sorted(rng.sample(PERSON_CATEGORIES, rng.randrange(4)))
                out.append(event("PersonCategoriesChanged", pid, region, categories=cats, effective_on=day))
                truth.change("person", pid, day, categories=cats)
            elif action == "employ":
                kind = rng.choice(EMPLOYMENT_KINDS)
                out.append(
                    event("EmploymentRegistered", pid, region, previous_status=s["status"], kind=kind, started_on=day)
                )
                truth.change("person", pid, day, status="employed", kind=kind)
                truth.flows.append(("new_employment", region, day, 1))
            elif action == "end" and s["status"] == "employed":
                after = rng.choice(["not_in_labour_force", "registered_unemployed"])
                out.append(event("EmploymentEnded", pid, region, kind=s["kind"], ended_on=day, status_after=after))
                truth.change("person", pid, day, status=after, kind=None)
            elif action == "unemploy":
                out.append(event("UnemploymentRegistered", pid, region, previous_status=s["status"], registered_on=day))
                truth.change("person", pid, day, status="registered_unemployed", kind=None)
                truth.flows.append(("new_unemployment", region, day, 1))
            elif action == "dereg" and s["status"] == "registered_unemployed":
                out.append(event("UnemploymentDeregistered", pid, region, deregistered_on=day, reason="other"))
                truth.change("person", pid, day, status="not_in_labour_force", kind=None)
            elif action == "retire":
                out.append(event("PersonRetired", pid, region, previous_status=s["status"], retired_on=day))
                truth.change("person", pid, day, status="retired", kind=None)
                alive.discard(pid)
            elif action == "die":
                out.append(event("PersonDied", pid, region, previous_status=s["status"], died_on=day))
                truth.change("person", pid, day, status="deceased", kind=None)
                alive.discard(pid)
            elif action == "survey":
                quarter = parse_period(f"{day.year}Q{(day.month - 1) // 3 + 1}").label
                changed = rng.random() < 0.2 and s["status"] != "employed"
                status = "registered_unemployed" if changed else s["status"]
                out.append(
                    event(
                        "StatusSurveyed", pid, region, quarter=quarter, status=status, changed=changed, surveyed_on=day
                    )
                )
                if (pid, quarter) not in truth.surveyed:
                    truth.surveyed.add((pid, quarter))
                    truth.flows.append(("persons_surveyed", region, day, 1))
                surveyed = s.get("surveyed", ())
                truth.change(
                    "person",
                    pid,
                    day,
                    status=status,
                    kind=s["kind"] if status == "employed" else None,
                    surveyed=surveyed if quarter in surveyed else (*surveyed, quarter),
                )
            elif action == "correct":
                new = rng.choice(VILLAGES)
                sex = rng.choice(["male", "female"])
                changes = [
                    {"field": "name", "redacted": True},
                    {"field": "sex", "old": s["sex"], "new": sex},
                    {"field": "region_code", "old": region, "new": new},
                ]
                at = occurred(day)
                out.append(event("PersonCorrected", pid, new, occurred=at, changes=changes, reason="entered wrongly"))
                truth.change("person", pid, china_day(at), sex=sex, region=new)
        elif roll < 0.75:
            if not employers or rng.random() < 0.4:
                eid = f"e{len(employers)}"
                region = rng.choice(TOWNSHIPS + VILLAGES)
                at = occurred(day)
                out.append(
                    event(
                        "EmployerRegistered",
                        eid,
                        region,
                        occurred=at,
                        stream_type="employer",
                        credit_code="c",
                        name=eid,
                    )
                )
                truth.change("employer", eid, china_day(at), region=region, active=True)
                employers.append(eid)
            else:
                eid = rng.choice(employers)
                s = truth.state("employer", eid)
                if rng.random() < 0.5:
                    new = rng.choice(TOWNSHIPS)
                    at = occurred(day)
                    out.append(
                        event(
                            "EmployerChanged",
                            eid,
                            new,
                            occurred=at,
                            stream_type="employer",
                            changes=[],
                            from_region_code=s["region"],
                        )
                    )
                    truth.change("employer", eid, china_day(at), region=new)
                else:
                    out.append(
                        event(
                            "EmployerDeregistered",
                            eid,
                            s["region"],
                            stream_type="employer",
                            deregistered_on=day,
                            reason="closed",
                        )
                    )
                    truth.change("employer", eid, day, active=False)
        elif roll < 0.9:
            if not vacancies or rng.random() < 0.4:
                vid = f"v{len(vacancies)}"
                region = rng.choice(TOWNSHIPS + VILLAGES)
                positions = rng.randrange(1, 9)
                out.append(
                    event(
                        "VacancyOpened",
                        vid,
                        region,
                        stream_type="vacancy",
                        employer_id="e",
                        occupation="o",
                        positions=positions,
                        wage_min_fen=1,
                        wage_max_fen=2,
                        opened_on=day,
                    )
                )
                truth.change("vacancy", vid, day, region=region, open=True, remaining=positions)
                vacancies.append(vid)
            else:
                vid = rng.choice(vacancies)
                s = truth.state("vacancy", vid)
                if s["open"] and s["remaining"] and rng.random() < 0.6:
                    filled = rng.randrange(1, s["remaining"] + 1)
                    out.append(
                        event(
                            "VacancyFilled",
                            vid,
                            s["region"],
                            stream_type="vacancy",
                            filled=filled,
                            remaining=s["remaining"] - filled,
                            filled_on=day,
                        )
                    )
                    truth.change("vacancy", vid, day, remaining=s["remaining"] - filled)
                elif s["open"]:
                    out.append(
                        event(
                            "VacancyClosed",
                            vid,
                            s["region"],
                            stream_type="vacancy",
                            withdrawn=s["remaining"],
                            closed_on=day,
                        )
                    )
                    truth.change("vacancy", vid, day, open=False, remaining=0)
        else:
            established = not points or rng.random() < 0.5
            sid = f"s{len(points)}" if established else rng.choice(points)
            region = (
                rng.choice(TOWNSHIPS + VILLAGES)
                if established or rng.random() < 0.3
                else truth.state("service_point", sid)["region"]
            )
            staffed, premises = rng.random() < 0.7, rng.random() < 0.7
            compliance = {
                "staff_required": 1,
                "staffing_ok": staffed,
                "premises_ok": premises,
                "compliant": staffed and premises,
            }
            at = occurred(day)
            out.append(
                event(
                    "ServicePointEstablished" if established else "ServicePointUpdated",
                    sid,
                    region,
                    occurred=at,
                    stream_type="service_point",
                    level="village",
                    name=sid,
                    staff=1,
                    floor_area_m2=20,
                    has_archive_room=True,
                    population_served=500,
                    compliance=compliance,
                )
            )
            truth.change(
                "service_point", sid, china_day(at), region=region, staffed=staffed, compliant=staffed and premises
            )
            if established:
                points.append(sid)
    return out, truth


def insurance_counts(kind: str, s: dict[str, Any]) -> dict[str, int]:
    """What one insured person or employer account adds to insurance's stock metrics."""
    if kind == "insured_person":
        out = {f"insured_{t}": int(t in s["enrolled"]) for t in INSURANCE_TYPES}
        out["insured_persons"] = int(bool(s["enrolled"]))
        out["benefit_recipients"] = int(s["benefit"])
        out["retirees_managed"] = int(s["pension"] in ("paying", "suspended"))
        out["retirees_certified"] = int(s["pension"] == "paying")
        out["pensions_suspended"] = int(s["pension"] == "suspended")
        return out
    owed = s["owed"]
    return {"employers_in_arrears": int(bool(owed)), "arrears_outstanding_fen": sum(owed.values())}


def insurance_history(rng: random.Random, count: int) -> tuple[list[EventEnvelope], Naive]:
    """``count`` events of insured persons, employer accounts and contribution files, and the naive truth."""
    truth = Naive(insurance_counts)
    out: list[EventEnvelope] = []
    persons: list[str] = []
    accounts: list[str] = []

    def at(day: date) -> datetime:
        return datetime.combine(day, time(rng.choice([3, 12, 20])), UTC)

    def china_day(moment: datetime) -> date:
        return (moment + timedelta(hours=8)).date()

    def emit(type_: str, stream: str, stream_type: str, region: str, moment: datetime, **data: Any) -> None:
        out.append(event(type_, stream, region, occurred=moment, stream_type=stream_type, region_code=region, **data))

    while len(out) < count:
        roll, day = rng.random(), random_day(rng)
        moment = at(day)
        if roll < 0.15 or not persons:
            pid = f"i{len(persons)}"
            region = rng.choice(VILLAGES)
            kind = rng.choice(INSURANCE_TYPES)
            emit(
                "InsuranceEnrolled",
                pid,
                "insured_person",
                region,
                moment,
                person_id=pid,
                insurance_type=kind,
                basis="flexible",
                enrolled_on=str(day),
            )
            truth.change(
                "insured_person", pid, day, region=region, enrolled=(kind,), benefit=False, pension="", died=False
            )
            persons.append(pid)
        elif roll < 0.7:
            pid = rng.choice(persons)
            s = truth.state("insured_person", pid)
            region = s["region"]
            if s["died"]:
                continue
            person = {"person_id": pid}
            action = rng.choice(
                [
                    "enrol",
                    "terminate",
                    "grant",
                    "pay",
                    "stop",
                    "retire",
                    "suspend",
                    "certify",
                    "die",
                    "survivor",
                    "expect",
                ]
            )
            if action == "enrol":
                kind = rng.choice(INSURANCE_TYPES)
                emit(
                    "InsuranceEnrolled",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    insurance_type=kind,
                    basis="flexible",
                    enrolled_on=str(day),
                )
                truth.change("insured_person", pid, day, enrolled=tuple(sorted({*s["enrolled"], kind})))
            elif action == "terminate" and s["enrolled"]:
                kind = rng.choice(s["enrolled"])
                emit(
                    "EnrolmentTerminated",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    insurance_type=kind,
                    terminated_on=str(day),
                    reason="moved",
                )
                truth.change("insured_person", pid, day, enrolled=tuple(t for t in s["enrolled"] if t != kind))
            elif action == "grant" and not s["benefit"]:
                emit(
                    "UnemploymentBenefitGranted",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    claim_id="c",
                    claimed_on=str(day),
                    starts_on=str(day),
                    contribution_months=12,
                    months=12,
                    carried_over_months=0,
                    monthly_amount_fen=170_000,
                    article="a",
                )
                truth.change("insured_person", pid, day, benefit=True)
                truth.flows.append(("benefits_granted", region, day, 1))
            elif action == "pay" and s["benefit"]:
                amount = rng.randrange(100_000, 200_000)
                emit(
                    "UnemploymentBenefitPaid",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    claim_id="c",
                    month=f"{day:%Y-%m}",
                    amount_fen=amount,
                    months_left=3,
                )
                truth.flows.append(("benefit_paid_fen", region, china_day(moment), amount))
            elif action == "stop" and s["benefit"]:
                emit(
                    "UnemploymentBenefitStopped",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    claim_id="c",
                    stopped_on=str(day),
                    reason="reemployed",
                    months_paid=1,
                    months_left=2,
                    article="a",
                )
                truth.change("insured_person", pid, day, benefit=False)
                truth.flows.append(("benefits_stopped", region, day, 1))
            elif action == "retire" and not s["pension"]:
                emit(
                    "RetireeTransferredIn",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    monthly_pension_fen=300_000,
                    retired_on=str(day),
                    contribution_years=20,
                    transferred_on=str(day),
                    certification_due_on=str(day + timedelta(days=365)),
                )
                truth.change("insured_person", pid, day, pension="paying")
            elif action == "suspend" and s["pension"] == "paying":
                emit(
                    "PensionSuspended",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    due_on=str(day),
                    suspended_from=f"{day:%Y-%m}",
                    article="a",
                )
                truth.change("insured_person", pid, china_day(moment), pension="suspended")
            elif action == "certify" and s["pension"] in ("paying", "suspended"):
                back = 300_000 if s["pension"] == "suspended" else 0
                emit(
                    "PensionEligibilityCertified",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    certified_on=str(day),
                    next_due_on=str(day + timedelta(days=365)),
                    resumed=bool(back),
                    back_paid_months=[f"{day:%Y-%m}"] if back else [],
                    back_pay_fen=back,
                    article="a",
                )
                truth.change("insured_person", pid, day, pension="paying")
                truth.flows.append(("certifications", region, day, 1))
                truth.flows.append(("pension_back_pay_fen", region, day, back))
            elif action == "die":
                emit(
                    "DeathReported",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    died_on=str(day),
                    reported_on=str(day),
                )
                truth.change("insured_person", pid, day, died=True)
                truth.flows.append(("deaths_reported", region, day, 1))
                if s["pension"] in ("paying", "suspended"):
                    emit(
                        "PensionStopped",
                        pid,
                        "insured_person",
                        region,
                        moment,
                        **person,
                        stopped_from=f"{day:%Y-%m}",
                        reason="died",
                        article="a",
                    )
                    truth.change("insured_person", pid, china_day(moment), pension="stopped")
                if rng.random() < 0.5:
                    emit(
                        "SurvivorBenefitsClaimed",
                        pid,
                        "insured_person",
                        region,
                        moment,
                        **person,
                        claimed_on=str(day),
                        province_code="43",
                        income_year=2025,
                        monthly_income_fen=400_000,
                        funeral_grant_fen=800_000,
                        survivor_months=9,
                        survivor_benefit_fen=3_600_000,
                        article="a",
                    )
                    truth.flows.append(("survivor_claims", region, day, 1))
            elif action == "survivor":
                amount = rng.randrange(1, 5_000_000)
                emit(
                    "SurvivorBenefitsPaid",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    paid_on=str(day),
                    amount_fen=amount,
                )
                truth.flows.append(("survivor_paid_fen", region, day, amount))
            elif action == "expect":
                emit(
                    "EnrolmentExpected",
                    pid,
                    "insured_person",
                    region,
                    moment,
                    **person,
                    started_on=str(day),
                    due_on=str(day + timedelta(days=30)),
                    source="registration",
                )
                truth.flows.append(("enrolment_expected", region, day, 1))
        elif roll < 0.85:
            if not accounts or rng.random() < 0.3:
                accounts.append(f"a{len(accounts)}")
            aid = rng.choice(accounts)
            known = ("employer_account", aid) in truth.histories
            region = truth.state("employer_account", aid)["region"] if known else rng.choice(TOWNSHIPS)
            owed: dict[str, int] = dict(truth.state("employer_account", aid)["owed"]) if known else {}
            month = f"{day:%Y-%m}"
            if owed and rng.random() < 0.5:
                month = rng.choice(sorted(owed))
                amount, surcharge = owed.pop(month), rng.randrange(1000)
                emit(
                    "ArrearsPaid",
                    aid,
                    "employer_account",
                    region,
                    moment,
                    employer_id=aid,
                    month=month,
                    amount_fen=amount,
                    days_late=3,
                    surcharge_fen=surcharge,
                    paid_on=str(day),
                )
                truth.flows.append(("arrears_paid_fen", region, day, amount))
                truth.flows.append(("late_surcharge_fen", region, day, surcharge))
                truth.change("employer_account", aid, day, region=region, owed=owed)
            elif month not in owed:
                amount = rng.randrange(1, 500_000)
                owed[month] = amount
                emit(
                    "ArrearsAssessed",
                    aid,
                    "employer_account",
                    region,
                    moment,
                    employer_id=aid,
                    month=month,
                    amount_fen=amount,
                    workers=3,
                    due_on=str(day),
                )
                truth.flows.append(("arrears_assessed_fen", region, china_day(moment), amount))
                truth.change("employer_account", aid, china_day(moment), region=region, owed=owed)
                if len(owed) == 2:
                    emit(
                        "EmployerArrearsReported",
                        aid,
                        "employer_account",
                        region,
                        moment,
                        employer_id=aid,
                        months=sorted(owed),
                        arrears_fen=sum(owed.values()),
                        surcharge_fen=0,
                        workers=3,
                        reported_on=str(day),
                    )
                    truth.flows.append(("employers_reported_in_arrears", region, china_day(moment), 1))
        else:
            region = rng.choice(TOWNSHIPS + VILLAGES)
            employer_fen, personal_fen = rng.randrange(1_000_000), rng.randrange(500_000)
            emit(
                "ContributionsPosted",
                f"f{len(out)}",
                "contribution_file",
                region,
                moment,
                file_id="f",
                month=f"{day:%Y-%m}",
                rows=3,
                persons=3,
                base_fen=1,
                employer_fen=employer_fen,
                personal_fen=personal_fen,
            )
            posted = china_day(moment)
            truth.flows.append(("contributions_fen", region, posted, employer_fen + personal_fen))
            truth.flows.append(("contributions_employer_fen", region, posted, employer_fen))
            truth.flows.append(("contributions_personal_fen", region, posted, personal_fen))
    return out, truth


def assistance_counts(kind: str, s: dict[str, Any]) -> dict[str, int]:
    """What one of assistance's entities adds to each of its stock metrics."""
    if kind == "assistance_case":
        return {"assistance_cases_open": int(s["open"])}
    if kind == "hard_to_employ_certification":
        return {"hard_to_employ_certified": int(s["active"])}
    if kind == "zero_employment_household":
        return {
            "zero_employment_households_detected": int(s["stage"] == "detected"),
            "zero_employment_households_outstanding": int(s["stage"] == "confirmed"),
        }
    if kind == "public_welfare_post":
        return {
            "public_welfare_positions": s["positions"] if s["running"] else 0,
            "public_welfare_positions_filled": s["filled"] if s["running"] else 0,
        }
    return {}


def _assistance_event(type_: str, stream_type: str, entity_id: str, region: str, **data: Any) -> EventEnvelope:
    at = datetime.combine(FIRST_DAY, time(12), UTC)
    return EventEnvelope(
        event_id=uuid.uuid4(),
        type=type_,
        schema_version=1,
        stream_type=stream_type,
        stream_id=entity_id,
        version=1,
        region_code=region,
        occurred_at=at,
        recorded_at=at,
        data={"region_code": region, **data},
    )


def assistance_history(rng: random.Random, count: int) -> tuple[list[EventEnvelope], Naive]:
    """``count`` events of assistance's cases, services, certifications, households and posts, and the truth.

    Every event carries the day it took effect, so the naive truth dates each change by it."""
    truth = Naive(assistance_counts)
    out: list[EventEnvelope] = []
    cases: list[str] = []
    certifications: list[str] = []
    households: list[str] = []
    posts: list[str] = []
    services = [
        ("VocationalGuidanceGiven", "given_on", {"topic": "t", "outcome": "o"}),
        ("HomeVisited", "visited_on", {"findings": "f"}),
        ("EntrepreneurshipServiceGiven", "given_on", {"kind": "other", "outcome": "o"}),
        ("BusinessLoanPreReviewed", "reviewed_on", {"amount_fen": 100, "passed": True, "reason": ""}),
    ]
    while len(out) < count:
        roll, day = rng.random(), random_day(rng)
        if roll < 0.45:
            if not cases or rng.random() < 0.3:
                cid, region = f"c{len(cases)}", rng.choice(VILLAGES)
                fact = {"case_id": cid, "person_id": "p" + cid}
                out.append(
                    _assistance_event(
                        "CaseOpened",
                        "assistance_case",
                        cid,
                        region,
                        **fact,
                        opened_on=day.isoformat(),
                        reason="requested",
                        sex="male",
                        birth_date="1980-01-01",
                    )
                )
                truth.change("assistance_case", cid, day, region=region, open=True)
                cases.append(cid)
                continue
            cid = rng.choice(cases)
            s = truth.state("assistance_case", cid)
            region, fact = s["region"], {"case_id": cid, "person_id": "p" + cid}
            action = rng.choice(["move", "close", "place", "reopen", "service", "service", "refer", "outcome", "train"])
            if action == "move" and s["open"]:
                new = rng.choice(VILLAGES)
                out.append(
                    _assistance_event(
                        "CaseMoved",
                        "assistance_case",
                        cid,
                        new,
                        **fact,
                        from_region_code=region,
                        moved_on=day.isoformat(),
                    )
                )
                truth.change("assistance_case", cid, day, region=new)
            elif action == "close" and s["open"]:
                out.append(
                    _assistance_event(
                        "CaseClosed",
                        "assistance_case",
                        cid,
                        region,
                        **fact,
                        closed_on=day.isoformat(),
                        reason="reemployed",
                    )
                )
                truth.change("assistance_case", cid, day, open=False)
            elif action == "place" and s["open"]:
                out.append(
                    _assistance_event(
                        "PlacedInJob",
                        "assistance_case",
                        cid,
                        region,
                        **fact,
                        kind="flexible",
                        started_on=day.isoformat(),
                        placed_on=day.isoformat(),
                    )
                )
                truth.change("assistance_case", cid, day, open=False)
                truth.flows.append(("assisted_placed", region, day, 1))
            elif action == "reopen" and not s["open"]:
                out.append(
                    _assistance_event(
                        "CaseOpened",
                        "assistance_case",
                        cid,
                        region,
                        **fact,
                        opened_on=day.isoformat(),
                        reason="unemployment_registered",
                        sex="female",
                        birth_date="1980-01-01",
                    )
                )
                truth.change("assistance_case", cid, day, open=True)
            elif action == "service":
                kind, field_name, data = rng.choice(services)
                out.append(
                    _assistance_event(
                        kind, "assistance_case", cid, region, **fact, **{field_name: day.isoformat()}, **data
                    )
                )
                truth.flows.append(("assistance_services", region, day, 1))
            elif action == "refer":
                out.append(
                    _assistance_event(
                        "JobReferred",
                        "assistance_case",
                        cid,
                        region,
                        **fact,
                        referral_id="r",
                        vacancy_id="v",
                        employer_id="e",
                        occupation="o",
                        referred_on=day.isoformat(),
                    )
                )
                truth.flows.append(("assistance_services", region, day, 1))
                truth.flows.append(("job_referrals", region, day, 1))
            elif action == "outcome":
                outcome = rng.choice(["hired", "not_hired", "no_show"])
                out.append(
                    _assistance_event(
                        "ReferralOutcomeRecorded",
                        "assistance_case",
                        cid,
                        region,
                        **fact,
                        referral_id="r",
                        vacancy_id="v",
                        outcome=outcome,
                        recorded_on=day.isoformat(),
                    )
                )
                truth.flows.append(("job_referral_outcomes", region, day, 1))
                truth.flows.append(("job_referrals_hired", region, day, int(outcome == "hired")))
            elif action == "train":
                out.append(
                    _assistance_event(
                        "TrainingCompleted",
                        "assistance_case",
                        cid,
                        region,
                        **fact,
                        training_id="t",
                        occupation="o",
                        completed_on=day.isoformat(),
                    )
                )
                truth.flows.append(("trainings_completed", region, day, 1))
        elif roll < 0.6:
            if not certifications or rng.random() < 0.5:
                xid, region = f"x{len(certifications)}", rng.choice(VILLAGES)
                out.append(
                    _assistance_event(
                        "HardToEmployCertified",
                        "hard_to_employ_certification",
                        xid,
                        region,
                        certification_id=xid,
                        person_id="p",
                        categories=["disabled"],
                        certified_on=day.isoformat(),
                        review_on=(day + timedelta(days=365)).isoformat(),
                    )
                )
                truth.change("hard_to_employ_certification", xid, day, region=region, active=True)
                truth.flows.append(("hard_to_employ_newly_certified", region, day, 1))
                certifications.append(xid)
            else:
                xid = rng.choice(certifications)
                s = truth.state("hard_to_employ_certification", xid)
                if s["active"]:
                    out.append(
                        _assistance_event(
                            "HardToEmployStatusEnded",
                            "hard_to_employ_certification",
                            xid,
                            s["region"],
                            certification_id=xid,
                            person_id="p",
                            ended_on=day.isoformat(),
                            reason="reemployed",
                        )
                    )
                    truth.change("hard_to_employ_certification", xid, day, active=False)
        elif roll < 0.85:
            hid = rng.choice(households) if households and rng.random() < 0.7 else f"h{len(households)}"
            if hid not in households:
                households.append(hid)
            s = (
                truth.state("zero_employment_household", hid)
                if ("zero_employment_household", hid) in truth.histories
                else None
            )
            stage = s["stage"] if s else "none"
            region = s["region"] if s and stage != "none" else rng.choice(VILLAGES)
            fact = {"household_id": hid}
            if stage == "none":
                out.append(
                    _assistance_event(
                        "ZeroEmploymentHouseholdDetected",
                        "zero_employment_household",
                        hid,
                        region,
                        **fact,
                        detected_on=day.isoformat(),
                        member_ids=["m"],
                        unemployed_member_ids=["m"],
                    )
                )
                truth.change("zero_employment_household", hid, day, region=region, stage="detected")
            elif stage == "detected" and rng.random() < 0.7:
                out.append(
                    _assistance_event(
                        "ZeroEmploymentHouseholdConfirmed",
                        "zero_employment_household",
                        hid,
                        region,
                        **fact,
                        confirmed_on=day.isoformat(),
                        clear_by=(day + timedelta(days=30)).isoformat(),
                    )
                )
                truth.change("zero_employment_household", hid, day, stage="confirmed")
            elif stage == "detected":
                out.append(
                    _assistance_event(
                        "ZeroEmploymentHouseholdDismissed",
                        "zero_employment_household",
                        hid,
                        region,
                        **fact,
                        dismissed_on=day.isoformat(),
                        reason="income",
                    )
                )
                truth.change("zero_employment_household", hid, day, stage="none")
            else:
                days, within = rng.randrange(60), rng.random() < 0.6
                out.append(
                    _assistance_event(
                        "ZeroEmploymentHouseholdCleared",
                        "zero_employment_household",
                        hid,
                        region,
                        **fact,
                        cleared_on=day.isoformat(),
                        reason="member_placed",
                        days_outstanding=days,
                        within_target=within,
                    )
                )
                truth.change("zero_employment_household", hid, day, stage="none")
                truth.flows.append(("zero_employment_households_cleared", region, day, 1))
                truth.flows.append(("zero_employment_days_to_clear", region, day, days))
                truth.flows.append(("zero_employment_cleared_within_target", region, day, int(within)))
        else:
            if not posts or rng.random() < 0.3:
                pid, region, positions = f"w{len(posts)}", rng.choice(TOWNSHIPS + VILLAGES), rng.randrange(1, 5)
                at = datetime.combine(day, time(3), UTC)  # created: counted on the day it occurred
                created = _assistance_event(
                    "PublicWelfarePostCreated",
                    "public_welfare_post",
                    pid,
                    region,
                    post_id=pid,
                    unit="u",
                    title="t",
                    positions=positions,
                    monthly_subsidy_fen=1,
                    term_starts_on=day.isoformat(),
                    term_ends_on=(day + timedelta(days=700)).isoformat(),
                )
                out.append(created.model_copy(update={"occurred_at": at, "recorded_at": at}))
                truth.change(
                    "public_welfare_post", pid, day, region=region, positions=positions, filled=0, running=True
                )
                posts.append(pid)
                continue
            pid = rng.choice(posts)
            s = truth.state("public_welfare_post", pid)
            fact = {"post_id": pid}
            if not s["running"]:
                continue
            action = rng.random()
            if action < 0.5 and s["filled"] < s["positions"]:
                out.append(
                    _assistance_event(
                        "PublicWelfarePostFilled",
                        "public_welfare_post",
                        pid,
                        s["region"],
                        **fact,
                        person_id="p",
                        case_id="c",
                        certification_id="x",
                        started_on=day.isoformat(),
                        ends_on=day.isoformat(),
                    )
                )
                truth.change("public_welfare_post", pid, day, filled=s["filled"] + 1)
            elif action < 0.85 and s["filled"]:
                out.append(
                    _assistance_event(
                        "PublicWelfarePostExited",
                        "public_welfare_post",
                        pid,
                        s["region"],
                        **fact,
                        person_id="p",
                        exited_on=day.isoformat(),
                        reason="r",
                    )
                )
                truth.change("public_welfare_post", pid, day, filled=s["filled"] - 1)
            elif action >= 0.85:
                out.append(
                    _assistance_event(
                        "PublicWelfarePostTermEnded",
                        "public_welfare_post",
                        pid,
                        s["region"],
                        **fact,
                        ended_on=day.isoformat(),
                        occupants=[],
                    )
                )
                truth.change("public_welfare_post", pid, day, filled=0, running=False)
    return out, truth


def supervision_counts(kind: str, s: dict[str, Any]) -> dict[str, int]:
    """What one supervision entity adds to the supervision source's stocks, kept the obvious way."""
    if kind == "complaint":
        return {"complaints_undecided": int(s["undecided"]), "complaints_overdue": int(s["overdue"])}
    if kind == "case":
        return {"cases_open": int(s["open"]), "cases_overdue": int(s["overdue"])}
    if kind == "employer_rating":
        return {f"employers_rated_{s['grade'].lower()}": 1}
    return {}


def supervision_history(rng: random.Random, count: int) -> tuple[list[EventEnvelope], Naive]:
    """``count`` events of complaints, cases, penalties, disputes, petitions and ratings, and the naive truth."""
    truth = Naive(supervision_counts)
    out: list[EventEnvelope] = []
    places = VILLAGES + TOWNSHIPS
    undecided: list[str] = []
    open_cases: list[str] = []
    mediating: list[tuple[str, str]] = []
    employers: dict[str, str] = {}
    serial = 0

    def emit(type_: str, stream_type: str, stream_id: str, region: str, **data: Any) -> None:
        at = datetime.combine(random_day(rng), time(rng.choice([3, 12, 20])), UTC)
        values = {k: v.isoformat() if isinstance(v, date) else v for k, v in {**data, "region_code": region}.items()}
        out.append(
            EventEnvelope(
                event_id=uuid.uuid4(), type=type_, schema_version=1, stream_type=stream_type, stream_id=stream_id,
                version=1, region_code=region, occurred_at=at, recorded_at=at, data=values,
            )
        )  # fmt: skip

    while len(out) < count:
        serial += 1
        roll, day, region = rng.random(), random_day(rng), rng.choice(places)
        if roll < 0.18 or not undecided:
            cid = f"complaint-{serial}"
            emit("ComplaintFiled", "complaint", cid, region, complaint_id=cid, received_on=day)
            truth.change("complaint", cid, day, region=region, undecided=True, overdue=False)
            truth.flows.append(("complaints_filed", region, day, 1))
            undecided.append(cid)
        elif roll < 0.32:
            cid = rng.choice(undecided)
            where = truth.state("complaint", cid)["region"]
            action = rng.choice(["overdue", "accept", "refuse"])
            if action == "overdue":
                emit("ComplaintDecisionOverdue", "complaint", cid, where, complaint_id=cid, detected_on=day)
                truth.change("complaint", cid, day, overdue=True)
            else:
                kind = "ComplaintAccepted" if action == "accept" else "ComplaintRefused"
                field_name = "accepted_on" if action == "accept" else "refused_on"
                emit(kind, "complaint", cid, where, complaint_id=cid, **{field_name: day})
                truth.change("complaint", cid, day, undecided=False, overdue=False)
                truth.flows.append(
                    ("complaints_accepted" if action == "accept" else "complaints_refused", where, day, 1)
                )
                undecided.remove(cid)
        elif roll < 0.46 or not open_cases:
            kid = f"case-{serial}"
            emit("InspectionCaseOpened", "case", kid, region, case_id=kid, opened_on=day)
            truth.change("case", kid, day, region=region, open=True, overdue=False)
            truth.flows.append(("cases_opened", region, day, 1))
            open_cases.append(kid)
        elif roll < 0.62:
            kid = rng.choice(open_cases)
            where = truth.state("case", kid)["region"]
            if rng.random() < 0.4:
                emit("CaseDeadlineBreached", "case", kid, where, case_id=kid, limit="investigation", detected_on=day)
                truth.change("case", kid, day, overdue=True)
            else:
                in_time, wages, workers = rng.random() < 0.7, rng.randrange(0, 5_000_000), rng.randrange(0, 30)
                emit(
                    "InspectionCaseClosed", "case", kid, where, case_id=kid, closed_on=day, within_limit=in_time,
                    wages_recovered_fen=wages, workers_concerned=workers,
                )  # fmt: skip
                truth.change("case", kid, day, open=False, overdue=False)
                truth.flows.extend(
                    [
                        ("cases_closed", where, day, 1),
                        ("cases_closed_in_time", where, day, int(in_time)),
                        ("wage_arrears_recovered_fen", where, day, wages),
                        ("workers_concerned", where, day, workers),
                    ]
                )
                open_cases.remove(kid)
        elif roll < 0.68:
            amount = rng.randrange(1, 2_000_000)
            emit("PenaltyImposed", "case", f"case-{serial}", region, case_id=f"case-{serial}", decided_on=day,
                 amount_fen=amount)  # fmt: skip
            truth.flows.append(("penalties_fen", region, day, amount))
        elif roll < 0.8:
            if mediating and rng.random() < 0.6:
                did, where = mediating.pop(rng.randrange(len(mediating)))
                if rng.random() < 0.5:
                    emit("MediationAgreed", "dispute", did, where, dispute_id=did, agreed_on=day)
                    truth.flows.append(("mediations_agreed", where, day, 1))
                else:
                    emit("DisputeReferredToArbitration", "dispute", did, where, dispute_id=did, referred_on=day)
                    truth.flows.append(("mediations_referred", where, day, 1))
            else:
                did = f"dispute-{serial}"
                emit("MediationApplied", "dispute", did, region, dispute_id=did, received_on=day)
                truth.flows.append(("mediations_applied", region, day, 1))
                mediating.append((did, region))
        elif roll < 0.9:
            kind, field_name, metric = rng.choice(
                [("PetitionRegistered", "received_on", "petitions_registered"),
                 ("PetitionAnswered", "answered_on", "petitions_answered")]
            )  # fmt: skip
            emit(kind, "petition", f"petition-{serial}", region, petition_id=f"petition-{serial}", **{field_name: day})
            truth.flows.append((metric, region, day, 1))
        else:
            eid = rng.choice(sorted(employers)) if employers and rng.random() < 0.6 else f"employer-{serial}"
            where = employers.setdefault(eid, rng.choice(TOWNSHIPS))
            grade = rng.choice(["A", "B", "C"])
            emit("EmployerRatingChanged", "employer_rating", eid, where, employer_id=eid, grade=grade, rated_on=day)
            truth.change("employer_rating", eid, day, region=where, grade=grade)
    return out, truth


@dataclass(frozen=True)
class NaiveSource:
    """What the invariant test needs of a source: a random history of its events with the naive truth, and
    which of its metrics count only where people live (villages), so every level is the sum of its children."""

    history: Callable[[random.Random, int], tuple[list[EventEnvelope], Naive]]
    in_villages: frozenset[str] = frozenset()


#: Per listed source's topic, its naive fold. A new source adds its entry here.
NAIVE: dict[str, NaiveSource] = {
    REGISTRATION_EVENTS.name: NaiveSource(
        random_history,
        frozenset(
            {m.name for m in CATALOGUE.metrics if m.entity == "person"}
            | {"new_employment", "new_unemployment", "persons_surveyed"}
        ),
    ),
    INSURANCE_EVENTS.name: NaiveSource(
        insurance_history,
        frozenset(
            {m.name for m in CATALOGUE.metrics if m.entity == "insured_person"}
            | {
                "benefits_granted",
                "benefits_stopped",
                "benefit_paid_fen",
                "pension_back_pay_fen",
                "certifications",
                "deaths_reported",
                "survivor_claims",
                "survivor_paid_fen",
                "enrolment_expected",
            }
        ),
    ),
    ASSISTANCE_EVENTS.name: NaiveSource(
        assistance_history,
        # Everything but public-welfare posts, which a township itself may hold, happens where people live.
        frozenset(
            m.name
            for m in CATALOGUE.metrics
            if m.name.startswith(("assistance_", "hard_to_employ_", "zero_employment_", "job_referral", "trainings_"))
            or m.name == "assisted_placed"
        ),
    ),
    SUPERVISION_EVENTS.name: NaiveSource(supervision_history),
}


def listed_histories(rng: random.Random, count: int) -> tuple[list[EventEnvelope], dict[str, Naive]]:
    """``count`` events of every listed source, interleaved at random (each source's in its own order), and
    each source's truth by topic."""
    missing = [s.topic.name for s in SOURCES if s.topic.name not in NAIVE]
    assert not missing, f"give every listed source a naive fold in NAIVE: {missing}"
    made = {s.topic.name: NAIVE[s.topic.name].history(rng, count) for s in SOURCES}
    truths = {topic: truth for topic, (_, truth) in made.items()}
    streams = [list(reversed(events)) for events, _ in made.values()]
    if len(streams) == 1:
        return streams[0][::-1], truths
    out: list[EventEnvelope] = []
    while any(streams):
        out.append(rng.choice([s for s in streams if s]).pop())
    return out, truths


def expected(truths: dict[str, Naive], as_of: date, flows_from: date) -> dict[tuple[str, str], Any]:
    """Every listed metric at every region: each source's stocks and flows from its own truth, then ratios
    (which may combine sources) from those."""
    values: dict[tuple[str, str], Any] = {}
    for source in SOURCES:
        truth = truths[source.topic.name]
        stocks = truth.stocks_at(as_of)
        flows = truth.flows_between(flows_from, as_of)
        for r in REGIONS:
            for m in source.metrics:
                if m.kind == "stock":
                    values[(r.code, m.name)] = stocks[(r.code, m.name)]
                elif m.kind == "flow":
                    values[(r.code, m.name)] = flows[(r.code, m.name)]
    for r in REGIONS:
        for m in METRICS:
            if m.kind == "ratio":
                num = sum(values[(r.code, n)] for n in m.numerator)
                den = sum(values[(r.code, d)] for d in m.denominator)
                values[(r.code, m.name)] = round(m.scale * num / den, 2) if den else None
    return values


@pytest.mark.parametrize("seed", [1, 2])
async def test_every_level_equals_its_children_and_a_naive_fold_now_and_in_the_past(pool, schema, seed):
    rng = random.Random(seed)
    history, truths = listed_histories(rng, 3000)
    projection = RegionMetricsProjection()
    async with pool.connection() as conn:
        await prepare_reporting(conn, schema)
        at = 0
        while at < len(history):
            size = rng.choice([1, 7, 50, 300, 1000])
            async with conn.transaction():
                await projection.apply(conn, history[at : at + size])
            at += size
        windows = [window(None, d, TODAY) for d in CHECK_DAYS] + [
            window(parse_period(p), None, TODAY) for p in CHECK_PERIODS
        ]
        # Flows from inside the last month: the days up to as_of are read, not the shorter side.
        windows.append(Window(None, date(2026, 10, 27), date(2026, 10, 12)))
        codes = [r.code for r in REGIONS]
        got = await figures(conn, codes, windows)
        # One window at a time reads only that window's days (after as_of late in a month, up to it early).
        alone = [await metrics_of(conn, codes, w) for w in windows]
    assert all(alone[i][code] == got[code][i] for i in range(len(windows)) for code in codes)

    children: dict[str, list[str]] = defaultdict(list)
    for r in REGIONS:
        if r.parent:
            children[r.parent].append(r.code)
    additive = [m.name for m in METRICS if m.kind != "ratio"]
    person_metrics = frozenset().union(*(NAIVE[s.topic.name].in_villages for s in SOURCES))
    for index, w in enumerate(windows):
        truth_values = expected(truths, w.as_of, w.flows_from)
        direct: Counter[tuple[str, str]] = Counter()
        for truth in truths.values():
            direct += truth.stocks_at(w.as_of, roll_up=False) + truth.flows_between(
                w.flows_from, w.as_of, roll_up=False
            )
        label = w.period.label if w.period else str(w.as_of)
        for code in codes:
            for metric in METRICS:
                assert got[code][index][metric.name] == truth_values[(code, metric.name)], (label, code, metric.name)
        for parent, kids in children.items():
            for metric in additive:
                below = sum(got[k][index][metric] for k in kids)
                if metric in person_metrics:
                    # People live in villages: every level above is exactly the sum of its children.
                    assert got[parent][index][metric] == below, (label, parent, metric)
                else:
                    # Employers, vacancies and points may sit at a township itself: its own plus its children.
                    assert got[parent][index][metric] == direct[(parent, metric)] + below, (label, parent, metric)
    # The history is not trivial: people moved, died, were employed, and the county saw it.
    county = got["430527000000"][windows.index(window(None, TODAY, TODAY))]
    assert county["labour_force"] > 100 and county["employed"] > 10 and county["service_points"] > 10
    assert METRICS_BY_NAME["places"].kind == "stock" and county["places"] == len(TOWNSHIPS) + len(VILLAGES)
    # Assistance's too: cases opened and closed, households cleared, posts filled.
    assert county["assistance_cases_open"] > 10 and county["hard_to_employ_certified"] > 10
    assert county["public_welfare_positions_filled"] > 0 and county["zero_employment_mean_days_to_clear"] is not None
