"""The household aggregate (户) with its members, for zero-employment detection (零就业家庭, 劳社部发〔2007〕15号)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

from contracts.envelope import Event
from contracts.regions import Region
from contracts.registration import (
    HouseholdCreated,
    HouseholdEmploymentChanged,
    HouseholdHeadChanged,
    HouseholdMember,
    HouseholdMemberAdded,
    HouseholdMemberRemoved,
)
from services.registration.domain.common import named_day_not_in_future, not_first, region_at
from services.registration.domain.person import VILLAGE, PersonState
from services.runtime.errors import RuleViolated

# --- the household aggregate (户) --------------------------------------------------------------------------

#: How a member relates to the head of the household.
Relation = Literal["head", "spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other"]
RELATIONS: tuple[str, ...] = Relation.__args__  # type: ignore[attr-defined]


REGISTERED = "a household is registered in a village or community"


@dataclass(frozen=True)
class HouseholdState:
    """A household folded from its stream: every household event carries the whole member list."""

    household_id: str
    region_code: str
    head_person_id: str | None
    members: tuple[HouseholdMember, ...]
    version: int

    def member(self, person_id: str) -> HouseholdMember | None:
        """The member with this person id, if any."""
        return next((m for m in self.members if m.person_id == person_id), None)


HouseholdEvent = (
    HouseholdCreated | HouseholdMemberAdded | HouseholdMemberRemoved | HouseholdHeadChanged | HouseholdEmploymentChanged
)


def evolve_household(state: HouseholdState | None, event: Event) -> HouseholdState:
    """The household after one more event; each event's snapshot is the new member list."""
    if not isinstance(event, HouseholdEvent):
        raise not_first("household", event)
    return HouseholdState(
        household_id=event.household_id,
        region_code=event.region_code,
        head_person_id=event.head_person_id,
        members=tuple(event.members),
        version=(state.version if state else 0) + 1,
    )


def fold_household(events: Sequence[HouseholdEvent]) -> HouseholdState | None:
    """A household from its stream's events (None for an empty stream)."""
    state: HouseholdState | None = None
    for event in events:
        state = evolve_household(state, event)
    return state


def member_snapshot(person: PersonState, relation: str, *, today: date) -> HouseholdMember:
    """What zero-employment detection needs of a member (零就业家庭): working age and status, today."""
    return HouseholdMember(
        person_id=person.person_id, relation=relation, working_age=person.working_age_on(today), status=person.status
    )


def _check_relation(relation: str, field_name: str) -> None:
    if relation not in RELATIONS:
        raise RuleViolated("KnownRelation", f"relation must be one of {', '.join(RELATIONS)}", field=field_name)


def decide_create_household(
    household_id: str,
    region: Region | None,
    region_code: str,
    members: Sequence[HouseholdMember],
    *,
    entered_on: date | None = None,
    today: date | None = None,
) -> list[HouseholdCreated]:
    """A household is entered in its village or community with its members, exactly one of them the head;
    ``entered_on``, when the ledger kept on paper says so, is the past day it was entered."""
    target = region_at(region, region_code, VILLAGE, "HouseholdLivesInVillageOrCommunity", REGISTERED)
    named_day_not_in_future(entered_on, today, "entered_on", "EntryNotInFuture")
    if not members:
        raise RuleViolated("HouseholdHasMembers", "a household has at least one member", field="members")
    ids = [m.person_id for m in members]
    if len(set(ids)) != len(ids):
        raise RuleViolated("MemberListedOnce", "a person is listed twice", field="members")
    for index, member in enumerate(members):
        _check_relation(member.relation, f"members.{index}.relation")
        if member.status == "deceased":
            raise RuleViolated("DeceasedIsFinal", "a deceased person joins no household", field=f"members.{index}")
    heads = [m.person_id for m in members if m.relation == "head"]
    if len(heads) != 1:
        raise RuleViolated(
            "OneHeadPerHousehold", f"exactly one member is the head (户主), found {len(heads)}", field="members"
        )
    return [
        HouseholdCreated(
            household_id=household_id,
            region_code=target.code,
            head_person_id=heads[0],
            members=list(members),
            entered_on=entered_on,
        )
    ]


def decide_add_member(state: HouseholdState, member: HouseholdMember) -> list[HouseholdMemberAdded]:
    """A person joins the household; there is already a head, so the newcomer is not one."""
    _check_relation(member.relation, "relation")
    if state.member(member.person_id) is not None:
        raise RuleViolated("MemberListedOnce", "the person is already a member", field="person_id")
    if member.relation == "head" and state.head_person_id is not None:
        raise RuleViolated(
            "OneHeadPerHousehold", "the household has a head; add the member, then change the head", field="relation"
        )
    if member.status == "deceased":
        raise RuleViolated("DeceasedIsFinal", "a deceased person joins no household", field="person_id")
    members = [*state.members, member]
    head = member.person_id if member.relation == "head" else state.head_person_id
    return [
        HouseholdMemberAdded(
            household_id=state.household_id,
            region_code=state.region_code,
            head_person_id=head,
            members=members,
            person_id=member.person_id,
        )
    ]


def decide_remove_member(state: HouseholdState, person_id: str, reason: str) -> list[HouseholdMemberRemoved]:
    """A person leaves the household; the head leaves last (change the head first)."""
    if state.member(person_id) is None:
        raise RuleViolated("MemberOfHousehold", "the person is not a member of this household", field="person_id")
    rest = [m for m in state.members if m.person_id != person_id]
    if person_id == state.head_person_id and rest:
        raise RuleViolated(
            "ChangeHeadBeforeRemovingHead",
            "the head leaves last: make another member head first",
            field="person_id",
        )
    return [
        HouseholdMemberRemoved(
            household_id=state.household_id,
            region_code=state.region_code,
            head_person_id=state.head_person_id if rest else None,
            members=rest,
            person_id=person_id,
            reason=reason,
        )
    ]


def decide_change_head(
    state: HouseholdState, person_id: str, former_head_relation: str = "other"
) -> list[HouseholdHeadChanged]:
    """Another member becomes head (户主); the former head keeps a relation to the new one."""
    _check_relation(former_head_relation, "former_head_relation")
    if former_head_relation == "head":
        raise RuleViolated("OneHeadPerHousehold", "the former head cannot stay head", field="former_head_relation")
    new_head = state.member(person_id)
    if new_head is None:
        raise RuleViolated("MemberOfHousehold", "the new head must be a member of the household", field="person_id")
    if person_id == state.head_person_id:
        raise RuleViolated("HeadChangesPerson", "the person is already the head", field="person_id")
    if new_head.status == "deceased":
        raise RuleViolated("DeceasedIsFinal", "a deceased member cannot become head", field="person_id")

    def relation_after(member: HouseholdMember) -> HouseholdMember:
        if member.person_id == person_id:
            return member.model_copy(update={"relation": "head"})
        if member.person_id == state.head_person_id:
            return member.model_copy(update={"relation": former_head_relation})
        return member

    return [
        HouseholdHeadChanged(
            household_id=state.household_id,
            region_code=state.region_code,
            head_person_id=person_id,
            members=[relation_after(m) for m in state.members],
        )
    ]


def decide_household_employment(
    state: HouseholdState, person: PersonState, *, today: date
) -> list[HouseholdEmploymentChanged]:
    """A member's employment status or working age changed: publish the new snapshot (零就业家庭 needs it)."""
    old = state.member(person.person_id)
    if old is None:
        return []
    new = member_snapshot(person, old.relation, today=today)
    if new == old:
        return []
    members = [new if m.person_id == person.person_id else m for m in state.members]
    return [
        HouseholdEmploymentChanged(
            household_id=state.household_id,
            region_code=state.region_code,
            head_person_id=state.head_person_id,
            members=members,
            person_id=person.person_id,
        )
    ]
