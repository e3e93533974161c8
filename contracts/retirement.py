"""Statutory retirement age and working age (docs/rules.md, "Employment and unemployment").

Pure date arithmetic every service shares: registration decides working age with it, insurance when a
pension may start. The 2024 reform (全国人民代表大会常务委员会关于实施渐进式延迟法定退休年龄的决定, in force
2025-01-01, with its annex tables) raises each old age gradually: men 60 -> 63, women whose old age was 55
-> 58, women whose old age was 50 -> 55. Which old age a woman had is her ``RetirementGroup``.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Literal

Sex = Literal["male", "female"]

MINIMUM_WORKING_AGE = 16
"""No one under 16 may be employed (禁止使用童工规定 Art 2)."""


class RetirementGroup(StrEnum):
    """Which old statutory retirement age applied to a woman, so which 2025 schedule is hers.

    Before the reform a female worker (女工人) retired at 50 and a female cadre (女干部) at 55
    (国务院关于工人退休、退职的暂行办法 and 国务院关于安置老弱病残干部的暂行办法, both 国发〔1978〕104号); the 2024
    decision keeps the distinction as "women whose original statutory retirement age was 50 / 55". Men have one
    schedule whatever their group.

    The default, when the ledger has not recorded a group, is ``CADRE`` (55): it is what the ledger applied to
    every woman before the group was recorded, so figures of past events do not change, and it never retires a
    woman earlier than the law may, which would wrongly refuse her employment or unemployment registration.
    """

    WORKER = "worker"
    """A female worker (女工人): old age 50, now 50 -> 55."""
    CADRE = "cadre"
    """A female cadre or any other woman whose old age was 55: now 55 -> 58."""


DEFAULT_RETIREMENT_GROUP = RetirementGroup.CADRE
"""The group assumed where none is recorded (see ``RetirementGroup``)."""

#: Per schedule: (old age in years, first birth month delayed, months of birth per month of delay, cap in
#: months), from the 2024 decision's annex tables 1-3.
_SCHEDULES: dict[tuple[Sex, RetirementGroup], tuple[int, date, int, int]] = {
    ("male", RetirementGroup.CADRE): (60, date(1965, 1, 1), 4, 36),
    ("male", RetirementGroup.WORKER): (60, date(1965, 1, 1), 4, 36),
    ("female", RetirementGroup.CADRE): (55, date(1970, 1, 1), 4, 36),
    ("female", RetirementGroup.WORKER): (50, date(1975, 1, 1), 2, 60),
}


def add_months(day: date, months: int) -> date:
    """``day`` moved by whole months; the 31st becomes the month's last day when the month is shorter."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    month += 1
    last = (date(year + (month == 12), month % 12 + 1, 1) - date(year, month, 1)).days
    return date(year, month, min(day.day, last))


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


def _schedule(sex: Sex, group: RetirementGroup | None) -> tuple[int, date, int, int]:
    return _SCHEDULES[(sex, RetirementGroup(group or DEFAULT_RETIREMENT_GROUP))]


def retirement_delay_months(birth_date: date, sex: Sex, group: RetirementGroup | None = None) -> int:
    """Months the 2025 reform adds to the old retirement age (2024 NPCSC decision, annex tables).

    Men (old age 60, base 1965-01) and women of group ``CADRE`` (55, base 1970-01): one month for every 4
    months of birth from the base month, at most 36. Women of group ``WORKER`` (50, base 1975-01): one month
    for every 2 months, at most 60. ``None`` is the default group.
    """
    _, base, per, cap = _schedule(sex, group)
    months_after_base = (birth_date.year - base.year) * 12 + birth_date.month - base.month
    if months_after_base < 0:
        return 0
    return min(cap, months_after_base // per + 1)


def statutory_retirement_date(birth_date: date, sex: Sex, group: RetirementGroup | None = None) -> date:
    """The day a person reaches the statutory retirement age, with the 2025 gradual increase.

    Men 60 -> 63, women of group ``CADRE`` 55 -> 58, women of group ``WORKER`` 50 -> 55 (2024 NPCSC
    decision; docs/rules.md, "Employment and unemployment"). ``group`` is ignored for men.
    """
    old_age, *_ = _schedule(sex, group)
    return add_months(birth_date, old_age * 12 + retirement_delay_months(birth_date, sex, group))


def is_working_age(birth_date: date, sex: Sex, day: date, group: RetirementGroup | None = None) -> bool:
    """From 16 (禁止使用童工规定 Art 2) up to the day before the statutory retirement date."""
    return age_on(birth_date, day) >= MINIMUM_WORKING_AGE and day < statutory_retirement_date(birth_date, sex, group)
