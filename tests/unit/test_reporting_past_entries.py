"""Entries recorded later than they happened (a ledger typed in from paper, the demo's history) count from
their own day: ``registered_on``, ``established_on``."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.reporting.entities import effective_day
from services.reporting.sources import CATALOGUE
from services.reporting.sources.registration import PERSON
from tests.factories import envelope


def test_entries_take_effect_on_their_own_day_and_else_on_the_day_they_were_recorded():
    for event_type, field in (
        ("PersonRegistered", "registered_on"),
        ("EmployerRegistered", "registered_on"),
        ("ServicePointEstablished", "established_on"),
    ):
        dated = envelope(event_type, **{field: "2025-03-04"})
        assert effective_day(dated, CATALOGUE.effective_days) == date(2025, 3, 4)
        recorded = envelope(event_type, **{field: None}).model_copy(
            update={"occurred_at": datetime(2026, 5, 6, 3, tzinfo=UTC)}
        )
        assert effective_day(recorded, CATALOGUE.effective_days) == date(2026, 5, 6)


def test_a_person_entered_last_year_is_in_the_ledger_from_that_day():
    event = envelope(
        "PersonRegistered", person_id="p1", sex="male", region_code="430527100201", registered_on="2025-03-04"
    )
    state = PERSON.evolve(None, event, lambda _: False, effective_day(event, CATALOGUE.effective_days))
    assert state.day == date(2025, 3, 4) and state.status == "not_in_labour_force"
