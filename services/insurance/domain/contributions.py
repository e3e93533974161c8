"""Contributions (缴费) per person, insurance type and month: the checks every posted row passes
(docs/rules.md, "Insurance": money is integer fen; the province bounds the contribution base)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.insurance import INSURANCE_TYPES
from services.insurance.domain.months import month_of


@dataclass(frozen=True)
class BaseBounds:
    """The province's lower and upper contribution base (缴费基数上下限), in fen: a setting per province."""

    minimum_fen: int
    maximum_fen: int


@dataclass(frozen=True)
class RowProblem:
    """Why a row cannot be posted: the field and the rule, in words."""

    field: str
    rule: str
    reason: str


def check_contribution(
    *,
    insurance_type: str,
    month: str,
    base_fen: int,
    employer_fen: int,
    personal_fen: int,
    bounds: BaseBounds,
    today: date,
) -> RowProblem | None:
    """The first rule a contribution breaks, or None. Amounts are whole fen already (the reader refuses fractions)."""
    if insurance_type not in INSURANCE_TYPES:
        return RowProblem("insurance_type", "KnownInsuranceType", f"unknown insurance type {insurance_type!r}")
    if month > month_of(today):
        return RowProblem("month", "MonthNotInFuture", f"{month} has not begun yet")
    if not bounds.minimum_fen <= base_fen <= bounds.maximum_fen:
        return RowProblem(
            "base_fen",
            "BaseWithinProvinceBounds",
            f"base {base_fen} fen is outside the province's bounds {bounds.minimum_fen}-{bounds.maximum_fen} fen",
        )
    if employer_fen < 0 or personal_fen < 0:
        return RowProblem(
            "employer_fen" if employer_fen < 0 else "personal_fen", "AmountNotNegative", "negative amount"
        )
    if employer_fen + personal_fen == 0:
        return RowProblem("personal_fen", "ContributionIsPaid", "a contribution pays something")
    return None
