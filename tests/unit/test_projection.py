"""The projection's pure parts: how events change what reporting remembers, and when they take effect."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.reporting.entities import dump_state, effective_day, place_moves
from services.reporting.sources import CATALOGUE
from services.reporting.sources.registration import PERSON, SERVICE_POINT, PersonState, ServicePointState
from tests.factories import envelope

URBAN = {"430527100001"}


def evolve(state, type_, **data):
    event = envelope(type_, **data)
    return PERSON.evolve(state, event, URBAN.__contains__, effective_day(event, CATALOGUE.effective_days))


def registered(**data):
    defaults = {"person_id": "p1", "sex": "female", "region_code": "430527100201", "categories": ["migrant_worker"]}
    return evolve(None, "PersonRegistered", **{**defaults, **data})


def test_effective_day_is_the_events_own_date_else_the_day_in_china():
    assert effective_day(envelope("PersonMoved", moved_on="2026-04-02"), CATALOGUE.effective_days) == date(2026, 4, 2)
    late = envelope("PersonRegistered").model_copy(update={"occurred_at": datetime(2026, 3, 31, 20, tzinfo=UTC)})
    assert effective_day(late, CATALOGUE.effective_days) == date(2026, 4, 1)


def test_a_registered_person_is_in_the_labour_force_of_their_village():
    person = registered()
    assert person.status == "not_in_labour_force" and not person.urban
    assert dict(CATALOGUE.contributions("person", person)) == {
        "labour_force": 1,
        "labour_force_female": 1,
        "labour_force_cat_migrant_worker": 1,
    }


def test_employment_then_its_end_moves_status_and_kind():
    employed = evolve(registered(), "EmploymentRegistered", kind="flexible", started_on="2026-02-01")
    assert (employed.status, employed.kind) == ("employed", "flexible")
    assert {"employed", "employed_flexible"} <= dict(CATALOGUE.contributions("person", employed)).keys()
    ended = evolve(employed, "EmploymentEnded", ended_on="2026-03-01", status_after="registered_unemployed")
    assert (ended.status, ended.kind) == ("registered_unemployed", None)


def test_moving_to_an_urban_community_makes_the_person_urban():
    moved = evolve(registered(), "PersonMoved", region_code="430527100001", moved_on="2026-04-02")
    assert moved.region_code == "430527100001" and moved.urban


def test_a_correction_applies_the_fields_reporting_keeps_and_skips_redacted_ones():
    changes = [
        {"field": "sex", "old": "female", "new": "male"},
        {"field": "name", "redacted": True},
        {"field": "region_code", "old": "430527100201", "new": "430527100001"},
    ]
    corrected = evolve(registered(), "PersonCorrected", changes=changes, reason="typo")
    assert (corrected.sex, corrected.region_code, corrected.urban) == ("male", "430527100001", True)


def test_the_dead_count_nowhere():
    dead = evolve(registered(), "PersonDied", previous_status="not_in_labour_force", died_on="2026-05-01")
    assert dead.status == "deceased" and CATALOGUE.contributions("person", dead) == []


def test_events_about_an_unknown_person_change_no_stock():
    assert evolve(None, "PersonMoved", region_code="430527100201", moved_on="2026-04-02") is None


def test_states_survive_their_stored_form():
    person = registered()
    assert PERSON.load(dump_state(person)) == person
    assert isinstance(PERSON.load(dump_state(person)), PersonState)


def test_a_point_moving_leaves_one_place_and_reaches_another():
    old = ServicePointState("430527100201", date(2026, 1, 1), "village", True, True)
    assert place_moves(None, old) == [("430527100201", 1)]
    assert place_moves(old, old) == []
    new = ServicePointState("430527100202", date(2026, 1, 1), "village", True, True)
    assert place_moves(old, new) == [("430527100201", -1), ("430527100202", 1)]
    assert SERVICE_POINT.name == "service_point"


def test_states_are_stored_as_arrays_and_the_older_object_form_still_loads():
    person = registered()
    stored = dump_state(person)
    assert stored[:2] == ["430527100201", person.day.isoformat()] and stored[5] == ["migrant_worker"]
    older = dict(zip(PersonState._fields, stored, strict=True))  # as states were stored before arrays
    assert PERSON.load(older) == person


def test_figures_of_a_city_without_counties_roll_up_from_its_streets_to_the_city_and_province():
    from services.reporting.history import roll_up

    day = date(2026, 5, 1)
    rolled = roll_up({("441900003001", day): [1, 0], ("441900121000", day): [0, 2], ("430527100201", day): [5, 0]})
    assert rolled[("441900003000", day)] == [1, 0]  # 东城街道, from its community 岗贝社区
    assert rolled[("441900000000", day)] == [1, 2]  # 东莞市: its streets and towns, no county in between
    assert rolled[("440000000000", day)] == [1, 2]
    assert rolled[("430000000000", day)] == [5, 0]
    assert not any(code.startswith("441900") and code[6:9] == "000" and code != "441900000000" for code, _ in rolled)


def test_women_of_the_worker_retirement_group_are_counted_from_registration_and_correction():
    from services.reporting.sources.registration import METRICS

    [metric] = [m for m in METRICS if m.name == "labour_force_female_worker_group"]
    worker = registered(retirement_group="worker")
    assert worker.retirement_group == "worker" and metric.counts(worker) == 1
    assert metric.counts(registered()) == 0  # not recorded: the 55 schedule
    assert metric.counts(registered(sex="male")) == 0
    corrected = evolve(
        registered(),
        "PersonCorrected",
        person_id="p1",
        changes=[{"field": "retirement_group", "old": None, "new": "worker"}],
        reason="原为工人身份",
    )
    assert metric.counts(corrected) == 1
    assert metric.counts(evolve(corrected, "PersonRetired", person_id="p1", retired_on="2026-05-01")) == 0
    assert PERSON.load(dump_state(corrected)) == corrected
    assert PERSON.load(dump_state(corrected)[:-1]).retirement_group is None  # a state stored before the field
