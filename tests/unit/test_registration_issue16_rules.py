"""Registration's decisions on the retirement group, the document type and holiday-aware report deadlines
(docs/rules.md, "Identifiers" and "Employment and unemployment"; 民法典 Art 203)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from contracts.identifiers import citizen_id_check_character, parse_citizen_id
from contracts.reference import demo_county
from contracts.regions import RegionLevel
from contracts.retirement import RetirementGroup
from services.registration.domain.employment import (
    RegisterEmployment,
    decide_end_employment,
    decide_register_employment,
    decide_register_unemployment,
)
from services.registration.domain.household import member_snapshot
from services.registration.domain.person import (
    CorrectPerson,
    PersonState,
    RegisterPerson,
    decide_correct_person,
    decide_register_person,
    evolve_person,
)
from services.runtime.errors import RuleViolated
from services.runtime.workdays import WorkdayCalendar

VILLAGE = next(r for r in demo_county() if r.level is RegionLevel.VILLAGE)
WORKER, CADRE = RetirementGroup.WORKER, RetirementGroup.CADRE
#: Born 1975-01-05: a woman worker retired on 2025-02-05 (50 and 1 month), a cadre retires on 2031-05-05.
BORN = date(1975, 1, 5)


def woman(group: RetirementGroup | None, status: str = "not_in_labour_force") -> PersonState:
    return PersonState(
        person_id="w1",
        sex="female",
        birth_date=BORN,
        region_code=VILLAGE.code,
        status=status,  # type: ignore[arg-type]
        retirement_group=group,
        version=1,
    )


def man(born: date = date(1990, 3, 7)) -> PersonState:
    return PersonState(person_id="m1", sex="male", birth_date=born, region_code=VILLAGE.code, version=1)


def id_number(body17: str) -> str:
    return body17 + citizen_id_check_character(body17)


# --- item 1: the women's retirement group decides working age ---------------------------------------------


def test_a_woman_worker_past_her_retirement_date_cannot_register_unemployed():
    with pytest.raises(RuleViolated) as refused:
        decide_register_unemployment(woman(WORKER), date(2026, 5, 20), today=date(2026, 5, 20))
    assert (refused.value.rule, refused.value.field) == ("RegistrationIsForWorkingAge", "registered_on")
    assert "2025-02-05" in str(refused.value)


@pytest.mark.parametrize("group", [CADRE, None])
def test_a_woman_cadre_or_of_unrecorded_group_born_the_same_day_still_can(group):
    [event] = decide_register_unemployment(woman(group), date(2026, 5, 20), today=date(2026, 5, 20))
    assert event.registered_on == date(2026, 5, 20)


def test_a_woman_worker_past_her_retirement_date_cannot_register_employment():
    job = RegisterEmployment(kind="flexible", started_on=date(2026, 5, 1), reported_on=date(2026, 5, 10))
    with pytest.raises(RuleViolated) as refused:
        decide_register_employment(woman(WORKER), job, today=date(2026, 5, 20))
    assert refused.value.rule == "RegistrationIsForWorkingAge"
    assert decide_register_employment(woman(CADRE), job, today=date(2026, 5, 20))[0].started_on == job.started_on


def test_the_household_snapshot_counts_a_retired_woman_worker_out_of_working_age():
    assert member_snapshot(woman(WORKER), "head", today=date(2026, 5, 20)).working_age is False
    assert member_snapshot(woman(CADRE), "head", today=date(2026, 5, 20)).working_age is True


def test_registration_records_the_group_and_the_document_type():
    citizen = parse_citizen_id(id_number("83000019750105002"))
    command = RegisterPerson("w1", citizen, VILLAGE, VILLAGE.code, retirement_group=WORKER)
    [event] = decide_register_person(command, today=date(2026, 5, 20))
    assert (event.id_document_type, event.retirement_group) == ("taiwan_residence_permit", WORKER)
    state = evolve_person(None, event)
    assert (state.id_document_type, state.retirement_group) == ("taiwan_residence_permit", WORKER)
    assert state.working_age_on(date(2026, 5, 20)) is False


def test_a_retirement_group_for_a_man_is_refused():
    citizen = parse_citizen_id(id_number("43052719900307001"))
    with pytest.raises(RuleViolated) as refused:
        decide_register_person(
            RegisterPerson("m1", citizen, VILLAGE, VILLAGE.code, retirement_group=WORKER), today=date(2026, 5, 20)
        )
    assert (refused.value.rule, refused.value.field) == ("RetirementGroupIsForWomen", "retirement_group")


def test_a_correction_sets_the_group_and_the_fold_follows_it():
    [event] = decide_correct_person(
        woman(None), CorrectPerson({"retirement_group": WORKER}, (), "原为工人身份"), today=date(2026, 5, 20)
    )
    assert [(c.field, c.old, c.new, c.redacted) for c in event.changes] == [("retirement_group", None, "worker", False)]
    after = evolve_person(woman(None), event.model_validate_json(event.model_dump_json()))
    assert after.retirement_group is WORKER and after.working_age_on(date(2026, 5, 20)) is False


def test_a_corrected_id_number_of_another_document_records_its_type():
    command = CorrectPerson({}, ("id_number",), "证件更正", parse_citizen_id(id_number("91184019900307001")))
    [event] = decide_correct_person(man(), command, today=date(2026, 5, 20))
    assert ("id_document_type", "resident_id", "foreign_permanent_residence_id") in [
        (c.field, c.old, c.new) for c in event.changes
    ]


# --- item 2: report deadlines on the official calendar (民法典 Art 203) ---------------------------------


def test_a_hire_whose_30th_day_is_national_day_is_due_on_the_next_working_day():
    # Started 2025-09-01: the 30th day is 2025-10-01, National Day; the break runs to 10-08.
    on_time = RegisterEmployment(kind="unit", started_on=date(2025, 9, 1), reported_on=date(2025, 10, 9))
    [event] = decide_register_employment(man(), on_time, today=date(2025, 10, 20))
    assert (event.report_deadline, event.reported_late, event.report_deadline_provisional) == (
        date(2025, 10, 9),
        False,
        False,
    )
    late = RegisterEmployment(kind="unit", started_on=date(2025, 9, 1), reported_on=date(2025, 10, 10))
    assert decide_register_employment(man(), late, today=date(2025, 10, 20))[0].reported_late is True


def test_a_termination_whose_15th_day_is_in_the_spring_festival_break_is_due_after_it():
    job = RegisterEmployment(kind="unit", started_on=date(2026, 1, 5), reported_on=date(2026, 1, 5))
    employed = evolve_person(man(), decide_register_employment(man(), job, today=date(2026, 1, 5))[0])
    # Ended 2026-02-02: the 15th day is 2026-02-17, 春节; the break runs 02-15..02-23.
    [ended] = decide_end_employment(employed, date(2026, 2, 2), "dismissed", date(2026, 2, 24), today=date(2026, 3, 1))
    assert (ended.report_deadline, ended.reported_late) == (date(2026, 2, 24), False)
    [late] = decide_end_employment(employed, date(2026, 2, 2), "dismissed", date(2026, 2, 25), today=date(2026, 3, 1))
    assert late.reported_late is True


def test_a_deadline_in_a_year_without_official_data_is_provisional_and_the_override_file_makes_it_official(
    tmp_path: Path,
):
    job = RegisterEmployment(kind="unit", started_on=date(2027, 2, 15), reported_on=date(2027, 3, 1))
    weekends_only = WorkdayCalendar(set(), set(), official_years={2026})
    [guess] = decide_register_employment(man(), job, today=date(2027, 3, 20), calendar=weekends_only)
    assert (guess.report_deadline, guess.report_deadline_provisional) == (date(2027, 3, 17), True)

    overrides = tmp_path / "workdays.yaml"
    overrides.write_text('2027:\n  holidays: ["2027-03-17..2027-03-18"]\n  workdays: []\n', encoding="utf-8")
    official = WorkdayCalendar.official(overrides)
    [known] = decide_register_employment(man(), job, today=date(2027, 3, 20), calendar=official)
    assert (known.report_deadline, known.report_deadline_provisional) == (date(2027, 3, 19), False)
