"""Zero-employment households (零就业家庭, 劳社部发〔2007〕15号) and their clearing (动态清零).

Detected from registration's household snapshots: every working-age member seeking work is
unemployed, and none is employed. The township confirms (it checks there is no business or investment
income) or dismisses; a confirmed household must be cleared within a target time (a setting, 30 days by
default) by placing a member (就业促进法 Art 56), and leaves the list when a member is in work or it
refuses help without reason (docs/rules.md, "Assistance").
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from contracts import assistance as a
from contracts.envelope import Event
from contracts.registration import HouseholdMember
from services.runtime.auth import Principal, Role
from services.runtime.errors import Forbidden, RuleViolated
from services.runtime.workdays import Deadline

Stage = Literal["none", "detected", "confirmed"]


@dataclass(frozen=True)
class HouseholdState:
    """A household's zero-employment episodes as its stream tells them; ``stage`` is the current one."""

    household_id: str
    region_code: str
    version: int
    stage: Stage
    detected_on: date | None = None
    confirmed_on: date | None = None
    clear_by: date | None = None
    member_ids: tuple[str, ...] = ()


def evolve_household(state: HouseholdState | None, event: Event) -> HouseholdState:
    """The household after one more of its events."""
    if state is None:
        assert isinstance(event, a.ZeroEmploymentHouseholdDetected), f"{event.event_type} before detection"
        state = HouseholdState(event.household_id, event.region_code, 0, "none")
    state = replace(state, version=state.version + 1)
    if isinstance(event, a.ZeroEmploymentHouseholdDetected):
        return replace(
            state,
            stage="detected",
            region_code=event.region_code,
            detected_on=event.detected_on,
            confirmed_on=None,
            clear_by=None,
            member_ids=tuple(event.member_ids),
        )
    if isinstance(event, a.ZeroEmploymentHouseholdConfirmed):
        return replace(state, stage="confirmed", confirmed_on=event.confirmed_on, clear_by=event.clear_by)
    if isinstance(event, (a.ZeroEmploymentHouseholdDismissed, a.ZeroEmploymentHouseholdCleared)):
        return replace(state, stage="none")
    return state


def _seeking(member: HouseholdMember) -> bool:
    return member.working_age and member.status not in ("deceased", "retired")


def is_zero_employment(members: Sequence[HouseholdMember]) -> bool:
    """Working-age members exist, at least one is registered unemployed and none is employed."""
    working = [m for m in members if _seeking(m)]
    return any(m.status == "registered_unemployed" for m in working) and not any(
        m.status == "employed" for m in working
    )


def employed_member(members: Sequence[HouseholdMember]) -> str | None:
    """A working-age member in work, if any."""
    return next((m.person_id for m in members if _seeking(m) and m.status == "employed"), None)


def may_change_stage(members: Sequence[HouseholdMember]) -> bool:
    """Whether a snapshot can detect, dismiss or clear anything (``decide_snapshot``), whatever the stage: only
    one with a working-age member registered unemployed, or one in work, can."""
    return is_zero_employment(members) or employed_member(members) is not None


def decide_snapshot(
    state: HouseholdState | None,
    household_id: str,
    region_code: str,
    members: Sequence[HouseholdMember],
    on: date,
) -> list[Event]:
    """What registration's latest snapshot of the household means for its zero-employment status."""
    stage = state.stage if state is not None else "none"
    working = employed_member(members)
    if stage == "none" and is_zero_employment(members):
        return [
            a.ZeroEmploymentHouseholdDetected(
                household_id=household_id,
                region_code=region_code,
                detected_on=on,
                member_ids=[m.person_id for m in members],
                unemployed_member_ids=[m.person_id for m in members if m.status == "registered_unemployed"],
            )
        ]
    if state is not None and stage == "detected" and working is not None:
        return [
            a.ZeroEmploymentHouseholdDismissed(
                household_id=household_id, region_code=state.region_code, dismissed_on=on, reason="member_employed"
            )
        ]
    if state is not None and stage == "confirmed" and working is not None:
        return [_cleared(state, on, "member_employed", working)]
    return []


def _cleared(
    state: HouseholdState, on: date, reason: a.ClearReason, person_id: str | None
) -> a.ZeroEmploymentHouseholdCleared:
    assert state.confirmed_on is not None and state.clear_by is not None
    return a.ZeroEmploymentHouseholdCleared(
        household_id=state.household_id,
        region_code=state.region_code,
        cleared_on=on,
        reason=reason,
        person_id=person_id,
        days_outstanding=max(0, (on - state.confirmed_on).days),
        within_target=on <= state.clear_by,
    )


def _require_township(principal: Principal, step: str) -> None:
    if principal.role is not Role.TOWNSHIP:
        raise Forbidden(
            f"{step} is the township's, not {principal.role.value} staff's", field="role", rule="TownshipConfirms"
        )


def decide_confirm(
    state: HouseholdState, principal: Principal, on: date, clear_by: Deadline
) -> list[a.ZeroEmploymentHouseholdConfirmed]:
    """The township confirms a detected household (认定); the clock to clear it starts (``clear_by``)."""
    _require_township(principal, "confirming a zero-employment household")
    if state.stage != "detected" or state.detected_on is None:
        raise RuleViolated(
            "ConfirmationFollowsDetection", f"the household is {state.stage}, not detected", field="household_id"
        )
    if on < state.detected_on:
        raise RuleViolated(
            "ConfirmationAfterDetection", f"{on} is before the detection ({state.detected_on})", field="confirmed_on"
        )
    return [
        a.ZeroEmploymentHouseholdConfirmed(
            household_id=state.household_id, region_code=state.region_code, confirmed_on=on, clear_by=clear_by.due
        )
    ]


def decide_dismiss(
    state: HouseholdState, principal: Principal, reason: str, on: date
) -> list[a.ZeroEmploymentHouseholdDismissed]:
    """The township finds a detected household is not zero-employment (business or investment income)."""
    _require_township(principal, "dismissing a detected household")
    if state.stage != "detected":
        raise RuleViolated(
            "DismissalFollowsDetection", f"the household is {state.stage}, not detected", field="household_id"
        )
    if not reason.strip():
        raise RuleViolated("DismissalGivesReason", "say why the household is not zero-employment", field="reason")
    return [
        a.ZeroEmploymentHouseholdDismissed(
            household_id=state.household_id, region_code=state.region_code, dismissed_on=on, reason=reason
        )
    ]


def decide_refused_help(
    state: HouseholdState, principal: Principal, on: date
) -> list[a.ZeroEmploymentHouseholdCleared]:
    """A confirmed household that refuses help without good reason leaves the list (劳社部发〔2007〕15号)."""
    _require_township(principal, "recording a refusal of help")
    if state.stage != "confirmed":
        raise RuleViolated(
            "ClearingFollowsConfirmation", f"the household is {state.stage}, not confirmed", field="household_id"
        )
    return [_cleared(state, on, "refused_help", None)]


def decide_member_placed(state: HouseholdState | None, person_id: str, on: date) -> list[Event]:
    """A member was placed in a job: a confirmed household clears, a detected one is no longer zero-employment."""
    if state is None or person_id not in state.member_ids:
        return []
    if state.stage == "confirmed":
        return [_cleared(state, on, "member_placed", person_id)]
    if state.stage == "detected":
        return [
            a.ZeroEmploymentHouseholdDismissed(
                household_id=state.household_id, region_code=state.region_code, dismissed_on=on, reason="member_placed"
            )
        ]
    return []
