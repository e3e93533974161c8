"""Commands on an employer's contribution account (``employer_account``): arrears assessed and paid."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date

from contracts.envelope import Event
from services.insurance import queries
from services.insurance.commands import require_clerk
from services.insurance.domain.employer_account import (
    AssessArrears,
    EmployerAccount,
    decide_assess,
    decide_pay_arrears,
    evolve_account,
)
from services.runtime.aggregate import Aggregate, Changed, require_version
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import NotFound
from services.runtime.eventstore import EventStore, Metadata


class EmployerAccountCommands:
    """Arrears (欠费) of employers registration reported."""

    def __init__(self, store: EventStore, *, today: Callable[[], date] = date.today) -> None:
        self.aggregate: Aggregate[EmployerAccount] = Aggregate(
            store, "employer_account", evolve_account, name="employer account", id_field="employer_id"
        )
        self.today = today

    async def account(self, conn: Connection, employer_id: str, principal: Principal | None = None) -> EmployerAccount:
        """The employer's account; an employer with no arrears yet has an empty one. 404 for an unknown employer."""
        state = await self.aggregate.load(conn, employer_id)
        if state is None:
            region = await queries.employer_region(conn, employer_id)
            if region is None:
                raise NotFound(f"no employer {employer_id} is known from registration", field="employer_id")
            state = EmployerAccount(employer_id, region)
        if principal is not None:
            principal.require_region(state.region_code)
        return state

    async def _change(
        self,
        conn: Connection,
        principal: Principal,
        employer_id: str,
        decide: Callable[[EmployerAccount], Sequence[Event]],
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[EmployerAccount]:
        require_clerk(principal)
        before = await self.account(conn, employer_id, principal)
        require_version(self.aggregate.label, employer_id, before.version, expected_version)
        events = list(decide(before))
        return await self.aggregate.record(conn, employer_id, before if before.version else None, events, metadata)

    async def assess(
        self,
        conn: Connection,
        principal: Principal,
        employer_id: str,
        command: AssessArrears,
        metadata: Metadata,
        expected_version: int | None = None,
    ) -> Changed[EmployerAccount]:
        """Record a month's arrears; the second month owed reports the employer to supervision."""
        today = self.today()
        return await self._change(
            conn, principal, employer_id, lambda a: decide_assess(command, a, today=today), metadata, expected_version
        )

    async def pay(
        self,
        conn: Connection,
        principal: Principal,
        employer_id: str,
        month: str,
        amount_fen: int,
        paid_on: date | None,
        metadata: Metadata,
        expected_version: int | None = None,
    ) -> Changed[EmployerAccount]:
        """A month's arrears paid with the surcharge."""
        today = self.today()
        return await self._change(
            conn,
            principal,
            employer_id,
            lambda a: decide_pay_arrears(a, month, amount_fen, paid_on or today, today=today),
            metadata,
            expected_version,
        )
