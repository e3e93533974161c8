"""Registration command handlers: load what the rules need, decide, append, in one transaction."""

from __future__ import annotations

import unicodedata
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date
from typing import Any, cast

from psycopg.types.json import Jsonb
from pydantic import ValidationError

from contracts.envelope import Event
from contracts.identifiers import CitizenIdInfo, parse_citizen_id, parse_credit_code
from contracts.regions import Region
from contracts.registration import (
    EmploymentStatus,
    HouseholdMember,
    PersonRegistered,
    Sex,
    Source,
    StatusSurveyed,
)
from contracts.registry import decode
from services.registration import domain, queries
from services.registration.models import (
    CategoriesUpdate,
    EmployerChange,
    EmployerCreate,
    EmployerDeregistration,
    EmployerPublic,
    EmploymentEnd,
    EventSummary,
    HeadChange,
    HouseholdCreate,
    HouseholdPublic,
    ItemProblem,
    MemberAdd,
    PersonBatchItem,
    PersonBatchResult,
    PersonChange,
    PersonCorrection,
    PersonCreate,
    PersonMove,
    PersonPublic,
    RetirementCreate,
    ServicePointChange,
    ServicePointCreate,
    ServicePointPublic,
    SurveyCreate,
    UnemploymentCreate,
    UnemploymentDeregistration,
    VacancyClosure,
    VacancyCreate,
    VacancyFill,
    VacancyPublic,
)
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, DomainError, Forbidden, NotFound, RuleViolated
from services.runtime.eventstore import Append, EventStore, Metadata, PendingEvent, RecordedEvent
from services.runtime.http import status_for
from services.runtime.pii import PiiVault, mask_id_number
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
            categories=self.event.categories,
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
            categories=tuple(sorted(set(body.categories))),
        )
        [event] = domain.decide_register_person(command, today=today)
        return _Accepted(
            command.person_id, citizen, body, event, request.metadata, self.vault.lookup_hash(citizen.number), index
        )

    async def _insert_persons(self, conn: Connection, people: Sequence[_Accepted]) -> set[bytes]:
        """Insert ledger rows; returns the hashes that were new (an existing ID number inserts nothing).

        Binary parameters (%b): in text format psycopg hex-escapes every bytea and quotes every array
        element in Python, which made this statement's parameters cost more than the rest of the batch.
        Rows go in ID-hash order: two batches in flight at once (GroupCommit) that share ID numbers then
        wait for each other in one order and never deadlock."""
        if not people:
            return set()
        encrypt = self.vault.encrypt
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
                [name_lookup_hash(self.vault, p.body.name) for p in people],
                [",".join(p.event.categories) for p in people],
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
        state = await self.employer(conn, employer_id) if is_uuid(employer_id) else None
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
        state = await self.vacancy(conn, vacancy_id) if is_uuid(vacancy_id) else None
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
        state = await self.service_point(conn, service_point_id) if is_uuid(service_point_id) else None
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


def is_uuid(value: str) -> bool:
    """Whether ``value`` is a UUID: every id in the ledger is one, so anything else is simply not found."""
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


# --- person lifecycle, employment status, surveys and households (reg-a) ----------------------------------


def name_lookup_hash(vault: PiiVault, name: str) -> bytes:
    """Keyed hash of a whole name, normalised (NFKC, no spaces): names are found by exact match only."""
    normal = "".join(unicodedata.normalize("NFKC", name).split())
    return vault.lookup_hash("name:" + normal)


def _changed(events: Sequence[Event]) -> list[EventSummary]:
    return [EventSummary(type=e.event_type, data=e.model_dump(mode="json")) for e in events]


def _check_version(stream: str, current: int, expected: int | None) -> None:
    """Optimistic concurrency: the caller changes what it read, or gets 409 with the current version."""
    if expected is not None and expected != current:
        raise Conflict(
            f"{stream} is at version {current}, not {expected}: read it again and retry",
            field="If-Match",
            current_version=current,
        )


#: A decision over a ledger entry: the events it records (or a RuleViolated).
Decide = Callable[[domain.PersonState], Sequence[domain.PersonEvent]]


class PersonCommands(RegistrationCommands):
    """Changes to ledger entries and households: load the stream, decide, write the read tables, append.

    Every change runs in the caller's transaction: the person's row, the household's snapshot event and
    the person's events commit together or not at all. ``principal`` is None for reactions to other
    services' events, which have no region scope to check.
    """

    def __init__(self, store: EventStore, vault: PiiVault, *, today: Callable[[], date] = date.today) -> None:
        super().__init__(store, vault)
        self.today = today

    # --- loading -----------------------------------------------------------------------------------------

    async def load_person(
        self, conn: Connection, person_id: str, principal: Principal | None = None
    ) -> domain.PersonState:
        """A ledger entry folded from its stream; 404 when there is none, 403 outside the caller's scope."""
        recorded = await self.store.load(conn, person_id) if is_uuid(person_id) else []
        if not recorded or recorded[0].envelope.stream_type != "person":
            raise NotFound(f"no person {person_id}", field="person_id")
        state = domain.fold_person([decode(r.envelope) for r in recorded])
        assert state is not None
        if principal is not None:
            _may_change_persons(principal)
            principal.require_region(state.region_code)
        return state

    async def load_household(
        self, conn: Connection, household_id: str, principal: Principal | None = None
    ) -> domain.HouseholdState:
        """A household folded from its stream; 404 when there is none, 403 outside the caller's scope."""
        recorded = await self.store.load(conn, household_id) if is_uuid(household_id) else []
        if not recorded or recorded[0].envelope.stream_type != "household":
            raise NotFound(f"no household {household_id}", field="household_id")
        events = [cast(domain.HouseholdEvent, decode(r.envelope)) for r in recorded]
        state = domain.fold_household(events)
        assert state is not None
        if principal is not None:
            principal.require_region(state.region_code)
        return state

    # --- the one way a ledger entry changes ----------------------------------------------------------------

    async def change_person(
        self,
        conn: Connection,
        principal: Principal | None,
        person_id: str,
        decide: Decide,
        metadata: Metadata,
        *,
        expected_version: int | None = None,
        pii: dict[str, object] | None = None,
    ) -> PersonChange:
        """Load, check the version, decide, then write the row, the household snapshot and the events."""
        before = await self.load_person(conn, person_id, principal)
        _check_version(f"person {person_id}", before.version, expected_version)
        events = list(decide(before))
        after = before
        for event in events:
            after = domain.evolve_person(after, event)
        if events:
            await self._record_person(conn, before, after, events, metadata, pii or {})
        return PersonChange(
            person_id=person_id,
            version=after.version,
            status=after.status,
            region_code=after.region_code,
            categories=list(after.categories),
            events=_changed(events),
        )

    async def _record_person(
        self,
        conn: Connection,
        before: domain.PersonState,
        after: domain.PersonState,
        events: Sequence[domain.PersonEvent],
        metadata: Metadata,
        pii: dict[str, object],
    ) -> None:
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
        appends = [
            Append(
                "person",
                after.person_id,
                before.version,
                [PendingEvent.of(e, region_code=after.region_code) for e in events],
                metadata,
            )
        ]
        if before.status != after.status:
            household_id = await queries.household_of(conn, after.person_id)
            if household_id is not None:
                household = await self.load_household(conn, household_id)
                changed = domain.decide_household_employment(household, after, today=self.today())
                appends.append(
                    Append(
                        "household",
                        household_id,
                        household.version,
                        [PendingEvent.of(e, region_code=household.region_code) for e in changed],
                        metadata,
                    )
                )
        for event in events:
            if isinstance(event, StatusSurveyed):
                await queries.record_survey(conn, after.person_id, event.quarter, event.status, event.surveyed_on)
        try:
            await self.store.append_batch(conn, [a for a in appends if a.events])
        except Conflict as exc:  # another command appended since we loaded: the caller must read again
            raise Conflict(
                f"person {after.person_id} was changed concurrently: read it again and retry",
                field="If-Match",
            ) from exc

    # --- the ledger entry ----------------------------------------------------------------------------------

    async def correct_person(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        body: PersonCorrection,
        metadata: Metadata,
        expected_version: int | None,
    ) -> PersonChange:
        """Correct recorded values (信息更正). PII is re-encrypted and re-hashed, and published redacted; a
        new ID number re-derives sex and birth date and must not belong to another person (409)."""
        row = await queries.person(conn, person_id) if is_uuid(person_id) else None
        if row is None:
            raise NotFound(f"no person {person_id}", field="person_id")
        sent = body.model_fields_set
        values: dict[str, object] = {name: getattr(body, name) for name in ("hukou", "education") if name in sent}
        pii: dict[str, object] = {}
        changed_pii: list[str] = []
        citizen: CitizenIdInfo | None = None
        if body.id_number is not None:
            try:
                parsed = parse_citizen_id(body.id_number)
            except ValueError as exc:
                raise RuleViolated("CitizenIdValid", str(exc), field="id_number") from exc
            if parsed.number != self.vault.decrypt(row.id_cipher):
                citizen = parsed
                changed_pii.append("id_number")
                pii["id_hash"] = self.vault.lookup_hash(parsed.number)
                pii["id_cipher"] = self.vault.encrypt(parsed.number)
                holder = await queries.person_ids_by_hash(conn, [cast(bytes, pii["id_hash"])])
                if holder:
                    raise Conflict(
                        "a person with this ID number is already registered",
                        field="id_number",
                        person_id=next(iter(holder.values())),
                    )
        if body.name is not None and body.name != self.vault.decrypt(row.name_cipher):
            changed_pii.append("name")
            pii["name_cipher"] = self.vault.encrypt(body.name)
            pii["name_hash"] = name_lookup_hash(self.vault, body.name)
        if "phone" in sent and body.phone != self.vault.decrypt(row.phone_cipher):
            changed_pii.append("phone")
            pii["phone_cipher"] = self.vault.encrypt(body.phone)
        if ("id_number" in sent and body.id_number is None) or ("name" in sent and body.name is None):
            raise RuleViolated("RequiredValueKept", "ID number and name can be corrected, not removed", field="body")
        command = domain.CorrectPerson(values, tuple(changed_pii), body.reason, citizen)
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda state: domain.decide_correct_person(state, command, today=today),
            metadata,
            expected_version=expected_version,
            pii=pii,
        )

    async def move_person(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        body: PersonMove,
        metadata: Metadata,
        expected_version: int | None,
    ) -> PersonChange:
        """The residence moves to another village or community (居住地变更)."""
        region = await self._region(conn, body.region_code)
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_move_person(s, region, body.region_code, body.moved_on or today, today=today),
            metadata,
            expected_version=expected_version,
        )

    async def change_categories(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        body: CategoriesUpdate,
        metadata: Metadata,
        expected_version: int | None,
    ) -> PersonChange:
        """Set the person's categories (人员类别)."""
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_change_categories(s, body.categories, body.effective_on or today, today=today),
            metadata,
            expected_version=expected_version,
        )

    async def record_death(
        self,
        conn: Connection,
        principal: Principal | None,
        person_id: str,
        died_on: date,
        metadata: Metadata,
        expected_version: int | None = None,
        *,
        source: Source = "registration",
    ) -> PersonChange:
        """Record a death (死亡)."""
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_record_death(s, died_on, today=today, source=source),
            metadata,
            expected_version=expected_version,
        )

    # --- employment status (就业失业登记) -------------------------------------------------------------------

    async def register_employment(
        self,
        conn: Connection,
        principal: Principal | None,
        person_id: str,
        command: domain.RegisterEmployment,
        metadata: Metadata,
        expected_version: int | None = None,
    ) -> PersonChange:
        """Employment registration (就业登记); the employer, if named, must be in the ledger."""
        if command.employer_id is not None and not (
            is_uuid(command.employer_id) and await queries.employer_exists(conn, command.employer_id)
        ):
            raise RuleViolated("EmployerMustBeRegistered", f"no employer {command.employer_id}", field="employer_id")
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_register_employment(s, command, today=today),
            metadata,
            expected_version=expected_version,
        )

    async def end_employment(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        body: EmploymentEnd,
        metadata: Metadata,
        expected_version: int | None,
    ) -> PersonChange:
        """End of employment (终止/解除劳动关系)."""
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_end_employment(
                s, body.ended_on, body.reason, body.reported_on or today, today=today
            ),
            metadata,
            expected_version=expected_version,
        )

    async def register_unemployment(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        body: UnemploymentCreate,
        metadata: Metadata,
        expected_version: int | None,
    ) -> PersonChange:
        """Unemployment registration (失业登记)."""
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_register_unemployment(s, body.registered_on or today, today=today),
            metadata,
            expected_version=expected_version,
        )

    async def deregister_unemployment(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        body: UnemploymentDeregistration,
        metadata: Metadata,
        expected_version: int | None,
    ) -> PersonChange:
        """Cancel an unemployment registration (注销失业登记)."""
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_deregister_unemployment(s, body.deregistered_on or today, body.reason, today=today),
            metadata,
            expected_version=expected_version,
        )

    async def retire(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        body: RetirementCreate,
        metadata: Metadata,
        expected_version: int | None,
    ) -> PersonChange:
        """Retirement (退休)."""
        today = self.today()
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_retire(s, body.retired_on or today, today=today),
            metadata,
            expected_version=expected_version,
        )

    async def survey(
        self,
        conn: Connection,
        principal: Principal,
        person_id: str,
        body: SurveyCreate,
        metadata: Metadata,
        expected_version: int | None,
    ) -> PersonChange:
        """The quarterly dynamic survey (动态调查): confirm the status or record the change."""
        today = self.today()
        surveyed_on = body.surveyed_on or today
        job = body.employment
        if (
            job is not None
            and job.employer_id is not None
            and not (is_uuid(job.employer_id) and await queries.employer_exists(conn, job.employer_id))
        ):
            raise RuleViolated(
                "EmployerMustBeRegistered", f"no employer {job.employer_id}", field="employment.employer_id"
            )
        survey = domain.Survey(
            quarter=body.quarter,
            status=body.status,
            surveyed_on=surveyed_on,
            employment=None
            if job is None
            else domain.RegisterEmployment(
                kind=job.kind, started_on=job.started_on, reported_on=surveyed_on, employer_id=job.employer_id
            ),
            ended_on=body.ended_on,
            end_reason=body.end_reason,
        )
        return await self.change_person(
            conn,
            principal,
            person_id,
            lambda s: domain.decide_survey(s, survey, today=today),
            metadata,
            expected_version=expected_version,
        )

    # --- households (户) ---------------------------------------------------------------------------------

    async def _members(
        self, conn: Connection, principal: Principal, relations: Mapping[str, str]
    ) -> list[HouseholdMember]:
        """Snapshots of would-be members, their rows locked until commit (see queries.lock_persons)."""
        bad = [pid for pid in relations if not is_uuid(pid)]
        rows = await queries.lock_persons(conn, [pid for pid in relations if pid not in bad])
        missing = [pid for pid in relations if pid not in rows]
        if missing:
            raise RuleViolated("MemberIsInLedger", f"no person {missing[0]} in the ledger", field="person_id")
        today = self.today()
        members = []
        for person_id, relation in relations.items():
            row = rows[person_id]
            principal.require_region(row.region_code)
            state = domain.PersonState(
                person_id=person_id,
                sex=cast(Sex, row.sex),
                birth_date=row.birth_date,
                region_code=row.region_code,
                status=cast(EmploymentStatus, row.status),
            )
            members.append(domain.member_snapshot(state, relation, today=today))
        return members

    async def _record_household(
        self,
        conn: Connection,
        before_version: int,
        events: Sequence[domain.HouseholdEvent],
        metadata: Metadata,
    ) -> HouseholdPublic:
        after: domain.HouseholdState | None = None
        for event in events:
            after = domain.evolve_household(after, event)
        assert after is not None
        after = replace(after, version=before_version + len(events))
        await queries.save_household(
            conn,
            after.household_id,
            after.region_code,
            after.head_person_id,
            {m.person_id: m.relation for m in after.members},
        )
        await self.store.append(
            conn,
            "household",
            after.household_id,
            before_version,
            [PendingEvent.of(e, region_code=after.region_code) for e in events],
            metadata,
        )
        return household_public(after)

    async def create_household(
        self, conn: Connection, principal: Principal, body: HouseholdCreate, metadata: Metadata
    ) -> HouseholdPublic:
        """Enter a household (户) with its members; a person already in another household is 409."""
        _may_change_persons(principal)
        principal.require_region(body.region_code)
        region = await self._region(conn, body.region_code)
        relations = {m.person_id: m.relation for m in body.members}
        if len(relations) != len(body.members):
            raise RuleViolated("MemberListedOnce", "a person is listed twice", field="members")
        members = await self._members(conn, principal, relations)
        events = domain.decide_create_household(str(uuid.uuid4()), region, body.region_code, members)
        return await self._record_household(conn, 0, events, metadata)

    async def add_member(
        self, conn: Connection, principal: Principal, household_id: str, body: MemberAdd, metadata: Metadata
    ) -> HouseholdPublic:
        """A person joins a household."""
        household = await self.load_household(conn, household_id, principal)
        _check_version(f"household {household_id}", household.version, body.expected_version)
        [member] = await self._members(conn, principal, {body.person_id: body.relation})
        events = domain.decide_add_member(household, member)
        return await self._record_household(conn, household.version, events, metadata)

    async def remove_member(
        self,
        conn: Connection,
        principal: Principal,
        household_id: str,
        person_id: str,
        reason: str,
        metadata: Metadata,
        expected_version: int | None,
    ) -> HouseholdPublic:
        """A person leaves a household."""
        household = await self.load_household(conn, household_id, principal)
        _check_version(f"household {household_id}", household.version, expected_version)
        events = domain.decide_remove_member(household, person_id, reason)
        return await self._record_household(conn, household.version, events, metadata)

    async def change_head(
        self, conn: Connection, principal: Principal, household_id: str, body: HeadChange, metadata: Metadata
    ) -> HouseholdPublic:
        """Another member becomes head of the household (户主)."""
        household = await self.load_household(conn, household_id, principal)
        _check_version(f"household {household_id}", household.version, body.expected_version)
        events = domain.decide_change_head(household, body.person_id, body.former_head_relation)
        return await self._record_household(conn, household.version, events, metadata)


def household_public(state: domain.HouseholdState) -> HouseholdPublic:
    """A household as the API shows it."""
    return HouseholdPublic(
        household_id=state.household_id,
        region_code=state.region_code,
        head_person_id=state.head_person_id,
        members=list(state.members),
        version=state.version,
    )


def _may_change_persons(principal: Principal) -> None:
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only; they change no person")
