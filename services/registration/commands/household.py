"""Commands on the household aggregate (户): enter one with its members, add, remove, change the head.

Each household event carries the whole member list with every member's working age and status: what
zero-employment detection (零就业家庭, 劳社部发〔2007〕15号) reads downstream. A member's change of status
appends a new snapshot in the same statement as the person's own events (:func:`household_snapshot`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from datetime import date
from functools import partial
from typing import cast

from contracts.registration import EmploymentStatus, HouseholdMember, Sex
from contracts.retirement import RetirementGroup
from services.registration import queries
from services.registration.commands.context import Ledger, may_change_persons
from services.registration.domain.household import (
    HouseholdState,
    decide_add_member,
    decide_change_head,
    decide_create_household,
    decide_household_employment,
    decide_remove_member,
    member_snapshot,
)
from services.registration.domain.person import PersonState
from services.registration.models.household import HeadChange, HouseholdCreate, HouseholdPublic, MemberAdd
from services.runtime.aggregate import Changed, Decide, is_uuid, require_version
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated
from services.runtime.eventstore import Append, Metadata


def household_public(state: HouseholdState) -> HouseholdPublic:
    """A household as the API shows it."""
    return HouseholdPublic(
        household_id=state.household_id,
        region_code=state.region_code,
        head_person_id=state.head_person_id,
        members=list(state.members),
        version=state.version,
    )


async def household_snapshot(ledger: Ledger, conn: Connection, person: PersonState, metadata: Metadata) -> list[Append]:
    """The append that records a member's new status in their household, if they belong to one."""
    household_id = await queries.household_of(conn, person.person_id)
    if household_id is None:
        return []
    household = await ledger.households.get(conn, household_id)
    events = decide_household_employment(household, person, today=ledger.today())
    return [ledger.households.appending(household_id, household, events, metadata)]


async def _members(
    ledger: Ledger, conn: Connection, principal: Principal, relations: Mapping[str, str]
) -> list[HouseholdMember]:
    """Snapshots of would-be members, their rows locked until commit (see queries.lock_persons)."""
    rows = await queries.lock_persons(conn, [pid for pid in relations if is_uuid(pid)])
    return member_snapshots(principal, rows, relations, ledger.today())


async def _save(conn: Connection, changed: Changed[HouseholdState]) -> Sequence[Append]:
    """The household's read rows (its member list keeps a person in one household only: 409)."""
    after = changed.after
    members = {m.person_id: m.relation for m in after.members}
    await queries.save_household(conn, after.household_id, after.region_code, after.head_person_id, members)
    return []


async def create_household(
    ledger: Ledger, conn: Connection, principal: Principal, body: HouseholdCreate, metadata: Metadata
) -> HouseholdPublic:
    """Enter a household (户) with its members; a person already in another household is 409."""
    may_change_persons(principal)
    principal.require_region(body.region_code)
    region = await ledger.region(conn, body.region_code)
    relations = {m.person_id: m.relation for m in body.members}
    if len(relations) != len(body.members):
        raise RuleViolated("MemberListedOnce", "a person is listed twice", field="members")
    members = await _members(ledger, conn, principal, relations)
    household_id = str(uuid.uuid4())
    events = decide_create_household(
        household_id, region, body.region_code, members, entered_on=body.entered_on, today=ledger.today()
    )
    changed = await ledger.households.create(conn, household_id, events, metadata, effects=_save)
    return household_public(changed.after)


def member_snapshots(
    principal: Principal, rows: Mapping[str, queries.PersonRow], relations: Mapping[str, str], today: date
) -> list[HouseholdMember]:
    """Would-be members' snapshots from their locked rows (``queries.lock_persons``); 422 for a person not in
    the ledger, 403 for one outside the caller's scope."""
    members = []
    for person_id, relation in relations.items():
        row = rows.get(person_id)
        if row is None:
            raise RuleViolated("MemberIsInLedger", f"no person {person_id} in the ledger", field="person_id")
        principal.require_region(row.region_code)
        members.append(member_snapshot(_person(person_id, row), relation, today=today))
    return members


def _person(person_id: str, row: queries.PersonRow) -> PersonState:
    """The little of a ledger entry a household's snapshot needs, from its row."""
    return PersonState(
        person_id=person_id,
        sex=cast(Sex, row.sex),
        birth_date=row.birth_date,
        region_code=row.region_code,
        status=cast(EmploymentStatus, row.status),
        retirement_group=RetirementGroup(row.retirement_group) if row.retirement_group else None,
    )


async def _change(
    ledger: Ledger,
    conn: Connection,
    principal: Principal,
    household_id: str,
    decide: Decide[HouseholdState],
    metadata: Metadata,
    expected_version: int | None,
) -> HouseholdPublic:
    changed = await ledger.households.change(
        conn, household_id, decide, metadata, expected_version=expected_version, principal=principal, effects=_save
    )
    return household_public(changed.after)


async def add_member(
    ledger: Ledger, conn: Connection, principal: Principal, household_id: str, body: MemberAdd, metadata: Metadata
) -> HouseholdPublic:
    """A person joins a household (their row is locked first, as every household command does)."""
    household = await ledger.households.get(conn, household_id, principal)
    require_version("household", household_id, household.version, body.expected_version)
    [member] = await _members(ledger, conn, principal, {body.person_id: body.relation})
    events = decide_add_member(household, member)
    changed = await ledger.households.record(conn, household_id, household, events, metadata, effects=_save)
    return household_public(changed.after)


async def remove_member(
    ledger: Ledger,
    conn: Connection,
    principal: Principal,
    household_id: str,
    person_id: str,
    reason: str,
    metadata: Metadata,
    expected_version: int | None,
) -> HouseholdPublic:
    """A person leaves a household."""
    decide = partial(decide_remove_member, person_id=person_id, reason=reason)
    return await _change(ledger, conn, principal, household_id, decide, metadata, expected_version)


async def change_head(
    ledger: Ledger, conn: Connection, principal: Principal, household_id: str, body: HeadChange, metadata: Metadata
) -> HouseholdPublic:
    """Another member becomes head of the household (户主)."""
    decide = partial(decide_change_head, person_id=body.person_id, former_head_relation=body.former_head_relation)
    return await _change(ledger, conn, principal, household_id, decide, metadata, body.expected_version)
