"""Petition commands (来信来访): registered with the petitioner encrypted, assigned, answered."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date

from contracts.envelope import Event
from services.runtime.aggregate import Aggregate, Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated
from services.runtime.eventstore import Metadata
from services.supervision.commands.context import (
    INTAKE_ROLES,
    TOWNSHIP_ROLES,
    Context,
    known_region,
    require_person_reader,
    require_role,
)
from services.supervision.commands.limits import KeptLimits
from services.supervision.domain import petition as domain

#: A step decided on the petition's state and today's date.
Decide = Callable[[domain.PetitionState, date], Sequence[Event]]


class PetitionCommands:
    """Petitions, from registration to answer."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.petitions: Aggregate[domain.PetitionState] = Aggregate(
            context.store, "petition", domain.evolve_petition, name="petition"
        )
        self.limits = KeptLimits(context, self.petitions, domain.running_limits, domain.decide_recompute)

    async def get(self, conn: Connection, principal: Principal, petition_id: str) -> domain.PetitionState:
        """One petition inside the caller's region (analysts never see one)."""
        require_person_reader(principal)
        return await self.petitions.get(conn, petition_id, principal)

    async def register(
        self,
        conn: Connection,
        principal: Principal,
        region_code: str | None,
        petitioner_name: str,
        petitioner_phone: str | None,
        channel: domain.Channel,
        subject: str,
        received_on: date | None,
        metadata: Metadata,
    ) -> Changed[domain.PetitionState]:
        """Register a letter or visit where the caller works."""
        require_role(principal, INTAKE_ROLES, "register petitions")
        region = await known_region(conn, region_code or principal.region, "region_code")
        principal.require_region(region)
        if not petitioner_name.strip():
            raise RuleViolated("PetitionerNamed", "a petition names its petitioner", field="petitioner.name")
        ctx, today = self.context, self.context.today()
        petition_id = str(uuid.uuid4())
        events = domain.decide_register_petition(
            petition_id, region, channel, subject, received_on or today, ctx.calendar, ctx.limits, today
        )
        await conn.execute(
            "INSERT INTO petitioners (petition_id, name_cipher, phone_cipher) VALUES (%s, %s, %s)",
            (petition_id, ctx.vault.encrypt(petitioner_name.strip()), ctx.vault.encrypt(petitioner_phone)),
        )
        changed = await self.petitions.create(conn, petition_id, events, metadata)
        await self.limits.saved(conn, changed, metadata)
        return changed

    async def assign(
        self,
        conn: Connection,
        principal: Principal,
        petition_id: str,
        assigned_on: date | None,
        assignee: str,
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.PetitionState]:
        """Assign the petition to an officer (交办)."""
        decide: Decide = lambda s, today: domain.decide_assign(s, assigned_on or today, assignee, today)  # noqa: E731
        return await self._step(conn, principal, petition_id, "assign petitions", decide, expected, metadata)

    async def answer(
        self,
        conn: Connection,
        principal: Principal,
        petition_id: str,
        answered_on: date | None,
        summary: str,
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.PetitionState]:
        """Answer the petitioner (答复)."""
        decide: Decide = lambda s, today: domain.decide_answer(s, answered_on or today, summary, today)  # noqa: E731
        return await self._step(conn, principal, petition_id, "answer petitions", decide, expected, metadata)

    async def _step(
        self,
        conn: Connection,
        principal: Principal,
        petition_id: str,
        action: str,
        decide: Decide,
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.PetitionState]:
        """A step of the township's handling (交办, 答复), decided on the petition's state as of today."""
        require_role(principal, TOWNSHIP_ROLES, action)
        today = self.context.today()
        return await self.limits.change(
            conn, petition_id, lambda s: decide(s, today), metadata, expected_version=expected, principal=principal
        )
