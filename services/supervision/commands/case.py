"""Case commands (立案查处): every step through ``Aggregate.change``, by inspectors and the county bureau.

After each step the case's row and open limits are rewritten, and a step that changes the employer's
record (a first found violation, a penalty, a refused order, a criminal transfer) updates its rating in the
same transaction (劳动保障监察条例 Art 17; 人社部规〔2016〕1号).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from datetime import date
from typing import Literal

from contracts.envelope import Event
from contracts.supervision import (
    CaseSource,
    CaseTransferred,
    InspectionScope,
    PenaltyImposed,
    RectificationVerified,
)
from services.runtime.aggregate import Aggregate, Changed
from services.runtime.auth import Principal, Role
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.supervision import queries
from services.supervision.commands.context import (
    APPROVING_ROLES,
    CASE_ROLES,
    Context,
    EmployerInput,
    require_role,
    resolve_employer,
)
from services.supervision.commands.limits import KeptLimits
from services.supervision.commands.rating import RatingCommands
from services.supervision.domain import case as domain
from services.supervision.domain.rating import with_case_step

Decide = Callable[[domain.CaseState, date], Sequence[Event]]


class CaseCommands:
    """Cases, from opening to closure."""

    def __init__(self, context: Context, ratings: RatingCommands) -> None:
        self.context = context
        self.ratings = ratings
        self.cases: Aggregate[domain.CaseState] = Aggregate(context.store, "case", domain.evolve_case, name="case")
        self.limits = KeptLimits(context, self.cases, domain.running_limits, domain.decide_recompute, queries.save_case)

    async def get(self, conn: Connection, principal: Principal, case_id: str) -> domain.CaseState:
        """One case inside the caller's region."""
        return await self.cases.get(conn, case_id, principal)

    async def open(
        self,
        conn: Connection,
        principal: Principal,
        employer: EmployerInput,
        source: CaseSource,
        scope: InspectionScope,
        opened_on: date | None,
        workers_concerned: int,
        metadata: Metadata,
    ) -> Changed[domain.CaseState]:
        """Open a case without a complaint: ex officio, from a grid inspection or from arrears monitoring."""
        require_role(principal, CASE_ROLES, "open cases")
        ref = await resolve_employer(conn, employer)
        principal.require_region(ref.region_code)
        today = self.context.today()
        command = domain.OpenCase(str(uuid.uuid4()), ref, source, scope, opened_on or today, workers_concerned)
        events = domain.decide_open_case(command, self.context.calendar, self.context.limits, today)
        changed = await self.cases.create(conn, command.case_id, events, metadata)
        await self.saved(conn, changed.after, metadata, events, None)
        return changed

    async def step(
        self,
        conn: Connection,
        principal: Principal,
        case_id: str,
        decide: Decide,
        expected: int | None,
        metadata: Metadata,
        *,
        roles: frozenset[Role] = CASE_ROLES,
        action: str = "act on cases",
    ) -> Changed[domain.CaseState]:
        """One step on a case: ``decide(state, today)`` under the caller's role, region and If-Match."""
        require_role(principal, roles, action)
        today = self.context.today()
        changed = await self.cases.change(
            conn, case_id, lambda s: decide(s, today), metadata, expected_version=expected, principal=principal
        )
        await self.saved(conn, changed.after, metadata, changed.events, changed.before)
        return changed

    def inspect(
        self, on: date | None, method: Literal["site", "documents", "interview"], findings: str, violation: bool
    ) -> Decide:
        """An inspection (调查检查)."""
        return lambda s, today: domain.decide_inspect(s, on or today, method, findings, violation, today)

    def order_rectification(
        self, on: date | None, requirements: str, due_on: date | None, workdays: int | None
    ) -> Decide:
        """A rectification order (责令改正) with its deadline."""
        ctx = self.context
        return lambda s, today: domain.decide_order_rectification(
            s, on or today, requirements, due_on, workdays, ctx.calendar, ctx.limits, today
        )

    def verify_rectification(self, on: date | None, complied: bool, wages_paid_fen: int) -> Decide:
        """The order's verification."""
        return lambda s, today: domain.decide_verify_rectification(s, on or today, complied, wages_paid_fen, today)

    def penalty(self, on: date | None, amount_fen: int, legal_basis: str) -> Decide:
        """A penalty in fen (行政处罚)."""
        return lambda s, today: domain.decide_penalty(s, on or today, amount_fen, legal_basis, today)

    async def extend(
        self,
        conn: Connection,
        principal: Principal,
        case_id: str,
        on: date | None,
        workdays: int,
        reason: str,
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.CaseState]:
        """The one extension, approved by the county bureau (条例 Art 17)."""
        ctx = self.context
        return await self.step(
            conn,
            principal,
            case_id,
            lambda s, today: domain.decide_extend(
                s, on or today, principal.subject, workdays, reason, ctx.calendar, ctx.limits, today
            ),
            expected,
            metadata,
            roles=APPROVING_ROLES,
            action="approve an investigation's extension",
        )

    def transfer(
        self, on: date | None, to: Literal["public_security", "other_department", "other_jurisdiction"], reason: str
    ) -> Decide:
        """A transfer (移送), which closes the case here."""
        return lambda s, today: domain.decide_transfer(s, on or today, to, reason, today)

    def close(self, on: date | None, outcome: domain.Outcome, wages_recovered_fen: int | None) -> Decide:
        """Closure (结案)."""
        return lambda s, today: domain.decide_close(s, on or today, outcome, wages_recovered_fen, today)

    async def flag_breaches(self, conn: Connection, case_id: str, today: date, metadata: Metadata) -> int:
        """The scheduled check's step for one case: each passed limit flagged once."""
        changed = await self.cases.change(conn, case_id, lambda s: domain.decide_flag_breaches(s, today), metadata)
        await self.saved(conn, changed.after, metadata, changed.events, changed.before)
        return len(changed.events)

    async def saved(
        self,
        conn: Connection,
        state: domain.CaseState | None,
        metadata: Metadata,
        events: Sequence[Event],
        before: domain.CaseState | None,
    ) -> None:
        """Rewrite the case's row and limits; update the employer's rating when the step bears on it."""
        assert state is not None
        await queries.save_case(conn, state)
        await self.limits.save(conn, state.case_id, state)
        first_violation = state.violation_found and not (before is not None and before.violation_found)
        bears = first_violation or any(
            isinstance(e, (PenaltyImposed, RectificationVerified, CaseTransferred)) for e in events
        )
        if bears:
            await self.ratings.update(
                conn,
                state.employer.employer_id,
                state.employer.region_code,
                lambda facts: with_case_step(facts, events, first_violation, state.scope),
                metadata,
            )
