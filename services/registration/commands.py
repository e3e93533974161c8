"""Registration command handlers: load what the rules need, decide, append, in one transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from psycopg.types.json import Jsonb
from pydantic import ValidationError

from contracts.envelope import Event
from contracts.identifiers import CitizenIdInfo, parse_citizen_id, parse_credit_code
from contracts.regions import Region
from contracts.registration import PersonRegistered
from contracts.registry import decode
from services.registration import domain, queries
from services.registration.models import (
    EmployerChange,
    EmployerCreate,
    EmployerDeregistration,
    EmployerPublic,
    ItemProblem,
    PersonBatchItem,
    PersonBatchResult,
    PersonCreate,
    PersonPublic,
    ServicePointChange,
    ServicePointCreate,
    ServicePointPublic,
    VacancyClosure,
    VacancyCreate,
    VacancyFill,
    VacancyPublic,
)
from services.registration.pii import PiiVault, mask_id_number
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, DomainError, NotFound, RuleViolated
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent, RecordedEvent
from services.runtime.http import status_for
from services.runtime.regions import find_region

#: Said in the response to a legacy credit code that fails the check character (GB 32100), accepted anyway.
LEGACY_CREDIT_CODE_WARNING = "credit code fails the GB 32100 check character; accepted as a legacy pilot code"


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
        warnings = [] if credit.check_ok else [LEGACY_CREDIT_CODE_WARNING]
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

    # --- employers: change and deregistration; vacancies; service points; batches (reg-b) ---------------

    async def employer(self, conn: Connection, employer_id: str) -> domain.EmployerState | None:
        """An employer folded from its stream (None if there is no such employer)."""
        state: domain.EmployerState | None = None
        for record in await self._stream(conn, employer_id):
            state = domain.evolve_employer(state, decode(record.envelope))
        return state

    async def change_employer(
        self,
        conn: Connection,
        principal: Principal,
        employer_id: str,
        body: EmployerChange,
        expected_version: int | None,
        metadata: Metadata,
    ) -> EmployerPublic:
        """Change an employer's details (变更登记); 409 when it changed since ``expected_version``."""
        state = await self._employer_in_scope(conn, principal, employer_id)
        _require_version("employer", employer_id, state.version, expected_version)
        region_code = body.region_code if "region_code" in body.model_fields_set else None
        if region_code is not None and region_code != state.region_code:
            principal.require_region(region_code)
        command = domain.ChangeEmployer(
            sent=frozenset(body.model_fields_set),
            name=body.name,
            industry=body.industry,
            size=body.size,
            region=await self._region(conn, region_code) if region_code else None,
            region_code=region_code,
        )
        return await self._record_employer(conn, state, domain.decide_change_employer(command, state), metadata)

    async def deregister_employer(
        self, conn: Connection, principal: Principal, employer_id: str, body: EmployerDeregistration, metadata: Metadata
    ) -> EmployerPublic:
        """Take an employer out of the ledger (注销) once its vacancies are closed."""
        state = await self._employer_in_scope(conn, principal, employer_id)
        command = domain.DeregisterEmployer(
            deregistered_on=body.deregistered_on,
            reason=body.reason,
            open_vacancies=await queries.open_vacancy_count(conn, employer_id),
        )
        events = domain.decide_deregister_employer(command, state, today=date.today())
        return await self._record_employer(conn, state, events, metadata)

    async def _employer_in_scope(
        self, conn: Connection, principal: Principal, employer_id: str
    ) -> domain.EmployerState:
        state = await self.employer(conn, employer_id) if _is_uuid(employer_id) else None
        if state is None:
            raise NotFound(f"no employer {employer_id}", field="employer_id")
        principal.require_region(state.region_code)
        return state

    async def _record_employer(
        self, conn: Connection, state: domain.EmployerState, events: Sequence[Event], metadata: Metadata
    ) -> EmployerPublic:
        new = state
        for event in events:
            new = domain.evolve_employer(new, event) or new
        if events:
            await self.store.append(
                conn,
                "employer",
                state.employer_id,
                state.version,
                [PendingEvent.of(e, region_code=new.region_code) for e in events],
                metadata,
            )
            await conn.execute(
                "UPDATE employers SET name = %s, industry = %s, size = %s, region_code = %s, version = %s,"
                " deregistered_on = %s WHERE employer_id = %s",
                (new.name, new.industry, new.size, new.region_code, new.version, new.deregistered_on, new.employer_id),
            )
        return employer_public(new)

    async def vacancy(self, conn: Connection, vacancy_id: str) -> domain.VacancyState | None:
        """A vacancy folded from its stream (None if there is no such vacancy)."""
        state: domain.VacancyState | None = None
        for record in await self._stream(conn, vacancy_id):
            state = domain.evolve_vacancy(state, decode(record.envelope))
        return state

    async def open_vacancy(
        self, conn: Connection, principal: Principal, body: VacancyCreate, metadata: Metadata
    ) -> VacancyPublic:
        """Open a vacancy (岗位) of a registered employer in the caller's region."""
        employer_id = str(body.employer_id)
        employer = await self.employer(conn, employer_id)
        if employer is not None:
            principal.require_region(employer.region_code)
        today = date.today()
        command = domain.OpenVacancy(
            vacancy_id=str(uuid.uuid4()),
            employer=employer,
            employer_id=employer_id,
            occupation=body.occupation,
            positions=body.positions,
            wage_min_fen=body.wage_min_fen,
            wage_max_fen=body.wage_max_fen,
            requirements=body.requirements,
            opened_on=body.opened_on or today,
        )
        return await self._record_vacancy(conn, None, domain.decide_open_vacancy(command, today=today), metadata)

    async def fill_vacancy(
        self, conn: Connection, principal: Principal, vacancy_id: str, body: VacancyFill, metadata: Metadata
    ) -> VacancyPublic:
        """Fill some or all of the remaining positions."""
        state = await self._vacancy_in_scope(conn, principal, vacancy_id)
        person_id = str(body.person_id) if body.person_id else None
        today = date.today()
        command = domain.FillVacancy(
            count=body.count,
            filled_on=body.filled_on or today,
            person_id=person_id,
            person_in_ledger=person_id is None or await queries.person_exists(conn, person_id),
        )
        events = domain.decide_fill_vacancy(command, state, today=today)
        return await self._record_vacancy(conn, state, events, metadata)

    async def close_vacancy(
        self, conn: Connection, principal: Principal, vacancy_id: str, body: VacancyClosure, metadata: Metadata
    ) -> VacancyPublic:
        """Close a vacancy, withdrawing the positions not filled."""
        state = await self._vacancy_in_scope(conn, principal, vacancy_id)
        today = date.today()
        command = domain.CloseVacancy(closed_on=body.closed_on or today, reason=body.reason)
        return await self._record_vacancy(
            conn, state, domain.decide_close_vacancy(command, state, today=today), metadata
        )

    async def _vacancy_in_scope(self, conn: Connection, principal: Principal, vacancy_id: str) -> domain.VacancyState:
        state = await self.vacancy(conn, vacancy_id) if _is_uuid(vacancy_id) else None
        if state is None:
            raise NotFound(f"no vacancy {vacancy_id}", field="vacancy_id")
        principal.require_region(state.region_code)
        return state

    async def _record_vacancy(
        self, conn: Connection, state: domain.VacancyState | None, events: Sequence[Event], metadata: Metadata
    ) -> VacancyPublic:
        new = state
        for event in events:
            new = domain.evolve_vacancy(new, event)
        assert new is not None, "a vacancy's first event opens it"
        await self.store.append(
            conn,
            "vacancy",
            new.vacancy_id,
            state.version if state else 0,
            [PendingEvent.of(e, region_code=new.region_code) for e in events],
            metadata,
        )
        public = vacancy_public(new)
        row = public.model_dump()
        await conn.execute(
            f"INSERT INTO vacancies ({', '.join(queries.VACANCY_FIELDS)})"
            f" VALUES ({', '.join(['%s'] * len(queries.VACANCY_FIELDS))})"
            " ON CONFLICT (vacancy_id) DO UPDATE SET filled = excluded.filled, withdrawn = excluded.withdrawn,"
            " closed_on = excluded.closed_on, status = excluded.status, version = excluded.version",
            [row[name] for name in queries.VACANCY_FIELDS],
        )
        return public

    async def service_point(self, conn: Connection, service_point_id: str) -> domain.ServicePointState | None:
        """A service point folded from its stream (None if there is no such point)."""
        state: domain.ServicePointState | None = None
        for record in await self._stream(conn, service_point_id):
            state = domain.evolve_service_point(state, decode(record.envelope))
        return state

    async def establish_service_point(
        self, conn: Connection, principal: Principal, body: ServicePointCreate, metadata: Metadata
    ) -> ServicePointPublic:
        """Record a service point (平台) with its compliance; one per region."""
        principal.require_region(body.region_code)
        command = domain.EstablishServicePoint(
            service_point_id=str(uuid.uuid4()),
            level=body.level,
            region=await self._region(conn, body.region_code),
            region_code=body.region_code,
            details=domain.ServicePointDetails(
                name=body.name,
                staff=body.staff,
                floor_area_m2=body.floor_area_m2,
                has_archive_room=body.has_archive_room,
                population_served=body.population_served,
                equipment=tuple(body.equipment),
            ),
        )
        [event] = domain.decide_establish_service_point(command)
        cursor = await conn.execute(
            "INSERT INTO service_points (service_point_id, level, region_code, name, staff, floor_area_m2,"
            " has_archive_room, equipment, population_served, compliance, compliant, version)"
            " VALUES (%s, %s, %s, '', 0, 0, false, '[]', 0, '{}', false, 0)"
            " ON CONFLICT (region_code) DO NOTHING RETURNING 1",
            (event.service_point_id, event.level, event.region_code),
        )
        if await cursor.fetchone() is None:
            raise Conflict(
                f"region {event.region_code} already has a service point",
                field="region_code",
                service_point_id=await queries.service_point_id_in(conn, event.region_code),
            )
        return await self._record_service_point(conn, None, [event], metadata)

    async def update_service_point(
        self,
        conn: Connection,
        principal: Principal,
        service_point_id: str,
        body: ServicePointChange,
        expected_version: int | None,
        metadata: Metadata,
    ) -> ServicePointPublic:
        """New staff, premises or reach; compliance is assessed again and published."""
        state = await self.service_point(conn, service_point_id) if _is_uuid(service_point_id) else None
        if state is None:
            raise NotFound(f"no service point {service_point_id}", field="service_point_id")
        principal.require_region(state.event.region_code)
        _require_version("service point", service_point_id, state.version, expected_version)
        current = state.event
        sent = body.model_dump(exclude_unset=True, exclude_none=True)
        details = domain.ServicePointDetails(
            name=sent.get("name", current.name),
            staff=sent.get("staff", current.staff),
            floor_area_m2=sent.get("floor_area_m2", current.floor_area_m2),
            has_archive_room=sent.get("has_archive_room", current.has_archive_room),
            population_served=sent.get("population_served", current.population_served),
            equipment=tuple(sent.get("equipment", current.equipment)),
        )
        return await self._record_service_point(
            conn, state, domain.decide_update_service_point(details, state), metadata
        )

    async def _record_service_point(
        self,
        conn: Connection,
        state: domain.ServicePointState | None,
        events: Sequence[Event],
        metadata: Metadata,
    ) -> ServicePointPublic:
        new = state
        for event in events:
            new = domain.evolve_service_point(new, event)
        assert new is not None, "a service point's first event establishes it"
        if events:
            await self.store.append(
                conn,
                "service_point",
                new.event.service_point_id,
                state.version if state else 0,
                [PendingEvent.of(e, region_code=new.event.region_code) for e in events],
                metadata,
            )
            fact = new.event
            await conn.execute(
                "UPDATE service_points SET name = %s, staff = %s, floor_area_m2 = %s, has_archive_room = %s,"
                " equipment = %s, population_served = %s, compliance = %s, compliant = %s, version = %s"
                " WHERE service_point_id = %s",
                (
                    fact.name,
                    fact.staff,
                    fact.floor_area_m2,
                    fact.has_archive_room,
                    Jsonb(fact.equipment),
                    fact.population_served,
                    Jsonb(fact.compliance.model_dump(mode="json")),
                    fact.compliance.compliant,
                    new.version,
                    fact.service_point_id,
                ),
            )
        return service_point_public(new)

    async def register_person_batch(
        self, conn: Connection, principal: Principal, items: Sequence[dict[str, Any]], metadata: Metadata
    ) -> PersonBatchResult:
        """Validate every item on its own and register the good ones set-based, in the caller's transaction."""
        results: list[PersonBatchItem | None] = [None] * len(items)
        requests: list[PersonRequest] = []
        positions: list[int] = []
        for index, item in enumerate(items):
            try:
                body = PersonCreate.model_validate(item)
            except ValidationError as invalid:
                results[index] = PersonBatchItem(index=index, status=422, problem=validation_problem(invalid))
                continue
            requests.append(PersonRequest(principal, body, metadata))
            positions.append(index)
        for index, outcome in zip(positions, await self.register_persons(conn, requests), strict=True):
            if isinstance(outcome, DomainError):
                results[index] = PersonBatchItem(index=index, status=status_for(outcome), problem=item_problem(outcome))
            else:
                results[index] = PersonBatchItem(index=index, status=201, person=outcome)
        answered = [r for r in results if r is not None]
        return PersonBatchResult(
            created=sum(1 for r in answered if r.status == 201),
            already_registered=sum(1 for r in answered if r.status == 409),
            rejected=sum(1 for r in answered if r.status not in (201, 409)),
            results=answered,
        )

    async def _stream(self, conn: Connection, stream_id: str) -> list[RecordedEvent]:
        return await self.store.load(conn, stream_id)


def _require_version(kind: str, stream_id: str, version: int, expected: int | None) -> None:
    """Optimistic concurrency from If-Match: the change must be based on the current version."""
    if expected is not None and expected != version:
        raise Conflict(
            f"{kind} {stream_id} is at version {version}, not {expected}: reload it and apply your change again",
            current_version=version,
        )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


def employer_public(state: domain.EmployerState) -> EmployerPublic:
    """An employer as clients see it."""
    return EmployerPublic(
        employer_id=state.employer_id,
        credit_code=state.credit_code,
        credit_code_check_ok=state.credit_code_check_ok,
        name=state.name,
        region_code=state.region_code,
        industry=state.industry,
        size=state.size,
        warnings=[] if state.credit_code_check_ok else [LEGACY_CREDIT_CODE_WARNING],
        version=state.version,
        deregistered_on=state.deregistered_on,
    )


def vacancy_public(state: domain.VacancyState) -> VacancyPublic:
    """A vacancy as clients see it."""
    return VacancyPublic(
        vacancy_id=state.vacancy_id,
        employer_id=state.employer_id,
        region_code=state.region_code,
        occupation=state.occupation,
        positions=state.positions,
        filled=state.filled,
        withdrawn=state.withdrawn,
        remaining=state.remaining,
        wage_min_fen=state.wage_min_fen,
        wage_max_fen=state.wage_max_fen,
        requirements=state.requirements,
        opened_on=state.opened_on,
        closed_on=state.closed_on,
        status=state.status,
        version=state.version,
    )


def service_point_public(state: domain.ServicePointState) -> ServicePointPublic:
    """A service point as clients see it."""
    fields = state.event.model_dump(include=set(ServicePointPublic.model_fields) - {"version"})
    return ServicePointPublic(**fields, version=state.version)


def validation_problem(invalid: ValidationError) -> ItemProblem:
    """A pydantic validation error as a 422 problem naming each field."""
    errors = [
        {
            "field": ".".join(str(part) for part in error["loc"]) or "item",
            "reason": str(error["msg"]).removeprefix("Value error, "),
        }
        for error in invalid.errors()
    ]
    first = errors[0] if errors else {"field": "item", "reason": "invalid"}
    return ItemProblem(
        status=422,
        detail="; ".join(f"{e['field']}: {e['reason']}" for e in errors),
        field=first["field"],
        errors=errors,
    )


def item_problem(error: DomainError) -> ItemProblem:
    """A domain error as the problem document the single-item endpoint would have answered."""
    person_id = error.extra.get("person_id")
    return ItemProblem(
        status=status_for(error),
        detail=error.detail,
        field=error.field,
        rule=getattr(error, "rule", None),
        person_id=str(person_id) if person_id else None,
    )
