"""Synthetic registration histories across the demo county, built from the contracts.

People enter the ledger, find and lose work, register as unemployed and move between villages; employers
register in townships. Every event is a valid contract event, so any projection can fold them. Used by
the reporting benchmarks and by the rebuild tests.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from contracts.envelope import Event, EventEnvelope
from contracts.reference import demo_county
from contracts.regions import RegionLevel
from contracts.registration import (
    EMPLOYMENT_KINDS,
    INVOLUNTARY_END_REASONS,
    EmployerRegistered,
    EmploymentEnded,
    EmploymentRegistered,
    PersonMoved,
    PersonRegistered,
    UnemploymentRegistered,
)
from services.runtime.eventstore import Append, PendingEvent, new_event_id

VILLAGES: tuple[str, ...] = tuple(r.code for r in demo_county() if r.level is RegionLevel.VILLAGE)
TOWNSHIPS: tuple[str, ...] = tuple(r.code for r in demo_county() if r.level is RegionLevel.TOWNSHIP)
_END_REASONS = ("contract_expired", "dismissed", "resigned", "business_closed")


@dataclass(frozen=True)
class StreamEvent:
    """One event of a synthetic stream, with where and when it happened."""

    stream_type: str
    stream_id: str
    version: int
    event: Event
    region_code: str
    occurred_on: date

    def pending(self) -> PendingEvent:
        """The event ready for ``EventStore.append``."""
        return PendingEvent.of(self.event, region_code=self.region_code, occurred_at=_at(self.occurred_on))

    def envelope(self) -> EventEnvelope:
        """The event as a relay would publish it."""
        at = _at(self.occurred_on)
        return EventEnvelope(
            event_id=new_event_id(),
            type=self.event.event_type,
            schema_version=self.event.schema_version,
            stream_type=self.stream_type,
            stream_id=self.stream_id,
            version=self.version,
            region_code=self.region_code,
            occurred_at=at,
            recorded_at=at,
            actor="bench",
            data=self.event.model_dump(mode="json"),
        )


def _at(day: date) -> datetime:
    return datetime.combine(day, time(9), tzinfo=UTC)


def person_story(rng: random.Random, start: date, days: int) -> list[StreamEvent]:
    """One person's stream: registered, then perhaps employed, laid off, unemployed, moved."""
    person_id = str(uuid.uuid4())
    village = rng.choice(VILLAGES)
    day = start + timedelta(days=rng.randrange(days))
    events: list[tuple[Event, str, date]] = [
        (
            PersonRegistered(
                person_id=person_id,
                sex=rng.choice(("male", "female")),
                birth_date=date(rng.randrange(1965, 2006), rng.randrange(1, 13), rng.randrange(1, 29)),
                hukou=rng.choice(("urban", "rural")),
                region_code=village,
            ),
            village,
            day,
        )
    ]
    status = "not_in_labour_force"

    def later() -> date:
        return day + timedelta(days=rng.randrange(1, 30))

    if rng.random() < 0.5:
        day = later()
        kind = rng.choice(EMPLOYMENT_KINDS)
        events.append(
            (
                EmploymentRegistered(
                    person_id=person_id,
                    previous_status=status,
                    kind=kind,
                    started_on=day,
                    reported_on=day,
                    report_deadline=day + timedelta(days=30),
                    reported_late=False,
                ),
                village,
                day,
            )
        )
        status = "employed"
        if rng.random() < 0.3:
            day = later()
            reason = rng.choice(_END_REASONS)
            events.append(
                (
                    EmploymentEnded(
                        person_id=person_id,
                        kind=kind,
                        ended_on=day,
                        reason=reason,
                        involuntary=reason in INVOLUNTARY_END_REASONS,
                        reported_on=day,
                        report_deadline=day + timedelta(days=15),
                        reported_late=False,
                    ),
                    village,
                    day,
                )
            )
            status = "not_in_labour_force"
    if status == "not_in_labour_force" and rng.random() < 0.4:
        day = later()
        events.append(
            (
                UnemploymentRegistered(
                    person_id=person_id, previous_status=status, registered_on=day, involuntary=rng.random() < 0.5
                ),
                village,
                day,
            )
        )
    if rng.random() < 0.15:
        day = later()
        destination = rng.choice([v for v in rng.sample(VILLAGES, 2) if v != village])
        events.append(
            (
                PersonMoved(person_id=person_id, from_region_code=village, region_code=destination, moved_on=day),
                destination,
                day,
            )
        )
    return [
        StreamEvent("person", person_id, version, event, region, on)
        for version, (event, region, on) in enumerate(events, start=1)
    ]


def employer_story(rng: random.Random, start: date, days: int) -> list[StreamEvent]:
    """One employer's stream: registered in a township."""
    employer_id = str(uuid.uuid4())
    township = rng.choice(TOWNSHIPS)
    event = EmployerRegistered(
        employer_id=employer_id,
        credit_code="91430527MA4L0000XA",
        name=f"绥宁县企业{employer_id[:6]}",
        region_code=township,
        size=rng.choice(("micro", "small", "medium", "large")),
    )
    return [StreamEvent("employer", employer_id, 1, event, township, start + timedelta(days=rng.randrange(days)))]


def synthetic_history(
    rng: random.Random, events: int, *, start: date = date(2026, 1, 1), days: int = 270
) -> Iterator[StreamEvent]:
    """About ``events`` events (whole streams): mostly people, one employer per 50 people."""
    produced = 0
    people = 0
    while produced < events:
        stream = employer_story(rng, start, days) if people % 50 == 49 else person_story(rng, start, days)
        people += 1
        produced += len(stream)
        yield from stream


def appends(history: list[StreamEvent]) -> list[Append]:
    """The history as new streams for ``EventStore.append_batch`` (each stream from version 0)."""
    streams: dict[str, list[StreamEvent]] = {}
    for item in history:
        streams.setdefault(item.stream_id, []).append(item)
    return [
        Append(items[0].stream_type, stream_id, 0, [item.pending() for item in items])
        for stream_id, items in streams.items()
    ]
