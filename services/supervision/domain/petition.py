"""Petitions (来信来访): registered, assigned to an officer, answered within their limit.

信访工作条例 Art 32: a petition is handled within 60 days (``Limits.petition_answer_days``, counted here from
receipt, calendar days moved past rest days per 民法典 Art 203). The petitioner's identity is kept apart,
encrypted; the events carry the subject only.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from functools import partial
from typing import Literal

from contracts.envelope import Event
from contracts.supervision import PetitionAnswered, PetitionAssigned, PetitionDeadlineRecomputed, PetitionRegistered
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar
from services.supervision.domain import limits as limits_rule
from services.supervision.domain.limits import Limits, RunningLimit, require_dated, require_not_future

Channel = Literal["letter", "visit", "phone", "online"]


@dataclass(frozen=True)
class PetitionState:
    """A petition as its stream tells it; ``version`` is the ETag."""

    petition_id: str
    region_code: str
    channel: Channel
    subject: str
    received_on: date
    answer_due: date
    provisional: bool
    version: int
    assignee: str | None = None
    assigned_on: date | None = None
    answered_on: date | None = None


def evolve_petition(state: PetitionState | None, event: Event) -> PetitionState:
    """The petition after one more of its events."""
    if isinstance(event, PetitionRegistered):
        return PetitionState(
            petition_id=event.petition_id,
            region_code=event.region_code,
            channel=event.channel,
            subject=event.subject,
            received_on=event.received_on,
            answer_due=event.answer_due,
            provisional=event.provisional,
            version=1,
        )
    assert state is not None, "a petition starts with PetitionRegistered"
    state = replace(state, version=state.version + 1)
    if isinstance(event, PetitionAssigned):
        return replace(state, assignee=event.assignee, assigned_on=event.assigned_on)
    if isinstance(event, PetitionAnswered):
        return replace(state, answered_on=event.answered_on)
    if isinstance(event, PetitionDeadlineRecomputed):
        return replace(state, answer_due=event.due_on, provisional=event.provisional)
    return state


def running_limits(state: PetitionState, limits: Limits) -> list[RunningLimit]:
    """The answer's limit until the petitioner is answered: 60 days from receipt (信访工作条例 Art 32)."""
    if state.answered_on is not None:
        return []
    received = state.received_on
    return [
        RunningLimit(
            "answer",
            state.answer_due,
            state.provisional,
            lambda cal: cal.add_days(received, limits.petition_answer_days),
        )
    ]


def decide_recompute(state: PetitionState, cal: WorkdayCalendar, limits: Limits) -> list[PetitionDeadlineRecomputed]:
    """Provisional limits computed again on the calendar as it now is; one event per limit that moved."""
    recorded = partial(PetitionDeadlineRecomputed, petition_id=state.petition_id, region_code=state.region_code)
    return limits_rule.decide_recompute(running_limits(state, limits), cal, recorded)


def decide_register_petition(
    petition_id: str,
    region_code: str,
    channel: Channel,
    subject: str,
    received_on: date,
    cal: WorkdayCalendar,
    limits: Limits,
    today: date,
) -> list[PetitionRegistered]:
    """A letter or visit is registered the day it was received; the answer falls due 60 days later."""
    require_not_future(received_on, today, "received_on")
    if not subject.strip():
        raise RuleViolated("PetitionStatesItsSubject", "a petition states what it is about", field="subject")
    due = cal.add_days(received_on, limits.petition_answer_days)
    return [
        PetitionRegistered(
            petition_id=petition_id,
            region_code=region_code,
            channel=channel,
            subject=subject.strip(),
            received_on=received_on,
            answer_due=due.due,
            provisional=due.provisional,
        )
    ]


def _require_unanswered(state: PetitionState) -> None:
    if state.answered_on is not None:
        raise RuleViolated("PetitionAnsweredOnce", "the petition was already answered", field="status")


def decide_assign(state: PetitionState, assigned_on: date, assignee: str, today: date) -> list[PetitionAssigned]:
    """Assign (交办) the petition to an officer; reassigning before the answer is allowed."""
    _require_unanswered(state)
    require_dated(assigned_on, state.assigned_on or state.received_on, today, "assigned_on", "the last assignment")
    if not assignee.strip():
        raise RuleViolated("AssigneeNamed", "name the officer who handles the petition", field="assignee")
    return [
        PetitionAssigned(
            petition_id=state.petition_id, region_code=state.region_code, assigned_on=assigned_on, assignee=assignee
        )
    ]


def decide_answer(state: PetitionState, answered_on: date, summary: str, today: date) -> list[PetitionAnswered]:
    """Answer (答复) the petitioner; it must have been assigned first."""
    _require_unanswered(state)
    if state.assigned_on is None:
        raise RuleViolated("PetitionAssignedBeforeAnswer", "assign the petition before answering it", field="status")
    require_dated(answered_on, state.assigned_on, today, "answered_on", "the assignment")
    if not summary.strip():
        raise RuleViolated("AnswerSaysWhat", "record what the petitioner was told", field="summary")
    return [
        PetitionAnswered(
            petition_id=state.petition_id,
            region_code=state.region_code,
            answered_on=answered_on,
            on_time=answered_on <= state.answer_due,
            summary=summary.strip(),
        )
    ]
