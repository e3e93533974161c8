"""Registration command handlers: load what the rules need, decide, append, in one transaction."""

from __future__ import annotations

import uuid
from datetime import date

from contracts.identifiers import parse_citizen_id, parse_credit_code
from contracts.regions import Region
from services.registration import domain, queries
from services.registration.models import EmployerCreate, EmployerPublic, PersonCreate, PersonPublic
from services.registration.pii import PiiVault, mask_id_number
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict
from services.runtime.eventstore import EventStore, Metadata, PendingEvent
from services.runtime.regions import find_region


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
        principal.require_region(body.region_code)
        citizen = parse_citizen_id(body.id_number)
        command = domain.RegisterPerson(
            person_id=str(uuid.uuid4()),
            citizen=citizen,
            region=await self._region(conn, body.region_code),
            region_code=body.region_code,
            hukou=body.hukou,
            education=body.education,
        )
        events = domain.decide_register_person(command, today=date.today())
        id_hash = self.vault.lookup_hash(citizen.number)
        cursor = await conn.execute(
            "INSERT INTO persons (person_id, id_hash, id_cipher, name_cipher, phone_cipher, sex, birth_date,"
            " hukou, education, region_code) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s)"
            " ON CONFLICT (id_hash) DO NOTHING RETURNING person_id",
            (
                command.person_id,
                id_hash,
                self.vault.encrypt(citizen.number),
                self.vault.encrypt(body.name),
                self.vault.encrypt(body.phone),
                citizen.sex,
                citizen.birth_date,
                body.hukou,
                body.education,
                body.region_code,
            ),
        )
        if await cursor.fetchone() is None:
            existing = await queries.person_id_by_hash(conn, id_hash)
            raise Conflict("a person with this ID number is already registered", field="id_number", person_id=existing)
        await self.store.append(
            conn,
            "person",
            command.person_id,
            0,
            [PendingEvent.of(e, region_code=body.region_code) for e in events],
            metadata,
        )
        event = events[0]
        return PersonPublic(
            person_id=command.person_id,
            id_number=mask_id_number(citizen.number),
            name=body.name,
            phone=body.phone,
            sex=event.sex,
            birth_date=event.birth_date,
            hukou=event.hukou,
            education=event.education,
            region_code=event.region_code,
            id_number_converted_from_15=citizen.converted_from_15,
        )

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
