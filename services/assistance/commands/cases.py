"""Case commands (援助台账): open, keep current, record services, place in a job."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date

from contracts import assistance as a
from contracts.envelope import Event
from contracts.registration import EmploymentKind
from contracts.registry import decode
from services.assistance import queries
from services.assistance.commands import Streams, ledger_person, require_staff
from services.assistance.domain import cases as domain
from services.assistance.domain.cases import CaseState, case_id_for
from services.assistance.domain.households import decide_member_placed
from services.assistance.domain.persons import PersonView, computed_categories
from services.runtime.aggregate import Changed, is_uuid, require_version
from services.runtime.auth import Principal
from services.runtime.db import Connection
from services.runtime.errors import Conflict, DomainError, NotFound
from services.runtime.eventstore import Append, Metadata

#: Stages of a zero-employment household that make its members' cases note the category.
_ZERO_STAGES = ("detected", "confirmed")

#: A decision over a case's current state.
Decision = Callable[[CaseState], Sequence[Event]]


@dataclass(frozen=True)
class CaseOpening:
    """A reaction's request to open a person's case: the person as assistance knows them, when, and why."""

    person: PersonView
    on: date
    reason: a.CaseOpenReason
    metadata: Metadata


@dataclass(frozen=True)
class CaseChange:
    """One request to change a case: who, which case, the decision, and the version it was based on."""

    principal: Principal
    case_id: str
    decide: Decision
    metadata: Metadata
    expected_version: int | None = None


class CaseCommands:
    """The write side of cases."""

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self.cases = streams.cases

    async def indicated(self, conn: Connection, person: PersonView, on: date) -> list[a.HardToEmployCategory]:
        """The categories the events show for the person (4050, long-term unemployed, zero-employment household)."""
        stage = await queries.zero_employment_stage(conn, person.household_id)
        return computed_categories(person, on, in_zero_employment_household=stage in _ZERO_STAGES)

    async def open_case(
        self,
        conn: Connection,
        principal: Principal | None,
        person: PersonView,
        on: date,
        reason: a.CaseOpenReason,
        metadata: Metadata,
    ) -> Changed[CaseState]:
        """Open the person's case (or reopen it); a reaction finding it open changes nothing."""
        if principal is not None:
            require_staff(principal)
            principal.require_region(person.region_code)
        case_id = case_id_for(person.person_id)
        before = await self.cases.load(conn, case_id)
        events = domain.decide_open_case(
            before, person, on=on, reason=reason, indicated=await self.indicated(conn, person, on)
        )
        if not events and before is not None:
            return Changed(case_id, before, before, [])
        return await self.streams.record(self.cases, conn, case_id, before, events, metadata)

    async def load_many(self, conn: Connection, case_ids: Sequence[str]) -> dict[str, CaseState]:
        """Several cases in one read of the store; ids that name no case are absent."""
        wanted = [c for c in case_ids if is_uuid(c)]
        found: dict[str, CaseState] = {}
        for case_id, recorded in (await self.streams.store.load_many(conn, wanted)).items():
            if recorded[0].envelope.stream_type == self.cases.stream_type:
                state = self.cases.fold([decode(r.envelope) for r in recorded])
                if state is not None:
                    found[case_id] = state
        return found

    async def open_cases(self, conn: Connection, openings: Sequence[CaseOpening]) -> int:
        """Open the cases of many persons, each at most once, set-based: one read of their case streams, one
        of their households' stages, one write of the lists and one append (a batch of reactions to
        unemployment registrations). A case already open stays as it is; returns how many were opened.
        """
        case_ids = [case_id_for(o.person.person_id) for o in openings]
        before = await self.load_many(conn, case_ids)
        stages = await queries.zero_employment_stages(
            conn, sorted({o.person.household_id for o in openings if o.person.household_id})
        )
        appends: list[Append] = []
        recorded: list[Event] = []
        for case_id, o in zip(case_ids, openings, strict=True):
            stage = stages.get(o.person.household_id or "", "none")
            indicated = computed_categories(o.person, o.on, in_zero_employment_household=stage in _ZERO_STAGES)
            state = before.get(case_id)
            events = domain.decide_open_case(state, o.person, on=o.on, reason=o.reason, indicated=indicated)
            if events:
                appends.append(self.cases.appending(case_id, state, events, o.metadata))
                recorded.extend(events)
        # The lists first, the append last: it takes the store's lock (docs/adr/0001-store-ordering.md).
        await queries.record(conn, recorded)
        if appends:
            await self.streams.store.append_batch(conn, appends)
        return len(appends)

    async def open_on_request(
        self, conn: Connection, principal: Principal, person_id: str, on: date, metadata: Metadata
    ) -> Changed[CaseState]:
        """``POST /cases``: a case for anyone in the ledger without work."""
        person = await ledger_person(conn, person_id)
        return await self.open_case(conn, principal, person, on, "requested", metadata)

    async def case_of(self, conn: Connection, person_id: str) -> CaseState | None:
        """The person's case, open or closed."""
        return await self.cases.load(conn, case_id_for(person_id))

    async def change(
        self,
        conn: Connection,
        principal: Principal | None,
        case_id: str,
        decide: Decision,
        metadata: Metadata,
        *,
        expected_version: int | None = None,
    ) -> Changed[CaseState]:
        """Load, check scope and version, decide, append (and the lists)."""
        return await self.streams.change(self.cases, conn, principal, case_id, decide, metadata, expected_version)

    async def change_many(
        self, conn: Connection, changes: Sequence[CaseChange]
    ) -> list[Changed[CaseState] | DomainError]:
        """Many changes of different cases decided one by one and appended in one statement (group commit).

        Per change, what it did or the error refusing it. A second change of a case already changed in the
        batch is answered 409 (its append would need the first one's version): the route decides it again.
        """
        results: list[Changed[CaseState] | DomainError] = []
        appends: list[Append] = []
        recorded: list[Event] = []
        seen: set[str] = set()
        loaded = await self.load_many(conn, [c.case_id for c in changes])
        for change in changes:
            try:
                if change.case_id in seen:
                    raise Conflict(f"case {change.case_id} is being changed by another request", field="If-Match")
                require_staff(change.principal)
                before = loaded.get(change.case_id)
                if before is None:
                    raise NotFound(f"no case {change.case_id}", field="case_id")
                change.principal.require_region(before.region_code)
                require_version("case", change.case_id, before.version, change.expected_version)
                events = list(change.decide(before))
            except DomainError as refused:
                results.append(refused)
                continue
            seen.add(change.case_id)
            appends.append(self.cases.appending(change.case_id, before, events, change.metadata))
            recorded.extend(events)
            results.append(Changed(change.case_id, before, self.cases.fold(events, before) or before, events))
        await queries.record(conn, recorded)
        await self.streams.store.append_batch(conn, [x for x in appends if x.events])
        return results

    # --- services -------------------------------------------------------------------------------------

    async def refer(
        self,
        conn: Connection,
        principal: Principal,
        case_id: str,
        vacancy_id: str,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[CaseState]:
        """Refer to a vacancy of assistance's view of registration's vacancies."""
        vacancy = await queries.vacancy(conn, vacancy_id)
        referral_id = str(uuid.uuid4())
        return await self.change(
            conn,
            principal,
            case_id,
            lambda s: domain.decide_referral(s, vacancy, vacancy_id, referral_id, on),
            metadata,
            expected_version=expected_version,
        )

    async def referral_outcome(
        self,
        conn: Connection,
        principal: Principal,
        case_id: str,
        referral_id: str,
        outcome: a.ReferralOutcome,
        on: date,
        started_on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[CaseState]:
        """Record a referral's outcome; ``hired`` places the person (and clears their household)."""
        require_staff(principal)
        before = await self.cases.get(conn, case_id, principal)
        person = await ledger_person(conn, before.person_id)
        events = domain.decide_referral_outcome(before, person, referral_id, outcome, on, started_on)
        return await self._placing(conn, before, person, events, metadata, expected_version, on)

    async def place(
        self,
        conn: Connection,
        principal: Principal,
        case_id: str,
        *,
        kind: EmploymentKind,
        employer_id: str | None,
        vacancy_id: str | None,
        started_on: date,
        on: date,
        metadata: Metadata,
        expected_version: int | None,
    ) -> Changed[CaseState]:
        """Place the person in a job (安置就业): ``PlacedInJob``, the case closes, the household clears."""
        require_staff(principal)
        before = await self.cases.get(conn, case_id, principal)
        person = await ledger_person(conn, before.person_id)
        events = domain.decide_placement(
            before, person, kind=kind, employer_id=employer_id, vacancy_id=vacancy_id, started_on=started_on, on=on
        )
        return await self._placing(conn, before, person, events, metadata, expected_version, on)

    async def _placing(
        self,
        conn: Connection,
        before: CaseState,
        person: PersonView,
        events: Sequence[Event],
        metadata: Metadata,
        expected_version: int | None,
        on: date,
    ) -> Changed[CaseState]:
        require_version("case", before.case_id, before.version, expected_version)
        also = []
        if any(isinstance(e, a.PlacedInJob) for e in events):
            also = await self.household_clearing(conn, person, on, metadata)
        return await self.streams.record(self.cases, conn, before.case_id, before, events, metadata, also=also)

    async def household_clearing(
        self, conn: Connection, person: PersonView, on: date, metadata: Metadata
    ) -> list[tuple[Append, Sequence[Event]]]:
        """The household's clearing when one of its members is placed (就业促进法 Art 56), as an extra append."""
        if person.household_id is None:
            return []
        households = self.streams.households
        state = await households.load(conn, person.household_id)
        cleared = decide_member_placed(state, person.person_id, on)
        if not cleared:
            return []
        return [(households.appending(person.household_id, state, cleared, metadata), cleared)]

    async def ensure_case(self, conn: Connection, case_id: str) -> CaseState:
        """A case that must exist (404 otherwise), without a scope check."""
        state = await self.cases.load(conn, case_id)
        if state is None:
            raise NotFound(f"no case {case_id}", field="case_id")
        return state
