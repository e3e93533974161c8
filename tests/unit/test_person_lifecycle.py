"""A ledger entry's life as pure rules: correction, move, categories, and the household snapshot."""

from __future__ import annotations

from datetime import date

import pytest

from contracts.identifiers import citizen_id_check_character, parse_citizen_id
from contracts.reference import demo_county
from contracts.regions import RegionLevel
from contracts.registration import PersonRegistered
from services.registration.domain.employment import RegisterEmployment, decide_register_employment
from services.registration.domain.household import (
    HouseholdState,
    decide_add_member,
    decide_change_head,
    decide_create_household,
    decide_household_employment,
    decide_remove_member,
    evolve_household,
    fold_household,
    member_snapshot,
)
from services.registration.domain.person import (
    CorrectPerson,
    PersonState,
    decide_change_categories,
    decide_correct_person,
    decide_move_person,
    evolve_person,
    fold_person,
)
from services.runtime.errors import RuleViolated

TODAY = date(2026, 5, 20)
VILLAGES = [r for r in demo_county() if r.level is RegionLevel.VILLAGE]
TOWNSHIP = next(r for r in demo_county() if r.level is RegionLevel.TOWNSHIP)


def registered(person_id="p1", born=date(1990, 3, 7), sex="male", categories=()) -> PersonState:
    event = PersonRegistered(
        person_id=person_id, sex=sex, birth_date=born, region_code=VILLAGES[0].code, categories=list(categories)
    )
    state = fold_person([event])
    assert state is not None
    return state


def citizen(birth: str, sequence: str = "001"):
    body = f"430527{birth}{sequence}"
    return parse_citizen_id(body + citizen_id_check_character(body))


def test_registration_folds_into_a_version_one_entry_not_in_the_labour_force():
    state = registered(categories=["rural_surplus_labour"])
    assert (state.version, state.status, state.categories) == (1, "not_in_labour_force", ("rural_surplus_labour",))


def test_a_correction_carries_old_and_new_values_and_redacts_pii():
    command = CorrectPerson({"education": "大专", "hukou": None}, ("name", "phone"), "录入错误")
    [event] = decide_correct_person(registered(), command, today=TODAY)
    changes = {c.field: c for c in event.changes}
    assert (changes["education"].old, changes["education"].new) == (None, "大专")
    assert "hukou" not in changes  # unchanged values are not changes
    assert changes["name"].redacted and changes["name"].old is None and changes["name"].new is None
    assert evolve_person(registered(), event).education == "大专"


def test_a_new_id_number_rederives_sex_and_birth_date():
    command = CorrectPerson({}, ("id_number",), "身份证号录入错误", citizen("19880512", "002"))
    [event] = decide_correct_person(registered(), command, today=TODAY)
    after = evolve_person(registered(), event)
    assert (after.sex, after.birth_date, after.version) == ("female", date(1988, 5, 12), 2)
    changes = {c.field: c for c in event.changes}
    assert changes["birth_date"].old == "1990-03-07" and changes["birth_date"].new == "1988-05-12"
    assert changes["id_number"].redacted


def test_a_corrected_id_number_of_a_child_is_refused():
    command = CorrectPerson({}, ("id_number",), "更正", citizen("20150101"))
    with pytest.raises(RuleViolated) as refused:
        decide_correct_person(registered(), command, today=TODAY)
    assert (refused.value.rule, refused.value.field) == ("LedgerHoldsWorkingAgeResidents", "id_number")


def test_a_correction_that_changes_nothing_is_refused():
    with pytest.raises(RuleViolated) as refused:
        decide_correct_person(registered(), CorrectPerson({"hukou": None}, (), "x"), today=TODAY)
    assert refused.value.rule == "CorrectionChangesSomething"


def test_a_move_goes_to_another_village_only():
    [moved] = decide_move_person(registered(), VILLAGES[1], VILLAGES[1].code, TODAY, today=TODAY)
    assert (moved.from_region_code, moved.region_code) == (VILLAGES[0].code, VILLAGES[1].code)
    assert evolve_person(registered(), moved).region_code == VILLAGES[1].code
    for region, rule in [
        (TOWNSHIP, "PersonLivesInVillageOrCommunity"),
        (VILLAGES[0], "MoveChangesResidence"),
        (None, "RegionMustExist"),
    ]:
        with pytest.raises(RuleViolated) as refused:
            decide_move_person(registered(), region, "430527100299", TODAY, today=TODAY)
        assert refused.value.rule == rule


def test_categories_are_a_set_and_an_unchanged_set_records_nothing():
    state = registered(categories=["migrant_worker"])
    [event] = decide_change_categories(state, ["laid_off", "migrant_worker", "laid_off"], TODAY, today=TODAY)
    assert (event.added, event.removed, event.categories) == (["laid_off"], [], ["laid_off", "migrant_worker"])
    assert decide_change_categories(state, ["migrant_worker"], TODAY, today=TODAY) == []


# --- households (户) -------------------------------------------------------------------------------------


def household(*members: tuple[PersonState, str]) -> HouseholdState:
    snapshots = [member_snapshot(p, relation, today=TODAY) for p, relation in members]
    events = decide_create_household("h1", VILLAGES[0], VILLAGES[0].code, snapshots)
    state = fold_household(events)
    assert state is not None
    return state


def test_a_household_has_exactly_one_head():
    a, b = registered("a"), registered("b")
    assert household((a, "head"), (b, "spouse")).head_person_id == "a"
    for members in ([(a, "spouse"), (b, "child")], [(a, "head"), (b, "head")]):
        snapshots = [member_snapshot(p, r, today=TODAY) for p, r in members]
        with pytest.raises(RuleViolated) as refused:
            decide_create_household("h1", VILLAGES[0], VILLAGES[0].code, snapshots)
        assert refused.value.rule == "OneHeadPerHousehold"


def test_a_household_lives_in_a_village():
    snapshot = member_snapshot(registered(), "head", today=TODAY)
    with pytest.raises(RuleViolated) as refused:
        decide_create_household("h1", TOWNSHIP, TOWNSHIP.code, [snapshot])
    assert refused.value.rule == "HouseholdLivesInVillageOrCommunity"


def test_member_snapshot_shows_working_age_and_status():
    grandparent = registered("g", born=date(1950, 1, 1))
    house = household((registered("a"), "head"), (grandparent, "parent"))
    assert [(m.person_id, m.working_age, m.status) for m in house.members] == [
        ("a", True, "not_in_labour_force"),
        ("g", False, "not_in_labour_force"),
    ]


def test_a_status_change_of_a_member_publishes_the_new_snapshot():
    a = registered("a")
    house = household((a, "head"), (registered("b"), "spouse"))
    job = RegisterEmployment(kind="unit", started_on=date(2026, 5, 1), reported_on=TODAY)
    employed = evolve_person(a, decide_register_employment(a, job, today=TODAY)[0])
    [event] = decide_household_employment(house, employed, today=TODAY)
    assert event.person_id == "a" and event.employed_working_age_members == 1
    assert event.working_age_members == 2
    assert decide_household_employment(house, registered("stranger"), today=TODAY) == []


def test_the_head_leaves_last_and_a_new_head_takes_the_relation_head():
    house = household((registered("a"), "head"), (registered("b"), "spouse"))
    with pytest.raises(RuleViolated) as refused:
        decide_remove_member(house, "a", "moved_out")
    assert refused.value.rule == "ChangeHeadBeforeRemovingHead"
    [changed] = decide_change_head(house, "b", "spouse")
    house = evolve_household(house, changed)
    assert house.head_person_id == "b" and {m.person_id: m.relation for m in house.members} == {
        "a": "spouse",
        "b": "head",
    }
    [removed] = decide_remove_member(house, "a", "moved_out")
    assert [m.person_id for m in removed.members] == ["b"] and removed.head_person_id == "b"


def test_a_member_is_listed_once():
    a = registered("a")
    house = household((a, "head"))
    with pytest.raises(RuleViolated) as refused:
        decide_add_member(house, member_snapshot(a, "child", today=TODAY))
    assert refused.value.rule == "MemberListedOnce"
