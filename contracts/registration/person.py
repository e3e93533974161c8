"""Events of the ``person`` stream: the ledger entry and its employment status (就业失业登记)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from contracts.envelope import Event
from contracts.identifiers import IdDocumentType
from contracts.regions import RegionCode
from contracts.registration.common import (
    EmploymentEndReason,
    EmploymentKind,
    EmploymentStatus,
    FieldChange,
    Hukou,
    Sex,
    Source,
)
from contracts.retirement import RetirementGroup


class PersonRegistered(Event):
    """A resident entered the labour-force ledger (劳动力实名登记).

    ``id_document_type`` says which identity document the (unpublished) ID number belongs to, and
    ``retirement_group`` which old retirement age applied to a woman (docs/rules.md, "Identifiers" and
    "Employment and unemployment"). Both were added to version 1 without a schema-version bump: they are
    optional with defaults, so a reader of the older shape ignores them, and an event written before them
    reads as a resident ID card and an unrecorded group (``None``: the 55 schedule, ``RetirementGroup``).
    """

    event_type: ClassVar[str] = "PersonRegistered"
    stream_type: ClassVar[str] = "person"

    person_id: str
    sex: Sex
    birth_date: date
    id_document_type: IdDocumentType = Field(
        default="resident_id", description="The identity document of the ID number (not the number itself)"
    )
    retirement_group: RetirementGroup | None = Field(
        default=None,
        description="Women: worker (old retirement age 50) or cadre (55); None: not recorded, the 55 schedule",
    )
    hukou: Hukou | None = None
    region_code: RegionCode = Field(description="Village or community of residence")
    education: str | None = None
    categories: list[str] = Field(default_factory=list)
    status: EmploymentStatus = Field(default="not_in_labour_force", description="Employment status on entry")
    # Added without a schema_version bump: optional with a default, so every earlier event still reads
    # and a consumer that ignores it sees what it saw before (docs/design.md "Events and the store").
    registered_on: date | None = Field(
        default=None, description="The day the person entered the ledger, when not the day it was recorded"
    )


class PersonCorrected(Event):
    """Recorded attributes were wrong and have been corrected (信息更正); old and new values per field.

    Besides the registered attributes, ``changes`` may name ``retirement_group`` and ``id_document_type``
    (the latter when a corrected ID number belongs to another document); both carry their values, since
    neither identifies the person. No schema-version bump: the field names are data, not shape.
    """

    event_type: ClassVar[str] = "PersonCorrected"
    stream_type: ClassVar[str] = "person"

    person_id: str
    changes: list[FieldChange]
    reason: str


class PersonMoved(Event):
    """The person's residence moved to another village or community (居住地变更)."""

    event_type: ClassVar[str] = "PersonMoved"
    stream_type: ClassVar[str] = "person"

    person_id: str
    from_region_code: RegionCode
    region_code: RegionCode = Field(description="The new village or community")
    moved_on: date


class PersonCategoriesChanged(Event):
    """The person's categories changed (人员类别变更); ``categories`` is the whole set afterwards."""

    event_type: ClassVar[str] = "PersonCategoriesChanged"
    stream_type: ClassVar[str] = "person"

    person_id: str
    added: list[str] = Field(default_factory=list)
    removed: list[str] = Field(default_factory=list)
    categories: list[str]
    effective_on: date


class EmploymentRegistered(Event):
    """Employment registration (就业登记): the person started work.

    ``reported_late`` flags a hire reported after ``report_deadline``: 30 days after it started
    (就业服务与就业管理规定 Art 62), moved to the next working day when that day is a rest day or holiday
    (民法典 Art 203), on the official calendar. ``report_deadline_provisional`` is true when a year of the
    period had no official holiday data yet (weekends only); added without a schema-version bump, default false.
    """

    event_type: ClassVar[str] = "EmploymentRegistered"
    stream_type: ClassVar[str] = "person"

    person_id: str
    previous_status: EmploymentStatus
    kind: EmploymentKind
    employer_id: str | None = None
    vacancy_id: str | None = None
    started_on: date
    reported_on: date
    report_deadline: date
    reported_late: bool
    report_deadline_provisional: bool = False
    source: Source = "registration"


class EmploymentEnded(Event):
    """The person's employment ended (终止/解除劳动关系); the status becomes ``status_after``.

    ``involuntary`` is true for the reasons that count as losing the job not by one's own choice.
    ``reported_late`` flags a termination reported after ``report_deadline``: 15 days after it (Art 62),
    moved to the next working day like a hire's; ``report_deadline_provisional`` as there.
    """

    event_type: ClassVar[str] = "EmploymentEnded"
    stream_type: ClassVar[str] = "person"

    person_id: str
    kind: EmploymentKind
    employer_id: str | None = None
    ended_on: date
    reason: EmploymentEndReason
    involuntary: bool
    reported_on: date
    report_deadline: date
    reported_late: bool
    report_deadline_provisional: bool = False
    status_after: EmploymentStatus = "not_in_labour_force"


class UnemploymentRegistered(Event):
    """Unemployment registration (失业登记): the person is registered unemployed and seeking work."""

    event_type: ClassVar[str] = "UnemploymentRegistered"
    stream_type: ClassVar[str] = "person"

    person_id: str
    previous_status: EmploymentStatus
    registered_on: date
    involuntary: bool = Field(description="The last job was lost not by the person's own choice")
    last_employment_end_reason: EmploymentEndReason | None = None


class UnemploymentDeregistered(Event):
    """The unemployment registration was cancelled (注销失业登记) other than by finding work."""

    event_type: ClassVar[str] = "UnemploymentDeregistered"
    stream_type: ClassVar[str] = "person"

    person_id: str
    deregistered_on: date
    reason: Literal["stopped_seeking_work", "moved_away", "enlisted", "emigrated", "imprisoned", "other"]
    status_after: EmploymentStatus = "not_in_labour_force"


class PersonRetired(Event):
    """The person reached retirement (退休) and leaves the labour force."""

    event_type: ClassVar[str] = "PersonRetired"
    stream_type: ClassVar[str] = "person"

    person_id: str
    previous_status: EmploymentStatus
    retired_on: date


class PersonDied(Event):
    """The person died (死亡); the ledger entry is closed. ``source`` says who reported it."""

    event_type: ClassVar[str] = "PersonDied"
    stream_type: ClassVar[str] = "person"

    person_id: str
    previous_status: EmploymentStatus
    died_on: date
    source: Source = "registration"


class StatusSurveyed(Event):
    """Quarterly dynamic survey (动态调查): the person's status was confirmed or updated for a quarter."""

    event_type: ClassVar[str] = "StatusSurveyed"
    stream_type: ClassVar[str] = "person"

    person_id: str
    quarter: str = Field(pattern=r"^\d{4}Q[1-4]$", examples=["2026Q3"])
    status: EmploymentStatus
    changed: bool = Field(description="False when the survey confirmed the recorded status")
    surveyed_on: date
