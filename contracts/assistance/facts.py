"""The facts other services react to, fixed before either side used them: registration reacts to
``PlacedInJob``; insurance reacts to ``PlacedInJob`` (enrolment expected within 30 days) and to the
hard-to-employ certification events (灵活就业社保补贴)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar

from pydantic import Field

from contracts.envelope import Event
from contracts.regions import RegionCode
from contracts.registration import EmploymentKind


class HardToEmployCategory(StrEnum):
    """Why a person counts as hard to employ (就业促进法 Art 52; the scope is the province's, these the defaults).

    ``aged_4050`` (women 40+, men 50+) and ``long_term_unemployed`` (registered unemployed 1 year or more)
    are computed from registration's events, never typed in.
    """

    aged_4050 = "aged_4050"
    disabled = "disabled"
    minimum_living_allowance = "minimum_living_allowance"
    zero_employment_household = "zero_employment_household"
    rural_poor_household = "rural_poor_household"
    landless_farmer = "landless_farmer"
    long_term_unemployed = "long_term_unemployed"


class HardToEmployCertified(Event):
    """The county certified a person as hard to employ (就业困难人员认定), after township review and public notice.

    Insurance reacts by making the person eligible for the flexible-employment insurance subsidy.
    """

    event_type: ClassVar[str] = "HardToEmployCertified"
    stream_type: ClassVar[str] = "hard_to_employ_certification"

    certification_id: str
    person_id: str
    region_code: RegionCode
    categories: list[HardToEmployCategory] = Field(min_length=1)
    certified_on: date
    review_on: date = Field(description="When the certification must be reviewed at the latest")


class HardToEmployStatusEnded(Event):
    """A certified hard-to-employ status ended (re-employment, review date passed, moved away, death, revoked)."""

    event_type: ClassVar[str] = "HardToEmployStatusEnded"
    stream_type: ClassVar[str] = "hard_to_employ_certification"

    certification_id: str
    person_id: str
    region_code: RegionCode
    ended_on: date
    reason: str = Field(description="reemployed, review_due, moved_away, died or revoked")


class PlacedInJob(Event):
    """An assisted person was placed in a job (安置就业); the assistance case closes.

    Registration reacts by recording the employment (就业登记) with ``source="assistance"``.
    """

    event_type: ClassVar[str] = "PlacedInJob"
    stream_type: ClassVar[str] = "assistance_case"

    case_id: str
    person_id: str
    region_code: RegionCode
    kind: EmploymentKind
    employer_id: str | None = None
    vacancy_id: str | None = None
    started_on: date
    placed_on: date = Field(description="When the placement was recorded")


#: Categories computed from events (registration's ledger, assistance's households), never typed in.
COMPUTED_CATEGORIES: frozenset[HardToEmployCategory] = frozenset(
    {
        HardToEmployCategory.aged_4050,
        HardToEmployCategory.long_term_unemployed,
        HardToEmployCategory.zero_employment_household,
    }
)
