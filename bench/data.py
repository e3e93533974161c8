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
from services.runtime.eventstore import Append, PendingEvent, new_event_id

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
            event_id=new_event_id(),
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


#: The first day of the synthetic year of history the projection benchmarks replay.
HISTORY_START = date(2025, 11, 1)
HISTORY_DAYS = 365
TOWNSHIPS: tuple[str, ...] = tuple(r.code for r in demo_county() if r.level is RegionLevel.TOWNSHIP)
_KINDS = ("unit", "self_employed", "flexible", "public_welfare_post")
_CATEGORIES = ("unemployed", "rural_surplus_labour", "new_entrant", "flexible_employment", "migrant_worker")


def history_envelopes(rng: random.Random, count: int) -> list[EventEnvelope]:
    """``count`` envelopes of a year in the demo county, in log order, as the projection receives them.

    The mix a county's ledger sees: about a third registrations, then moves, employment and its end,
    unemployment registrations and deregistrations, quarterly status surveys, category changes,
    retirements, deaths and corrections of people already registered (each picked at random among the
    living, so a batch touches entities stored by earlier batches), plus employers, vacancies and a few
    service points. Events occur in date order over ``HISTORY_DAYS`` days; one in ten is back-dated by
    up to 30 days, as a late-entered change is.
    """
    persons: list[str] = []
    status: dict[str, str] = {}
    home: dict[str, str] = {}
    employers: list[str] = []
    vacancies: dict[str, int] = {}
    opened: list[str] = []
    points: list[str] = []
    out: list[EventEnvelope] = []
    for index in range(count):
        day = HISTORY_START + timedelta(days=index * HISTORY_DAYS // count)
        if rng.random() < 0.1:
            day -= timedelta(days=rng.randrange(1, 31))
        occurred = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=rng.randrange(24))
        roll = rng.random()
        data: dict[str, Any]
        if roll < 0.33 or len(persons) < 50:
            pid = str(uuid.uuid4())
            region = rng.choice(VILLAGES)
            data = person_data(rng, pid, region)
            data["categories"] = sorted(rng.sample(_CATEGORIES, rng.randrange(3)))
            persons.append(pid)
            status[pid], home[pid] = "not_in_labour_force", region
            out.append(_envelope("PersonRegistered", "person", pid, region, occurred, data))
            continue
        if roll < 0.965:
            pid = rng.choice(persons)
            if status[pid] in ("retired", "deceased"):
                pid = rng.choice(persons)
            data = {"person_id": pid}
            current = status[pid]
            if roll < 0.45:
                kind, new = "PersonMoved", rng.choice(VILLAGES)
                data |= {"from_region_code": home[pid], "region_code": new, "moved_on": day.isoformat()}
                home[pid] = new
            elif roll < 0.57:
                kind = "EmploymentRegistered"
                data |= {"kind": rng.choice(_KINDS), "started_on": day.isoformat(), "previous_status": current}
                status[pid] = "employed"
            elif roll < 0.63 and current == "employed":
                after = rng.choice(("not_in_labour_force", "registered_unemployed"))
                data |= {"ended_on": day.isoformat(), "status_after": after}
                kind, status[pid] = "EmploymentEnded", after
            elif roll < 0.71:
                kind = "UnemploymentRegistered"
                data |= {"registered_on": day.isoformat(), "previous_status": current}
                status[pid] = "registered_unemployed"
            elif roll < 0.75 and current == "registered_unemployed":
                kind, status[pid] = "UnemploymentDeregistered", "not_in_labour_force"
                data |= {"deregistered_on": day.isoformat(), "reason": "other"}
            elif roll < 0.87:
                quarter = f"{day.year}Q{(day.month - 1) // 3 + 1}"
                data |= {"quarter": quarter, "status": current, "changed": False, "surveyed_on": day.isoformat()}
                kind = "StatusSurveyed"
            elif roll < 0.91:
                kind = "PersonCategoriesChanged"
                data |= {"categories": sorted(rng.sample(_CATEGORIES, rng.randrange(3))), "effective_on": str(day)}
            elif roll < 0.93:
                kind, status[pid] = "PersonRetired", "retired"
                data |= {"retired_on": day.isoformat(), "previous_status": current}
            elif roll < 0.94:
                kind, status[pid] = "PersonDied", "deceased"
                data |= {"died_on": day.isoformat(), "previous_status": current}
            else:
                kind = "PersonCorrected"
                data |= {"changes": [{"field": "name", "redacted": True}, {"field": "sex", "new": "male"}]}
            out.append(_envelope(kind, "person", pid, home[pid], occurred, data))
            continue
        if roll < 0.975 or not employers:
            eid = str(uuid.uuid4())
            employers.append(eid)
            region = rng.choice(TOWNSHIPS + VILLAGES)
            data = {"employer_id": eid, "region_code": region, "name": "e", "credit_code": "c"}
            out.append(_envelope("EmployerRegistered", "employer", eid, region, occurred, data))
        elif roll < 0.99 or not vacancies:
            vid = str(uuid.uuid4())
            vacancies[vid] = rng.randrange(1, 9)
            opened.append(vid)
            region = rng.choice(TOWNSHIPS)
            data = {"vacancy_id": vid, "region_code": region, "employer_id": rng.choice(employers)}
            data |= {"positions": vacancies[vid], "opened_on": day.isoformat()}
            out.append(_envelope("VacancyOpened", "vacancy", vid, region, occurred, data))
        elif roll < 0.999:
            vid = rng.choice(opened[-200:])
            vacancies[vid] = max(0, vacancies[vid] - 1)
            data = {"vacancy_id": vid, "filled": 1, "remaining": vacancies[vid], "filled_on": day.isoformat()}
            out.append(_envelope("VacancyFilled", "vacancy", vid, None, occurred, data))
        else:
            established = not points or rng.random() < 0.5
            sid = str(uuid.uuid4()) if established else rng.choice(points)
            points += [sid] if established else []
            region = rng.choice(TOWNSHIPS + VILLAGES)
            compliance = {"staffing_ok": rng.random() < 0.7, "compliant": rng.random() < 0.5}
            data = {"service_point_id": sid, "region_code": region, "level": "village", "compliance": compliance}
            kind = "ServicePointEstablished" if established else "ServicePointUpdated"
            out.append(_envelope(kind, "service_point", sid, region, occurred, data))
    return out


def _envelope(
    kind: str, stream_type: str, stream_id: str, region: str | None, occurred: datetime, data: dict[str, Any]
) -> EventEnvelope:
    return EventEnvelope(
        event_id=new_event_id(),
        type=kind,
        schema_version=1,
        stream_type=stream_type,
        stream_id=stream_id,
        version=1,
        region_code=region,
        occurred_at=occurred,
        recorded_at=occurred,
        actor="bench",
        data=data,
    )
