"""Hard-to-employ certification (就业困难人员认定, 就业促进法 Art 52), maker-checker across three levels.

Application at the village or township -> initial review and public notice (公示) by the township ->
decision by the county (docs/rules.md, "Assistance"). The staff member who reviewed may not decide. The
certified status is a stream of its own (``hard_to_employ_certification``) that ends on re-employment,
at the review date, on death or a move away, or when revoked.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Literal

from contracts import assistance as a
from contracts.assistance import COMPUTED_CATEGORIES, HardToEmployCategory
from contracts.envelope import Event
from services.assistance.domain import Policy, years_after
from services.runtime.auth import Principal, Role
from services.runtime.errors import Forbidden, RuleViolated
from services.runtime.workdays import Deadline

Stage = Literal["applied", "under_notice", "refused_at_review", "certified", "refused"]

#: Who may take each step (maker-checker across levels; admin may not stand in for a level).
APPLYING_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP})
REVIEWING_ROLES = frozenset({Role.TOWNSHIP})
DECIDING_ROLES = frozenset({Role.COUNTY})


@dataclass(frozen=True)
class ApplicationState:
    """An application as its stream tells it."""

    application_id: str
    person_id: str
    case_id: str
    region_code: str
    version: int
    stage: Stage
    typed: tuple[HardToEmployCategory, ...]
    applied_on: date
    reviewed_by: str | None = None
    reviewed_on: date | None = None
    notice_ends_on: date | None = None
    objections: int = 0
    certification_id: str | None = None


def evolve_application(state: ApplicationState | None, event: Event) -> ApplicationState:
    """The application after one more of its events."""
    if isinstance(event, a.HardToEmployApplied):
        typed = tuple(c for c in event.categories if c not in COMPUTED_CATEGORIES)
        return ApplicationState(
            event.application_id,
            event.person_id,
            event.case_id,
            event.region_code,
            1,
            "applied",
            typed,
            event.applied_on,
        )
    assert state is not None, f"{event.event_type} before HardToEmployApplied"
    state = replace(state, version=state.version + 1)
    if isinstance(event, a.HardToEmployReviewed):
        return replace(
            state,
            stage="under_notice" if event.passed else "refused_at_review",
            reviewed_by=event.reviewed_by,
            reviewed_on=event.reviewed_on,
            notice_ends_on=event.notice_ends_on,
        )
    if isinstance(event, a.HardToEmployObjectionRecorded):
        return replace(state, objections=state.objections + 1)
    if isinstance(event, a.HardToEmployDecided):
        return replace(
            state, stage="certified" if event.certified else "refused", certification_id=event.certification_id
        )
    return state


def _require_role(principal: Principal, roles: frozenset[Role], rule: str, step: str) -> None:
    if principal.role not in roles:
        raise Forbidden(
            f"{step} is for {' or '.join(sorted(r.value for r in roles))} staff, not {principal.role.value}",
            field="role",
            rule=rule,
        )


def _fact(state: ApplicationState) -> dict[str, str]:
    return {"application_id": state.application_id, "person_id": state.person_id, "region_code": state.region_code}


@dataclass(frozen=True)
class Apply:
    """Apply for certification: the categories a clerk types in, with evidence notes (证明材料)."""

    application_id: str
    person_id: str
    region_code: str
    case_id: str | None
    categories: tuple[HardToEmployCategory, ...]
    evidence: tuple[str, ...]
    applied_on: date


def decide_apply(
    command: Apply,
    principal: Principal,
    *,
    computed: list[HardToEmployCategory],
    pending_application: str | None,
    active_certification: str | None,
) -> list[a.HardToEmployApplied]:
    """Accept an application at the village or township for a person with an open case."""
    _require_role(principal, APPLYING_ROLES, "ApplicationAtVillageOrTownship", "applying")
    if command.case_id is None:
        raise RuleViolated(
            "ApplicantHasOpenCase", f"person {command.person_id} has no open assistance case", field="person_id"
        )
    typed_computed = sorted(c.value for c in command.categories if c in COMPUTED_CATEGORIES)
    if typed_computed:
        raise RuleViolated(
            "ComputedCategoryNotTyped",
            f"{', '.join(typed_computed)} are computed from the ledger's events, never typed in",
            field="categories",
        )
    if command.categories and not command.evidence:
        raise RuleViolated(
            "TypedCategoryNeedsEvidence", "categories typed in need evidence notes (证明材料)", field="evidence"
        )
    if pending_application is not None:
        raise RuleViolated(
            "OneApplicationAtATime",
            f"application {pending_application} is still being decided",
            field="person_id",
            application_id=pending_application,
        )
    if active_certification is not None:
        raise RuleViolated(
            "NotAlreadyCertified",
            f"the person is certified ({active_certification})",
            field="person_id",
            certification_id=active_certification,
        )
    categories = [c for c in HardToEmployCategory if c in command.categories or c in computed]
    if not categories:
        raise RuleViolated(
            "HardToEmployNeedsACategory",
            "no category applies: none was typed in and the ledger shows neither 4050, long-term unemployment "
            "nor a zero-employment household",
            field="categories",
        )
    return [
        a.HardToEmployApplied(
            application_id=command.application_id,
            person_id=command.person_id,
            region_code=command.region_code,
            case_id=command.case_id,
            categories=categories,
            computed_categories=computed,
            evidence=list(command.evidence),
            applied_on=command.applied_on,
        )
    ]


def decide_review(
    state: ApplicationState, principal: Principal, *, passed: bool, reason: str, on: date, notice: Deadline
) -> list[a.HardToEmployReviewed]:
    """The township's initial review (初审); passing starts the public notice, which ends on ``notice.due``."""
    _require_role(principal, REVIEWING_ROLES, "ReviewAtTownship", "the initial review")
    if state.stage != "applied":
        raise RuleViolated(
            "ReviewFollowsApplication", f"the application is {state.stage}, not awaiting review", field="application_id"
        )
    if on < state.applied_on:
        raise RuleViolated(
            "ReviewAfterApplication",
            f"reviewed_on {on} is before the application ({state.applied_on})",
            field="reviewed_on",
        )
    if not passed and not reason.strip():
        raise RuleViolated("RefusalGivesReason", "a refusal must say why", field="reason")
    return [
        a.HardToEmployReviewed(
            **_fact(state),
            passed=passed,
            reason=reason,
            reviewed_on=on,
            reviewed_by=principal.subject,
            notice_ends_on=notice.due if passed else None,
            notice_provisional=notice.provisional if passed else False,
        )
    ]


def decide_objection(state: ApplicationState, objection: str, on: date) -> list[a.HardToEmployObjectionRecorded]:
    """An objection received while the public notice runs (公示期内异议)."""
    if state.stage != "under_notice" or state.reviewed_on is None or state.notice_ends_on is None:
        raise RuleViolated(
            "ObjectionDuringNotice",
            f"the application is {state.stage}, not under public notice",
            field="application_id",
        )
    if not state.reviewed_on <= on <= state.notice_ends_on:
        raise RuleViolated(
            "ObjectionDuringNotice",
            f"the notice ran from {state.reviewed_on} to {state.notice_ends_on}; {on} is outside it",
            field="received_on",
        )
    return [a.HardToEmployObjectionRecorded(**_fact(state), objection=objection, received_on=on)]


def decide_decision(
    state: ApplicationState,
    principal: Principal,
    *,
    certify: bool,
    reason: str,
    on: date,
    computed: list[HardToEmployCategory],
    certification_id: str,
    policy: Policy,
) -> list[Event]:
    """The county's decision (审核认定) after the notice ended, by someone other than the reviewer.

    A certification lists the typed categories and those the events still show on the decision day.
    """
    _require_role(principal, DECIDING_ROLES, "DecisionAtCounty", "the decision")
    if state.stage != "under_notice" or state.notice_ends_on is None:
        raise RuleViolated(
            "DecisionFollowsReview",
            f"the application is {state.stage}: the county decides after a passed township review",
            field="application_id",
        )
    if on <= state.notice_ends_on:
        raise RuleViolated(
            "DecisionAfterPublicNotice",
            f"the public notice runs until {state.notice_ends_on}; decide from the next day",
            field="decided_on",
            notice_ends_on=str(state.notice_ends_on),
        )
    if principal.subject == state.reviewed_by:
        raise RuleViolated(
            "ReviewerMayNotDecide",
            f"{principal.subject} reviewed this application; another officer must decide (maker-checker)",
            field="decided_by",
        )
    if (not certify or state.objections) and not reason.strip():
        raise RuleViolated(
            "RefusalGivesReason" if not certify else "ObjectionsAnswered",
            "say why: a refusal, and a certification despite objections, give their reason",
            field="reason",
        )
    categories = [c for c in HardToEmployCategory if c in state.typed or c in computed]
    if certify and not categories:
        raise RuleViolated(
            "HardToEmployNeedsACategory", "no category applies on the decision day any more", field="categories"
        )
    decided = a.HardToEmployDecided(
        **_fact(state),
        certified=certify,
        reason=reason,
        decided_on=on,
        decided_by=principal.subject,
        certification_id=certification_id if certify else None,
        categories=categories if certify else [],
    )
    if not certify:
        return [decided]
    certified = a.HardToEmployCertified(
        certification_id=certification_id,
        person_id=state.person_id,
        region_code=state.region_code,
        categories=categories,
        certified_on=on,
        review_on=years_after(on, policy.certification_review_years),
    )
    return [decided, certified]


# --- the certified status (a stream of its own) -----------------------------------------------------------

EndReason = Literal["reemployed", "review_due", "moved_away", "died", "revoked"]


@dataclass(frozen=True)
class CertificationState:
    """A certified hard-to-employ status; ``ended_on`` None while it holds."""

    certification_id: str
    person_id: str
    region_code: str
    version: int
    categories: tuple[HardToEmployCategory, ...]
    certified_on: date
    review_on: date
    ended_on: date | None = None
    end_reason: str | None = None

    @property
    def active(self) -> bool:
        """The status still holds."""
        return self.ended_on is None


def evolve_certification(state: CertificationState | None, event: Event) -> CertificationState:
    """The status after one more of its events."""
    if isinstance(event, a.HardToEmployCertified):
        return CertificationState(
            event.certification_id,
            event.person_id,
            event.region_code,
            1,
            tuple(event.categories),
            event.certified_on,
            event.review_on,
        )
    assert state is not None, f"{event.event_type} before HardToEmployCertified"
    if isinstance(event, a.HardToEmployStatusEnded):
        return replace(state, version=state.version + 1, ended_on=event.ended_on, end_reason=event.reason)
    return replace(state, version=state.version + 1)


def decide_end(
    state: CertificationState, reason: EndReason, on: date, *, strict: bool
) -> list[a.HardToEmployStatusEnded]:
    """End the status; ``strict`` (a clerk's request) refuses what a reaction would quietly skip."""
    if not state.active:
        if strict:
            raise RuleViolated(
                "CertificationActive",
                f"the status ended on {state.ended_on} ({state.end_reason})",
                field="certification_id",
            )
        return []
    if strict and reason == "review_due" and on < state.review_on:
        raise RuleViolated(
            "ReviewDateReached", f"the review is due on {state.review_on}, not yet on {on}", field="reason"
        )
    if on < state.certified_on:
        raise RuleViolated("EndAfterCertification", f"{on} is before the certification", field="ended_on")
    return [
        a.HardToEmployStatusEnded(
            certification_id=state.certification_id,
            person_id=state.person_id,
            region_code=state.region_code,
            ended_on=on,
            reason=reason,
        )
    ]
