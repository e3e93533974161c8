"""Working age and the statutory retirement age (法定退休年龄).

Working age runs from 16 (禁止使用童工规定 Art 2) to the statutory retirement age with the 2025 gradual
increase (全国人大常委会关于实施渐进式延迟法定退休年龄的决定, 2024; docs/rules.md "Employment and
unemployment").
"""

from __future__ import annotations

from datetime import date

from contracts.registration import (
    Sex,
)

#: Minimum working age (禁止使用童工规定 Art 2): the ledger holds residents of working age.
MINIMUM_WORKING_AGE = 16


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


# --- working age and retirement (法定退休年龄) ----------------------------------------------------------

#: Retirement age before the 2025 reform, and the reform's parameters per group (2024 NPCSC decision,
#: 关于实施渐进式延迟法定退休年龄的决定, in force 2025-01-01): (old age, first birth month delayed, months
#: of birth per month of delay, cap in months).
_RETIREMENT_SCHEDULES: dict[tuple[str, int], tuple[int, date, int, int]] = {
    ("male", 60): (60, date(1965, 1, 1), 4, 36),
    ("female", 55): (55, date(1970, 1, 1), 4, 36),
    ("female", 50): (50, date(1975, 1, 1), 2, 60),
}


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; the 31st becomes the month's last day when the month is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - date(year, month, 1)).days
    return date(year, month, min(day.day, last))


def retirement_delay_months(birth_date: date, sex: Sex, former_female_age: int = 55) -> int:
    """Months the 2025 reform adds to the old retirement age (2024 NPCSC decision, annex table).

    Men (old age 60, base 1965-01) and women formerly retiring at 55 (base 1970-01): +1 month for every
    4 months of birth from the base month, at most 36. Women formerly retiring at 50 (base 1975-01):
    +1 month for every 2 months, at most 60.
    """
    _, base, per, cap = _retirement_schedule(sex, former_female_age)
    months_after_base = (birth_date.year - base.year) * 12 + birth_date.month - base.month
    if months_after_base < 0:
        return 0
    return min(cap, months_after_base // per + 1)


def statutory_retirement_date(birth_date: date, sex: Sex, former_female_age: int = 55) -> date:
    """The day a person reaches the statutory retirement age, with the 2025 gradual increase
    (全国人大常委会关于实施渐进式延迟法定退休年龄的决定, 2024; docs/rules.md "Employment and unemployment").

    Men 60 -> 63, women formerly 55 -> 58, women formerly 50 -> 55. ``former_female_age`` says which old
    age applied to a woman (55 for cadres and the default here, 50 for female workers); ignored for men.
    """
    old_age, *_ = _retirement_schedule(sex, former_female_age)
    return add_months(birth_date, old_age * 12 + retirement_delay_months(birth_date, sex, former_female_age))


def _retirement_schedule(sex: Sex, former_female_age: int) -> tuple[int, date, int, int]:
    key = (sex, 60) if sex == "male" else (sex, former_female_age)
    try:
        return _RETIREMENT_SCHEDULES[key]
    except KeyError:
        raise ValueError(f"a woman's former retirement age is 50 or 55, not {former_female_age}") from None


def is_working_age(birth_date: date, sex: Sex, day: date) -> bool:
    """16 (禁止使用童工规定 Art 2) up to the day before the statutory retirement date."""
    return age_on(birth_date, day) >= MINIMUM_WORKING_AGE and day < statutory_retirement_date(birth_date, sex)
