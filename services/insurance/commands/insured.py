"""Commands on an insured person's stream (``insured_person``): enrolment, expectation, the unemployment
benefit, the pension, death and survivor claims, the flexible-employment subsidy."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Literal, cast

from contracts.envelope import Event
from contracts.insurance import BenefitStopReason
from contracts.registry import decode
from services.insurance import queries
from services.insurance.commands import Policy, require_clerk
from services.insurance.commands.batch import Decision, InsuredBatch
from services.insurance.domain import benefit, enrolment, retirement
from services.insurance.domain.insured import InsuredState, evolve_insured
from services.insurance.domain.months import month_of, require_not_future
from services.runtime.aggregate import Aggregate, Changed, is_uuid
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, DomainError
from services.runtime.eventstore import EventStore, Metadata
from services.runtime.workdays import WorkdayCalendar


@dataclass(frozen=True)
class BenefitClaim:
    """One claim of the unemployment benefit, as a route received it."""

    principal: Principal
    person_id: str
    claimed_on: date | None
    metadata: Metadata
    expected_version: int | None = None


class InsuredCommands:
    """Every change to an insured person goes through :meth:`change`: load, scope, version, decide, append,
    and the read tables follow in the same transaction."""

    def __init__(
        self,
        store: EventStore,
        policy: Policy,
        calendar: WorkdayCalendar,
        *,
        today: Callable[[], date] = date.today,
    ) -> None:
        self.aggregate: Aggregate[InsuredState] = Aggregate(
            store, "insured_person", evolve_insured, name="insured person", id_field="person_id"
        )
        self.policy = policy
        self.calendar = calendar
        self.today = today

    async def state(
        self, conn: Connection, person_id: str, principal: Principal | None = None, *, region_code: str | None = None
    ) -> InsuredState:
        """The person's insurance record; a person registration reported but insurance never touched is blank.
        ``region_code`` is where a reaction's event says the person is, for a person not yet known here."""
        state = await self.aggregate.load(conn, person_id)
        known = None if state is not None or not is_uuid(person_id) else await queries.person_region(conn, person_id)
        loaded = {person_id: state} if state is not None else {}
        return self.batch(loaded, lambda _: known).state(person_id, principal, region_code=region_code)

    async def load_many(self, conn: Connection, person_ids: Iterable[str]) -> dict[str, InsuredState]:
        """The insurance records of many persons in one query: person id -> state, for those with a stream."""
        wanted = list(dict.fromkeys(p for p in person_ids if is_uuid(p)))
        loaded = await self.aggregate.store.load_many(conn, wanted)
        states: dict[str, InsuredState] = {}
        for person_id, recorded in loaded.items():
            if recorded[0].envelope.stream_type == self.aggregate.stream_type:
                state = self.aggregate.fold([decode(r.envelope) for r in recorded])
                if state is not None:
                    states[person_id] = state
        return states

    def batch(self, loaded: dict[str, InsuredState], region_of: Callable[[str], str | None]) -> InsuredBatch:
        """A unit of work over the ``loaded`` records (``load_many``); ``region_of`` places a person insurance
        has no stream for yet (registration's facts)."""
        return InsuredBatch(self.aggregate, loaded, region_of)

    async def change(
        self,
        conn: Connection,
        person_id: str,
        decide: Decision,
        metadata: Metadata,
        *,
        principal: Principal | None = None,
        expected_version: int | None = None,
        region_code: str | None = None,
        before: InsuredState | None = None,
    ) -> Changed[InsuredState]:
        """Decide over the person's current state (``before`` when the caller just loaded it) and append;
        ``principal`` None for reactions."""
        if principal is not None:
            require_clerk(principal)
        if before is None:
            before = await self.state(conn, person_id, principal, region_code=region_code)
        batch = self.batch({person_id: before}, lambda _: None)
        changed = batch.change(person_id, decide, metadata, expected_version=expected_version)
        await batch.commit(conn)
        return changed

    # --- enrolment -------------------------------------------------------------------------------------

    async def enrol(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        command: enrolment.Enrol,
        metadata: Metadata,
        expected_version: int | None = None,
    ) -> Changed[InsuredState]:
        """Enrol in one insurance type (参保登记)."""
        known = command.employer_id is not None and await queries.employer_region(conn, command.employer_id) is not None
        today = self.today()
        return await self.change(
            conn,
            person_id,
            lambda s: enrolment.decide_enrol(command, s, employer_known=known, today=today),
            metadata,
            principal=principal,
            expected_version=expected_version,
        )

    async def end_enrolment(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        command: enrolment.EndEnrolment,
        metadata: Metadata,
        expected_version: int | None = None,
    ) -> Changed[InsuredState]:
        """Suspend, resume or terminate an enrolment."""
        today = self.today()
        return await self.change(
            conn,
            person_id,
            lambda s: enrolment.decide_end_enrolment(command, s, today=today),
            metadata,
            principal=principal,
            expected_version=expected_version,
        )

    def expecting(
        self, *, employer_id: str | None, started_on: date, source: str, stops_benefit: bool = False
    ) -> Decision:
        """A reaction's decision: a new hire must be enrolled within 30 days (社会保险法 Art 58; the period ends
        on a working day, 民法典 Art 203). ``stops_benefit``: the hire is a re-employment that also stops an
        unemployment benefit (失业保险条例 Art 15(1)), decided on the same state and appended together."""
        due = self.calendar.add_days(started_on, self.policy.enrolment_days).due
        origin: Literal["registration", "assistance"] = "assistance" if source == "assistance" else "registration"

        def decide(state: InsuredState) -> list[Event]:
            stopped = benefit.decide_stop_benefit(state, "reemployed", started_on) if stops_benefit else []
            expected = enrolment.decide_expect_enrolment(
                state, employer_id=employer_id, started_on=started_on, due_on=due, source=origin
            )
            return [*stopped, *expected]

        return decide

    # --- unemployment benefit ------------------------------------------------------------------------

    async def claim_benefit(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        claimed_on: date | None,
        metadata: Metadata,
        expected_version: int | None = None,
    ) -> Changed[InsuredState]:
        """Claim the unemployment benefit: registration's facts, the contribution months since the last claim."""
        [result] = await self.claim_benefits(
            conn, [BenefitClaim(principal, person_id, claimed_on, metadata, expected_version)]
        )
        if isinstance(result, DomainError):
            raise result
        return result

    async def claim_benefits(
        self, conn: Connection, claims: Sequence[BenefitClaim]
    ) -> list[Changed[InsuredState] | DomainError]:
        """Decide many claims in one pass (group commit): registration's facts, the records and the contribution
        months of all of them in three queries, each claim decided on its own, the grants appended together.

        Per claim, what it did or the error refusing it. A second claim of a person already in the batch is
        answered 409 (it must be decided on what the first one leaves): the route decides it again.
        """
        today = self.today()
        people = [c.person_id for c in claims]
        facts = await queries.registration_facts(conn, people)
        batch = self.batch(await self.load_many(conn, people), lambda p: facts[p][1] if p in facts else None)
        results: list[Changed[InsuredState] | DomainError | None] = []
        since: dict[str, str | None] = {}
        for claim in claims:
            try:
                current = batch.state(claim.person_id, claim.principal)
            except DomainError as refused:
                results.append(refused)
                continue
            results.append(None)
            since.setdefault(claim.person_id, month_of(current.claim.starts_on) if current.claim else None)
        months = await queries.contribution_months(conn, "unemployment", list(since.items()))
        seen: set[str] = set()
        for n, claim in enumerate(claims):
            if results[n] is not None:
                continue
            person = claim.person_id
            command = benefit.ClaimBenefit(
                str(uuid.uuid4()), claim.claimed_on or today, self.policy.unemployment_benefit_fen
            )
            known = facts[person][0] if person in facts else benefit.RegistrationFacts(None, None, involuntary=False)
            try:
                require_clerk(claim.principal)
                if person in seen:
                    raise Conflict(f"person {person} is claiming in another request", field="If-Match")
                decide = partial(
                    benefit.decide_claim_benefit,
                    command,
                    facts=known,
                    contribution_months=months.get(person, 0),
                    today=today,
                )
                results[n] = batch.change(
                    person,
                    decide,
                    claim.metadata,
                    expected_version=claim.expected_version,
                )
                seen.add(person)
            except DomainError as refused:
                results[n] = refused
        await batch.commit(conn)
        return cast(list[Changed[InsuredState] | DomainError], results)  # every claim has its outcome now

    async def pay_benefit(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        month: str,
        metadata: Metadata,
    ) -> Changed[InsuredState]:
        """Pay one month of the benefit."""
        today = self.today()
        return await self.change(
            conn, person_id, lambda s: benefit.decide_pay_benefit(s, month, today=today), metadata, principal=principal
        )

    async def pay_benefits(self, conn: Connection, principal: Principal, month: str, metadata: Metadata) -> int:
        """The monthly payment run: one month for every benefit in the caller's region not yet paid for it."""
        require_clerk(principal)
        today = self.today()
        due = await queries.benefits_due(conn, principal.region, month)
        batch = self.batch(await self.load_many(conn, due), lambda _: None)
        paid = 0
        for person_id in due:
            claim = batch.state(person_id, principal).claim
            if claim is None or month in claim.paid_months:
                continue
            batch.change(
                person_id, lambda s: benefit.decide_pay_benefit(s, month, today=today), metadata, principal=principal
            )
            paid += 1
        await batch.commit(conn)
        return paid

    async def stop_benefit(
        self,
        conn: Connection,
        person_id: str,
        reason: BenefitStopReason,
        stopped_on: date,
        metadata: Metadata,
        *,
        principal: Principal | None = None,
    ) -> Changed[InsuredState]:
        """Stop the benefit (a clerk records a refusal of suitable work; reactions the rest)."""
        return await self.change(
            conn, person_id, lambda s: benefit.decide_stop_benefit(s, reason, stopped_on), metadata, principal=principal
        )

    # --- retirees, death, survivors ------------------------------------------------------------------

    async def transfer_in(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        command: retirement.TransferIn,
        metadata: Metadata,
    ) -> Changed[InsuredState]:
        """A retiree comes under community management."""
        today = self.today()
        return await self.change(
            conn,
            person_id,
            lambda s: retirement.decide_transfer_in(command, s, today=today),
            metadata,
            principal=principal,
        )

    async def certify(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        certified_on: date | None,
        metadata: Metadata,
        expected_version: int | None = None,
    ) -> Changed[InsuredState]:
        """The yearly eligibility certification."""
        today = self.today()
        return await self.change(
            conn,
            person_id,
            lambda s: retirement.decide_certify(s, certified_on or today, today=today),
            metadata,
            principal=principal,
            expected_version=expected_version,
        )

    async def suspend_overdue(self, conn: Connection, principal: Principal, as_of: date, metadata: Metadata) -> int:
        """Suspend every pension in the caller's region whose certification is overdue; how many were."""
        require_clerk(principal)
        overdue = await queries.overdue_retirees(conn, principal.region, as_of)
        batch = self.batch(await self.load_many(conn, overdue), lambda _: None)
        suspended = 0
        for person_id in overdue:
            changed = batch.change(
                person_id, lambda s: retirement.decide_suspend_overdue(s, as_of), metadata, principal=principal
            )
            suspended += bool(changed.events)
        await batch.commit(conn)
        return suspended

    async def report_death(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        died_on: date,
        reported_on: date | None,
        metadata: Metadata,
    ) -> Changed[InsuredState]:
        """A death reported to insurance (死亡报告): publishes ``DeathReported``, which registration reacts to."""
        today = self.today()
        reported = reported_on or today
        require_not_future(died_on, today, field="died_on")
        require_not_future(reported, today, field="reported_on")
        return await self.change(
            conn,
            person_id,
            lambda s: retirement.decide_death(s, died_on, reported, reported_here=True),
            metadata,
            principal=principal,
        )

    async def claim_survivor(
        self, conn: Connection, principal: Principal, person_id: str, claimed_on: date | None, metadata: Metadata
    ) -> Changed[InsuredState]:
        """Funeral grant and survivor payment, on the province's income figure of the year before the death."""
        today = self.today()
        current = await self.state(conn, person_id, principal)
        province = current.region_code[:2]
        year = retirement.require_death_recorded(current).year - 1
        command = retirement.ClaimSurvivorBenefits(
            claimed_on=claimed_on or today,
            province_code=province,
            monthly_income_fen=self.policy.income(province, year),
            income_year=year,
            contribution_years=await queries.pension_contribution_years(conn, person_id),
        )
        return await self.change(
            conn,
            person_id,
            lambda s: retirement.decide_claim_survivor(command, s, today=today),
            metadata,
            principal=principal,
            before=current,
        )

    async def pay_survivor(
        self, conn: Connection, principal: Principal, person_id: str, paid_on: date | None, metadata: Metadata
    ) -> Changed[InsuredState]:
        """Pay the survivor claim."""
        today = self.today()
        return await self.change(
            conn,
            person_id,
            lambda s: retirement.decide_pay_survivor(s, paid_on or today, today=today),
            metadata,
            principal=principal,
        )
