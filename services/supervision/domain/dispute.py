"""Labour disputes (劳动争议): mediation, then arbitration when mediation does not agree in time.

劳动争议调解仲裁法 (docs/rules.md, "Supervision"): without an agreement within 15 days of receipt either party
may go to arbitration (Art 14), recorded as a referral by the failure or by the worker's scheduled check;
arbitration is applied for within 1 year (Art 27, counted again from the referral), accepted within 5 days
(Art 29) and awarded within 45 days of acceptance, extendable once by at most 15 (Art 43). All are
calendar days, moved past rest days when they end on one (民法典 Art 203).
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from functools import partial
from typing import Literal

from contracts.envelope import Event
from contracts.supervision import (
    ArbitrationAccepted,
    ArbitrationApplied,
    ArbitrationAwarded,
    ArbitrationExtended,
    DisputeDeadlineRecomputed,
    DisputeReferredToArbitration,
    EmployerRef,
    MediationAgreed,
    MediationApplied,
    MediationFailed,
    MediationSessionHeld,
)
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar
from services.supervision.domain import limits as limits_rule
from services.supervision.domain.limits import (
    Limits,
    RunningLimit,
    add_years,
    require_dated,
    require_not_future,
)

DisputeStage = Literal["mediating", "agreed", "referred", "arbitration_applied", "arbitration_accepted", "awarded"]


@dataclass(frozen=True)
class DisputeState:
    """A dispute as its stream tells it; ``version`` is the ETag."""

    dispute_id: str
    region_code: str
    employer: EmployerRef
    received_on: date
    mediation_due: date
    provisional: bool
    version: int
    stage: DisputeStage = "mediating"
    sessions: int = 0
    last_step_on: date | None = None
    referred_on: date | None = None
    applied_on: date | None = None
    accept_due: date | None = None
    accept_provisional: bool = False
    accepted_on: date | None = None
    award_due: date | None = None
    award_provisional: bool = False
    extended: bool = False
    extension_days: int = 0
    finished_on: date | None = None

    @property
    def since(self) -> date:
        """The earliest date the next step may carry."""
        return self.last_step_on or self.received_on


def evolve_dispute(state: DisputeState | None, event: Event) -> DisputeState:
    """The dispute after one more of its events."""
    if isinstance(event, MediationApplied):
        return DisputeState(
            dispute_id=event.dispute_id,
            region_code=event.region_code,
            employer=event.employer,
            received_on=event.received_on,
            mediation_due=event.mediation_due,
            provisional=event.provisional,
            version=1,
        )
    assert state is not None, "a dispute starts with MediationApplied"
    state = replace(state, version=state.version + 1)
    if isinstance(event, MediationSessionHeld):
        return replace(state, sessions=state.sessions + 1, last_step_on=event.held_on)
    if isinstance(event, MediationAgreed):
        return replace(state, stage="agreed", last_step_on=event.agreed_on, finished_on=event.agreed_on)
    if isinstance(event, MediationFailed):
        return replace(state, last_step_on=event.failed_on)
    if isinstance(event, DisputeReferredToArbitration):
        return replace(state, stage="referred", referred_on=event.referred_on)
    if isinstance(event, ArbitrationApplied):
        return replace(
            state, stage="arbitration_applied", applied_on=event.applied_on, accept_due=event.accept_due,
            accept_provisional=event.provisional, last_step_on=event.applied_on,
        )  # fmt: skip
    if isinstance(event, ArbitrationAccepted):
        return replace(
            state, stage="arbitration_accepted", accepted_on=event.accepted_on, award_due=event.award_due,
            award_provisional=event.provisional, last_step_on=event.accepted_on,
        )  # fmt: skip
    if isinstance(event, ArbitrationExtended):
        return replace(
            state, extended=True, extension_days=event.days, award_due=event.award_due,
            award_provisional=event.provisional,
        )  # fmt: skip
    if isinstance(event, ArbitrationAwarded):
        return replace(state, stage="awarded", last_step_on=event.awarded_on, finished_on=event.awarded_on)
    if isinstance(event, DisputeDeadlineRecomputed):
        if event.limit == "mediation":
            return replace(state, mediation_due=event.due_on, provisional=event.provisional)
        if event.limit == "arbitration_acceptance":
            return replace(state, accept_due=event.due_on, accept_provisional=event.provisional)
        return replace(state, award_due=event.due_on, award_provisional=event.provisional)
    return state


def running_limits(state: DisputeState, limits: Limits) -> list[RunningLimit]:
    """The limit of the dispute's stage: agreement in 15 days of receipt (Art 14), acceptance of arbitration
    in 5 days of the application (Art 29), the award in 45 days of acceptance and its extension (Art 43)."""
    if state.stage == "mediating":
        received = state.received_on
        return [
            RunningLimit(
                "mediation", state.mediation_due, state.provisional,
                lambda cal: cal.add_days(received, limits.mediation_days),
            )
        ]  # fmt: skip
    if state.stage == "arbitration_applied" and state.applied_on is not None and state.accept_due is not None:
        applied = state.applied_on
        return [
            RunningLimit(
                "arbitration_acceptance", state.accept_due, state.accept_provisional,
                lambda cal: cal.add_days(applied, limits.arbitration_accept_days),
            )
        ]  # fmt: skip
    if state.stage == "arbitration_accepted" and state.accepted_on is not None and state.award_due is not None:
        accepted, days = state.accepted_on, limits.award_days + state.extension_days
        return [
            RunningLimit("award", state.award_due, state.award_provisional, lambda cal: cal.add_days(accepted, days))
        ]
    return []


def decide_recompute(state: DisputeState, cal: WorkdayCalendar, limits: Limits) -> list[DisputeDeadlineRecomputed]:
    """Provisional limits computed again on the calendar as it now is; one event per limit that moved."""
    recorded = partial(DisputeDeadlineRecomputed, dispute_id=state.dispute_id, region_code=state.region_code)
    return limits_rule.decide_recompute(running_limits(state, limits), cal, recorded)


def decide_apply_mediation(
    dispute_id: str,
    region_code: str,
    employer: EmployerRef,
    claim: str,
    amount_claimed_fen: int,
    workers_concerned: int,
    received_on: date,
    cal: WorkdayCalendar,
    limits: Limits,
    today: date,
) -> list[MediationApplied]:
    """A mediation application is received; agreement is due within 15 days (Art 14)."""
    require_not_future(received_on, today, "received_on")
    if not claim.strip():
        raise RuleViolated("ApplicationStatesItsClaim", "a mediation application states the claim", field="claim")
    due = cal.add_days(received_on, limits.mediation_days)
    return [
        MediationApplied(
            dispute_id=dispute_id,
            region_code=region_code,
            employer=employer,
            claim=claim.strip(),
            amount_claimed_fen=amount_claimed_fen,
            workers_concerned=workers_concerned,
            received_on=received_on,
            mediation_due=due.due,
            provisional=due.provisional,
        )
    ]


def _require_mediating(state: DisputeState) -> None:
    if state.stage != "mediating":
        raise RuleViolated(
            "MediationStillOpen", f"mediation is over: the dispute is {state.stage.replace('_', ' ')}", field="stage"
        )


def decide_session(state: DisputeState, held_on: date, summary: str, today: date) -> list[MediationSessionHeld]:
    """A session while mediation is open."""
    _require_mediating(state)
    require_dated(held_on, state.since, today, "held_on", "the last step")
    return [
        MediationSessionHeld(
            dispute_id=state.dispute_id, region_code=state.region_code, held_on=held_on, summary=summary.strip()
        )
    ]


def decide_agree(state: DisputeState, agreed_on: date, amount_agreed_fen: int, today: date) -> list[MediationAgreed]:
    """An agreement within the 15 days; after them the dispute has gone to arbitration."""
    _require_mediating(state)
    require_dated(agreed_on, state.since, today, "agreed_on", "the last step")
    if agreed_on > state.mediation_due:
        raise RuleViolated(
            "AgreementWithinFifteenDays",
            f"mediation ran until {state.mediation_due} (劳动争议调解仲裁法 Art 14); the dispute goes to arbitration",
            field="agreed_on",
        )
    return [
        MediationAgreed(
            dispute_id=state.dispute_id,
            region_code=state.region_code,
            agreed_on=agreed_on,
            amount_agreed_fen=amount_agreed_fen,
        )
    ]


def decide_fail(state: DisputeState, failed_on: date, reason: str, today: date) -> list[Event]:
    """Mediation fails: the dispute is referred to arbitration the same day."""
    _require_mediating(state)
    require_dated(failed_on, state.since, today, "failed_on", "the last step")
    return [
        MediationFailed(dispute_id=state.dispute_id, region_code=state.region_code, failed_on=failed_on, reason=reason),
        DisputeReferredToArbitration(
            dispute_id=state.dispute_id, region_code=state.region_code, referred_on=failed_on, reason="mediation_failed"
        ),
    ]


def decide_lapse(state: DisputeState, today: date) -> list[DisputeReferredToArbitration]:
    """The scheduled check: 15 days without agreement refer the dispute to arbitration, once.

    The referral is dated the day after the limit, when the right to arbitrate arose, whenever the check
    notices it.
    """
    if state.stage != "mediating" or today <= state.mediation_due:
        return []
    return [
        DisputeReferredToArbitration(
            dispute_id=state.dispute_id,
            region_code=state.region_code,
            referred_on=state.mediation_due + timedelta(days=1),
            reason="no_agreement_in_15_days",
        )
    ]


def decide_apply_arbitration(
    state: DisputeState, applied_on: date, cal: WorkdayCalendar, limits: Limits, today: date
) -> list[ArbitrationApplied]:
    """An arbitration application after the referral, within 1 year of it (Art 27)."""
    if state.stage != "referred" or state.referred_on is None:
        raise RuleViolated(
            "ArbitrationAfterMediation",
            "a dispute goes to arbitration once mediation failed or ran out of time",
            field="stage",
        )
    require_dated(applied_on, state.referred_on, today, "applied_on", "the referral")
    if applied_on > add_years(state.referred_on, limits.arbitration_application_years):
        raise RuleViolated(
            "ArbitrationWithinOneYear", "arbitration is applied for within 1 year (Art 27)", field="applied_on"
        )
    due = cal.add_days(applied_on, limits.arbitration_accept_days)
    return [
        ArbitrationApplied(
            dispute_id=state.dispute_id,
            region_code=state.region_code,
            applied_on=applied_on,
            accept_due=due.due,
            provisional=due.provisional,
        )
    ]


def decide_accept_arbitration(
    state: DisputeState, accepted_on: date, cal: WorkdayCalendar, limits: Limits, today: date
) -> list[ArbitrationAccepted]:
    """The committee accepts (Art 29); the award falls due 45 days later (Art 43)."""
    if state.stage != "arbitration_applied" or state.accept_due is None:
        raise RuleViolated("ArbitrationAppliedFirst", "no arbitration application awaits acceptance", field="stage")
    require_dated(accepted_on, state.since, today, "accepted_on", "the application")
    due = cal.add_days(accepted_on, limits.award_days)
    return [
        ArbitrationAccepted(
            dispute_id=state.dispute_id,
            region_code=state.region_code,
            accepted_on=accepted_on,
            on_time=accepted_on <= state.accept_due,
            award_due=due.due,
            provisional=due.provisional,
        )
    ]


def decide_extend_arbitration(
    state: DisputeState, extended_on: date, days: int, cal: WorkdayCalendar, limits: Limits, today: date
) -> list[ArbitrationExtended]:
    """The award's one extension (Art 43), at most 15 days, approved before the award falls due."""
    if state.stage != "arbitration_accepted" or state.accepted_on is None or state.award_due is None:
        raise RuleViolated("ArbitrationAcceptedFirst", "only an accepted arbitration is extended", field="stage")
    if state.extended:
        raise RuleViolated("OneArbitrationExtension", "the award's limit was already extended once", field="stage")
    if not 1 <= days <= limits.award_extension_max_days:
        raise RuleViolated(
            "AwardExtensionAtMostFifteenDays",
            f"the award's limit is extended by 1 to {limits.award_extension_max_days} days (Art 43), not {days}",
            field="days",
        )
    require_dated(extended_on, state.accepted_on, today, "extended_on", "the acceptance")
    if extended_on > state.award_due:
        raise RuleViolated("ExtensionBeforeTheLimit", f"the award was due on {state.award_due}", field="extended_on")
    due = cal.add_days(state.accepted_on, limits.award_days + days)
    return [
        ArbitrationExtended(
            dispute_id=state.dispute_id,
            region_code=state.region_code,
            extended_on=extended_on,
            days=days,
            award_due=due.due,
            provisional=due.provisional,
        )
    ]


def decide_award(
    state: DisputeState, awarded_on: date, amount_awarded_fen: int, today: date
) -> list[ArbitrationAwarded]:
    """The award, on time or late against the (extended) limit."""
    if state.stage != "arbitration_accepted" or state.award_due is None:
        raise RuleViolated("ArbitrationAcceptedFirst", "only an accepted arbitration is awarded", field="stage")
    require_dated(awarded_on, state.since, today, "awarded_on", "the acceptance")
    return [
        ArbitrationAwarded(
            dispute_id=state.dispute_id,
            region_code=state.region_code,
            awarded_on=awarded_on,
            on_time=awarded_on <= state.award_due,
            amount_awarded_fen=amount_awarded_fen,
        )
    ]
