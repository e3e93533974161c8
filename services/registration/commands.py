"""Registration command handlers: load what the rules need, decide, append, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from contracts.identifiers import CitizenIdInfo, parse_citizen_id, parse_credit_code
from contracts.regions import Region
from contracts.registration import PersonRegistered
from services.registration import domain, queries
from services.registration.models import EmployerCreate, EmployerPublic, PersonCreate, PersonPublic
from services.registration.pii import PiiVault, mask_id_number
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, DomainError, RuleViolated
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent
from services.runtime.regions import find_region


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
        )


class RegistrationCommands:
    """The registration service's write side."""

    def __init__(self, store: EventStore, vault: PiiVault) -> None:
        self.store = store
        self.vault = vault
        # Divisions are reference data that only grows; caching the ones found saves a round trip per command.
        self._regions: dict[str, Region] = {}

    async def _region(self, conn: Connection, code: str) -> Region | None:
        region = self._regions.get(code)
        if region is None:
            region = await find_region(conn, code)
            if region is not None:
                self._regions[code] = region
        return region

    async def register_person(
        self, conn: Connection, principal: Principal, body: PersonCreate, metadata: Metadata
    ) -> PersonPublic:
        """Register a resident; 409 naming the existing person when the ID number is already in the ledger."""
        [result] = await self.register_persons(conn, [PersonRequest(principal, body, metadata)])
        if isinstance(result, DomainError):
            raise result
        return result

    async def register_persons(
        self, conn: Connection, requests: Sequence[PersonRequest]
    ) -> list[PersonPublic | DomainError]:
        """Register many residents set-based, in the caller's transaction; per request, the entry or the
        error refusing it (a refused request writes nothing, the others still commit)."""
        results: list[PersonPublic | DomainError | None] = [None] * len(requests)
        accepted: list[_Accepted] = []
        hashes_seen: set[bytes] = set()
        today = date.today()
        for index, request in enumerate(requests):
            try:
                person = await self._decide(conn, request, index, today)
            except DomainError as refused:
                results[index] = refused
                continue
            person.repeated = person.id_hash in hashes_seen
            hashes_seen.add(person.id_hash)
            accepted.append(person)
        fresh = [a for a in accepted if not a.repeated]
        inserted = await self._insert_persons(conn, fresh)
        # Who holds each ID number that did not go in: someone earlier in this batch, or already in the ledger.
        holder = await queries.person_ids_by_hash(conn, [a.id_hash for a in fresh if a.id_hash not in inserted])
        holder.update({a.id_hash: a.person_id for a in fresh if a.id_hash in inserted})
        appends = []
        for person in accepted:
            if person.repeated or person.id_hash not in inserted:
                results[person.index] = Conflict(
                    "a person with this ID number is already registered",
                    field="id_number",
                    person_id=holder.get(person.id_hash),
                )
                continue
            event = PendingEvent.of(person.event, region_code=person.event.region_code)
            appends.append(Append("person", person.person_id, 0, [event], person.metadata))
            results[person.index] = person.public()
        await self.store.append_batch(conn, appends)
        answered = [r for r in results if r is not None]
        assert len(answered) == len(requests), "every request is answered"
        return answered

    async def _decide(self, conn: Connection, request: PersonRequest, index: int, today: date) -> _Accepted:
        body = request.body
        request.principal.require_region(body.region_code)
        try:
            citizen = parse_citizen_id(body.id_number)
        except ValueError as exc:
            raise RuleViolated("CitizenIdValid", str(exc), field="id_number") from exc
        command = domain.RegisterPerson(
            person_id=str(uuid.uuid4()),
            citizen=citizen,
            region=await self._region(conn, body.region_code),
            region_code=body.region_code,
            hukou=body.hukou,
            education=body.education,
        )
        [event] = domain.decide_register_person(command, today=today)
        return _Accepted(
            command.person_id, citizen, body, event, request.metadata, self.vault.lookup_hash(citizen.number), index
        )

    async def _insert_persons(self, conn: Connection, people: Sequence[_Accepted]) -> set[bytes]:
        """Insert ledger rows; returns the hashes that were new (an existing ID number inserts nothing)."""
        if not people:
            return set()
        encrypt = self.vault.encrypt
        cursor = await conn.execute(
            "INSERT INTO persons (person_id, id_hash, id_cipher, name_cipher, phone_cipher, sex, birth_date, hukou,"
            " education, region_code) SELECT * FROM unnest(%s::uuid[], %s::bytea[], %s::bytea[], %s::bytea[],"
            " %s::bytea[], %s::text[], %s::date[], %s::text[], %s::text[], %s::text[])"
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
            ),
        )
        return {bytes(row[0]) for row in await cursor.fetchall()}

    async def register_employer(
        self, conn: Connection, principal: Principal, body: EmployerCreate, metadata: Metadata
    ) -> EmployerPublic:
        """Register an employer; legacy credit codes that fail the check are accepted with a warning."""
        principal.require_region(body.region_code)
        credit = parse_credit_code(body.credit_code, allow_legacy=True)
        command = domain.RegisterEmployer(
            employer_id=str(uuid.uuid4()),
            credit=credit,
            name=body.name,
            region=await self._region(conn, body.region_code),
            region_code=body.region_code,
            industry=body.industry,
            size=body.size,
        )
        events = domain.decide_register_employer(command)
        cursor = await conn.execute(
            "INSERT INTO employers (employer_id, credit_code, check_ok, name, region_code, industry, size)"
            " VALUES (%s, %s, %s, %s, %s, %s, %s) ON CONFLICT (credit_code) DO NOTHING RETURNING employer_id",
            (command.employer_id, credit.code, credit.check_ok, body.name, body.region_code, body.industry, body.size),
        )
        if await cursor.fetchone() is None:
            existing = await queries.employer_id_by_credit_code(conn, credit.code)
            raise Conflict(
                "an employer with this credit code is already registered", field="credit_code", employer_id=existing
            )
        await self.store.append(
            conn,
            "employer",
            command.employer_id,
            0,
            [PendingEvent.of(e, region_code=body.region_code) for e in events],
            metadata,
        )
        event = events[0]
        warnings = (
            []
            if credit.check_ok
            else ["credit code fails the GB 32100 check character; accepted as a legacy pilot code"]
        )
        return EmployerPublic(
            employer_id=command.employer_id,
            credit_code=event.credit_code,
            credit_code_check_ok=event.credit_code_check_ok,
            name=event.name,
            region_code=event.region_code,
            industry=event.industry,
            size=event.size,
            warnings=warnings,
        )
