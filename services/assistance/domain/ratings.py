"""Satisfaction ratings (服务对象满意度): the person served rates one service of their case, 1 to 5.

Seed 003 (四) evaluates the service network on "workload, cost, effect and the satisfaction of those
served"; the rating names the service's event and the staff member who gave it (its actor), so the
evaluation credits the satisfaction to who served (docs/rules.md, "Staff performance").
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts import assistance as a
from services.assistance.domain.cases import CaseState
from services.runtime.errors import RuleViolated

#: The services a person can rate, each with the field that says when it was given.
RATEABLE_SERVICES: dict[str, str] = {
    a.VocationalGuidanceGiven.event_type: "given_on",
    a.HomeVisited.event_type: "visited_on",
    a.JobReferred.event_type: "referred_on",
    a.TrainingReferred.event_type: "referred_on",
    a.EntrepreneurshipServiceGiven.event_type: "given_on",
    a.BusinessLoanPreReviewed.event_type: "reviewed_on",
    a.PlacedInJob.event_type: "placed_on",
}


@dataclass(frozen=True)
class ServiceOnCase:
    """An event of the case's stream as the rating needs it: its type, who caused it, when, and whether
    it was rated already."""

    event_id: str
    event_type: str
    actor: str | None
    given_on: date | None
    rated: bool


def decide_rating(state: CaseState, service: ServiceOnCase | None, score: int, on: date) -> list[a.ServiceRated]:
    """One rating per service given on this case by a staff member, on or after the day it was given."""
    if service is None:
        raise RuleViolated("RatedServiceOnCase", f"case {state.case_id} has no such event", field="service_event_id")
    if service.event_type not in RATEABLE_SERVICES:
        raise RuleViolated(
            "RatedEventIsAService",
            f"a {service.event_type} is not a service one can rate; rate one of {', '.join(RATEABLE_SERVICES)}",
            field="service_event_id",
        )
    if not service.actor:
        raise RuleViolated(
            "RatedServiceHasStaff", "the service records no staff member to credit", field="service_event_id"
        )
    if service.rated:
        raise RuleViolated(
            "ServiceRatedOnce", f"service {service.event_id} was rated already", field="service_event_id"
        )
    if service.given_on is not None and on < service.given_on:
        raise RuleViolated(
            "RatingAfterService",
            f"rated_on {on} is before the service was given on {service.given_on}",
            field="rated_on",
        )
    if not 1 <= score <= 5:
        raise RuleViolated("RatingScale", f"score must be 1 to 5, got {score}", field="score")
    return [
        a.ServiceRated(
            case_id=state.case_id,
            person_id=state.person_id,
            region_code=state.region_code,
            service_event_id=service.event_id,
            service_type=service.event_type,
            staff=service.actor,
            score=score,
            rated_on=on,
        )
    ]
