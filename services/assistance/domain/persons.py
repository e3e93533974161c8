"""What assistance knows of a person, from registration's events, and the categories computed from it.

4050 and long-term unemployment are computed, never typed in (就业促进法 Art 52; docs/rules.md,
"Assistance"): a clerk cannot certify a 38-year-old as "4050" by ticking a box.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from contracts.assistance import HardToEmployCategory
from services.assistance.domain import age_on, years_after

#: "4050": urban women aged 40 and over, men aged 50 and over.
AGE_4050 = {"female": 40, "male": 50}

#: Registered unemployed this long or longer counts as long-term unemployed.
LONG_TERM_UNEMPLOYED_YEARS = 1


@dataclass(frozen=True)
class PersonView:
    """A person of registration's ledger as its events tell assistance: never a name or an ID number."""

    person_id: str
    region_code: str
    sex: str
    birth_date: date
    hukou: str | None
    categories: tuple[str, ...]
    status: str
    #: When the current unemployment registration (失业登记) started; None when not registered unemployed.
    unemployed_since: date | None
    household_id: str | None = None

    @property
    def in_labour_force(self) -> bool:
        """Alive and not retired: someone assistance can still help into work."""
        return self.status not in ("retired", "deceased")


def is_4050(person: PersonView, on: date) -> bool:
    """Urban women of 40 and over, men of 50 and over ("4050", docs/rules.md "Assistance")."""
    return person.hukou == "urban" and age_on(person.birth_date, on) >= AGE_4050[person.sex]


def is_long_term_unemployed(person: PersonView, on: date) -> bool:
    """Registered unemployed for a year or more without interruption on ``on``."""
    since = person.unemployed_since
    return (
        person.status == "registered_unemployed"
        and since is not None
        and years_after(since, LONG_TERM_UNEMPLOYED_YEARS) <= on
    )


def computed_categories(
    person: PersonView, on: date, *, in_zero_employment_household: bool
) -> list[HardToEmployCategory]:
    """The hard-to-employ categories the events show on ``on``, in the contract's order."""
    found = []
    if is_4050(person, on):
        found.append(HardToEmployCategory.aged_4050)
    if in_zero_employment_household:
        found.append(HardToEmployCategory.zero_employment_household)
    if is_long_term_unemployed(person, on):
        found.append(HardToEmployCategory.long_term_unemployed)
    return found
