"""Working age and the statutory retirement age (法定退休年龄) as registration decides them.

The rules themselves live in ``contracts/retirement.py``, because insurance needs the same dates: working age
runs from 16 (禁止使用童工规定 Art 2) to the statutory retirement age with the 2025 gradual increase
(全国人大常委会关于实施渐进式延迟法定退休年龄的决定, 2024), which for a woman depends on her retirement group
(docs/rules.md, "Employment and unemployment").
"""

from __future__ import annotations

from contracts.retirement import (
    MINIMUM_WORKING_AGE,
    RetirementGroup,
    add_months,
    age_on,
    is_working_age,
    retirement_delay_months,
    statutory_retirement_date,
)

__all__ = [
    "MINIMUM_WORKING_AGE",
    "RetirementGroup",
    "add_months",
    "age_on",
    "is_working_age",
    "retirement_delay_months",
    "statutory_retirement_date",
]
