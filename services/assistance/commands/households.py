"""Zero-employment household commands (零就业家庭): registration's snapshots, confirmation, dismissal, refusal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from functools import partial

from contracts.registration import HouseholdMember
from services.assistance.commands import Streams
from services.assistance.domain import households as domain
from services.assistance.domain.households import HouseholdState
from services.runtime.aggregate import Changed
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata


class HouseholdCommands:
    """The write side of zero-employment households."""

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self.households = streams.households

    async def snapshot(
        self,
        conn: Connection,
        household_id: str,
        region_code: str,
        members: Sequence[HouseholdMember],
        on: date,
        metadata: Metadata,
    ) -> HouseholdState | None:
        """Registration's latest snapshot: detect, dismiss or clear (a reaction, no caller to check). A snapshot
        with no one registered unemployed and no one in work changes no household, so its stream is not read
        (None then): most snapshots of a county's history are such."""
        if not domain.may_change_stage(members):
            return None
        before = await self.households.load(conn, household_id)
        events = domain.decide_snapshot(before, household_id, region_code, members, on)
        if not events:
            return before
        changed = await self.streams.record(self.households, conn, household_id, before, events, metadata)
        return changed.after

    async def confirm(
        self,
        conn: Connection,
        principal: Principal,
        household_id: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[HouseholdState]:
        """The township confirms; the household must clear within the target (calendar days, 民法典 Art 203)."""
        clear_by = self.streams.calendar.add_days(on, self.streams.policy.clear_target_days)
        decide = partial(domain.decide_confirm, principal=principal, on=on, clear_by=clear_by)
        return await self.streams.change(
            self.households, conn, principal, household_id, decide, metadata, expected_version
        )

    async def dismiss(
        self,
        conn: Connection,
        principal: Principal,
        household_id: str,
        reason: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[HouseholdState]:
        """The township finds the detected household is not zero-employment."""
        decide = partial(domain.decide_dismiss, principal=principal, reason=reason, on=on)
        return await self.streams.change(
            self.households, conn, principal, household_id, decide, metadata, expected_version
        )

    async def refused_help(
        self,
        conn: Connection,
        principal: Principal,
        household_id: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[HouseholdState]:
        """A confirmed household refused help without reason and leaves the list."""
        decide = partial(domain.decide_refused_help, principal=principal, on=on)
        return await self.streams.change(
            self.households, conn, principal, household_id, decide, metadata, expected_version
        )
