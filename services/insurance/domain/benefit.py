"""Unemployment benefit (失业保险金): the claim, its duration, monthly payments and the stops
(docs/rules.md, "Insurance"; 失业保险条例 Art 14, 15, 17; 社会保险法 Art 45, 46, 50, 51)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts import insurance as ins
from contracts.insurance import BenefitStopReason
from services.insurance.domain.enrolment import require_alive
from services.insurance.domain.insured import InsuredState
from services.insurance.domain.months import month_of, require_not_future, require_not_future_month
from services.runtime.errors import RuleViolated

#: Longest benefit, carried-over months included (失业保险条例 Art 17).
MAXIMUM_BENEFIT_MONTHS = 24
GRANT_ARTICLE = "失业保险条例 Art 14, 17; 社会保险法 Art 45, 46, 50"

#: The article each stop applies (条例 Art 15 numbers its cases; 法 Art 51 repeats most of them).
STOP_ARTICLES: dict[str, str] = {
    "reemployed": "失业保险条例 Art 15(1); 社会保险法 Art 51(1)",
    "enlisted": "失业保险条例 Art 15(2); 社会保险法 Art 51(2)",
    "emigrated": "失业保险条例 Art 15(3); 社会保险法 Art 51(3)",
    "pension": "失业保险条例 Art 15(4); 社会保险法 Art 51(4)",
    "imprisoned": "失业保险条例 Art 15(5)",
    "refused_suitable_work": "失业保险条例 Art 15(6); 社会保险法 Art 51(5)",
    "died": "失业保险条例 Art 15(7); 社会保险法 Art 49",
    "exhausted": "失业保险条例 Art 17",
}


def benefit_months(contribution_months: int) -> int:
    """Months of benefit for cumulative contributions (条例 Art 17, 法 Art 46): 1 to under 5 years, 12;
    5 to under 10 years, 18; 10 years or more, 24. Under a year there is none (0)."""
    if contribution_months < 12:
        return 0
    if contribution_months < 60:
        return 12
    if contribution_months < 120:
        return 18
    return 24


@dataclass(frozen=True)
class RegistrationFacts:
    """What registration's events say about the person (they arrive on ``registration.events``)."""

    status: str | None
    unemployment_registered_on: date | None
    involuntary: bool


@dataclass(frozen=True)
class ClaimBenefit:
    """Claim the unemployment benefit."""

    claim_id: str
    claimed_on: date
    monthly_amount_fen: int


def decide_claim_benefit(
    command: ClaimBenefit, state: InsuredState, facts: RegistrationFacts, contribution_months: int, *, today: date
) -> list[ins.UnemploymentBenefitGranted]:
    """Grant the benefit (失业保险条例 Art 14, 17; 社会保险法 Art 45, 46, 50).

    ``contribution_months`` counts unemployment-insurance months since the previous claim began: contribution
    time restarts after re-employment, and the earlier claim's unused months are added, at most 24 in all.
    """
    require_alive(state)
    require_not_future(command.claimed_on, today, field="claimed_on")
    if state.claim is not None and state.claim.active:
        raise RuleViolated(
            "OneBenefitAtATime", f"benefit {state.claim.claim_id} is still being paid", field="person_id"
        )
    if facts.status != "registered_unemployed" or facts.unemployment_registered_on is None:
        raise RuleViolated(
            "BenefitNeedsUnemploymentRegistration",
            "the benefit needs an unemployment registration first (失业保险条例 Art 14(3), 社会保险法 Art 50)",
            field="person_id",
        )
    if not facts.involuntary:
        raise RuleViolated(
            "BenefitNeedsInvoluntaryJobLoss",
            "the job was not lost involuntarily (失业保险条例 Art 14(2), 社会保险法 Art 45(2))",
            field="person_id",
        )
    earned = benefit_months(contribution_months)
    if earned == 0:
        raise RuleViolated(
            "BenefitNeedsOneYearOfContributions",
            f"the benefit needs at least 12 months of contributions, found {contribution_months} "
            "(失业保险条例 Art 14(1), 社会保险法 Art 45(1))",
            field="person_id",
            contribution_months=contribution_months,
        )
    months = min(MAXIMUM_BENEFIT_MONTHS, earned + state.unused_months)
    return [
        ins.UnemploymentBenefitGranted(
            person_id=state.person_id,
            region_code=state.region_code,
            claim_id=command.claim_id,
            claimed_on=command.claimed_on,
            starts_on=facts.unemployment_registered_on,
            contribution_months=contribution_months,
            months=months,
            carried_over_months=months - earned,
            monthly_amount_fen=command.monthly_amount_fen,
            article=GRANT_ARTICLE,
        )
    ]


def decide_pay_benefit(
    state: InsuredState, month: str, *, today: date
) -> list[ins.UnemploymentBenefitPaid | ins.UnemploymentBenefitStopped]:
    """Pay one month of the benefit; the last month granted also ends it (条例 Art 17)."""
    require_not_future_month(month, today)
    claim = state.claim
    if claim is None or not claim.active:
        raise RuleViolated("BenefitIsBeingPaid", f"person {state.person_id} draws no benefit", field="person_id")
    if month < month_of(claim.starts_on):
        raise RuleViolated(
            "BenefitFromRegistration", f"the benefit is paid from {month_of(claim.starts_on)}", field="month"
        )
    if month in claim.paid_months:
        raise RuleViolated("MonthPaidOnce", f"{month} is already paid", field="month")
    left = claim.months_left - 1
    common = {"person_id": state.person_id, "region_code": state.region_code, "claim_id": claim.claim_id}
    events: list[ins.UnemploymentBenefitPaid | ins.UnemploymentBenefitStopped] = [
        ins.UnemploymentBenefitPaid(**common, month=month, amount_fen=claim.monthly_amount_fen, months_left=left)
    ]
    if left == 0:
        events.append(
            ins.UnemploymentBenefitStopped(
                **common,
                stopped_on=today,
                reason="exhausted",
                months_paid=claim.months,
                months_left=0,
                article=STOP_ARTICLES["exhausted"],
            )
        )
    return events


def decide_stop_benefit(
    state: InsuredState, reason: BenefitStopReason, stopped_on: date
) -> list[ins.UnemploymentBenefitStopped]:
    """Stop the benefit (条例 Art 15, 法 Art 51); the months left carry into a later claim. No benefit: nothing."""
    claim = state.claim
    if claim is None or not claim.active:
        return []
    return [
        ins.UnemploymentBenefitStopped(
            person_id=state.person_id,
            region_code=state.region_code,
            claim_id=claim.claim_id,
            stopped_on=stopped_on,
            reason=reason,
            months_paid=len(claim.paid_months),
            months_left=claim.months_left,
            article=STOP_ARTICLES[reason],
        )
    ]
