"""Zero-employment household commands (零就业家庭): registration's snapshots, confirmation, dismissal, refusal."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from contracts.registration import HouseholdMember
from services.assistance.commands import Streams, require_staff
from services.assistance.domain import households as domain
from services.assistance.domain.households import HouseholdState
from services.runtime.aggregate import Changed, require_version
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
        """Registration's latest snapshot: detect, dismiss or clear (a reaction, no caller to check)."""
        before = await self.households.load(conn, household_id)
        events = domain.decide_snapshot(before, household_id, region_code, members, on)
        if not events:
            return before
        changed = await self.streams.record(self.households, conn, household_id, before, events, metadata)
        return changed.after

    async def _load(
        self, conn: Connection, principal: Principal, household_id: str, expected_version: int | None
    ) -> HouseholdState:
        require_staff(principal)
        state = await self.households.get(conn, household_id, principal)
        require_version("household", household_id, state.version, expected_version)
        return state

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
        state = await self._load(conn, principal, household_id, expected_version)
        clear_by = self.streams.calendar.add_days(on, self.streams.policy.clear_target_days)
        events = domain.decide_confirm(state, principal, on, clear_by)
        return await self.streams.record(self.households, conn, household_id, state, events, metadata)

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
        state = await self._load(conn, principal, household_id, expected_version)
        events = domain.decide_dismiss(state, principal, reason, on)
        return await self.streams.record(self.households, conn, household_id, state, events, metadata)

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
        state = await self._load(conn, principal, household_id, expected_version)
        events = domain.decide_refused_help(state, principal, on)
        return await self.streams.record(self.households, conn, household_id, state, events, metadata)
