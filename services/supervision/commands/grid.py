"""Grid inspection commands (网格化监察): a visit with its findings, and the follow-up.

A follow-up that finds the matters unresolved may open a case on the employer in the same statement
(``source="grid_inspection"``), so the escalation and the case commit together.
"""

from __future__ import annotations

import uuid
from datetime import date

from contracts.supervision import Finding
from services.runtime.aggregate import Aggregate, Changed, require_version
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated
from services.runtime.eventstore import Metadata
from services.supervision.commands.case import CaseCommands
from services.supervision.commands.context import (
    CASE_ROLES,
    TOWNSHIP_ROLES,
    Context,
    EmployerInput,
    require_role,
    resolve_employer,
)
from services.supervision.commands.limits import KeptLimits
from services.supervision.domain import grid as domain
from services.supervision.domain.case import OpenCase, decide_open_case


class GridCommands:
    """Grid inspections and their follow-ups."""

    def __init__(self, context: Context, cases: CaseCommands) -> None:
        self.context = context
        self.cases = cases
        self.inspections: Aggregate[domain.GridInspectionState] = Aggregate(
            context.store, "grid_inspection", domain.evolve_grid_inspection, name="grid inspection",
            id_field="inspection_id",
        )  # fmt: skip
        self.limits = KeptLimits(context, self.inspections, domain.running_limits, domain.decide_recompute)

    async def record(
        self,
        conn: Connection,
        principal: Principal,
        grid: str,
        employer: EmployerInput,
        inspected_on: date | None,
        findings: list[Finding],
        metadata: Metadata,
    ) -> Changed[domain.GridInspectionState]:
        """A grid inspector's visit to an employer of the caller's township."""
        require_role(principal, TOWNSHIP_ROLES, "record grid inspections")
        ref = await resolve_employer(conn, employer)
        principal.require_region(ref.region_code)
        ctx, today = self.context, self.context.today()
        inspection_id = str(uuid.uuid4())
        events = domain.decide_record_inspection(
            inspection_id, grid, ref, inspected_on or today, findings, ctx.calendar, ctx.limits, today
        )
        changed = await self.inspections.create(conn, inspection_id, events, metadata)
        await self.limits.saved(conn, changed, metadata)
        return changed

    async def follow_up(
        self,
        conn: Connection,
        principal: Principal,
        inspection_id: str,
        followed_up_on: date | None,
        resolved: bool,
        notes: str,
        open_case: bool,
        expected: int | None,
        metadata: Metadata,
    ) -> Changed[domain.GridInspectionState]:
        """The follow-up; unresolved findings may open a case (by an inspector or the county) beside it."""
        require_role(principal, TOWNSHIP_ROLES, "follow up grid inspections")
        ctx, today = self.context, self.context.today()
        before = await self.inspections.get(conn, inspection_id, principal)
        require_version("grid inspection", inspection_id, before.version, expected)
        day = followed_up_on or today
        case_id, also, case_events = None, [], []
        if open_case:
            if resolved:
                raise RuleViolated("CaseForUnresolvedFindings", "resolved findings open no case", field="open_case")
            require_role(principal, CASE_ROLES, "open cases")
            case_id = str(uuid.uuid4())
            workers = max((f.workers for f in before.findings), default=0)
            opening = OpenCase(case_id, before.employer, "grid_inspection", before.findings[0].scope, day, workers)
            case_events = list(decide_open_case(opening, ctx.calendar, ctx.limits, today))
            also = [self.cases.cases.appending(case_id, None, case_events, metadata)]
        events = domain.decide_follow_up(before, day, resolved, notes, case_id, today)
        changed = await self.inspections.record(conn, inspection_id, before, events, metadata, also=also)
        await self.limits.saved(conn, changed, metadata)
        if case_events:
            await self.cases.saved(conn, self.cases.cases.fold(case_events), metadata, case_events, None)
        return changed
