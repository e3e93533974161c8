"""Assistance rules as pure functions, one module per aggregate: commands in, events out.

Nothing here does I/O; ``services.assistance.commands`` loads what a rule needs and appends what it
decides. The rules are those of docs/rules.md, "Assistance".
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date

from services.runtime.errors import RuleViolated

#: Names this service's deterministic stream ids (one case per person).
NAMESPACE = uuid.UUID("7b0c4f0e-6c1d-4a57-9d2c-5a3f1e0b8a11")


@dataclass(frozen=True)
class Policy:
    """The local rules a province sets; defaults are the national ones (docs/rules.md, "Assistance")."""

    #: Public notice (公示) of a hard-to-employ application, in working days.
    notice_workdays: int = 5
    #: Time limit to clear a confirmed zero-employment household (动态清零), in calendar days.
    clear_target_days: int = 30
    #: Cap of a small guaranteed business loan (创业担保贷款, 财金〔2020〕21号): 200,000 yuan in fen.
    business_loan_cap_fen: int = 20_000_000
    #: Longest term of a public-welfare post (公益性岗位), in years.
    post_max_term_years: int = 3
    #: How long a certification runs before it must be reviewed, in years.
    certification_review_years: int = 1


def not_in_future(day: date, today: date, field: str) -> date:
    """A date a clerk records must already have happened."""
    if day > today:
        raise RuleViolated("DateNotInFuture", f"{field} {day} is in the future (today is {today})", field=field)
    return day


def years_after(day: date, years: int) -> date:
    """The same calendar day ``years`` later (28 February for 29 February in a common year)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))
