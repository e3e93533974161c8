"""Synthetic data: PersonRegistered events, their envelopes and valid ``POST /persons`` bodies."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

from contracts.envelope import EventEnvelope
from contracts.identifiers import citizen_id_check_character
from contracts.reference import SUINING_COUNTY, demo_county
from contracts.regions import RegionLevel
from services.runtime.eventstore import Append, PendingEvent

#: The demo county's villages and communities: where people live.
VILLAGES: tuple[str, ...] = tuple(r.code for r in demo_county() if r.level is RegionLevel.VILLAGE)
COUNTY = SUINING_COUNTY
#: The county's 6-digit code, the address code of every generated citizen ID.
COUNTY_PREFIX = SUINING_COUNTY[:6]

#: Citizen IDs: one birth date per 1,000 indexes (3-digit sequence), from this date on (all adults).
_FIRST_BIRTH_DATE = date(1960, 1, 1)
_LAST_BIRTH_DATE = date(2000, 12, 31)
_SURNAMES = "王李张刘陈杨黄赵吴周"
_GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞"


def person_data(rng: random.Random, person_id: str, region_code: str) -> dict[str, Any]:
    """The data of a PersonRegistered event."""
    return {
        "person_id": person_id,
        "sex": rng.choice(("male", "female")),
        "birth_date": f"{rng.randrange(1960, 2000)}-0{rng.randrange(1, 10)}-1{rng.randrange(0, 10)}",
        "hukou": rng.choice(("urban", "rural")),
        "region_code": region_code,
        "education": None,
        "categories": [],
    }


def pending_person(rng: random.Random) -> tuple[str, PendingEvent]:
    """A new person's stream id and its PersonRegistered event, in a random village."""
    person_id = str(uuid.uuid4())
    region = rng.choice(VILLAGES)
    event = PendingEvent("PersonRegistered", 1, person_data(rng, person_id, region), region, datetime.now(UTC))
    return person_id, event


def person_batch(rng: random.Random, streams: int, per_stream: int) -> list[Append]:
    """``streams`` new streams of ``per_stream`` events each: one ``append_batch`` call."""
    appends = []
    for _ in range(streams):
        stream_id, first = pending_person(rng)
        events = [first] + [
            PendingEvent("PersonRegistered", 1, first.data, first.region_code, first.occurred_at)
            for _ in range(per_stream - 1)
        ]
        appends.append(Append("person", stream_id, 0, events))
    return appends


def person_envelopes(rng: random.Random, count: int) -> Iterator[tuple[bytes, bytes]]:
    """``count`` PersonRegistered envelopes as a topic carries them: (key, JSON value)."""
    now = datetime.now(UTC)
    for _ in range(count):
        person_id = str(uuid.uuid4())
        region = rng.choice(VILLAGES)
        envelope = EventEnvelope(
            event_id=uuid.uuid4(),
            type="PersonRegistered",
            schema_version=1,
            stream_type="person",
            stream_id=person_id,
            version=1,
            region_code=region,
            occurred_at=now,
            recorded_at=now,
            actor="bench",
            data=person_data(rng, person_id, region),
        )
        yield person_id.encode(), envelope.model_dump_json().encode()


def citizen_id(index: int) -> str:
    """The ``index``-th valid resident ID number of the county: distinct for every index."""
    day, sequence = divmod(index, 1000)
    birth = _FIRST_BIRTH_DATE + timedelta(days=day)
    if birth > _LAST_BIRTH_DATE:
        raise ValueError(f"citizen ID index {index} is beyond the generated range")
    body = f"{COUNTY_PREFIX}{birth:%Y%m%d}{sequence:03d}"
    return body + citizen_id_check_character(body)


def person_body(index: int, rng: random.Random) -> dict[str, Any]:
    """A valid ``POST /persons`` body with the ``index``-th citizen ID, in a random village."""
    return {
        "id_number": citizen_id(index),
        "name": rng.choice(_SURNAMES) + rng.choice(_GIVEN) + rng.choice(_GIVEN),
        "region_code": rng.choice(VILLAGES),
        "phone": f"138{index % 100_000_000:08d}",
        "hukou": rng.choice(("urban", "rural")),
    }
