"""Assistance's reactions to registration's events (docs/design.md, "Cross-service reactions").

- ``PersonRegistered``, ``PersonCorrected``, ``PersonCategoriesChanged`` and the employment events keep
  assistance's view of the person current (never a name or an ID number: events carry none);
- ``UnemploymentRegistered`` opens a case, noting the categories the events show (4050, long-term
  unemployed, zero-employment household);
- ``PersonMoved`` moves an open case; ``EmploymentRegistered`` other than assistance's own placement,
  ``PersonRetired``, ``PersonDied`` and ``UnemploymentDeregistered`` close it, and re-employment in a unit
  or self-employment, a death, ends a certified hard-to-employ status;
- every household event carries a snapshot of its members: detection and clearing of zero-employment
  households (零就业家庭);
- ``VacancyOpened/Filled/Closed`` keep the view of vacancies that referral and matching use.

They run in the consumer runtime's transaction after its inbox kept redeliveries out, so each event
changes assistance once.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from contracts import assistance as a
from contracts import registration as reg
from contracts.envelope import Event, EventEnvelope
from contracts.registry import decode
from contracts.topics import REGISTRATION_EVENTS
from services.assistance import queries
from services.assistance.commands import Streams
from services.assistance.commands.cases import CaseCommands, CaseOpening, Decision
from services.assistance.commands.certification import CertificationCommands
from services.assistance.commands.households import HouseholdCommands
from services.assistance.domain import cases as case_rules
from services.assistance.domain.cases import OpenVacancy, case_id_for
from services.assistance.domain.certification import EndReason
from services.assistance.domain.persons import PersonView
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata

log = logging.getLogger(__name__)

NAME = "assistance.reactions"

#: The topics assistance reacts to.
SOURCE_TOPICS = [REGISTRATION_EVENTS.name]

_HOUSEHOLD_EVENTS = (
    reg.HouseholdCreated,
    reg.HouseholdMemberAdded,
    reg.HouseholdMemberRemoved,
    reg.HouseholdHeadChanged,
    reg.HouseholdEmploymentChanged,
)

#: Kinds of re-employment that end a certified status; a public-welfare post or flexible work is where
#: the status's subsidies apply (就业促进法 Art 55, 灵活就业社保补贴), so it holds there.
_STATUS_ENDING_KINDS = frozenset({"unit", "self_employed"})


def caused_by(envelope: EventEnvelope) -> Metadata:
    """Metadata of a reaction: the causing event, its correlation, and who acted in registration."""
    return Metadata(
        actor=f"registration:{envelope.actor}" if envelope.actor else "registration",
        correlation_id=envelope.correlation_id,
        causation_id=str(envelope.event_id),
    )


class AssistanceReactions:
    """The consumer handler that keeps assistance current with registration's ledger."""

    name = NAME

    def __init__(self, streams: Streams) -> None:
        self.streams = streams
        self.cases = CaseCommands(streams)
        self.certifications = CertificationCommands(streams)
        self.households = HouseholdCommands(streams)

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Apply the events in order, inside the consumer's transaction.

        Registrations and unemployment registrations, the bulk of the topic, are applied set-based in runs
        (:meth:`_apply_run`): a run ends before any other event and before an event of a person it already
        holds (but a registration's unemployment), so each person's events take effect in their order. The
        rest go one by one.
        """
        run: list[tuple[EventEnvelope, Event]] = []
        registered: set[str] = set()
        unemployed: set[str] = set()
        for envelope in events:
            if envelope.type not in _HANDLED:
                continue
            event = decode(envelope)
            person_id = getattr(event, "person_id", "")
            # A run saves its registrations before it opens its cases, so a registration followed by the
            # person's unemployment may share one; anything else about a person already in it may not.
            if isinstance(event, reg.PersonRegistered):
                repeats = person_id in registered or person_id in unemployed
            else:
                repeats = person_id in unemployed
            if run and (not isinstance(event, _BATCHED) or repeats):
                await self._apply_run(conn, run)
                run, registered, unemployed = [], set(), set()
            if isinstance(event, _BATCHED):
                run.append((envelope, event))
                (registered if isinstance(event, reg.PersonRegistered) else unemployed).add(person_id)
            else:
                await self.react(conn, envelope, event)
        if run:
            await self._apply_run(conn, run)

    async def _apply_run(self, conn: Connection, run: Sequence[tuple[EventEnvelope, Event]]) -> None:
        """A run of registrations and unemployment registrations, at most one event per person: the persons
        saved in one statement, the cases opened in one read and one append (``CaseCommands.open_cases``)."""
        registered = [_person_view(e) for _, e in run if isinstance(e, reg.PersonRegistered)]
        await queries.save_persons(conn, registered)
        unemployed = [(envelope, e) for envelope, e in run if isinstance(e, reg.UnemploymentRegistered)]
        if not unemployed:
            return
        known = await queries.persons(conn, [e.person_id for _, e in unemployed])
        openings: list[CaseOpening] = []
        for envelope, event in unemployed:
            found = known.get(event.person_id)
            if found is None:
                log.warning("%s for %s, whom assistance never saw registered", event.event_type, envelope.stream_id)
                continue
            person = replace(found, status="registered_unemployed", unemployed_since=event.registered_on)
            openings.append(CaseOpening(person, event.registered_on, "unemployment_registered", caused_by(envelope)))
        await queries.save_persons(conn, [o.person for o in openings])
        await self.cases.open_cases(conn, openings)

    async def react(self, conn: Connection, envelope: EventEnvelope, event: Event) -> None:
        """What one of registration's events changes here."""
        meta = caused_by(envelope)
        if isinstance(event, reg.PersonRegistered):
            await queries.save_person(conn, _person_view(event))
            return
        if isinstance(event, _HOUSEHOLD_EVENTS):
            # A member's change of employment keeps the member list (the household's events are in order on
            # one partition): only the other household events change who belongs to it.
            if not isinstance(event, reg.HouseholdEmploymentChanged):
                await queries.set_household_members(conn, event.household_id, [m.person_id for m in event.members])
            # A household entered from a paper ledger is dated by its entry, not by the day it was typed in.
            entered = event.entered_on if isinstance(event, reg.HouseholdCreated) else None
            on = entered or envelope.occurred_at.date()
            await self.households.snapshot(conn, event.household_id, event.region_code, event.members, on, meta)
            return
        if isinstance(event, (reg.VacancyOpened, reg.VacancyFilled, reg.VacancyClosed)):
            await self.vacancy(conn, event)
            return
        person = await queries.person(conn, getattr(event, "person_id", ""))
        if person is None:
            log.warning("%s for %s, whom assistance never saw registered", event.event_type, envelope.stream_id)
            return
        await self.person_changed(conn, person, event, meta, envelope.occurred_at.date())

    async def person_changed(
        self, conn: Connection, person: PersonView, event: Event, meta: Metadata, on: date
    ) -> None:
        """Keep the person current, and the case and certification with them (``on``: when it happened)."""
        if isinstance(event, reg.UnemploymentRegistered):
            person = replace(person, status="registered_unemployed", unemployed_since=event.registered_on)
            await queries.save_person(conn, person)
            await self.cases.open_case(conn, None, person, event.registered_on, "unemployment_registered", meta)
        elif isinstance(event, reg.PersonMoved):
            await self._moved(conn, person, event.region_code, event.moved_on, meta)
        elif isinstance(event, reg.PersonCategoriesChanged):
            await queries.save_person(conn, replace(person, categories=tuple(event.categories)))
        elif isinstance(event, reg.PersonCorrected):
            updates = {c.field: c.new for c in event.changes if not c.redacted and c.field in _CORRECTABLE}
            if isinstance(updates.get("birth_date"), str):
                updates["birth_date"] = date.fromisoformat(updates["birth_date"])
            region = updates.pop("region_code", None)
            if updates:
                person = replace(person, **updates)
                await queries.save_person(conn, person)
            if region:
                await self._moved(conn, person, str(region), on, meta)
        elif isinstance(event, reg.EmploymentRegistered):
            await queries.save_person(conn, replace(person, status="employed", unemployed_since=None))
            if event.source != "assistance":
                await self._close(conn, person, event.started_on, "reemployed", meta)
            if event.kind in _STATUS_ENDING_KINDS:
                await self._end_status(conn, person, event.started_on, "reemployed", meta)
        elif isinstance(event, reg.EmploymentEnded):
            await queries.save_person(conn, replace(person, status=event.status_after, unemployed_since=None))
        elif isinstance(event, reg.UnemploymentDeregistered):
            await queries.save_person(conn, replace(person, status=event.status_after, unemployed_since=None))
            await self._close(conn, person, event.deregistered_on, "deregistered", meta)
            if event.reason in ("moved_away", "emigrated"):
                await self._end_status(conn, person, event.deregistered_on, "moved_away", meta)
        elif isinstance(event, reg.PersonRetired):
            await queries.save_person(conn, replace(person, status="retired", unemployed_since=None))
            await self._close(conn, person, event.retired_on, "retired", meta)
            await self._end_status(conn, person, event.retired_on, "revoked", meta)
        elif isinstance(event, reg.PersonDied):
            await queries.save_person(conn, replace(person, status="deceased", unemployed_since=None))
            await self._close(conn, person, event.died_on, "died", meta)
            await self._end_status(conn, person, event.died_on, "died", meta)

    async def _moved(self, conn: Connection, person: PersonView, region_code: str, on: date, meta: Metadata) -> None:
        """The case follows the person; a move out of the county ends a certified status (another county's)."""
        await queries.save_person(conn, replace(person, region_code=region_code))
        await self._case(conn, person, lambda s: case_rules.decide_move_case(s, region_code, on), meta)
        if region_code[:6] != person.region_code[:6]:
            await self._end_status(conn, person, on, "moved_away", meta)

    async def _case(self, conn: Connection, person: PersonView, decide: Decision, meta: Metadata) -> None:
        case_id = case_id_for(person.person_id)
        state = await self.streams.cases.load(conn, case_id)
        if state is None:
            return
        events = list(decide(state))
        if events:
            await self.streams.record(self.streams.cases, conn, case_id, state, events, meta)

    async def _close(
        self, conn: Connection, person: PersonView, on: date, reason: a.CaseCloseReason, meta: Metadata
    ) -> None:
        await self._case(conn, person, lambda s: case_rules.decide_close_case(s, on, reason), meta)

    async def _end_status(
        self, conn: Connection, person: PersonView, on: date, reason: EndReason, meta: Metadata
    ) -> None:
        certification_id = await queries.active_certification(conn, person.person_id)
        if certification_id is not None:
            await self.certifications.end(conn, None, certification_id, reason, on, meta)

    async def vacancy(self, conn: Connection, event: Event) -> None:
        """Keep the view of open vacancies."""
        if isinstance(event, reg.VacancyOpened):
            view = OpenVacancy(
                event.vacancy_id,
                event.employer_id,
                event.region_code,
                event.occupation,
                event.positions,
                True,
                event.wage_min_fen,
                event.wage_max_fen,
                event.requirements,
            )
            await queries.save_vacancy(conn, view, event.opened_on)
        elif isinstance(event, reg.VacancyFilled):
            await queries.update_vacancy(conn, event.vacancy_id, remaining=event.remaining, is_open=event.remaining > 0)
        elif isinstance(event, reg.VacancyClosed):
            await queries.update_vacancy(conn, event.vacancy_id, remaining=0, is_open=False)


def _person_view(event: reg.PersonRegistered) -> PersonView:
    """The person as a registration tells it (never a name or an ID number: the event carries none)."""
    return PersonView(
        event.person_id,
        event.region_code,
        event.sex,
        event.birth_date,
        event.hukou,
        tuple(event.categories),
        event.status,
        None,
    )


#: Events applied set-based in runs (see ``AssistanceReactions.apply``).
_BATCHED = (reg.PersonRegistered, reg.UnemploymentRegistered)

#: Person fields a correction can carry in clear (PII fields come redacted and are not ours anyway).
_CORRECTABLE = frozenset({"sex", "birth_date", "hukou", "region_code"})

_HANDLED = frozenset(
    t.event_type
    for t in (
        reg.PersonRegistered,
        reg.PersonMoved,
        reg.PersonCategoriesChanged,
        reg.PersonCorrected,
        reg.EmploymentRegistered,
        reg.EmploymentEnded,
        reg.UnemploymentRegistered,
        reg.UnemploymentDeregistered,
        reg.PersonRetired,
        reg.PersonDied,
        reg.VacancyOpened,
        reg.VacancyFilled,
        reg.VacancyClosed,
        *_HOUSEHOLD_EVENTS,
    )
)
