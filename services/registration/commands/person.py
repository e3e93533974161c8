"""Commands on the person aggregate: enter residents into the ledger (劳动力实名登记) and change an entry.

Registration is set-based (``register_persons``: one INSERT and one append for a whole batch, what
GroupCommit and the ledger import feed); every change of an entry runs through :func:`change_person`,
which is ``Aggregate.change`` with the entry's row, its household's snapshot and its survey mark as the
change's effects, in the same transaction.
"""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import cast

from contracts.envelope import Event
from contracts.identifiers import CitizenIdInfo, parse_citizen_id
from contracts.registration import PersonRegistered, Source, StatusSurveyed
from services.registration import queries
from services.registration.commands.context import Ledger, may_change_persons
from services.registration.commands.household import household_snapshot
from services.registration.domain.person import (
    CorrectPerson,
    PersonEvent,
    PersonState,
    RegisterPerson,
    decide_change_categories,
    decide_correct_person,
    decide_move_person,
    decide_record_death,
    decide_register_person,
    decide_retire,
)
from services.registration.models.person import (
    CategoriesUpdate,
    DeathRecord,
    EventSummary,
    PersonChange,
    PersonCorrection,
    PersonCreate,
    PersonMove,
    PersonPublic,
    RetirementCreate,
)
from services.runtime.aggregate import Changed, is_uuid
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, DomainError, NotFound, RuleViolated
from services.runtime.eventstore import Append, Metadata, PendingEvent
from services.runtime.pii import PiiVault, mask_id_number


@dataclass(frozen=True)
class PersonRequest:
    """One request to register a person: who asks, what they sent, and the metadata for the event."""

    principal: Principal
    body: PersonCreate
    metadata: Metadata


@dataclass
class _Accepted:
    """A request the rules accepted, on its way into the ledger."""

    person_id: str
    citizen: CitizenIdInfo
    body: PersonCreate
    event: PersonRegistered
    metadata: Metadata
    id_hash: bytes
    #: Where the request stands in its batch, and whether an earlier request there has the same ID number.
    index: int
    repeated: bool = False

    def public(self) -> PersonPublic:
        return PersonPublic(
            person_id=self.person_id,
            id_number=mask_id_number(self.citizen.number),
            name=self.body.name,
            phone=self.body.phone,
            sex=self.event.sex,
            birth_date=self.event.birth_date,
            hukou=self.event.hukou,
            education=self.event.education,
            region_code=self.event.region_code,
            id_number_converted_from_15=self.citizen.converted_from_15,
            categories=self.event.categories,
        )


async def register_person(ledger: Ledger, conn: Connection, request: PersonRequest) -> PersonPublic:
    """Register a resident; 409 naming the existing person when the ID number is already in the ledger."""
    [result] = await register_persons(ledger, conn, [request])
    if isinstance(result, DomainError):
        raise result
    return result


async def register_persons(
    ledger: Ledger, conn: Connection, requests: Sequence[PersonRequest]
) -> list[PersonPublic | DomainError]:
    """Register many residents set-based, in the caller's transaction; per request, the entry or the
    error refusing it (a refused request writes nothing, the others still commit).

    The hot path of ``POST /persons`` (GroupCommit): new streams of one event each go straight into one
    ``append_batch`` rather than through ``Aggregate.create`` one by one, which would fold each event
    only to learn the region it already names."""
    results: list[PersonPublic | DomainError | None] = [None] * len(requests)
    accepted: list[_Accepted] = []
    hashes_seen: set[bytes] = set()
    today = date.today()
    for index, request in enumerate(requests):
        try:
            person = await _decide(ledger, conn, request, index, today)
        except DomainError as refused:
            results[index] = refused
            continue
        person.repeated = person.id_hash in hashes_seen
        hashes_seen.add(person.id_hash)
        accepted.append(person)
    fresh = [a for a in accepted if not a.repeated]
    inserted = await _insert_persons(ledger.vault, conn, fresh)
    # Who holds each ID number that did not go in: someone earlier in this batch, or already in the ledger.
    holder = await queries.person_ids_by_hash(conn, [a.id_hash for a in fresh if a.id_hash not in inserted])
    holder.update({a.id_hash: a.person_id for a in fresh if a.id_hash in inserted})
    appends = []
    for person in accepted:
        if person.repeated or person.id_hash not in inserted:
            results[person.index] = already_registered(holder.get(person.id_hash))
            continue
        event = PendingEvent.of(person.event, region_code=person.event.region_code)
        appends.append(Append("person", person.person_id, 0, [event], person.metadata))
        results[person.index] = person.public()
    await ledger.store.append_batch(conn, appends)
    answered = [r for r in results if r is not None]
    assert len(answered) == len(requests), "every request is answered"
    return answered


def already_registered(person_id: str | None) -> Conflict:
    """One person per ID number (docs/design.md "Registration"): the 409 names the one already there."""
    return Conflict("a person with this ID number is already registered", field="id_number", person_id=person_id)


def parse_id_number(number: str) -> CitizenIdInfo:
    """A resident ID number checked as GB 11643-1999 says (docs/rules.md "Identifiers"); 422 naming why not."""
    try:
        return parse_citizen_id(number)
    except ValueError as exc:
        raise RuleViolated("CitizenIdValid", str(exc), field="id_number") from exc


async def _decide(ledger: Ledger, conn: Connection, request: PersonRequest, index: int, today: date) -> _Accepted:
    body = request.body
    request.principal.require_region(body.region_code)
    try:  # parse_id_number inlined: this runs once per person of every batch
        citizen = parse_citizen_id(body.id_number)
    except ValueError as exc:
        raise RuleViolated("CitizenIdValid", str(exc), field="id_number") from exc
    command = RegisterPerson(
        person_id=str(uuid.uuid4()),
        citizen=citizen,
        region=await ledger.region(conn, body.region_code),
        region_code=body.region_code,
        hukou=body.hukou,
        education=body.education,
        categories=tuple(sorted(set(body.categories))),
    )
    [event] = decide_register_person(command, today=today)
    vault = ledger.vault
    return _Accepted(
        command.person_id, citizen, body, event, request.metadata, vault.lookup_hash(citizen.number), index
    )


async def _insert_persons(vault: PiiVault, conn: Connection, people: Sequence[_Accepted]) -> set[bytes]:
    """Insert ledger rows; returns the hashes that were new (an existing ID number inserts nothing).

    Binary parameters (%b): in text format psycopg hex-escapes every bytea and quotes every array
    element in Python, which made this statement's parameters cost more than the rest of the batch.
    Rows go in ID-hash order: two batches in flight at once (GroupCommit) that share ID numbers then
    wait for each other in one order and never deadlock."""
    if not people:
        return set()
    encrypt = vault.encrypt
    cursor = await conn.execute(
        "INSERT INTO persons (person_id, id_hash, id_cipher, name_cipher, phone_cipher, sex, birth_date, hukou,"
        " education, region_code, name_hash, categories) SELECT person_id, id_hash, id_cipher, name_cipher,"
        " phone_cipher, sex, birth_date, hukou, education, region_code, name_hash,"
        " string_to_array(categories, ',') FROM unnest(%b::uuid[], %b::bytea[], %b::bytea[], %b::bytea[],"
        " %b::bytea[], %b::text[], %b::date[], %b::text[], %b::text[], %b::text[], %b::bytea[], %b::text[])"
        " AS u(person_id, id_hash, id_cipher, name_cipher, phone_cipher, sex, birth_date, hukou, education,"
        " region_code, name_hash, categories) ORDER BY id_hash"
        " ON CONFLICT (id_hash) DO NOTHING RETURNING id_hash",
        (
            [p.person_id for p in people],
            [p.id_hash for p in people],
            [encrypt(p.citizen.number) for p in people],
            [encrypt(p.body.name) for p in people],
            [encrypt(p.body.phone) for p in people],
            [p.citizen.sex for p in people],
            [p.citizen.birth_date for p in people],
            [p.body.hukou for p in people],
            [p.body.education for p in people],
            [p.body.region_code for p in people],
            [name_lookup_hash(vault, p.body.name) for p in people],
            [",".join(p.event.categories) for p in people],
        ),
    )
    return {bytes(row[0]) for row in await cursor.fetchall()}


def name_lookup_hash(vault: PiiVault, name: str) -> bytes:
    """Keyed hash of a whole name, normalised (NFKC, no spaces): names are found by exact match only."""
    normal = "".join(unicodedata.normalize("NFKC", name).split())
    return vault.lookup_hash("name:" + normal)


# --- the one way a ledger entry changes ---------------------------------------------------------------


@dataclass(frozen=True)
class PersonDecision:
    """A decision over a ledger entry, and the new encrypted PII and hashes a correction writes with it."""

    decide: Callable[[PersonState], Sequence[PersonEvent]]
    pii: dict[str, object] = field(default_factory=dict)


async def change_person(
    ledger: Ledger,
    conn: Connection,
    principal: Principal | None,
    person_id: str,
    decision: PersonDecision,
    metadata: Metadata,
    expected_version: int | None = None,
) -> PersonChange:
    """Load, check scope and version, decide, then write the row, the household snapshot and the events.

    ``principal`` is None for reactions to other services' events, which have no region scope to check.
    """
    if principal is not None:
        may_change_persons(principal)

    async def effects(conn: Connection, changed: Changed[PersonState]) -> list[Append]:
        return await _person_effects(ledger, conn, changed, decision.pii, metadata)

    changed = await ledger.persons.change(
        conn,
        person_id,
        decision.decide,
        metadata,
        expected_version=expected_version,
        principal=principal,
        effects=effects,
    )
    after = changed.after
    return PersonChange(
        person_id=person_id,
        version=after.version,
        status=after.status,
        region_code=after.region_code,
        categories=list(after.categories),
        events=summaries(changed.events),
    )


def summaries(events: Sequence[Event]) -> list[EventSummary]:
    """The events a command appended, as its answer lists them."""
    return [EventSummary(type=e.event_type, data=e.model_dump(mode="json")) for e in events]


async def _person_effects(
    ledger: Ledger, conn: Connection, changed: Changed[PersonState], pii: dict[str, object], metadata: Metadata
) -> list[Append]:
    before, after = cast(PersonState, changed.before), changed.after
    # The row first: its lock orders this change after any household command holding it, so the
    # membership read next is the committed one (see queries.lock_persons).
    await queries.save_person(
        conn,
        after.person_id,
        {
            "sex": after.sex,
            "birth_date": after.birth_date,
            "hukou": after.hukou,
            "education": after.education,
            "region_code": after.region_code,
            "status": after.status,
            "categories": list(after.categories),
            "version": after.version,
            **pii,
        },
    )
    for event in changed.events:
        if isinstance(event, StatusSurveyed):
            await queries.record_survey(conn, after.person_id, event.quarter, event.status, event.surveyed_on)
    if before.status == after.status:
        return []
    return await household_snapshot(ledger, conn, after, metadata)


# --- changes of the entry itself ------------------------------------------------------------------------


async def correct_person(ledger: Ledger, conn: Connection, person_id: str, body: PersonCorrection) -> PersonDecision:
    """Correct recorded values (信息更正); PII is published redacted

    PII is re-encrypted and re-hashed; a new ID number re-derives sex and birth date and must not belong
    to another person (409).
    """
    row = await queries.person(conn, person_id) if is_uuid(person_id) else None
    if row is None:
        raise NotFound(f"no person {person_id}", field="person_id")
    vault, sent = ledger.vault, body.model_fields_set
    values: dict[str, object] = {name: getattr(body, name) for name in ("hukou", "education") if name in sent}
    pii: dict[str, object] = {}
    changed_pii: list[str] = []
    citizen: CitizenIdInfo | None = None
    if body.id_number is not None:
        parsed = parse_id_number(body.id_number)
        if parsed.number != vault.decrypt(row.id_cipher):
            citizen = parsed
            changed_pii.append("id_number")
            id_hash = vault.lookup_hash(parsed.number)
            pii.update(id_hash=id_hash, id_cipher=vault.encrypt(parsed.number))
            holder = await queries.person_ids_by_hash(conn, [id_hash])
            if holder:
                raise already_registered(next(iter(holder.values())))
    if body.name is not None and body.name != vault.decrypt(row.name_cipher):
        changed_pii.append("name")
        pii.update(name_cipher=vault.encrypt(body.name), name_hash=name_lookup_hash(vault, body.name))
    if "phone" in sent and body.phone != vault.decrypt(row.phone_cipher):
        changed_pii.append("phone")
        pii["phone_cipher"] = vault.encrypt(body.phone)
    if ("id_number" in sent and body.id_number is None) or ("name" in sent and body.name is None):
        raise RuleViolated("RequiredValueKept", "ID number and name can be corrected, not removed", field="body")
    command = CorrectPerson(values, tuple(changed_pii), body.reason, citizen)
    today = ledger.today()
    return PersonDecision(lambda state: decide_correct_person(state, command, today=today), pii)


async def move_person(ledger: Ledger, conn: Connection, person_id: str, body: PersonMove) -> PersonDecision:
    """Move the residence to another village or community (居住地变更)"""
    region, today = await ledger.region(conn, body.region_code), ledger.today()
    return PersonDecision(
        lambda s: decide_move_person(s, region, body.region_code, body.moved_on or today, today=today)
    )


async def change_categories(ledger: Ledger, conn: Connection, person_id: str, body: CategoriesUpdate) -> PersonDecision:
    """Set the person's categories (人员类别)"""
    today = ledger.today()
    return PersonDecision(
        lambda s: decide_change_categories(s, body.categories, body.effective_on or today, today=today)
    )


async def retire(ledger: Ledger, conn: Connection, person_id: str, body: RetirementCreate) -> PersonDecision:
    """Retirement (退休): the person leaves the labour force"""
    today = ledger.today()
    return PersonDecision(lambda s: decide_retire(s, body.retired_on or today, today=today))


async def record_death(ledger: Ledger, conn: Connection, person_id: str, body: DeathRecord) -> PersonDecision:
    """Record a death (死亡); the entry is closed"""
    return died(ledger, body.died_on)


def died(ledger: Ledger, died_on: date, source: Source = "registration") -> PersonDecision:
    """The decision that closes an entry with a death, reported here or by another service (``source``)."""
    today = ledger.today()
    return PersonDecision(lambda s: decide_record_death(s, died_on, today=today, source=source))
