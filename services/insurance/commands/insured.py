"""Commands on an insured person's stream (``insured_person``): enrolment, expectation, the unemployment
benefit, the pension, death and survivor claims, the flexible-employment subsidy."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Literal

from contracts.envelope import Event
from contracts.insurance import BenefitStopReason
from services.insurance import queries
from services.insurance.commands import Policy, require_clerk
from services.insurance.domain import benefit, enrolment, retirement
from services.insurance.domain.insured import InsuredState, evolve_insured
from services.insurance.domain.months import month_of, require_not_future
from services.runtime.aggregate import Aggregate, Changed, is_uuid, require_version
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import NotFound
from services.runtime.eventstore import EventStore, Metadata
from services.runtime.workdays import WorkdayCalendar

Decision = Callable[[InsuredState], Sequence[Event]]


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
        if state is None:
            region = await queries.person_region(conn, person_id) if is_uuid(person_id) else None
            region = region or region_code
            if region is None:
                raise NotFound(f"no person {person_id} is known from registration", field="person_id")
            state = InsuredState.blank(person_id, region)
        if principal is not None:
            principal.require_region(state.region_code)
        return state

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
        require_version(self.aggregate.label, person_id, before.version, expected_version)
        events = list(decide(before))
        if not events:
            return Changed(person_id, before, before, [])
        changed = await self.aggregate.record(conn, person_id, before if before.version else None, events, metadata)
        await queries.apply_own(conn, events)
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

    async def expect_enrolment(
        self,
        conn: Connection,
        person_id: str,
        region_code: str | None,
        *,
        employer_id: str | None,
        started_on: date,
        source: str,
        metadata: Metadata,
        stops_benefit: bool = False,
    ) -> Changed[InsuredState]:
        """A reaction: a new hire must be enrolled within 30 days (社会保险法 Art 58; the period ends on a working
        day, 民法典 Art 203). ``stops_benefit``: the hire is a re-employment that also stops an unemployment
        benefit (失业保险条例 Art 15(1)), decided on the same state and appended in the same statement."""
        due = self.calendar.add_days(started_on, self.policy.enrolment_days).due
        origin: Literal["registration", "assistance"] = "assistance" if source == "assistance" else "registration"

        def decide(state: InsuredState) -> list[Event]:
            stopped = benefit.decide_stop_benefit(state, "reemployed", started_on) if stops_benefit else []
            expected = enrolment.decide_expect_enrolment(
                state, employer_id=employer_id, started_on=started_on, due_on=due, source=origin
            )
            return [*stopped, *expected]

        return await self.change(conn, person_id, decide, metadata, region_code=region_code)

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
        today = self.today()
        facts = await queries.registration_facts(conn, person_id)
        current = await self.state(conn, person_id, principal)
        since = month_of(current.claim.starts_on) if current.claim is not None else None
        months = await queries.contribution_months(conn, person_id, "unemployment", since)
        command = benefit.ClaimBenefit(str(uuid.uuid4()), claimed_on or today, self.policy.unemployment_benefit_fen)
        return await self.change(
            conn,
            person_id,
            lambda s: benefit.decide_claim_benefit(command, s, facts, months, today=today),
            metadata,
            principal=principal,
            expected_version=expected_version,
            before=current,
        )

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
        paid = 0
        for person_id in await queries.benefits_due(conn, principal.region, month):
            state = await self.state(conn, person_id, principal)
            if state.claim is None or month in state.claim.paid_months:
                continue
            await self.change(
                conn,
                person_id,
                lambda s: benefit.decide_pay_benefit(s, month, today=today),
                metadata,
                principal=principal,
                before=state,
            )
            paid += 1
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
        suspended = 0
        for person_id in await queries.overdue_retirees(conn, principal.region, as_of):
            changed = await self.change(
                conn, person_id, lambda s: retirement.decide_suspend_overdue(s, as_of), metadata, principal=principal
            )
            suspended += bool(changed.events)
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

    async def record_death(
        self, conn: Connection, person_id: str, region_code: str | None, died_on: date, metadata: Metadata
    ) -> Changed[InsuredState]:
        """A reaction: registration recorded a death reported there."""
        return await self.change(
            conn,
            person_id,
            lambda s: retirement.decide_death(s, died_on, died_on, reported_here=False),
            metadata,
            region_code=region_code,
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

    # --- flexible-employment subsidy (reactions) -------------------------------------------------------

    async def grant_subsidy(
        self,
        conn: Connection,
        person_id: str,
        region_code: str,
        *,
        certification_id: str,
        certified_on: date,
        review_on: date,
        metadata: Metadata,
    ) -> Changed[InsuredState]:
        """A certified hard-to-employ person may draw the subsidy."""
        return await self.change(
            conn,
            person_id,
            lambda s: enrolment.decide_grant_subsidy(
                s, certification_id=certification_id, certified_on=certified_on, review_on=review_on
            ),
            metadata,
            region_code=region_code,
        )

    async def end_subsidy(
        self,
        conn: Connection,
        person_id: str,
        region_code: str,
        *,
        certification_id: str,
        ended_on: date,
        reason: str,
        metadata: Metadata,
    ) -> Changed[InsuredState]:
        """The subsidy ends with the status."""
        return await self.change(
            conn,
            person_id,
            lambda s: enrolment.decide_end_subsidy(
                s, certification_id=certification_id, ended_on=ended_on, reason=reason
            ),
            metadata,
            region_code=region_code,
        )
