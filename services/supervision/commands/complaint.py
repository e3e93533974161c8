"""Complaint commands (投诉): receive with the complainant encrypted, ask for material, accept or refuse.

Acceptance opens the case in the same statement (the complaint's ``ComplaintAccepted`` and the case's
``CaseOpened``), so there is never an accepted complaint without its case.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from contracts.identifiers import parse_citizen_id
from contracts.supervision import ComplaintType, InspectionScope, RefusalReason
from services.runtime.aggregate import Aggregate, Changed, require_version
from services.runtime.auth import Principal, Role
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated
from services.runtime.eventstore import Metadata
from services.supervision import queries
from services.supervision.commands.case import CaseCommands
from services.supervision.commands.context import (
    CASE_ROLES,
    INTAKE_ROLES,
    Context,
    EmployerInput,
    known_region,
    require_person_reader,
    require_role,
    resolve_employer,
)
from services.supervision.commands.limits import KeptLimits
from services.supervision.domain import complaint as domain
from services.supervision.domain.case import OpenCase, decide_open_case


@dataclass(frozen=True)
class Complainant:
    """Who complains (投诉人): kept encrypted, never on a topic or in a list."""

    name: str
    id_number: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ComplaintInput:
    """A complaint as the API receives it."""

    region_code: str | None
    complainant: Complainant
    employer: EmployerInput
    complaint_type: ComplaintType
    scope: InspectionScope | None
    facts: str
    violation_from: date
    violation_until: date | None
    received_on: date | None
    workers_concerned: int
    amount_claimed_fen: int


class ComplaintCommands:
    """Complaints, from receipt to decision."""

    def __init__(self, context: Context, cases: CaseCommands) -> None:
        self.context = context
        self.cases = cases
        self.complaints: Aggregate[domain.ComplaintState] = Aggregate(
            context.store, "complaint", domain.evolve_complaint, name="complaint"
        )
        self.limits = KeptLimits(
            context, self.complaints, domain.running_limits, domain.decide_recompute, queries.save_complaint
        )

    async def get(self, conn: Connection, principal: Principal, complaint_id: str) -> domain.ComplaintState:
        """One complaint inside the caller's region (analysts never see one)."""
        require_person_reader(principal)
        return await self.complaints.get(conn, complaint_id, principal)

    async def complainant(self, conn: Connection, complaint_id: str) -> Complainant | None:
        """The complainant's identity, decrypted for the officers who handle the complaint."""
        cursor = await conn.execute(
            "SELECT name_cipher, id_cipher, phone_cipher FROM complainants WHERE complaint_id = %s", (complaint_id,)
        )
        row = await cursor.fetchone()
        if row is None:
            return None
        vault = self.context.vault
        return Complainant(str(vault.decrypt(row[0])), vault.decrypt(row[1]), vault.decrypt(row[2]))

    async def file(
        self, conn: Connection, principal: Principal, given: ComplaintInput, metadata: Metadata
    ) -> Changed[domain.ComplaintState]:
        """Receive a complaint where the caller works (a village station files on a resident's behalf)."""
        require_role(principal, INTAKE_ROLES, "receive complaints")
        region_code = await known_region(conn, given.region_code or principal.region, "region_code")
        principal.require_region(region_code)
        if not given.complainant.name.strip():
            raise RuleViolated("ComplainantNamed", "a complaint names its complainant", field="complainant.name")
        id_number = None
        if given.complainant.id_number:
            try:
                id_number = parse_citizen_id(given.complainant.id_number, today=self.context.today()).number
            except ValueError as exc:
                raise RuleViolated("CitizenIdValid", str(exc), field="complainant.id_number") from None
        employer = await resolve_employer(conn, given.employer)
        today = self.context.today()
        complaint_id = str(uuid.uuid4())
        command = domain.FileComplaint(
            complaint_id=complaint_id,
            region_code=region_code,
            employer=employer,
            complaint_type=given.complaint_type,
            scope=given.scope,
            facts=given.facts,
            violation_from=given.violation_from,
            violation_until=given.violation_until,
            received_on=given.received_on or today,
            workers_concerned=given.workers_concerned,
            amount_claimed_fen=given.amount_claimed_fen,
            on_behalf=principal.role is Role.VILLAGE,
        )
        events = domain.decide_file_complaint(command, self.context.calendar, self.context.limits, today)
        vault = self.context.vault
        await conn.execute(
            "INSERT INTO complainants (complaint_id, name_cipher, id_cipher, id_hash, phone_cipher)"
            " VALUES (%s, %s, %s, %s, %s)",
            (
                complaint_id,
                vault.encrypt(given.complainant.name.strip()),
                vault.encrypt(id_number),
                vault.lookup_hash(id_number) if id_number else None,
                vault.encrypt(given.complainant.phone),
            ),
        )
        changed = await self.complaints.create(conn, complaint_id, events, metadata)
        await self.limits.saved(conn, changed, metadata)
        return changed

    async def request_completion(
        self,
        conn: Connection,
        principal: Principal,
        complaint_id: str,
        requested_on: date | None,
        missing: list[str],
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.ComplaintState]:
        """Ask the complainant for the missing material; the decision clock stops."""
        require_role(principal, CASE_ROLES | {Role.TOWNSHIP}, "ask for a complaint's material")
        ctx, today = self.context, self.context.today()
        return await self.limits.change(
            conn,
            complaint_id,
            lambda s: domain.decide_request_completion(
                s, requested_on or today, missing, ctx.calendar, ctx.limits, today
            ),
            metadata,
            expected_version=expected,
            principal=principal,
        )

    async def complete(
        self,
        conn: Connection,
        principal: Principal,
        complaint_id: str,
        completed_on: date | None,
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.ComplaintState]:
        """The material is complete; the clock runs again."""
        require_role(principal, INTAKE_ROLES, "record a complaint's completed material")
        ctx, today = self.context, self.context.today()
        return await self.limits.change(
            conn,
            complaint_id,
            lambda s: domain.decide_complete_material(s, completed_on or today, ctx.calendar, today),
            metadata,
            expected_version=expected,
            principal=principal,
        )

    async def accept(
        self,
        conn: Connection,
        principal: Principal,
        complaint_id: str,
        accepted_on: date | None,
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.ComplaintState]:
        """Accept (受理) and open the case (立案) in one statement."""
        require_role(principal, CASE_ROLES, "accept complaints")
        ctx, today = self.context, self.context.today()
        before = await self.complaints.get(conn, complaint_id, principal)
        require_version("complaint", complaint_id, before.version, expected)
        case_id = str(uuid.uuid4())
        day = accepted_on or today
        events = domain.decide_accept(before, day, case_id, ctx.limits, today)
        opening = OpenCase(
            case_id=case_id,
            employer=before.employer,
            source="complaint",
            scope=before.scope,
            opened_on=day,
            workers_concerned=before.workers_concerned,
            complaint_id=complaint_id,
            complaint_type=before.complaint_type,
        )
        case_events = decide_open_case(opening, ctx.calendar, ctx.limits, today)
        also = [self.cases.cases.appending(case_id, None, case_events, metadata)]
        changed = await self.complaints.record(conn, complaint_id, before, events, metadata, also=also)
        await self.limits.saved(conn, changed, metadata)
        await self.cases.saved(conn, self.cases.cases.fold(case_events), metadata, case_events, None)
        return changed

    async def refuse(
        self,
        conn: Connection,
        principal: Principal,
        complaint_id: str,
        refused_on: date | None,
        reason: RefusalReason,
        explanation: str,
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.ComplaintState]:
        """Refuse in writing (不予受理), with the reason."""
        require_role(principal, CASE_ROLES, "refuse complaints")
        ctx, today = self.context, self.context.today()
        return await self.limits.change(
            conn,
            complaint_id,
            lambda s: domain.decide_refuse(s, refused_on or today, reason, explanation, ctx.limits, today),
            metadata,
            expected_version=expected,
            principal=principal,
        )

    async def flag_overdue(self, conn: Connection, complaint_id: str, today: date, metadata: Metadata) -> int:
        """The scheduled check's step for one complaint: flag a passed decision once."""
        changed = await self.limits.change(conn, complaint_id, lambda s: domain.decide_flag_overdue(s, today), metadata)
        return len(changed.events)
