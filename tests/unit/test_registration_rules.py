"""Registration's pure rules: who may enter the ledger, where people and employers live."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.identifiers import parse_citizen_id, parse_credit_code
from contracts.reference import demo_county
from contracts.regions import RegionLevel
from services.registration.domain.employer import RegisterEmployer, decide_register_employer
from services.registration.domain.person import RegisterPerson, decide_register_person
from services.registration.domain.working_age import age_on
from services.runtime.errors import RuleViolated

REGIONS = {r.code: r for r in demo_county()}
VILLAGE = next(r for r in demo_county() if r.level is RegionLevel.VILLAGE)
TOWNSHIP = next(r for r in demo_county() if r.level is RegionLevel.TOWNSHIP)
COUNTY = REGIONS["430527000000"]


def register(region, id_number="11010519491231002X", today=date(2026, 11, 22)):
    command = RegisterPerson(
        person_id="p1",
        citizen=parse_citizen_id(id_number),
        region=region,
        region_code=region.code if region else "430527999201",
    )
    return decide_register_person(command, today=today)


def test_a_resident_of_a_village_enters_the_ledger_with_sex_and_birth_date_from_the_id():
    [event] = register(VILLAGE)
    assert (event.sex, event.birth_date, event.region_code) == ("female", date(1949, 12, 31), VILLAGE.code)


@pytest.mark.parametrize("region", [TOWNSHIP, COUNTY])
def test_a_person_does_not_live_in_a_township_or_county(region):
    with pytest.raises(RuleViolated) as refused:
        register(region)
    assert refused.value.rule == "PersonLivesInVillageOrCommunity" and refused.value.field == "region_code"


def test_an_unknown_region_is_refused():
    with pytest.raises(RuleViolated) as refused:
        register(None)
    assert refused.value.rule == "RegionMustExist"


def test_a_fifteen_year_old_is_not_in_the_labour_force_ledger():
    body = "43052720111123001"
    from contracts.identifiers import citizen_id_check_character

    with pytest.raises(RuleViolated) as refused:
        register(VILLAGE, body + citizen_id_check_character(body), today=date(2026, 11, 22))
    assert refused.value.rule == "LedgerHoldsWorkingAgeResidents"
    [event] = register(VILLAGE, body + citizen_id_check_character(body), today=date(2027, 11, 23))
    assert event.birth_date == date(2011, 11, 23)


@pytest.mark.parametrize(
    ("birth", "day", "age"),
    [
        (date(2000, 2, 29), date(2016, 2, 28), 15),
        (date(2000, 2, 29), date(2016, 3, 1), 16),
        (date(1990, 6, 1), date(2026, 6, 1), 36),
    ],
)
def test_age_counts_completed_years(birth, day, age):
    assert age_on(birth, day) == age


def test_an_employer_sits_in_a_township_or_village_and_keeps_its_legacy_flag():
    credit = parse_credit_code("91350100M000100Y44", allow_legacy=True)
    command = RegisterEmployer(employer_id="e1", credit=credit, name="厂", region=TOWNSHIP, region_code=TOWNSHIP.code)
    [event] = decide_register_employer(command)
    assert event.credit_code_check_ok is False
    with pytest.raises(RuleViolated):
        decide_register_employer(
            RegisterEmployer(employer_id="e1", credit=credit, name="厂", region=COUNTY, region_code=COUNTY.code)
        )
