"""Hard-to-employ certification commands (就业困难人员认定): apply, review, objections, decide, end."""

from __future__ import annotations

import uuid
from datetime import date
from functools import partial

from contracts.assistance import HardToEmployCategory
from services.assistance import queries
from services.assistance.commands import Streams, ledger_person, require_staff
from services.assistance.domain import certification as domain
from services.assistance.domain.cases import case_id_for
from services.assistance.domain.certification import ApplicationState, CertificationState
from services.assistance.domain.persons import PersonView, computed_categories
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata


class CertificationCommands:
    """The write side of applications and of the certified status."""

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self.applications = streams.applications
        self.certifications = streams.certifications

    async def _computed(self, conn: Connection, person: PersonView, on: date) -> list[HardToEmployCategory]:
        stage = await queries.zero_employment_stage(conn, person.household_id)
        # A household the township confirmed counts; one only detected still awaits that check.
        return computed_categories(person, on, in_zero_employment_household=stage == "confirmed")

    async def apply(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        categories: list[HardToEmployCategory],
        evidence: list[str],
        on: date,
        metadata: Metadata,
    ) -> Changed[ApplicationState]:
        """An application at the village or township for a person with an open case."""
        require_staff(principal)
        person = await ledger_person(conn, person_id)
        principal.require_region(person.region_code)
        case = await self.streams.cases.load(conn, case_id_for(person_id))
        command = domain.Apply(
            application_id=str(uuid.uuid4()),
            person_id=person_id,
            region_code=person.region_code,
            case_id=case.case_id if case is not None and case.is_open else None,
            categories=tuple(categories),
            evidence=tuple(e for e in evidence if e.strip()),
            applied_on=on,
        )
        events = domain.decide_apply(
            command,
            principal,
            computed=await self._computed(conn, person, on),
            pending_application=await queries.pending_application(conn, person_id),
            active_certification=await queries.active_certification(conn, person_id),
        )
        return await self.streams.record(self.applications, conn, command.application_id, None, events, metadata)

    async def review(
        self,
        conn: Connection,
        principal: Principal,
        application_id: str,
        *,
        passed: bool,
        reason: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[ApplicationState]:
        """The township's initial review; passing starts the notice of ``notice_workdays`` working days."""
        notice = self.streams.calendar.add_workdays(on, self.streams.policy.notice_workdays)
        decide = partial(domain.decide_review, principal=principal, passed=passed, reason=reason, on=on, notice=notice)
        return await self.streams.change(
            self.applications, conn, principal, application_id, decide, metadata, expected_version
        )

    async def object(
        self,
        conn: Connection,
        principal: Principal,
        application_id: str,
        objection: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[ApplicationState]:
        """Record an objection received during the notice."""
        decide = partial(domain.decide_objection, objection=objection, on=on)
        return await self.streams.change(
            self.applications, conn, principal, application_id, decide, metadata, expected_version
        )

    async def decide(
        self,
        conn: Connection,
        principal: Principal,
        application_id: str,
        *,
        certify: bool,
        reason: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[ApplicationState]:
        """The county's decision; a certification starts its own stream in the same statement."""
        state = await self.streams.loaded(self.applications, conn, principal, application_id, expected_version)
        person = await ledger_person(conn, state.person_id)
        certification_id = str(uuid.uuid4())
        events = domain.decide_decision(
            state,
            principal,
            certify=certify,
            reason=reason,
            on=on,
            computed=await self._computed(conn, person, on),
            certification_id=certification_id,
            policy=self.streams.policy,
        )
        decided, certified = events[:1], events[1:]
        also = []
        if certified:
            also = [(self.certifications.appending(certification_id, None, certified, metadata), certified)]
        return await self.streams.record(self.applications, conn, application_id, state, decided, metadata, also=also)

    async def end(
        self,
        conn: Connection,
        principal: Principal | None,
        certification_id: str,
        reason: domain.EndReason,
        on: date,
        metadata: Metadata,
        expected_version: int | None = None,
    ) -> Changed[CertificationState]:
        """End a certified status: by a county officer (review due, revoked), or a reaction (quietly)."""
        decide = partial(domain.decide_end, reason=reason, on=on, strict=principal is not None)
        return await self.streams.change(
            self.certifications, conn, principal, certification_id, decide, metadata, expected_version
        )

    async def end_due(self, conn: Connection, today: date, metadata: Metadata) -> int:
        """End every status whose review date has passed without a review (the worker's daily sweep)."""
        ended = 0
        for certification_id, review_on in await queries.certifications_past_review(conn, today):
            changed = await self.end(conn, None, certification_id, "review_due", review_on, metadata)
            ended += len(changed.events)
        return ended
