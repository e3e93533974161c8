"""Registration rules as pure functions: commands in, events out (实名制台账, 就业失业登记).

Nothing here does I/O; ``commands.py`` loads what a rule needs and appends what it decides.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

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


def _known_region(region: Region | None, code: str) -> Region:
    if region is None:
        raise RuleViolated("RegionMustExist", f"unknown region {code}", field="region_code")
    return region
