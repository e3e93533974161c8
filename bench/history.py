"""Synthetic histories across the demo county, built from the contracts.

``synthetic_history``: registration alone. People enter the ledger, find and lose work, register as
unemployed and move between villages; employers register in townships. Used by the reporting benchmarks
that fold one topic and by the rebuild tests.

``county_history``: the same people and employers as every service records them, each event on the topic
its service's relay publishes it to (``StreamEvent.topic``): assistance opens cases for the unemployed and
serves, refers, places and certifies them; insurance enrols the employed, grants and pays benefits to the
involuntarily unemployed, manages retirees and posts employers' monthly contributions; supervision files
complaints and opens cases against employers, mediates disputes and registers petitions. Registration is
about 60 % of the events, as in what ``make demo`` stores (``county_mix`` gives a history's mix).

Every event is a valid contract event, so any projection can fold them; each stream's events share its
stream id, the message key the relays publish with.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from contracts import assistance as a
from contracts import insurance as ins
from contracts import supervision as sup
from contracts.envelope import Event, EventEnvelope
from contracts.reference import demo_county
from contracts.regions import RegionLevel
from contracts.registration import (
    EMPLOYMENT_KINDS,
    INVOLUNTARY_END_REASONS,
    EmployerRegistered,
    EmploymentEnded,
    EmploymentRegistered,
    PersonMoved,
    PersonRegistered,
    UnemploymentRegistered,
)
from contracts.topics import ASSISTANCE_EVENTS, INSURANCE_EVENTS, REGISTRATION_EVENTS, SUPERVISION_EVENTS
from services.runtime.eventstore import Append, PendingEvent, new_event_id

VILLAGES: tuple[str, ...] = tuple(r.code for r in demo_county() if r.level is RegionLevel.VILLAGE)
TOWNSHIPS: tuple[str, ...] = tuple(r.code for r in demo_county() if r.level is RegionLevel.TOWNSHIP)
_END_REASONS = ("contract_expired", "dismissed", "resigned", "business_closed")


@dataclass(frozen=True)
class StreamEvent:
    """One event of a synthetic stream, with where and when it happened."""

    stream_type: str
    stream_id: str
    version: int
    event: Event
    region_code: str
    occurred_on: date
    #: The topic its service's relay publishes it to.
    topic: str = REGISTRATION_EVENTS.name

    def pending(self) -> PendingEvent:
        """The event ready for ``EventStore.append``."""
        return PendingEvent.of(self.event, region_code=self.region_code, occurred_at=_at(self.occurred_on))

    def envelope(self) -> EventEnvelope:
        """The event as a relay would publish it."""
        at = _at(self.occurred_on)
        return EventEnvelope(
            event_id=new_event_id(),
            type=self.event.event_type,
            schema_version=self.event.schema_version,
            stream_type=self.stream_type,
            stream_id=self.stream_id,
            version=self.version,
            region_code=self.region_code,
            occurred_at=at,
            recorded_at=at,
            actor="bench",
            data=self.event.model_dump(mode="json"),
        )


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def person_story(rng: random.Random, start: date, days: int) -> list[StreamEvent]:
    """One person's stream: registered, then perhaps employed, laid off, unemployed, moved."""
    person_id = str(uuid.uuid4())
    village = rng.choice(VILLAGES)
    day = start + timedelta(days=rng.randrange(days))
    events: list[tuple[Event, str, date]] = [
        (
            PersonRegistered(
                person_id=person_id,
                sex=rng.choice(("male", "female")),
                birth_date=date(rng.randrange(1965, 2006), rng.randrange(1, 13), rng.randrange(1, 29)),
                hukou=rng.choice(("urban", "rural")),
                region_code=village,
            ),
            village,
            day,
        )
    ]
    status = "not_in_labour_force"

    def later() -> date:
        return day + timedelta(days=rng.randrange(1, 30))

    if rng.random() < 0.5:
        day = later()
        kind = rng.choice(EMPLOYMENT_KINDS)
        events.append(
            (
                EmploymentRegistered(
                    person_id=person_id,
                    previous_status=status,
                    kind=kind,
                    started_on=day,
                    reported_on=day,
                    report_deadline=day + timedelta(days=30),
                    reported_late=False,
                ),
                village,
                day,
            )
        )
        status = "employed"
        if rng.random() < 0.3:
            day = later()
            reason = rng.choice(_END_REASONS)
            events.append(
                (
                    EmploymentEnded(
                        person_id=person_id,
                        kind=kind,
                        ended_on=day,
                        reason=reason,
                        involuntary=reason in INVOLUNTARY_END_REASONS,
                        reported_on=day,
                        report_deadline=day + timedelta(days=15),
                        reported_late=False,
                    ),
                    village,
                    day,
                )
            )
            status = "not_in_labour_force"
    if status == "not_in_labour_force" and rng.random() < 0.4:
        day = later()
        events.append(
            (
                UnemploymentRegistered(
                    person_id=person_id, previous_status=status, registered_on=day, involuntary=rng.random() < 0.5
                ),
                village,
                day,
            )
        )
    if rng.random() < 0.15:
        day = later()
        destination = rng.choice([v for v in rng.sample(VILLAGES, 2) if v != village])
        events.append(
            (
                PersonMoved(person_id=person_id, from_region_code=village, region_code=destination, moved_on=day),
                destination,
                day,
            )
        )
    return [
        StreamEvent("person", person_id, version, event, region, on)
        for version, (event, region, on) in enumerate(events, start=1)
    ]


def employer_story(rng: random.Random, start: date, days: int) -> list[StreamEvent]:
    """One employer's stream: registered in a township."""
    employer_id = str(uuid.uuid4())
    township = rng.choice(TOWNSHIPS)
    event = EmployerRegistered(
        employer_id=employer_id,
        credit_code="91430527MA4L0000XA",
        name=f"绥宁县企业{employer_id[:6]}",
        region_code=township,
        size=rng.choice(("micro", "small", "medium", "large")),
    )
    return [StreamEvent("employer", employer_id, 1, event, township, start + timedelta(days=rng.randrange(days)))]


def synthetic_history(
    rng: random.Random, events: int, *, start: date = date(2026, 1, 1), days: int = 270
) -> Iterator[StreamEvent]:
    """About ``events`` events (whole streams): mostly people, one employer per 50 people."""
    produced = 0
    people = 0
    while produced < events:
        stream = employer_story(rng, start, days) if people % 50 == 49 else person_story(rng, start, days)
        people += 1
        produced += len(stream)
        yield from stream


def appends(history: list[StreamEvent]) -> list[Append]:
    """The history as new streams for ``EventStore.append_batch`` (each stream from version 0)."""
    streams: dict[str, list[StreamEvent]] = {}
    for item in history:
        streams.setdefault(item.stream_id, []).append(item)
    return [
        Append(items[0].stream_type, stream_id, 0, [item.pending() for item in items])
        for stream_id, items in streams.items()
    ]


# --- every service's events: county_history ------------------------------------------------------------

_Facts = list[tuple[Event, str, date]]


def _streams(topic: str, stream_type: str, stream_id: str, facts: _Facts) -> list[StreamEvent]:
    return [
        StreamEvent(stream_type, stream_id, version, event, region, on, topic)
        for version, (event, region, on) in enumerate(facts, start=1)
    ]


def _township(village: str) -> str:
    return village[:9] + "000"


def _month(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def _employer_ref(rng: random.Random, township: str) -> sup.EmployerRef:
    employer_id = str(uuid.uuid4())
    return sup.EmployerRef(
        employer_id=employer_id,
        credit_code="91430527MA4L0000XA",
        name=f"绥宁县企业{employer_id[:6]}",
        region_code=township,
        registered=rng.random() < 0.8,
    )


def assistance_story(rng: random.Random, person: list[StreamEvent]) -> list[StreamEvent]:
    """What assistance records of a person registered unemployed: perhaps a case opened (援助台账), guidance
    and home visits, a referral and its outcome, a placement or a closing, a hard-to-employ certification and
    a zero-employment household."""
    unemployed = next((e for e in person if isinstance(e.event, UnemploymentRegistered)), None)
    if unemployed is None or rng.random() < 0.4:
        return []
    registered = person[0].event
    assert isinstance(registered, PersonRegistered)
    person_id, village, day = registered.person_id, person[-1].region_code, unemployed.occurred_on
    case_id = str(uuid.uuid4())
    ids = {"case_id": case_id, "person_id": person_id, "region_code": village}
    case: _Facts = [
        (
            a.CaseOpened(
                **ids,
                opened_on=day,
                reason="unemployment_registered",
                sex=registered.sex,
                birth_date=registered.birth_date,
                hukou=registered.hukou,
            ),
            village,
            day,
        )
    ]

    def later() -> date:
        nonlocal day
        day += timedelta(days=rng.randrange(1, 20))
        return day

    for _ in range(rng.randrange(3)):
        on = later()
        service: Event = (
            a.VocationalGuidanceGiven(**ids, given_on=on, topic="求职指导", outcome="已制定求职计划")
            if rng.random() < 0.6
            else a.HomeVisited(**ids, visited_on=on, findings="家庭情况已核实", needs=["岗位推荐"])
        )
        case.append((service, village, on))
    if rng.random() < 0.4:
        referral_id, vacancy_id = str(uuid.uuid4()), str(uuid.uuid4())
        on = later()
        referral = dict(referral_id=referral_id, vacancy_id=vacancy_id)
        case.append(
            (
                a.JobReferred(**ids, **referral, employer_id=str(uuid.uuid4()), occupation="保洁员", referred_on=on),
                village,
                on,
            )
        )
        on = later()
        outcome = rng.choice(("hired", "not_hired", "no_show"))
        case.append((a.ReferralOutcomeRecorded(**ids, **referral, outcome=outcome, recorded_on=on), village, on))
    if rng.random() < 0.35:
        on = later()
        kind = rng.choice(EMPLOYMENT_KINDS)
        case.append((a.PlacedInJob(**ids, kind=kind, started_on=on, placed_on=on), village, on))
    elif rng.random() < 0.2:
        on = later()
        case.append((a.CaseClosed(**ids, closed_on=on, reason="withdrawn"), village, on))
    stories = _streams(ASSISTANCE_EVENTS.name, "assistance_case", case_id, case)
    if rng.random() < 0.15:
        certification_id = str(uuid.uuid4())
        on = later()
        who = {"certification_id": certification_id, "person_id": person_id, "region_code": village}
        certification: _Facts = [
            (
                a.HardToEmployCertified(
                    **who,
                    categories=[rng.choice(list(a.HardToEmployCategory))],
                    certified_on=on,
                    review_on=on + timedelta(days=365),
                ),
                village,
                on,
            )
        ]
        if rng.random() < 0.3:
            on = later()
            certification.append((a.HardToEmployStatusEnded(**who, ended_on=on, reason="reemployed"), village, on))
        stories += _streams(ASSISTANCE_EVENTS.name, "hard_to_employ_certification", certification_id, certification)
    if rng.random() < 0.04:
        household_id = str(uuid.uuid4())
        on = later()
        household: _Facts = [
            (
                a.ZeroEmploymentHouseholdDetected(
                    household_id=household_id,
                    region_code=village,
                    detected_on=on,
                    member_ids=[person_id],
                    unemployed_member_ids=[person_id],
                ),
                village,
                on,
            )
        ]
        confirmed = later()
        household.append(
            (
                a.ZeroEmploymentHouseholdConfirmed(
                    household_id=household_id,
                    region_code=village,
                    confirmed_on=confirmed,
                    clear_by=confirmed + timedelta(days=30),
                ),
                village,
                confirmed,
            )
        )
        if rng.random() < 0.6:
            on = later()
            outstanding = (on - confirmed).days
            household.append(
                (
                    a.ZeroEmploymentHouseholdCleared(
                        household_id=household_id,
                        region_code=village,
                        cleared_on=on,
                        reason="member_placed",
                        person_id=person_id,
                        days_outstanding=outstanding,
                        within_target=outstanding <= 30,
                    ),
                    village,
                    on,
                )
            )
        stories += _streams(ASSISTANCE_EVENTS.name, "zero_employment_household", household_id, household)
    return stories


def post_story(rng: random.Random, start: date, days: int) -> list[StreamEvent]:
    """A public-welfare post (公益性岗位) created in a village, filled by certified people."""
    post_id, village = str(uuid.uuid4()), rng.choice(VILLAGES)
    day = start + timedelta(days=rng.randrange(days))
    positions = rng.randrange(1, 5)
    facts: _Facts = [
        (
            a.PublicWelfarePostCreated(
                post_id=post_id,
                region_code=village,
                unit="村委会",
                title="保洁公益岗",
                positions=positions,
                monthly_subsidy_fen=150_000,
                term_starts_on=day,
                term_ends_on=day + timedelta(days=3 * 365 - 1),
            ),
            village,
            day,
        )
    ]
    for _ in range(rng.randrange(positions + 1)):
        day += timedelta(days=rng.randrange(1, 10))
        facts.append(
            (
                a.PublicWelfarePostFilled(
                    post_id=post_id,
                    region_code=village,
                    person_id=str(uuid.uuid4()),
                    case_id=str(uuid.uuid4()),
                    certification_id=str(uuid.uuid4()),
                    started_on=day,
                    ends_on=day + timedelta(days=365),
                ),
                village,
                day,
            )
        )
    return _streams(ASSISTANCE_EVENTS.name, "public_welfare_post", post_id, facts)


def insured_story(rng: random.Random, person: list[StreamEvent]) -> list[StreamEvent]:
    """What insurance records of a person: enrolments while employed (and their end), an unemployment benefit
    granted, paid and stopped after an involuntary job loss, a pension managed for the oldest."""
    registered = person[0].event
    assert isinstance(registered, PersonRegistered)
    person_id, village = registered.person_id, person[-1].region_code
    ids = {"person_id": person_id, "region_code": village}
    facts: _Facts = []
    for item in person:
        event, on = item.event, item.occurred_on
        if isinstance(event, EmploymentRegistered) and rng.random() < 0.6:
            kind = "enterprise_pension" if event.kind == "unit" else "resident_pension"
            basis = "employer" if event.kind == "unit" else "flexible"
            facts.append((ins.InsuranceEnrolled(**ids, insurance_type=kind, basis=basis, enrolled_on=on), village, on))
        elif isinstance(event, EmploymentEnded) and facts and rng.random() < 0.5:
            enrolled = facts[-1][0]
            assert isinstance(enrolled, ins.InsuranceEnrolled)
            facts.append(
                (
                    ins.EnrolmentTerminated(
                        **ids, insurance_type=enrolled.insurance_type, terminated_on=on, reason="employment_ended"
                    ),
                    village,
                    on,
                )
            )
        elif isinstance(event, UnemploymentRegistered) and event.involuntary and rng.random() < 0.4:
            claim_id, months = str(uuid.uuid4()), rng.randrange(3, 13)
            facts.append(
                (
                    ins.UnemploymentBenefitGranted(
                        **ids,
                        claim_id=claim_id,
                        claimed_on=on,
                        starts_on=on,
                        contribution_months=12 * rng.randrange(1, 6),
                        months=months,
                        carried_over_months=0,
                        monthly_amount_fen=162_000,
                        article="失业保险条例第十七条",
                    ),
                    village,
                    on,
                )
            )
            paid = rng.randrange(1, 4)
            for n in range(paid):
                month = on + timedelta(days=30 * (n + 1))
                facts.append(
                    (
                        ins.UnemploymentBenefitPaid(
                            **ids,
                            claim_id=claim_id,
                            month=_month(month),
                            amount_fen=162_000,
                            months_left=months - n - 1,
                        ),
                        village,
                        month,
                    )
                )
            if rng.random() < 0.5:
                stopped = on + timedelta(days=30 * paid + 15)
                facts.append(
                    (
                        ins.UnemploymentBenefitStopped(
                            **ids,
                            claim_id=claim_id,
                            stopped_on=stopped,
                            reason="reemployed",
                            months_paid=paid,
                            months_left=months - paid,
                            article="失业保险条例第十五条",
                        ),
                        village,
                        stopped,
                    )
                )
    if registered.birth_date.year < 1968 and rng.random() < 0.5:
        on = person[0].occurred_on
        facts.append(
            (
                ins.RetireeTransferredIn(
                    **ids,
                    monthly_pension_fen=230_000,
                    retired_on=date(registered.birth_date.year + 60, 1, 1),
                    contribution_years=rng.randrange(15, 40),
                    transferred_on=on,
                    certification_due_on=on + timedelta(days=365),
                ),
                village,
                on,
            )
        )
        on += timedelta(days=rng.randrange(1, 60))
        facts.append(
            (
                ins.PensionEligibilityCertified(
                    **ids,
                    certified_on=on,
                    next_due_on=on + timedelta(days=365),
                    resumed=False,
                    article="人社部发〔2019〕",
                ),
                village,
                on,
            )
        )
    facts.sort(key=lambda fact: fact[2])
    return _streams(INSURANCE_EVENTS.name, "insured_person", person_id, facts)


def employer_accounts(rng: random.Random, employer: StreamEvent, days: int) -> list[StreamEvent]:
    """An employer's monthly contribution files (one stream each) and perhaps a month in arrears, paid late."""
    event = employer.event
    assert isinstance(event, EmployerRegistered)
    township, first = employer.region_code, employer.occurred_on
    stories: list[StreamEvent] = []
    persons = rng.randrange(3, 60)
    for n in range(max(1, (days - (first - date(2026, 1, 1)).days) // 30)):
        on = date(first.year, first.month, 1) + timedelta(days=31 * (n + 1))
        on = date(on.year, on.month, 15)
        file_id = str(uuid.uuid4())
        base = persons * 400_000
        posted = ins.ContributionsPosted(
            file_id=file_id,
            month=_month(on),
            employer_id=event.employer_id,
            region_code=township,
            rows=persons,
            persons=persons,
            base_fen=base,
            employer_fen=base * 16 // 100,
            personal_fen=base * 8 // 100,
        )
        stories += _streams(INSURANCE_EVENTS.name, "contribution_file", file_id, [(posted, township, on)])
    if rng.random() < 0.15:
        on = first + timedelta(days=rng.randrange(30, 90))
        account = {"employer_id": event.employer_id, "region_code": township, "month": _month(on)}
        owed = persons * 96_000
        facts: _Facts = [
            (ins.ArrearsAssessed(**account, amount_fen=owed, workers=persons, due_on=on), township, on),
        ]
        if rng.random() < 0.6:
            paid = on + timedelta(days=rng.randrange(5, 40))
            late = (paid - on).days
            facts.append(
                (
                    ins.ArrearsPaid(
                        **account, amount_fen=owed, days_late=late, surcharge_fen=owed * late // 2000, paid_on=paid
                    ),
                    township,
                    paid,
                )
            )
        stories += _streams(INSURANCE_EVENTS.name, "employer_account", event.employer_id, facts)
    return stories


def supervision_story(rng: random.Random, start: date, days: int) -> list[StreamEvent]:
    """A complaint received in a township: accepted (an inspection case opened and mostly closed) or refused."""
    township = rng.choice(TOWNSHIPS)
    employer = _employer_ref(rng, township)
    complaint_id = str(uuid.uuid4())
    day = start + timedelta(days=rng.randrange(days))
    workers = rng.randrange(1, 20)
    ids = {"complaint_id": complaint_id, "region_code": township}
    complaint: _Facts = [
        (
            sup.ComplaintFiled(
                **ids,
                employer=employer,
                complaint_type="wage_arrears",
                scope="wages_minimum_wage",
                facts="拖欠工资三个月",
                violation_from=day - timedelta(days=90),
                received_on=day,
                decision_due=day + timedelta(days=7),
                provisional=False,
                workers_concerned=workers,
                amount_claimed_fen=workers * 500_000,
                on_behalf=rng.random() < 0.3,
            ),
            township,
            day,
        )
    ]
    decided = day + timedelta(days=rng.randrange(1, 9))
    late = decided > day + timedelta(days=7)
    if rng.random() < 0.2:
        complaint.append(
            (
                sup.ComplaintRefused(
                    **ids, refused_on=decided, reason="outside_scope", explanation="不属于监察职责", decided_late=late
                ),
                township,
                decided,
            )
        )
        return _streams(SUPERVISION_EVENTS.name, "complaint", complaint_id, complaint)
    case_id = str(uuid.uuid4())
    complaint.append(
        (sup.ComplaintAccepted(**ids, accepted_on=decided, case_id=case_id, decided_late=late), township, decided)
    )
    due = decided + timedelta(days=60)
    case: _Facts = [
        (
            sup.CaseOpened(
                case_id=case_id,
                region_code=township,
                employer=employer,
                source="complaint",
                complaint_id=complaint_id,
                scope="wages_minimum_wage",
                complaint_type="wage_arrears",
                opened_on=decided,
                due_on=due,
                provisional=False,
                workers_concerned=workers,
            ),
            township,
            decided,
        )
    ]
    if rng.random() < 0.8:
        closed = decided + timedelta(days=rng.randrange(10, 80))
        case.append(
            (
                sup.CaseClosed(
                    case_id=case_id,
                    region_code=township,
                    closed_on=closed,
                    outcome="corrected",
                    violation_found=True,
                    wages_recovered_fen=workers * 450_000,
                    workers_concerned=workers,
                    due_on=due,
                    within_limit=closed <= due,
                ),
                township,
                closed,
            )
        )
    return _streams(SUPERVISION_EVENTS.name, "complaint", complaint_id, complaint) + _streams(
        SUPERVISION_EVENTS.name, "case", case_id, case
    )


def dispute_story(rng: random.Random, start: date, days: int) -> list[StreamEvent]:
    """A labour dispute mediated in a township (agreed, or referred to arbitration), or a petition answered."""
    township = rng.choice(TOWNSHIPS)
    day = start + timedelta(days=rng.randrange(days))
    answered = day + timedelta(days=rng.randrange(5, 40))
    if rng.random() < 0.5:
        petition_id = str(uuid.uuid4())
        ids = {"petition_id": petition_id, "region_code": township}
        petition: _Facts = [
            (
                sup.PetitionRegistered(
                    **ids,
                    channel=rng.choice(("letter", "visit", "phone", "online")),
                    subject="反映工资拖欠",
                    received_on=day,
                    answer_due=day + timedelta(days=60),
                    provisional=False,
                ),
                township,
                day,
            ),
            (sup.PetitionAnswered(**ids, answered_on=answered, on_time=True, summary="已答复"), township, answered),
        ]
        return _streams(SUPERVISION_EVENTS.name, "petition", petition_id, petition)
    dispute_id = str(uuid.uuid4())
    ids = {"dispute_id": dispute_id, "region_code": township}
    dispute: _Facts = [
        (
            sup.MediationApplied(
                **ids,
                employer=_employer_ref(rng, township),
                claim="支付加班费",
                workers_concerned=1,
                received_on=day,
                mediation_due=day + timedelta(days=15),
                provisional=False,
            ),
            township,
            day,
        )
    ]
    ended: Event = (
        sup.MediationAgreed(**ids, agreed_on=answered, amount_agreed_fen=300_000)
        if rng.random() < 0.7
        else sup.DisputeReferredToArbitration(**ids, referred_on=answered, reason="mediation_failed")
    )
    dispute.append((ended, township, answered))
    return _streams(SUPERVISION_EVENTS.name, "dispute", dispute_id, dispute)


def county_history(
    rng: random.Random, events: int, *, start: date = date(2026, 1, 1), days: int = 270
) -> Iterator[StreamEvent]:
    """About ``events`` events (whole streams) of every service, each on its own topic (``StreamEvent.topic``):
    people and employers as ``synthetic_history`` makes them, and what assistance, insurance and supervision
    record of them (the module says what); registration is about 60 % of them."""
    produced = 0
    people = 0
    while produced < events:
        stories: list[StreamEvent]
        if people % 50 == 49:
            stories = employer_story(rng, start, days)
            stories += employer_accounts(rng, stories[0], days)
        else:
            stories = person_story(rng, start, days)
            stories += assistance_story(rng, stories) + insured_story(rng, stories)
        if people % 100 == 99:
            stories += post_story(rng, start, days)
        if rng.random() < 0.05:
            stories += supervision_story(rng, start, days)
        if rng.random() < 0.04:
            stories += dispute_story(rng, start, days)
        people += 1
        produced += len(stories)
        yield from stories


def county_mix(history: list[StreamEvent]) -> dict[str, dict[str, int]]:
    """Per topic, how many events of each type ``history`` holds."""
    mix: dict[str, dict[str, int]] = {}
    for item in history:
        types = mix.setdefault(item.topic, {})
        types[item.event.event_type] = types.get(item.event.event_type, 0) + 1
    return mix
