"""Dispute commands (劳动争议): mediation at the township, arbitration at the county (劳动争议调解仲裁法)."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date

from contracts.envelope import Event
from services.runtime.aggregate import Aggregate, Changed
from services.runtime.auth import Principal, Role
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.supervision.commands.context import (
    ARBITRATION_ROLES,
    TOWNSHIP_ROLES,
    Context,
    EmployerInput,
    known_region,
    require_role,
    resolve_employer,
)
from services.supervision.commands.limits import KeptLimits
from services.supervision.domain import dispute as domain

Decide = Callable[[domain.DisputeState, date], Sequence[Event]]


class DisputeCommands:
    """Disputes, from the mediation application to the award."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.disputes: Aggregate[domain.DisputeState] = Aggregate(
            context.store, "dispute", domain.evolve_dispute, name="dispute"
        )
        self.limits = KeptLimits(context, self.disputes, domain.running_limits, domain.decide_recompute)

    async def apply(
        self,
        conn: Connection,
        principal: Principal,
        region_code: str | None,
        employer: EmployerInput,
        claim: str,
        amount_claimed_fen: int,
        workers_concerned: int,
        received_on: date | None,
        metadata: Metadata,
    ) -> Changed[domain.DisputeState]:
        """A mediation application received by a township's mediation committee."""
        require_role(principal, TOWNSHIP_ROLES, "receive mediation applications")
        region = await known_region(conn, region_code or principal.region, "region_code")
        principal.require_region(region)
        ref = await resolve_employer(conn, employer)
        ctx, today = self.context, self.context.today()
        dispute_id = str(uuid.uuid4())
        events = domain.decide_apply_mediation(
            dispute_id, region, ref, claim, amount_claimed_fen, workers_concerned, received_on or today,
            ctx.calendar, ctx.limits, today,
        )  # fmt: skip
        changed = await self.disputes.create(conn, dispute_id, events, metadata)
        await self.limits.saved(conn, changed, metadata)
        return changed

    async def step(
        self,
        conn: Connection,
        principal: Principal,
        dispute_id: str,
        decide: Decide,
        expected: int | None,
        metadata: Metadata,
        *,
        arbitration: bool = False,
    ) -> Changed[domain.DisputeState]:
        """One step: mediation steps by the township, arbitration steps by the county's committee."""
        roles: frozenset[Role] = ARBITRATION_ROLES if arbitration else TOWNSHIP_ROLES
        require_role(principal, roles, "take arbitration steps" if arbitration else "take mediation steps")
        today = self.context.today()
        return await self.limits.change(
            conn, dispute_id, lambda s: decide(s, today), metadata, expected_version=expected, principal=principal
        )

    async def lapse(self, conn: Connection, dispute_id: str, today: date, metadata: Metadata) -> int:
        """The scheduled check's step for one dispute: 15 days without agreement refer it, once."""
        changed = await self.limits.change(conn, dispute_id, lambda s: domain.decide_lapse(s, today), metadata)
        return len(changed.events)
