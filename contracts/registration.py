"""Events of the registration service: the real-name labour-force ledger (实名制台账).

Events carry a person id and non-identifying attributes only; ID numbers, names and phones stay inside
the registration service, encrypted at rest (docs/design.md, "Security and data"). A correction of one of those fields
is published with the field's name and ``redacted=True`` instead of its values.

Streams: ``person`` (the ledger entry and its employment status), ``household`` (户), ``employer``,
``vacancy`` (岗位), ``service_point`` (平台) and ``staff`` (the roster of the service network).
"""

from __future__ import annotations

from datetime import date
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.envelope import Event
from contracts.identifiers import IdDocumentType
from contracts.regions import RegionCode
from contracts.retirement import RetirementGroup

Sex = Literal["male", "female"]
Hukou = Literal["urban", "rural"]
EmployerSize = Literal["micro", "small", "medium", "large"]

#: Person categories of the ledger, which change over time (人员类别).
PersonCategory = Literal[
    "unemployed",  # 失业人员
    "laid_off",  # 下岗职工
    "rural_surplus_labour",  # 农村富余劳动力
    "new_entrant",  # 新成长劳动力 / 高校毕业生
    "flexible_employment",  # 灵活就业人员
    "migrant_worker",  # 外出务工 / 农民工
    "retired",  # 退休人员
]
PERSON_CATEGORIES: tuple[str, ...] = PersonCategory.__args__  # type: ignore[attr-defined]

#: A person is in exactly one employment status at a time (就业失业登记).
EmploymentStatus = Literal[
    "not_in_labour_force",  # 未就业未登记失业 / 不在劳动力: the status on entering the ledger
    "employed",  # 就业
    "registered_unemployed",  # 登记失业
    "retired",  # 退休
    "deceased",  # 死亡
]
EMPLOYMENT_STATUSES: tuple[str, ...] = EmploymentStatus.__args__  # type: ignore[attr-defined]

#: Kinds of employment (就业形式).
EmploymentKind = Literal[
    "unit",  # 单位就业
    "self_employed",  # 个体经营
    "flexible",  # 灵活就业
    "public_welfare_post",  # 公益性岗位
]
EMPLOYMENT_KINDS: tuple[str, ...] = EmploymentKind.__args__  # type: ignore[attr-defined]

#: Why employment ended (终止/解除劳动关系原因).
EmploymentEndReason = Literal[
    "contract_expired",  # 劳动合同期满终止
    "dismissed",  # 用人单位解除
    "resigned_employer_fault",  # 劳动法 Art 32(2)/(3): resigned because of the employer
    "resigned",  # 本人辞职
    "business_closed",  # 个体/灵活就业停止经营
    "retired",  # 退休
    "other",
]

#: Reasons that count as losing the job not by one's own choice (失业保险条例 Art 14; docs/rules.md, "Insurance").
INVOLUNTARY_END_REASONS: frozenset[str] = frozenset({"contract_expired", "dismissed", "resigned_employer_fault"})

#: Where a fact came from when another service caused it.
Source = Literal["registration", "assistance", "insurance"]

ServicePointLevel = Literal["county", "township", "village"]


class _Value(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FieldChange(_Value):
    """One corrected field. PII fields (id_number, name, phone) carry no values, only ``redacted=True``."""

    field: str
    old: Any = None
    new: Any = None
    redacted: bool = False


# --- person ------------------------------------------------------------------------------------------


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


# --- household -------------------------------------------------------------------------------------


class HouseholdMember(_Value):
    """A member as assistance needs to see them for zero-employment detection (零就业家庭)."""

    person_id: str
    relation: str = Field(description="Relation to the head: head, spouse, child, parent, other")
    working_age: bool
    status: EmploymentStatus


class _HouseholdFact(Event):
    stream_type: ClassVar[str] = "household"

    household_id: str
    region_code: RegionCode
    head_person_id: str | None
    members: list[HouseholdMember] = Field(description="Every member after the change")

    @property
    def working_age_members(self) -> int:
        """Members of working age still alive."""
        return sum(1 for m in self.members if m.working_age and m.status != "deceased")

    @property
    def employed_working_age_members(self) -> int:
        """Working-age members in employment; zero with working-age members is a zero-employment household."""
        return sum(1 for m in self.members if m.working_age and m.status == "employed")


class HouseholdCreated(_HouseholdFact):
    """A household (户) was entered with its first members."""

    event_type: ClassVar[str] = "HouseholdCreated"

    entered_on: date | None = Field(
        default=None, description="The day the household was entered in the ledger; absent: the day it was recorded"
    )


class HouseholdMemberAdded(_HouseholdFact):
    """A person joined the household."""

    event_type: ClassVar[str] = "HouseholdMemberAdded"

    person_id: str


class HouseholdMemberRemoved(_HouseholdFact):
    """A person left the household (moved out, died, recorded in error)."""

    event_type: ClassVar[str] = "HouseholdMemberRemoved"

    person_id: str
    reason: str


class HouseholdHeadChanged(_HouseholdFact):
    """Another member became head of the household (户主)."""

    event_type: ClassVar[str] = "HouseholdHeadChanged"


class HouseholdEmploymentChanged(_HouseholdFact):
    """A member's employment status or working age changed; the snapshot is what zero-employment needs."""

    event_type: ClassVar[str] = "HouseholdEmploymentChanged"

    person_id: str


# --- employer ----------------------------------------------------------------------------------------


class EmployerRegistered(Event):
    """An employer entered the ledger (用人单位登记), identified by its unified social credit code."""

    event_type: ClassVar[str] = "EmployerRegistered"
    stream_type: ClassVar[str] = "employer"

    employer_id: str
    credit_code: str
    credit_code_check_ok: bool = Field(
        default=True, description="False for a legacy pilot code that fails the GB 32100 check (accepted)"
    )
    name: str
    region_code: RegionCode
    industry: str | None = Field(default=None, description="GB/T 4754 section letter, A-T")
    size: EmployerSize | None = None
    # Optional, added without a schema_version bump (see PersonRegistered.registered_on).
    registered_on: date | None = Field(
        default=None, description="The day the employer was registered, when not the day it was recorded"
    )


class EmployerChanged(Event):
    """The employer's recorded details changed (变更登记); ``region_code`` is where it is now."""

    event_type: ClassVar[str] = "EmployerChanged"
    stream_type: ClassVar[str] = "employer"

    employer_id: str
    changes: list[FieldChange]
    region_code: RegionCode
    from_region_code: RegionCode


class EmployerDeregistered(Event):
    """The employer left the ledger (注销): closed, merged, moved out of the county."""

    event_type: ClassVar[str] = "EmployerDeregistered"
    stream_type: ClassVar[str] = "employer"

    employer_id: str
    region_code: RegionCode
    deregistered_on: date
    reason: str


# --- vacancy -----------------------------------------------------------------------------------------


class VacancyOpened(Event):
    """An employer opened a vacancy (岗位) with a number of positions and a wage range in fen."""

    event_type: ClassVar[str] = "VacancyOpened"
    stream_type: ClassVar[str] = "vacancy"

    vacancy_id: str
    employer_id: str
    region_code: RegionCode
    occupation: str
    positions: int = Field(ge=1)
    wage_min_fen: int = Field(ge=0)
    wage_max_fen: int = Field(ge=0)
    requirements: str | None = None
    opened_on: date


class VacancyFilled(Event):
    """Positions of a vacancy were filled, perhaps only some of them."""

    event_type: ClassVar[str] = "VacancyFilled"
    stream_type: ClassVar[str] = "vacancy"

    vacancy_id: str
    region_code: RegionCode
    filled: int = Field(ge=1)
    remaining: int = Field(ge=0)
    person_id: str | None = None
    filled_on: date


class VacancyClosed(Event):
    """The vacancy closed; ``withdrawn`` positions were never filled."""

    event_type: ClassVar[str] = "VacancyClosed"
    stream_type: ClassVar[str] = "vacancy"

    vacancy_id: str
    region_code: RegionCode
    withdrawn: int = Field(ge=0)
    closed_on: date
    reason: str | None = None


# --- service point -----------------------------------------------------------------------------------


class ServicePointCompliance(_Value):
    """How a service point measures against the standards of seed 001 (平台建设标准)."""

    staff_required: int
    staffing_ok: bool
    floor_area_required_m2: int | None = None
    premises_ok: bool
    compliant: bool
    reasons: list[str] = Field(default_factory=list, description="Each standard not met, in words")


class _ServicePointFact(Event):
    stream_type: ClassVar[str] = "service_point"

    service_point_id: str
    level: ServicePointLevel
    region_code: RegionCode
    name: str
    staff: int = Field(ge=0)
    floor_area_m2: int = Field(ge=0)
    has_archive_room: bool
    equipment: list[str] = Field(default_factory=list)
    population_served: int = Field(ge=0)
    compliance: ServicePointCompliance


class ServicePointEstablished(_ServicePointFact):
    """A labour and social-security service point (劳动保障平台) was established."""

    event_type: ClassVar[str] = "ServicePointEstablished"

    # Optional, added without a schema_version bump (see PersonRegistered.registered_on).
    established_on: date | None = Field(
        default=None, description="The day the point was established, when not the day it was recorded"
    )


class ServicePointUpdated(_ServicePointFact):
    """A service point's staff, premises or equipment changed; compliance is re-assessed."""

    event_type: ClassVar[str] = "ServicePointUpdated"


# --- staff roster (服务网络工作人员) -----------------------------------------------------------------------

#: What a member of the service network does (seed 003 §2; docs/rules.md, "Staff performance"):
#: ``broker`` the village's rural labour broker (农村劳务经纪人), ``guidance_officer`` a vocational guidance
#: officer (职业指导员) of a township or the county, ``coordinator`` a labour-security coordinator (劳动保障协理员)
#: of a township or community, ``clerk`` any other clerk of a service point (工作人员).
StaffRole = Literal["broker", "guidance_officer", "coordinator", "clerk"]
STAFF_ROLES: tuple[str, ...] = StaffRole.__args__  # type: ignore[attr-defined]

#: Why a staff member left the post; ``bottom_ranked`` is seed 003's 末位淘汰 (last two months running).
StaffLeaveReason = Literal["bottom_ranked", "resigned", "transferred", "contract_ended", "other"]


class _StaffFact(Event):
    stream_type: ClassVar[str] = "staff"

    staff_id: str
    subject: str = Field(description="The staff member's token subject: the ``actor`` of the events they cause")
    region_code: RegionCode = Field(description="The region of the service point the staff member works at")


class StaffAppointed(_StaffFact):
    """A staff member took a post at a service point (上岗): the roster's entry, read by reporting to credit
    every event whose actor is ``subject`` to them. No name travels: the subject is the staff number (工号)."""

    event_type: ClassVar[str] = "StaffAppointed"

    role: StaffRole
    service_point_id: str
    started_on: date


class StaffLeft(_StaffFact):
    """A staff member left the post (离岗), e.g. replaced after ranking last (末位淘汰)."""

    event_type: ClassVar[str] = "StaffLeft"

    service_point_id: str
    ended_on: date
    reason: StaffLeaveReason
