"""Employer compliance rating (企业劳动保障守法诚信等级评价, 人社部规〔2016〕1号): A, B or C, each change saying why.

- C: found in violation three times or more; child labour (禁止使用童工规定); refused a rectification order
  (拒不履行责令改正); transferred to public security for a crime.
- B: found in violation or penalised at least once, or in social-insurance arrears (reported by insurance,
  社会保险法 Art 86) that are not yet cleared.
- A: none of these.

The facts are kept per employer by the commands and the arrears reaction (``queries.employer_facts``); the
grade follows from them here, and an event is recorded only when it changes. An employer never rated is A.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date

from contracts.envelope import Event
from contracts.money import format_yuan
from contracts.supervision import (
    CaseTransferred,
    EmployerRatingChanged,
    Grade,
    InspectionScope,
    PenaltyImposed,
    RectificationVerified,
)

#: Violations that make an employer C.
C_VIOLATIONS = 3


@dataclass(frozen=True)
class ComplianceFacts:
    """What the rating is derived from, for one employer."""

    employer_id: str
    region_code: str
    violations: int = 0
    penalties: int = 0
    penalty_fen: int = 0
    child_labour: bool = False
    refused_rectification: bool = False
    criminal_transfer: bool = False
    arrears_open: bool = False
    arrears_fen: int = 0
    arrears_months: int = 0


@dataclass(frozen=True)
class RatingState:
    """An employer's rating stream; ``version`` is the ETag."""

    employer_id: str
    region_code: str
    grade: Grade
    reasons: tuple[str, ...]
    rated_on: date
    version: int


def evolve_rating(state: RatingState | None, event: Event) -> RatingState:
    """The rating after one more change."""
    assert isinstance(event, EmployerRatingChanged)
    return RatingState(
        employer_id=event.employer_id,
        region_code=event.region_code,
        grade=event.grade,
        reasons=tuple(event.reasons),
        rated_on=event.rated_on,
        version=(state.version if state else 0) + 1,
    )


def grade_of(facts: ComplianceFacts) -> tuple[Grade, list[str]]:
    """The grade the facts give, and every reason for it."""
    c_reasons = []
    if facts.violations >= C_VIOLATIONS:
        c_reasons.append(f"found in violation {facts.violations} times (C from {C_VIOLATIONS})")
    if facts.child_labour:
        c_reasons.append("found using child labour (禁止使用童工规定)")
    if facts.refused_rectification:
        c_reasons.append("did not comply with a rectification order (拒不改正)")
    if facts.criminal_transfer:
        c_reasons.append("case transferred to public security")
    if c_reasons:
        return "C", c_reasons
    b_reasons = []
    if facts.violations:
        b_reasons.append(f"found in violation {facts.violations} time{'s' if facts.violations > 1 else ''}")
    if facts.penalties:
        b_reasons.append(f"penalised {facts.penalties} time(s), {format_yuan(facts.penalty_fen)} yuan in all")
    if facts.arrears_open:
        b_reasons.append(
            f"social-insurance arrears of {format_yuan(facts.arrears_fen)} yuan for {facts.arrears_months} month(s)"
        )
    if b_reasons:
        return "B", b_reasons
    return "A", ["no violation found, no penalty and no insurance arrears open"]


def decide_rate(previous: RatingState | None, facts: ComplianceFacts, today: date) -> list[EmployerRatingChanged]:
    """A rating event when the grade the facts give differs from the recorded one (never rated: A)."""
    grade, reasons = grade_of(facts)
    current = previous.grade if previous else "A"
    if grade == current:
        return []
    return [
        EmployerRatingChanged(
            employer_id=facts.employer_id,
            region_code=facts.region_code,
            grade=grade,
            previous_grade=current,
            reasons=reasons,
            rated_on=today,
            violations=facts.violations,
            penalties=facts.penalties,
            penalty_fen=facts.penalty_fen,
            arrears_open=facts.arrears_open,
        )
    ]


def with_case_step(
    facts: ComplianceFacts, events: Sequence[Event], first_violation: bool, scope: InspectionScope
) -> ComplianceFacts:
    """The facts after a case's events: a first found violation, penalties, refused orders, transfers."""
    for event in events:
        if isinstance(event, PenaltyImposed):
            facts = replace(facts, penalties=facts.penalties + 1, penalty_fen=facts.penalty_fen + event.amount_fen)
        elif isinstance(event, RectificationVerified) and not event.complied:
            facts = replace(facts, refused_rectification=True)
        elif isinstance(event, CaseTransferred) and event.to == "public_security":
            facts = replace(facts, criminal_transfer=True)
    if first_violation:
        facts = replace(
            facts, violations=facts.violations + 1, child_labour=facts.child_labour or scope == "child_labour"
        )
    return facts
