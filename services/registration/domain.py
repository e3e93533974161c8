"""Registration rules as pure functions: commands in, events out (实名制台账, 就业失业登记).

Nothing here does I/O; ``commands.py`` loads what a rule needs and appends what it decides.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from typing import Any, Literal

from contracts import registration as reg
from contracts.envelope import Event
from contracts.identifiers import CitizenIdInfo, CreditCodeInfo
from contracts.regions import Region, RegionLevel
from contracts.registration import (
    INVOLUNTARY_END_REASONS,
    PERSON_CATEGORIES,
    EmployerRegistered,
    EmployerSize,
    EmploymentEnded,
    EmploymentEndReason,
    EmploymentKind,
    EmploymentRegistered,
    EmploymentStatus,
    FieldChange,
    HouseholdCreated,
    HouseholdEmploymentChanged,
    HouseholdHeadChanged,
    HouseholdMember,
    HouseholdMemberAdded,
    HouseholdMemberRemoved,
    Hukou,
    PersonCategoriesChanged,
    PersonCorrected,
    PersonDied,
    PersonMoved,
    PersonRegistered,
    PersonRetired,
    Sex,
    Source,
    StatusSurveyed,
    UnemploymentDeregistered,
    UnemploymentRegistered,
)
from services.runtime.errors import RuleViolated

#: Minimum working age (禁止使用童工规定 Art 2): the ledger holds residents of working age.
MINIMUM_WORKING_AGE = 16


def age_on(birth_date: date, day: date) -> int:
    """Completed years of age on ``day``."""
    return day.year - birth_date.year - ((day.month, day.day) < (birth_date.month, birth_date.day))


@dataclass(frozen=True)
class RegisterPerson:
    """Enter a resident into the labour-force ledger (劳动力实名登记)."""

    person_id: str
    citizen: CitizenIdInfo
    region: Region | None
    region_code: str
    hukou: Hukou | None = None
    education: str | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)


def decide_register_person(command: RegisterPerson, *, today: date) -> list[PersonRegistered]:
    """A resident of working age who lives in a known village or community enters the ledger."""
    region = _known_region(command.region, command.region_code)
    if region.level is not RegionLevel.VILLAGE:
        raise RuleViolated(
            "PersonLivesInVillageOrCommunity",
            f"a person lives in a village or community, but {region.code} {region.name} is a {region.level}",
            field="region_code",
        )
    if age_on(command.citizen.birth_date, today) < MINIMUM_WORKING_AGE:
        raise RuleViolated(
            "LedgerHoldsWorkingAgeResidents",
            f"the ledger holds residents aged {MINIMUM_WORKING_AGE} or over (禁止使用童工规定 Art 2); "
            f"this person was born on {command.citizen.birth_date}",
            field="id_number",
        )
    return [
        PersonRegistered(
            person_id=command.person_id,
            sex=command.citizen.sex,
            birth_date=command.citizen.birth_date,
            hukou=command.hukou,
            region_code=region.code,
            education=command.education,
            categories=list(command.categories),
        )
    ]


@dataclass(frozen=True)
class RegisterEmployer:
    """Enter an employer into the ledger (用人单位登记)."""

    employer_id: str
    credit: CreditCodeInfo
    name: str
    region: Region | None
    region_code: str
    industry: str | None = None
    size: EmployerSize | None = None


def decide_register_employer(command: RegisterEmployer) -> list[EmployerRegistered]:
    """An employer is registered where it operates: a township (street) or a village (community)."""
    region = _known_region(command.region, command.region_code)
    if region.level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise RuleViolated(
            "EmployerSitsInTownshipOrVillage",
            f"an employer is registered in a township or village, but {region.code} {region.name} is a {region.level}",
            field="region_code",
        )
    return [
        EmployerRegistered(
            employer_id=command.employer_id,
            credit_code=command.credit.code,
            credit_code_check_ok=command.credit.check_ok,
            name=command.name,
            region_code=region.code,
            industry=command.industry,
            size=command.size,
        )
    ]


# --- employers: change and deregistration (变更登记, 注销) -------------------------------------------

#: GB/T 4754-2017 industry sections (门类), A agriculture ... T international organisations.
INDUSTRY_SECTIONS = "ABCDEFGHIJKLMNOPQRST"

#: Employer fields a change may touch, in the order a change lists them.
EMPLOYER_CHANGEABLE_FIELDS = ("name", "industry", "size", "region_code")


@dataclass(frozen=True)
class EmployerState:
    """An employer as its stream tells it; ``version`` is the stream's version (the ETag)."""

    employer_id: str
    credit_code: str
    credit_code_check_ok: bool
    name: str
    region_code: str
    industry: str | None
    size: EmployerSize | None
    version: int
    deregistered_on: date | None = None

    @property
    def active(self) -> bool:
        """Still in the ledger (not deregistered)."""
        return self.deregistered_on is None


def evolve_employer(state: EmployerState | None, event: Event) -> EmployerState | None:
    """The employer after one more of its events."""
    if isinstance(event, EmployerRegistered):
        return EmployerState(
            employer_id=event.employer_id,
            credit_code=event.credit_code,
            credit_code_check_ok=event.credit_code_check_ok,
            name=event.name,
            region_code=event.region_code,
            industry=event.industry,
            size=event.size,
            version=1,
        )
    if state is None:
        return None
    if isinstance(event, reg.EmployerChanged):
        updates = {change.field: change.new for change in event.changes}
        return replace(state, **updates, version=state.version + 1)
    if isinstance(event, reg.EmployerDeregistered):
        return replace(state, deregistered_on=event.deregistered_on, version=state.version + 1)
    return replace(state, version=state.version + 1)


@dataclass(frozen=True)
class ChangeEmployer:
    """Change an employer's recorded details (变更登记). Only the fields in ``sent`` are changed."""

    sent: frozenset[str]
    name: str | None = None
    industry: str | None = None
    size: EmployerSize | None = None
    region: Region | None = None
    region_code: str | None = None


def decide_change_employer(command: ChangeEmployer, state: EmployerState) -> list[reg.EmployerChanged]:
    """Record what differs; sending the values already recorded records nothing."""
    _require_active_employer(state, "DeregisteredEmployerCannotChange", "a deregistered employer cannot be changed")
    if "name" in command.sent and not command.name:
        raise RuleViolated("EmployerHasName", "an employer's name cannot be removed", field="name")
    new_region = state.region_code
    if "region_code" in command.sent and command.region_code != state.region_code:
        new_region = _employer_region(command.region, command.region_code or "").code
    proposed = {
        "name": command.name,
        "industry": command.industry,
        "size": command.size,
        "region_code": new_region,
    }
    changes = [
        reg.FieldChange(field=name, old=getattr(state, name), new=proposed[name])
        for name in EMPLOYER_CHANGEABLE_FIELDS
        if name in command.sent and proposed[name] != getattr(state, name)
    ]
    if not changes:
        return []
    return [
        reg.EmployerChanged(
            employer_id=state.employer_id,
            changes=changes,
            region_code=new_region,
            from_region_code=state.region_code,
        )
    ]


@dataclass(frozen=True)
class DeregisterEmployer:
    """Take an employer out of the ledger (注销): closed, merged or moved out of the county."""

    deregistered_on: date
    reason: str
    open_vacancies: int


def decide_deregister_employer(
    command: DeregisterEmployer, state: EmployerState, *, today: date
) -> list[reg.EmployerDeregistered]:
    """An active employer with no open vacancy leaves the ledger on a day that has come."""
    _require_active_employer(state, "EmployerAlreadyDeregistered", "this employer is already deregistered")
    if command.deregistered_on > today:
        raise RuleViolated(
            "DeregistrationNotInFuture",
            f"deregistration date {command.deregistered_on} is in the future",
            field="deregistered_on",
        )
    if command.open_vacancies:
        raise RuleViolated(
            "CloseVacanciesBeforeDeregistration",
            f"the employer still has {command.open_vacancies} open vacancies; close them first",
            field="employer_id",
        )
    return [
        reg.EmployerDeregistered(
            employer_id=state.employer_id,
            region_code=state.region_code,
            deregistered_on=command.deregistered_on,
            reason=command.reason,
        )
    ]


def _require_active_employer(state: EmployerState, rule: str, detail: str) -> None:
    if not state.active:
        raise RuleViolated(rule, f"{detail} (deregistered on {state.deregistered_on})", field="employer_id")


def _employer_region(region: Region | None, code: str) -> Region:
    known = _known_region(region, code)
    if known.level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise RuleViolated(
            "EmployerSitsInTownshipOrVillage",
            f"an employer is registered in a township or village, but {known.code} {known.name} is a {known.level}",
            field="region_code",
        )
    return known


# --- vacancies (岗位) ----------------------------------------------------------------------------------

VacancyStatus = Literal["open", "filled", "closed"]


@dataclass(frozen=True)
class VacancyState:
    """A vacancy as its stream tells it."""

    vacancy_id: str
    employer_id: str
    region_code: str
    occupation: str
    positions: int
    wage_min_fen: int
    wage_max_fen: int
    requirements: str | None
    opened_on: date
    version: int
    filled: int = 0
    withdrawn: int = 0
    closed_on: date | None = None

    @property
    def remaining(self) -> int:
        """Positions still to fill."""
        return self.positions - self.filled - self.withdrawn

    @property
    def status(self) -> VacancyStatus:
        """Open while positions remain; filled when all are taken; closed when withdrawn early."""
        if self.closed_on is not None:
            return "closed"
        return "open" if self.remaining > 0 else "filled"


def evolve_vacancy(state: VacancyState | None, event: Event) -> VacancyState | None:
    """The vacancy after one more of its events."""
    if isinstance(event, reg.VacancyOpened):
        return VacancyState(
            vacancy_id=event.vacancy_id,
            employer_id=event.employer_id,
            region_code=event.region_code,
            occupation=event.occupation,
            positions=event.positions,
            wage_min_fen=event.wage_min_fen,
            wage_max_fen=event.wage_max_fen,
            requirements=event.requirements,
            opened_on=event.opened_on,
            version=1,
        )
    if state is None:
        return None
    if isinstance(event, reg.VacancyFilled):
        return replace(state, filled=state.filled + event.filled, version=state.version + 1)
    if isinstance(event, reg.VacancyClosed):
        return replace(state, withdrawn=event.withdrawn, closed_on=event.closed_on, version=state.version + 1)
    return replace(state, version=state.version + 1)


@dataclass(frozen=True)
class OpenVacancy:
    """An employer offers positions (岗位): how many, which occupation, what wage in fen."""

    vacancy_id: str
    employer: EmployerState | None
    employer_id: str
    occupation: str
    positions: int
    wage_min_fen: int
    wage_max_fen: int
    opened_on: date
    requirements: str | None = None


def decide_open_vacancy(command: OpenVacancy, *, today: date) -> list[reg.VacancyOpened]:
    """A registered, active employer opens at least one position with a wage range that makes sense."""
    employer = command.employer
    if employer is None:
        raise RuleViolated(
            "VacancyNeedsRegisteredEmployer", f"no employer {command.employer_id} in the ledger", field="employer_id"
        )
    _require_active_employer(
        employer, "DeregisteredEmployerCannotOpenVacancy", "a deregistered employer cannot open vacancies"
    )
    if command.positions < 1:
        raise RuleViolated("VacancyHasAtLeastOnePosition", "a vacancy offers at least 1 position", field="positions")
    if command.wage_min_fen > command.wage_max_fen:
        raise RuleViolated(
            "WageMinimumNotAboveMaximum",
            f"wage_min_fen {command.wage_min_fen} is above wage_max_fen {command.wage_max_fen}",
            field="wage_min_fen",
        )
    if command.opened_on > today:
        raise RuleViolated(
            "VacancyOpensNotInFuture", f"opening date {command.opened_on} is in the future", field="opened_on"
        )
    return [
        reg.VacancyOpened(
            vacancy_id=command.vacancy_id,
            employer_id=employer.employer_id,
            region_code=employer.region_code,
            occupation=command.occupation,
            positions=command.positions,
            wage_min_fen=command.wage_min_fen,
            wage_max_fen=command.wage_max_fen,
            requirements=command.requirements,
            opened_on=command.opened_on,
        )
    ]


@dataclass(frozen=True)
class FillVacancy:
    """Positions of a vacancy were taken; with ``person_id``, by that person (one position)."""

    count: int
    filled_on: date
    person_id: str | None = None
    person_in_ledger: bool = True


def decide_fill_vacancy(command: FillVacancy, state: VacancyState, *, today: date) -> list[reg.VacancyFilled]:
    """Fill at most the positions that remain, on a day between opening and today."""
    _require_open_vacancy(state)
    if command.count < 1:
        raise RuleViolated("FillAtLeastOnePosition", "a fill takes at least 1 position", field="count")
    if command.count > state.remaining:
        raise RuleViolated(
            "FillCannotExceedRemainingPositions",
            f"only {state.remaining} of {state.positions} positions remain, cannot fill {command.count}",
            field="count",
            remaining=state.remaining,
        )
    if command.person_id is not None:
        if command.count != 1:
            raise RuleViolated(
                "OnePersonFillsOnePosition", "a fill naming a person takes exactly 1 position", field="count"
            )
        if not command.person_in_ledger:
            raise RuleViolated(
                "PersonMustBeInLedger", f"no person {command.person_id} in the ledger", field="person_id"
            )
    _require_day_in_vacancy(command.filled_on, state, today, "filled_on")
    return [
        reg.VacancyFilled(
            vacancy_id=state.vacancy_id,
            region_code=state.region_code,
            filled=command.count,
            remaining=state.remaining - command.count,
            person_id=command.person_id,
            filled_on=command.filled_on,
        )
    ]


@dataclass(frozen=True)
class CloseVacancy:
    """The employer withdraws the positions not yet filled."""

    closed_on: date
    reason: str | None = None


def decide_close_vacancy(command: CloseVacancy, state: VacancyState, *, today: date) -> list[reg.VacancyClosed]:
    """An open vacancy closes; what remains is withdrawn."""
    _require_open_vacancy(state)
    _require_day_in_vacancy(command.closed_on, state, today, "closed_on")
    return [
        reg.VacancyClosed(
            vacancy_id=state.vacancy_id,
            region_code=state.region_code,
            withdrawn=state.remaining,
            closed_on=command.closed_on,
            reason=command.reason,
        )
    ]


def _require_open_vacancy(state: VacancyState) -> None:
    if state.status != "open":
        raise RuleViolated("VacancyIsOpen", f"vacancy {state.vacancy_id} is {state.status}", field="vacancy_id")


def _require_day_in_vacancy(day: date, state: VacancyState, today: date, field_name: str) -> None:
    if day > today:
        raise RuleViolated("DateNotInFuture", f"{field_name} {day} is in the future", field=field_name)
    if day < state.opened_on:
        raise RuleViolated(
            "DateNotBeforeOpening",
            f"{field_name} {day} is before the vacancy opened on {state.opened_on}",
            field=field_name,
        )


# --- service points (平台) and their standards (seed 001) -------------------------------------------

#: Township offices (乡镇人力资源和社会保障所): 1 staff per 6,000 people served, at least 5 (seed 001 §3(四)).
TOWNSHIP_PEOPLE_PER_STAFF = 6_000
TOWNSHIP_MINIMUM_STAFF = 5
#: Village stations (服务站): over 1,000 people, 1 staff per 800; otherwise 1 (seed 001 §3(四)).
VILLAGE_STAFFING_THRESHOLD = 1_000
VILLAGE_PEOPLE_PER_STAFF = 800
#: Village stations need at least 50 m² of working space (seed 001 §3(一)3).
VILLAGE_MIN_FLOOR_AREA_M2 = 50
#: County centres: seed 001 sets 3,000 to 5,000 m² by district; the smallest is the default here.
COUNTY_MIN_FLOOR_AREA_M2 = 3_000


@dataclass(frozen=True)
class PremisesStandard:
    """The smallest premises a service point may have: working space and, for townships, an archive room."""

    floor_area_m2: int
    archive_room_m2: int | None = None


def staff_required(level: reg.ServicePointLevel, population_served: int) -> int:
    """Staff a service point needs for the people it serves (seed 001 §3(四); DESIGN.md section 5).

    Township: 1 per 6,000 served, at least 5. Village: over 1,000 people, 1 per 800 (rounded up); else 1.
    The seeds set no number for the county bureau: 1 is the floor.
    """
    if level == "township":
        return max(TOWNSHIP_MINIMUM_STAFF, math.ceil(population_served / TOWNSHIP_PEOPLE_PER_STAFF))
    if level == "village" and population_served > VILLAGE_STAFFING_THRESHOLD:
        return math.ceil(population_served / VILLAGE_PEOPLE_PER_STAFF)
    return 1


def premises_required(level: reg.ServicePointLevel, population_served: int) -> PremisesStandard:
    """Premises by level and, for a township, by its population (seed 001 §3(一)2-3).

    Township under 60,000 people: 120-200 m² and an archive room of 20 m² or more; 60,000 to 90,000:
    200-300 m² and 30 m²; over 90,000: 300 m² or more and 40 m². Village: 50 m² or more.
    County: 3,000 m² (the smallest of seed 001's district centres).
    """
    if level == "township":
        if population_served < 60_000:
            return PremisesStandard(120, 20)
        if population_served <= 90_000:
            return PremisesStandard(200, 30)
        return PremisesStandard(300, 40)
    if level == "village":
        return PremisesStandard(VILLAGE_MIN_FLOOR_AREA_M2)
    return PremisesStandard(COUNTY_MIN_FLOOR_AREA_M2)


def assess_service_point(
    level: reg.ServicePointLevel, *, staff: int, floor_area_m2: int, has_archive_room: bool, population_served: int
) -> reg.ServicePointCompliance:
    """How a service point measures against the staffing and premises standards, with each shortfall in words."""
    required = staff_required(level, population_served)
    premises = premises_required(level, population_served)
    reasons = []
    if staff < required:
        reasons.append(f"{staff} staff for {population_served:,} people served; the standard asks for {required}")
    if floor_area_m2 < premises.floor_area_m2:
        reasons.append(f"{floor_area_m2} m² of working space; the standard asks for {premises.floor_area_m2} m²")
    if premises.archive_room_m2 is not None and not has_archive_room:
        reasons.append(f"no archive room; the standard asks for one of {premises.archive_room_m2} m² or more")
    staffing_ok = staff >= required
    premises_ok = floor_area_m2 >= premises.floor_area_m2 and (premises.archive_room_m2 is None or has_archive_room)
    return reg.ServicePointCompliance(
        staff_required=required,
        staffing_ok=staffing_ok,
        floor_area_required_m2=premises.floor_area_m2,
        premises_ok=premises_ok,
        compliant=staffing_ok and premises_ok,
        reasons=reasons,
    )


@dataclass(frozen=True)
class ServicePointState:
    """A service point as its stream tells it (the last event carries every attribute)."""

    event: reg.ServicePointEstablished | reg.ServicePointUpdated
    version: int


def evolve_service_point(state: ServicePointState | None, event: Event) -> ServicePointState | None:
    """The service point after one more of its events."""
    if isinstance(event, reg.ServicePointEstablished | reg.ServicePointUpdated):
        return ServicePointState(event, (state.version if state else 0) + 1)
    return None if state is None else replace(state, version=state.version + 1)


@dataclass(frozen=True)
class ServicePointDetails:
    """What a clerk records about a service point's staff, premises and reach."""

    name: str
    staff: int
    floor_area_m2: int
    has_archive_room: bool
    population_served: int
    equipment: tuple[str, ...] = ()


@dataclass(frozen=True)
class EstablishServicePoint:
    """Record a county, township or village service point (平台) in a region of that level."""

    service_point_id: str
    level: reg.ServicePointLevel
    region: Region | None
    region_code: str
    details: ServicePointDetails


def decide_establish_service_point(command: EstablishServicePoint) -> list[reg.ServicePointEstablished]:
    """A service point sits in a known region of its own level; its compliance is assessed and published."""
    region = _known_region(command.region, command.region_code)
    if str(region.level) != command.level:
        raise RuleViolated(
            "ServicePointRegionMatchesLevel",
            f"a {command.level} service point sits in a {command.level}, but {region.code} {region.name} "
            f"is a {region.level}",
            field="region_code",
        )
    return [
        reg.ServicePointEstablished(
            service_point_id=command.service_point_id,
            level=command.level,
            region_code=region.code,
            **_service_point_fields(command.level, command.details),
        )
    ]


def decide_update_service_point(
    details: ServicePointDetails, state: ServicePointState
) -> list[reg.ServicePointUpdated]:
    """New staff, premises or reach: re-assess; recording the same details again records nothing."""
    current = state.event
    fields = _service_point_fields(current.level, details)
    if all(getattr(current, name) == value for name, value in fields.items()):
        return []
    return [
        reg.ServicePointUpdated(
            service_point_id=current.service_point_id, level=current.level, region_code=current.region_code, **fields
        )
    ]


def _service_point_fields(level: reg.ServicePointLevel, details: ServicePointDetails) -> dict[str, Any]:
    return {
        "name": details.name,
        "staff": details.staff,
        "floor_area_m2": details.floor_area_m2,
        "has_archive_room": details.has_archive_room,
        "equipment": list(details.equipment),
        "population_served": details.population_served,
        "compliance": assess_service_point(
            level,
            staff=details.staff,
            floor_area_m2=details.floor_area_m2,
            has_archive_room=details.has_archive_room,
            population_served=details.population_served,
        ),
    }


def _known_region(region: Region | None, code: str) -> Region:
    if region is None:
        raise RuleViolated("RegionMustExist", f"unknown region {code}", field="region_code")
    return region


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
    """The day a person reaches the statutory retirement age, with the 2025 gradual increase (RULES.md).

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


# --- the person aggregate: a ledger entry and its employment status --------------------------------------

#: Employers report a hire within 30 days and a termination within 15 (就业服务与就业管理规定 Art 62).
HIRE_REPORT_DAYS = 30
TERMINATION_REPORT_DAYS = 15

#: The person's PII fields: corrected through the vault, published as redacted changes only.
PII_FIELDS = ("id_number", "name", "phone")


@dataclass(frozen=True)
class Employment:
    """The job a person holds now."""

    kind: EmploymentKind
    employer_id: str | None
    started_on: date


@dataclass(frozen=True)
class PersonState:
    """A ledger entry folded from its ``person`` stream; ``version`` is the stream's version."""

    person_id: str
    sex: Sex
    birth_date: date
    region_code: str
    hukou: Hukou | None = None
    education: str | None = None
    categories: tuple[str, ...] = ()
    status: EmploymentStatus = "not_in_labour_force"
    employment: Employment | None = None
    last_end_reason: EmploymentEndReason | None = None
    last_ended_on: date | None = None
    version: int = 0

    def working_age_on(self, day: date) -> bool:
        """Whether the person is of working age on ``day``."""
        return is_working_age(self.birth_date, self.sex, day)


PersonEvent = (
    PersonRegistered
    | PersonCorrected
    | PersonMoved
    | PersonCategoriesChanged
    | EmploymentRegistered
    | EmploymentEnded
    | UnemploymentRegistered
    | UnemploymentDeregistered
    | PersonRetired
    | PersonDied
    | StatusSurveyed
)


def evolve_person(state: PersonState | None, event: Event) -> PersonState:
    """The ledger entry after one more event of its stream."""
    if isinstance(event, PersonRegistered):
        return PersonState(
            person_id=event.person_id,
            sex=event.sex,
            birth_date=event.birth_date,
            region_code=event.region_code,
            hukou=event.hukou,
            education=event.education,
            categories=tuple(event.categories),
            status=event.status,
            version=1,
        )
    if state is None:
        raise ValueError(f"a person stream must start with PersonRegistered, not {event.event_type}")
    state = replace(state, version=state.version + 1)
    if isinstance(event, PersonCorrected):
        values = {c.field: c.new for c in event.changes if not c.redacted and c.field in _CORRECTABLE}
        if "birth_date" in values and isinstance(values["birth_date"], str):
            values["birth_date"] = date.fromisoformat(values["birth_date"])
        return replace(state, **values)
    if isinstance(event, PersonMoved):
        return replace(state, region_code=event.region_code)
    if isinstance(event, PersonCategoriesChanged):
        return replace(state, categories=tuple(event.categories))
    if isinstance(event, EmploymentRegistered):
        job = Employment(event.kind, event.employer_id, event.started_on)
        return replace(state, status="employed", employment=job)
    if isinstance(event, EmploymentEnded):
        return replace(
            state,
            status=event.status_after,
            employment=None,
            last_end_reason=event.reason,
            last_ended_on=event.ended_on,
        )
    if isinstance(event, UnemploymentRegistered):
        return replace(state, status="registered_unemployed")
    if isinstance(event, UnemploymentDeregistered):
        return replace(state, status=event.status_after)
    if isinstance(event, PersonRetired):
        return replace(state, status="retired", employment=None)
    if isinstance(event, PersonDied):
        return replace(state, status="deceased", employment=None)
    return state  # StatusSurveyed changes nothing: the status events before it did


def fold_person(events: Sequence[Event]) -> PersonState | None:
    """A ledger entry from its stream's events (None for an empty stream)."""
    state: PersonState | None = None
    for event in events:
        state = evolve_person(state, event)
    return state


#: Non-PII attributes a correction may set directly (sex and birth date follow from the ID number).
_CORRECTABLE = ("hukou", "education", "sex", "birth_date")


def _alive(state: PersonState, action: str) -> None:
    if state.status == "deceased":
        raise RuleViolated(
            "DeceasedIsFinal", f"the person is recorded as deceased; {action} is not possible", field="status"
        )


def _not_in_future(day: date, today: date, field_name: str, rule: str) -> None:
    if day > today:
        raise RuleViolated(rule, f"{field_name} {day} is in the future (today is {today})", field=field_name)


@dataclass(frozen=True)
class CorrectPerson:
    """Correct what was recorded wrongly (信息更正): non-PII values, and the names of changed PII fields.

    ``citizen`` is the parsed new ID number when it is among the corrections; sex and birth date follow.
    """

    values: dict[str, object]
    pii_changed: tuple[str, ...]
    reason: str
    citizen: CitizenIdInfo | None = None


def decide_correct_person(state: PersonState, command: CorrectPerson, *, today: date) -> list[PersonCorrected]:
    """A correction records each changed field with its old and new value (PII fields redacted)."""
    _alive(state, "a correction")
    values = dict(command.values)
    if command.citizen is not None:
        if age_on(command.citizen.birth_date, today) < MINIMUM_WORKING_AGE:
            raise RuleViolated(
                "LedgerHoldsWorkingAgeResidents",
                f"the corrected ID number gives a birth date of {command.citizen.birth_date}: under "
                f"{MINIMUM_WORKING_AGE} (禁止使用童工规定 Art 2)",
                field="id_number",
            )
        values["sex"] = command.citizen.sex
        values["birth_date"] = command.citizen.birth_date
    changes = [
        FieldChange(field=name, old=_jsonable(getattr(state, name)), new=_jsonable(value))
        for name, value in values.items()
        if getattr(state, name) != value
    ]
    changes += [FieldChange(field=name, redacted=True) for name in command.pii_changed]
    if not changes:
        raise RuleViolated("CorrectionChangesSomething", "every value given equals what is recorded", field="body")
    if not command.reason.strip():
        raise RuleViolated("CorrectionNeedsReason", "say why the record was wrong", field="reason")
    return [PersonCorrected(person_id=state.person_id, changes=changes, reason=command.reason.strip())]


def _jsonable(value: object) -> object:
    return value.isoformat() if isinstance(value, date) else value


def decide_move_person(
    state: PersonState, region: Region | None, region_code: str, moved_on: date, *, today: date
) -> list[PersonMoved]:
    """The residence moves to another village or community (居住地变更)."""
    _alive(state, "a move")
    target = _known_region(region, region_code)
    if target.level is not RegionLevel.VILLAGE:
        raise RuleViolated(
            "PersonLivesInVillageOrCommunity",
            f"a person lives in a village or community, but {target.code} {target.name} is a {target.level}",
            field="region_code",
        )
    if target.code == state.region_code:
        raise RuleViolated("MoveChangesResidence", f"the person already lives in {target.code}", field="region_code")
    _not_in_future(moved_on, today, "moved_on", "MoveNotInFuture")
    return [
        PersonMoved(
            person_id=state.person_id, from_region_code=state.region_code, region_code=target.code, moved_on=moved_on
        )
    ]


def decide_change_categories(
    state: PersonState, categories: Sequence[str], effective_on: date, *, today: date
) -> list[PersonCategoriesChanged]:
    """Set the person's categories (人员类别); no event when they are already so."""
    _alive(state, "a change of categories")
    _not_in_future(effective_on, today, "effective_on", "CategoriesChangeNotInFuture")
    unknown = sorted(set(categories) - set(PERSON_CATEGORIES))
    if unknown:
        raise RuleViolated("KnownCategory", f"unknown categories {unknown}", field="categories")
    wanted = sorted(set(categories))
    current = set(state.categories)
    if set(wanted) == current:
        return []
    return [
        PersonCategoriesChanged(
            person_id=state.person_id,
            added=sorted(set(wanted) - current),
            removed=sorted(current - set(wanted)),
            categories=wanted,
            effective_on=effective_on,
        )
    ]


@dataclass(frozen=True)
class RegisterEmployment:
    """Employment registration (就业登记)."""

    kind: EmploymentKind
    started_on: date
    reported_on: date
    employer_id: str | None = None
    vacancy_id: str | None = None
    source: Source = "registration"


def decide_register_employment(
    state: PersonState, command: RegisterEmployment, *, today: date
) -> list[EmploymentRegistered]:
    """A person of working age who is not already employed starts work (就业登记).

    The hire is due to be reported within 30 days of the start (就业服务与就业管理规定 Art 62); a later
    report is accepted and flagged ``reported_late``.
    """
    _alive(state, "employment registration")
    if state.status == "employed":
        raise RuleViolated(
            "OneEmploymentAtATime",
            "the person is already registered as employed; end that employment first",
            field="status",
        )
    if state.status == "retired":
        raise RuleViolated(
            "RetiredLeftTheLabourForce",
            "the person is retired and has left the labour force; employment registration is for working age",
            field="status",
        )
    _not_in_future(command.started_on, today, "started_on", "EmploymentStartNotInFuture")
    _not_in_future(command.reported_on, today, "reported_on", "ReportNotInFuture")
    if command.reported_on < command.started_on:
        raise RuleViolated(
            "HireReportedAfterStart",
            f"a hire is reported once work has started ({command.started_on}), not on {command.reported_on}",
            field="reported_on",
        )
    if age_on(state.birth_date, command.started_on) < MINIMUM_WORKING_AGE:
        raise RuleViolated(
            "NoEmploymentUnder16",
            f"nobody under {MINIMUM_WORKING_AGE} may be employed (禁止使用童工规定 Art 2); born {state.birth_date}",
            field="started_on",
        )
    retirement = statutory_retirement_date(state.birth_date, state.sex)
    if command.started_on >= retirement:
        raise RuleViolated(
            "RegistrationIsForWorkingAge",
            f"the person reached the statutory retirement age on {retirement}",
            field="started_on",
        )
    deadline = command.started_on + timedelta(days=HIRE_REPORT_DAYS)
    return [
        EmploymentRegistered(
            person_id=state.person_id,
            previous_status=state.status,
            kind=command.kind,
            employer_id=command.employer_id,
            vacancy_id=command.vacancy_id,
            started_on=command.started_on,
            reported_on=command.reported_on,
            report_deadline=deadline,
            reported_late=command.reported_on > deadline,
            source=command.source,
        )
    ]


def decide_end_employment(
    state: PersonState, ended_on: date, reason: EmploymentEndReason, reported_on: date, *, today: date
) -> list[EmploymentEnded]:
    """Employment ends (终止/解除劳动关系), reported within 15 days (Art 62) or flagged late.

    The reasons of 失业保险条例 Art 14 (``INVOLUNTARY_END_REASONS``) mark the loss as not by own choice.
    Ending for retirement leaves the person retired; otherwise not in the labour force until they
    register as unemployed.
    """
    _alive(state, "ending employment")
    if state.status != "employed" or state.employment is None:
        raise RuleViolated(
            "EndNeedsEmployment", f"the person is {state.status}, not employed: there is no job to end", field="status"
        )
    _not_in_future(ended_on, today, "ended_on", "EmploymentEndNotInFuture")
    _not_in_future(reported_on, today, "reported_on", "ReportNotInFuture")
    if ended_on < state.employment.started_on:
        raise RuleViolated(
            "EmploymentEndsAfterStart",
            f"the employment started on {state.employment.started_on}; it cannot end on {ended_on}",
            field="ended_on",
        )
    if reported_on < ended_on:
        raise RuleViolated(
            "TerminationReportedAfterEnd",
            f"a termination is reported once it happened ({ended_on})",
            field="reported_on",
        )
    deadline = ended_on + timedelta(days=TERMINATION_REPORT_DAYS)
    return [
        EmploymentEnded(
            person_id=state.person_id,
            kind=state.employment.kind,
            employer_id=state.employment.employer_id,
            ended_on=ended_on,
            reason=reason,
            involuntary=reason in INVOLUNTARY_END_REASONS,
            reported_on=reported_on,
            report_deadline=deadline,
            reported_late=reported_on > deadline,
            status_after="retired" if reason == "retired" else "not_in_labour_force",
        )
    ]


def decide_register_unemployment(
    state: PersonState, registered_on: date, *, today: date
) -> list[UnemploymentRegistered]:
    """Unemployment registration (失业登记) for a person of working age who is out of work.

    Whether the last job was lost not by own choice comes from how the last employment ended.
    """
    _alive(state, "unemployment registration")
    if state.status == "employed":
        raise RuleViolated(
            "EndEmploymentBeforeUnemployment",
            "the person is registered as employed; end that employment before registering unemployment",
            field="status",
        )
    if state.status == "registered_unemployed":
        raise RuleViolated("AlreadyRegisteredUnemployed", "the person is already registered unemployed", field="status")
    if state.status == "retired":
        raise RuleViolated(
            "RetiredLeftTheLabourForce", "a retired person cannot register as unemployed", field="status"
        )
    _not_in_future(registered_on, today, "registered_on", "RegistrationNotInFuture")
    if state.last_ended_on is not None and registered_on < state.last_ended_on:
        raise RuleViolated(
            "UnemploymentAfterLastJob",
            f"the last employment ended on {state.last_ended_on}; unemployment starts after that",
            field="registered_on",
        )
    if not state.working_age_on(registered_on):
        raise RuleViolated(
            "RegistrationIsForWorkingAge",
            f"unemployment registration is for ages {MINIMUM_WORKING_AGE} to the statutory retirement age "
            f"({statutory_retirement_date(state.birth_date, state.sex)}); born {state.birth_date}",
            field="registered_on",
        )
    return [
        UnemploymentRegistered(
            person_id=state.person_id,
            previous_status=state.status,
            registered_on=registered_on,
            involuntary=state.last_end_reason in INVOLUNTARY_END_REASONS,
            last_employment_end_reason=state.last_end_reason,
        )
    ]


DeregistrationReason = Literal["stopped_seeking_work", "moved_away", "enlisted", "emigrated", "imprisoned", "other"]


def decide_deregister_unemployment(
    state: PersonState, deregistered_on: date, reason: DeregistrationReason, *, today: date
) -> list[UnemploymentDeregistered]:
    """Cancel an unemployment registration (注销失业登记) other than by finding work."""
    _alive(state, "deregistration")
    if state.status != "registered_unemployed":
        raise RuleViolated(
            "DeregistrationNeedsUnemploymentRegistration",
            f"the person is {state.status}, not registered unemployed",
            field="status",
        )
    _not_in_future(deregistered_on, today, "deregistered_on", "DeregistrationNotInFuture")
    return [UnemploymentDeregistered(person_id=state.person_id, deregistered_on=deregistered_on, reason=reason)]


def decide_retire(state: PersonState, retired_on: date, *, today: date) -> list[PersonRetired]:
    """The person retires (退休) and leaves the labour force; an employment held ends with it."""
    _alive(state, "retirement")
    if state.status == "retired":
        raise RuleViolated("AlreadyRetired", "the person is already retired", field="status")
    _not_in_future(retired_on, today, "retired_on", "RetirementNotInFuture")
    if retired_on < state.birth_date:
        raise RuleViolated("RetirementAfterBirth", "retirement cannot precede birth", field="retired_on")
    return [PersonRetired(person_id=state.person_id, previous_status=state.status, retired_on=retired_on)]


def decide_record_death(
    state: PersonState, died_on: date, *, today: date, source: Source = "registration"
) -> list[PersonDied]:
    """Record a death (死亡); the ledger entry is closed for good."""
    _alive(state, "recording a death")
    _not_in_future(died_on, today, "died_on", "DeathNotInFuture")
    if died_on < state.birth_date:
        raise RuleViolated("DeathAfterBirth", f"the person was born on {state.birth_date}", field="died_on")
    return [PersonDied(person_id=state.person_id, previous_status=state.status, died_on=died_on, source=source)]


# --- the quarterly dynamic survey (动态调查) ---------------------------------------------------------------

_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")


def quarter_bounds(quarter: str) -> tuple[date, date]:
    """First and last day of a quarter written ``2026Q3``."""
    match = _QUARTER.fullmatch(quarter)
    if match is None:
        raise RuleViolated("QuarterFormat", f"a quarter is written like 2026Q3, not {quarter!r}", field="quarter")
    year, q = int(match[1]), int(match[2])
    first = date(year, 3 * q - 2, 1)
    return first, add_months(first, 3) - timedelta(days=1)


def quarter_of(day: date) -> str:
    """The quarter a day falls in, e.g. ``2026Q3``."""
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


@dataclass(frozen=True)
class Survey:
    """One quarterly status check of a person; the details say how a changed status came about."""

    quarter: str
    status: EmploymentStatus
    surveyed_on: date
    employment: RegisterEmployment | None = None
    ended_on: date | None = None
    end_reason: EmploymentEndReason | None = None


def decide_survey(state: PersonState, survey: Survey, *, today: date) -> list[PersonEvent]:
    """Confirm or update the status for a quarter (动态调查).

    A confirmed status gives ``StatusSurveyed(changed=False)``. A new status gives the same events the
    matching registration would (each checked by its own rule), then ``StatusSurveyed(changed=True)``.
    """
    first, _ = quarter_bounds(survey.quarter)
    if first > today:
        raise RuleViolated("QuarterNotInFuture", f"quarter {survey.quarter} has not begun", field="quarter")
    _not_in_future(survey.surveyed_on, today, "surveyed_on", "SurveyNotInFuture")
    if survey.surveyed_on < first:
        raise RuleViolated(
            "SurveyWithinOrAfterQuarter",
            f"a survey for {survey.quarter} is made from {first} on, not on {survey.surveyed_on}",
            field="surveyed_on",
        )
    events: list[PersonEvent] = []
    current = state

    def apply(new: Sequence[PersonEvent]) -> None:
        nonlocal current
        for event in new:
            current = evolve_person(current, event)
            events.append(event)

    def end_job() -> None:
        if survey.ended_on is None or survey.end_reason is None:
            raise RuleViolated(
                "SurveyNeedsEndOfEmployment",
                "the person was employed: give ended_on and end_reason",
                field="ended_on" if survey.ended_on is None else "end_reason",
            )
        apply(decide_end_employment(current, survey.ended_on, survey.end_reason, survey.surveyed_on, today=today))

    target, day = survey.status, survey.surveyed_on
    if target != state.status:
        _alive(state, "a change of status")
        if target == "employed":
            if survey.employment is None:
                raise RuleViolated(
                    "SurveyNeedsEmploymentDetails",
                    "a survey that finds the person employed gives the employment (kind, started_on)",
                    field="employment",
                )
            apply(decide_register_employment(current, survey.employment, today=today))
        elif target == "registered_unemployed":
            if current.status == "employed":
                end_job()
            apply(decide_register_unemployment(current, day, today=today))
        elif target == "not_in_labour_force":
            if current.status == "employed":
                end_job()
            elif current.status == "registered_unemployed":
                apply(decide_deregister_unemployment(current, day, "stopped_seeking_work", today=today))
            else:
                raise RuleViolated(
                    "TransitionAllowed",
                    f"a {current.status} person does not return to the labour force",
                    field="status",
                )
        elif target == "retired":
            apply(decide_retire(current, day, today=today))
        else:
            apply(decide_record_death(current, day, today=today))
    events.append(
        StatusSurveyed(
            person_id=state.person_id,
            quarter=survey.quarter,
            status=current.status,
            changed=current.status != state.status,
            surveyed_on=day,
        )
    )
    return events


# --- the household aggregate (户) --------------------------------------------------------------------------

#: How a member relates to the head of the household.
Relation = Literal["head", "spouse", "child", "parent", "sibling", "grandchild", "grandparent", "other"]
RELATIONS: tuple[str, ...] = Relation.__args__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class HouseholdState:
    """A household folded from its stream: every household event carries the whole member list."""

    household_id: str
    region_code: str
    head_person_id: str | None
    members: tuple[HouseholdMember, ...]
    version: int

    def member(self, person_id: str) -> HouseholdMember | None:
        """The member with this person id, if any."""
        return next((m for m in self.members if m.person_id == person_id), None)


HouseholdEvent = (
    HouseholdCreated | HouseholdMemberAdded | HouseholdMemberRemoved | HouseholdHeadChanged | HouseholdEmploymentChanged
)


def evolve_household(state: HouseholdState | None, event: HouseholdEvent) -> HouseholdState:
    """The household after one more event; each event's snapshot is the new member list."""
    return HouseholdState(
        household_id=event.household_id,
        region_code=event.region_code,
        head_person_id=event.head_person_id,
        members=tuple(event.members),
        version=(state.version if state else 0) + 1,
    )


def fold_household(events: Sequence[HouseholdEvent]) -> HouseholdState | None:
    """A household from its stream's events (None for an empty stream)."""
    state: HouseholdState | None = None
    for event in events:
        state = evolve_household(state, event)
    return state


def member_snapshot(person: PersonState, relation: str, *, today: date) -> HouseholdMember:
    """What zero-employment detection needs of a member (零就业家庭): working age and status, today."""
    return HouseholdMember(
        person_id=person.person_id, relation=relation, working_age=person.working_age_on(today), status=person.status
    )


def _check_relation(relation: str, field_name: str) -> None:
    if relation not in RELATIONS:
        raise RuleViolated("KnownRelation", f"relation must be one of {', '.join(RELATIONS)}", field=field_name)


def decide_create_household(
    household_id: str, region: Region | None, region_code: str, members: Sequence[HouseholdMember]
) -> list[HouseholdCreated]:
    """A household is entered in its village or community with its members, exactly one of them the head."""
    target = _known_region(region, region_code)
    if target.level is not RegionLevel.VILLAGE:
        raise RuleViolated(
            "HouseholdLivesInVillageOrCommunity",
            f"a household is registered in a village or community, but {target.code} is a {target.level}",
            field="region_code",
        )
    if not members:
        raise RuleViolated("HouseholdHasMembers", "a household has at least one member", field="members")
    ids = [m.person_id for m in members]
    if len(set(ids)) != len(ids):
        raise RuleViolated("MemberListedOnce", "a person is listed twice", field="members")
    for index, member in enumerate(members):
        _check_relation(member.relation, f"members.{index}.relation")
        if member.status == "deceased":
            raise RuleViolated("DeceasedIsFinal", "a deceased person joins no household", field=f"members.{index}")
    heads = [m.person_id for m in members if m.relation == "head"]
    if len(heads) != 1:
        raise RuleViolated(
            "OneHeadPerHousehold", f"exactly one member is the head (户主), found {len(heads)}", field="members"
        )
    return [
        HouseholdCreated(
            household_id=household_id, region_code=target.code, head_person_id=heads[0], members=list(members)
        )
    ]


def decide_add_member(state: HouseholdState, member: HouseholdMember) -> list[HouseholdMemberAdded]:
    """A person joins the household; there is already a head, so the newcomer is not one."""
    _check_relation(member.relation, "relation")
    if state.member(member.person_id) is not None:
        raise RuleViolated("MemberListedOnce", "the person is already a member", field="person_id")
    if member.relation == "head" and state.head_person_id is not None:
        raise RuleViolated(
            "OneHeadPerHousehold", "the household has a head; add the member, then change the head", field="relation"
        )
    if member.status == "deceased":
        raise RuleViolated("DeceasedIsFinal", "a deceased person joins no household", field="person_id")
    members = [*state.members, member]
    head = member.person_id if member.relation == "head" else state.head_person_id
    return [
        HouseholdMemberAdded(
            household_id=state.household_id,
            region_code=state.region_code,
            head_person_id=head,
            members=members,
            person_id=member.person_id,
        )
    ]


def decide_remove_member(state: HouseholdState, person_id: str, reason: str) -> list[HouseholdMemberRemoved]:
    """A person leaves the household; the head leaves last (change the head first)."""
    if state.member(person_id) is None:
        raise RuleViolated("MemberOfHousehold", "the person is not a member of this household", field="person_id")
    rest = [m for m in state.members if m.person_id != person_id]
    if person_id == state.head_person_id and rest:
        raise RuleViolated(
            "ChangeHeadBeforeRemovingHead",
            "the head leaves last: make another member head first",
            field="person_id",
        )
    return [
        HouseholdMemberRemoved(
            household_id=state.household_id,
            region_code=state.region_code,
            head_person_id=state.head_person_id if rest else None,
            members=rest,
            person_id=person_id,
            reason=reason,
        )
    ]


def decide_change_head(
    state: HouseholdState, person_id: str, former_head_relation: str = "other"
) -> list[HouseholdHeadChanged]:
    """Another member becomes head (户主); the former head keeps a relation to the new one."""
    _check_relation(former_head_relation, "former_head_relation")
    if former_head_relation == "head":
        raise RuleViolated("OneHeadPerHousehold", "the former head cannot stay head", field="former_head_relation")
    new_head = state.member(person_id)
    if new_head is None:
        raise RuleViolated("MemberOfHousehold", "the new head must be a member of the household", field="person_id")
    if person_id == state.head_person_id:
        raise RuleViolated("HeadChangesPerson", "the person is already the head", field="person_id")
    if new_head.status == "deceased":
        raise RuleViolated("DeceasedIsFinal", "a deceased member cannot become head", field="person_id")

    def relation_after(member: HouseholdMember) -> HouseholdMember:
        if member.person_id == person_id:
            return member.model_copy(update={"relation": "head"})
        if member.person_id == state.head_person_id:
            return member.model_copy(update={"relation": former_head_relation})
        return member

    return [
        HouseholdHeadChanged(
            household_id=state.household_id,
            region_code=state.region_code,
            head_person_id=person_id,
            members=[relation_after(m) for m in state.members],
        )
    ]


def decide_household_employment(
    state: HouseholdState, person: PersonState, *, today: date
) -> list[HouseholdEmploymentChanged]:
    """A member's employment status or working age changed: publish the new snapshot (零就业家庭 needs it)."""
    old = state.member(person.person_id)
    if old is None:
        return []
    new = member_snapshot(person, old.relation, today=today)
    if new == old:
        return []
    members = [new if m.person_id == person.person_id else m for m in state.members]
    return [
        HouseholdEmploymentChanged(
            household_id=state.household_id,
            region_code=state.region_code,
            head_person_id=state.head_person_id,
            members=members,
            person_id=person.person_id,
        )
    ]
