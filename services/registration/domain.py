"""Registration rules as pure functions: commands in, events out (实名制台账, 就业失业登记).

Nothing here does I/O; ``commands.py`` loads what a rule needs and appends what it decides.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any, Literal

from contracts import registration as reg
from contracts.envelope import Event
from contracts.identifiers import CitizenIdInfo, CreditCodeInfo
from contracts.regions import Region, RegionLevel
from contracts.registration import EmployerRegistered, EmployerSize, Hukou, PersonRegistered
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
