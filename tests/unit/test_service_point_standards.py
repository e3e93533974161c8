"""Service-point standards with seed 001's numbers (枣政办发[2011]58号 §3): staffing and premises."""

from __future__ import annotations

import pytest

from contracts.reference import demo_county
from services.registration.domain.service_point import (
    EstablishServicePoint,
    PremisesStandard,
    ServicePointDetails,
    assess_service_point,
    decide_establish_service_point,
    decide_update_service_point,
    evolve_service_point,
    premises_required,
    staff_required,
)
from services.runtime.errors import RuleViolated

REGIONS = {r.code: r for r in demo_county()}


@pytest.mark.parametrize(
    ("population", "staff"),
    [(0, 5), (12_000, 5), (30_000, 5), (30_001, 6), (36_000, 6), (60_000, 10), (95_000, 16)],
)
def test_a_township_office_needs_one_staff_per_6000_served_and_at_least_5(population, staff):
    assert staff_required("township", population) == staff


@pytest.mark.parametrize(
    ("population", "staff"), [(300, 1), (1_000, 1), (1_001, 2), (1_600, 2), (1_601, 3), (2_400, 3), (4_000, 5)]
)
def test_a_village_station_over_1000_people_needs_one_staff_per_800_else_one(population, staff):
    assert staff_required("village", population) == staff


@pytest.mark.parametrize(
    ("population", "floor", "archive"),
    [(59_999, 120, 20), (60_000, 200, 30), (90_000, 200, 30), (90_001, 300, 40)],
)
def test_township_premises_grow_with_its_population(population, floor, archive):
    assert premises_required("township", population) == PremisesStandard(floor, archive)


def test_a_village_station_needs_50_square_metres_and_no_archive_room():
    assert premises_required("village", 800) == PremisesStandard(50, None)


def test_a_township_office_that_meets_every_standard_complies():
    compliance = assess_service_point(
        "township", staff=6, floor_area_m2=150, has_archive_room=True, population_served=32_000
    )
    assert compliance.compliant and compliance.staffing_ok and compliance.premises_ok
    assert (compliance.staff_required, compliance.floor_area_required_m2, compliance.reasons) == (6, 120, [])


def test_each_shortfall_is_named_in_words():
    compliance = assess_service_point(
        "township", staff=4, floor_area_m2=180, has_archive_room=False, population_served=70_000
    )
    assert not compliance.compliant and not compliance.staffing_ok and not compliance.premises_ok
    assert compliance.staff_required == 12
    assert compliance.reasons == [
        "4 staff for 70,000 people served; the standard asks for 12",
        "180 m² of working space; the standard asks for 200 m²",
        "no archive room; the standard asks for one of 30 m² or more",
    ]


def test_a_small_village_station_with_one_coordinator_complies_without_archive_room():
    compliance = assess_service_point(
        "village", staff=1, floor_area_m2=50, has_archive_room=False, population_served=950
    )
    assert compliance.compliant


def test_a_village_station_of_40_square_metres_does_not_comply():
    compliance = assess_service_point(
        "village", staff=3, floor_area_m2=40, has_archive_room=False, population_served=1_800
    )
    assert compliance.staffing_ok and not compliance.premises_ok and not compliance.compliant


def details(**overrides) -> ServicePointDetails:
    values = {"name": "武阳镇人社所", "staff": 5, "floor_area_m2": 160, "has_archive_room": True}
    values["population_served"] = 28_000
    return ServicePointDetails(**{**values, **overrides})


def establish(level, code):
    return decide_establish_service_point(EstablishServicePoint("sp1", level, REGIONS.get(code), code, details()))


def test_an_established_point_publishes_its_compliance():
    [event] = establish("township", "430527101000")
    assert event.compliance.compliant and event.compliance.staff_required == 5


@pytest.mark.parametrize(("level", "code"), [("village", "430527101000"), ("township", "430527000000")])
def test_a_point_sits_in_a_region_of_its_own_level(level, code):
    with pytest.raises(RuleViolated) as refused:
        establish(level, code)
    assert (refused.value.rule, refused.value.field) == ("ServicePointRegionMatchesLevel", "region_code")


def test_an_update_reassesses_and_the_same_details_record_nothing():
    [event] = establish("township", "430527101000")
    state = evolve_service_point(None, event)
    assert state is not None
    assert decide_update_service_point(details(), state) == []
    [update] = decide_update_service_point(details(population_served=40_000), state)
    assert not update.compliance.staffing_ok and update.compliance.staff_required == 7
    after = evolve_service_point(state, update)
    assert after is not None and after.version == 2
