"""Contributions (缴费) per person, insurance type and month: the rules every posted row passes
(docs/rules.md, "Insurance": money is integer fen; the province bounds the contribution base).

``check_contribution`` states the rules for one row; ``services.insurance.imports`` applies the same rules,
in the same order, to a whole file in one SQL statement, and a test holds the two to the same verdicts.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from contracts.insurance import INSURANCE_TYPES

#: Yuan with at most two decimals: an amount in whole fen.
WHOLE_FEN = re.compile(r"[0-9]{1,12}(\.[0-9]{1,2})?")


@dataclass(frozen=True)
class BaseBounds:
    """The province's lower and upper contribution base (缴费基数上下限), in fen: a setting per province."""

    minimum_fen: int
    maximum_fen: int


#: Each rule a row can break: the field it names and the reason, in the order rows are checked.
RULES: dict[str, tuple[str, str]] = {
    "KnownInsuranceType": ("insurance_type", "not one of the six insurance types (险种)"),
    "AmountInWholeFen": ("amount", "amounts are yuan with at most two decimals: a fraction of a fen is refused"),
    "BaseWithinProvinceBounds": (
        "base_fen",
        "the base is outside the province's bounds {bounds.minimum_fen}-{bounds.maximum_fen} fen",
    ),
    "ContributionIsPaid": ("personal_fen", "a contribution pays something"),
    "PersonKnownFromRegistration": ("person_id", "registration has not reported this person"),
    "ContributionNeedsEnrolment": ("insurance_type", "the person is not enrolled in this insurance type"),
    "EmployerKnownFromRegistration": ("employer_id", "registration has not reported this employer"),
}


def fen_of(yuan: str) -> int:
    """Whole fen of an amount that passed :data:`WHOLE_FEN`, in integers: "320.5" -> 32050."""
    whole, _, cents = yuan.partition(".")
    return int(whole) * 100 + int(cents.ljust(2, "0"))


def check_contribution(
    *, insurance_type: str, base: str, employer_part: str, personal_part: str, bounds: BaseBounds
) -> str | None:
    """The first rule a row's own values break (amounts in yuan as written), or None; whether the person,
    the enrolment and the employer are known is for the tables to say."""
    if insurance_type not in INSURANCE_TYPES:
        return "KnownInsuranceType"
    amounts = (base, employer_part, personal_part)
    if not all(WHOLE_FEN.fullmatch(a) for a in amounts):
        return "AmountInWholeFen"
    base_fen, employer_fen, personal_fen = (fen_of(a) for a in amounts)
    if not bounds.minimum_fen <= base_fen <= bounds.maximum_fen:
        return "BaseWithinProvinceBounds"
    if employer_fen + personal_fen == 0:
        return "ContributionIsPaid"
    return None
