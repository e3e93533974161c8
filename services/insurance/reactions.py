"""Insurance's reactions to other services' events (docs/design.md, "Cross-service reactions").

From ``registration.events``: who lives where and their employment status (the facts a benefit claim is
checked against), the employers; ``EmploymentRegistered`` of kind unit opens the 30-day enrolment expectation
(社会保险法 Art 58) and stops an unemployment benefit (re-employment, 失业保险条例 Art 15(1)); retirement,
enlistment, emigration and prison stop it too; ``PersonDied`` reported there stops the pension.
From ``assistance.events``: ``PlacedInJob`` opens the expectation; the hard-to-employ certification grants and
ends the flexible-employment insurance subsidy.

They run in the consumer runtime's transaction, after its inbox has kept out redeliveries, so each event
changes insurance once; an event the rules refuse raises and is parked on the dead-letter topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from typing import Any

from contracts import assistance as asst
from contracts import registration as reg
from contracts.envelope import Event, EventEnvelope
from contracts.insurance import BenefitStopReason
from contracts.registry import decode
from contracts.topics import ASSISTANCE_EVENTS, REGISTRATION_EVENTS
from services.insurance import queries
from services.insurance.commands.batch import InsuredBatch
from services.insurance.commands.insured import InsuredCommands
from services.insurance.domain import benefit, enrolment, retirement
from services.insurance.domain.insured import InsuredState
from services.runtime.aggregate import is_uuid
from services.runtime.db import Connection
from services.runtime.eventstore import Metadata

NAME = "insurance.reactions"

#: The topics insurance reacts to.
SOURCE_TOPICS = [REGISTRATION_EVENTS.name, ASSISTANCE_EVENTS.name]

#: Registration's deregistration reasons that stop a benefit, and the stop they are (条例 Art 15).
DEREGISTRATION_STOPS: dict[str, BenefitStopReason] = {
    "enlisted": "enlisted",
    "emigrated": "emigrated",
    "imprisoned": "imprisoned",
}
#: Placements whose employer must enrol the person (an assistance placement in a unit or a public-welfare post).
PLACEMENTS_WITH_EMPLOYER = frozenset({"unit", "public_welfare_post"})


def caused_by(envelope: EventEnvelope, service: str) -> Metadata:
    """Metadata of a reaction: the causing event, its correlation, and who acted there."""
    return Metadata(
        actor=f"{service}:{envelope.actor}" if envelope.actor else service,
        correlation_id=envelope.correlation_id,
        causation_id=str(envelope.event_id),
    )


@dataclass
class PersonRow:
    """One row of ``persons``: what registration's events say about a person."""

    region_code: str
    status: str
    unemployment_registered_on: date | None = None
    involuntary: bool = False


class PersonFacts:
    """The ``persons`` rows of a batch's persons, read once, changed in memory in the events' order and
    written back in one statement: the facts a later event of the same batch is decided on are those the
    earlier ones left, as if each had been written at once."""

    def __init__(self, rows: dict[str, PersonRow]) -> None:
        self.rows = rows
        self.changed: set[str] = set()

    @classmethod
    async def load(cls, conn: Connection, person_ids: Sequence[str]) -> PersonFacts:
        """The rows of ``person_ids`` (a person registration never reported has none)."""
        cursor = await conn.execute(
            "SELECT person_id::text, region_code, status, unemployment_registered_on, involuntary FROM persons"
            " WHERE person_id = ANY(%s::uuid[])",
            ([p for p in dict.fromkeys(person_ids) if is_uuid(p)],),
        )
        return cls({row[0]: PersonRow(row[1], row[2], row[3], row[4]) for row in await cursor.fetchall()})

    def region(self, person_id: str) -> str | None:
        """Where registration says the person lives now."""
        row = self.rows.get(person_id)
        return row.region_code if row is not None else None

    def put(self, person_id: str, row: PersonRow) -> None:
        """Insert or replace the person's row."""
        self.rows[person_id] = row
        self.changed.add(person_id)

    def update(self, person_id: str, **changes: Any) -> None:
        """Change a known person's row; a person not seen before stays unknown."""
        row = self.rows.get(person_id)
        if row is not None:
            self.put(person_id, replace(row, **changes))

    def status(self, person_id: str, region: str | None, status: str) -> None:
        """A new employment status; a person not seen before is placed in ``region`` (when the event has one)."""
        if person_id in self.rows or region is None:
            self.update(person_id, status=status)
        else:
            self.put(person_id, PersonRow(region, status))

    async def save(self, conn: Connection) -> None:
        """Write the changed rows (one statement)."""
        if not self.changed:
            return
        rows = [(p, self.rows[p]) for p in sorted(self.changed)]
        await conn.execute(
            "INSERT INTO persons (person_id, region_code, status, unemployment_registered_on, involuntary)"
            " SELECT * FROM unnest(%s::uuid[], %s::text[], %s::text[], %s::date[], %s::boolean[])"
            " ON CONFLICT (person_id) DO UPDATE SET region_code = excluded.region_code, status = excluded.status,"
            " unemployment_registered_on = excluded.unemployment_registered_on, involuntary = excluded.involuntary",
            (
                [p for p, _ in rows],
                [r.region_code for _, r in rows],
                [r.status for _, r in rows],
                [r.unemployment_registered_on for _, r in rows],
                [r.involuntary for _, r in rows],
            ),
        )
        self.changed.clear()


@dataclass
class Pass:
    """What one batch's reactions work on: registration's facts, the insured persons' records, and the
    employer statements, all written when the batch is done."""

    persons: PersonFacts
    insured: InsuredBatch
    drawing: set[str]
    employers: list[tuple[str, tuple[object, ...]]] = field(default_factory=list)


#: Reactions that change the person's insurance record whatever its state (the others: see ``_decides_over``).
_RECORD_EVENTS = frozenset(
    {
        reg.PersonRetired.event_type,
        asst.HardToEmployCertified.event_type,
        asst.HardToEmployStatusEnded.event_type,
    }
)

#: One reaction: changes the pass in memory (nothing is written until the batch is done).
Reaction = Callable[[Pass, Event, EventEnvelope], None]


class InsuranceReactions:
    """The consumer handler keeping registration's facts and reacting to hires, stops, deaths, certifications.

    A batch is one pass (docs/adr/0002-consumer-runtime.md): the persons' facts and insurance records of all
    its events are read in three queries, each event is decided in order on what the ones before it left
    (in memory), and the facts, the appends and the read tables are written in a few set-based statements.
    Any refusal raises, and the consumer runtime applies the batch's events one by one to park the one.
    """

    name = NAME

    def __init__(self, commands: InsuredCommands) -> None:
        self.commands = commands
        self._handlers: dict[str, Reaction] = {
            reg.PersonRegistered.event_type: self._registered,
            reg.PersonMoved.event_type: self._moved,
            reg.EmploymentRegistered.event_type: self._employed,
            reg.EmploymentEnded.event_type: self._employment_ended,
            reg.UnemploymentRegistered.event_type: self._unemployed,
            reg.UnemploymentDeregistered.event_type: self._deregistered,
            reg.PersonRetired.event_type: self._retired,
            reg.PersonDied.event_type: self._died,
            reg.EmployerRegistered.event_type: self._employer,
            reg.EmployerChanged.event_type: self._employer_changed,
            reg.EmployerDeregistered.event_type: self._employer_gone,
            asst.PlacedInJob.event_type: self._placed,
            asst.HardToEmployCertified.event_type: self._certified,
            asst.HardToEmployStatusEnded.event_type: self._certification_ended,
        }

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Apply the batch in order, inside the consumer's transaction (see the class docstring)."""
        decoded = [(decode(e), e) for e in events if e.type in self._handlers]
        if not decoded:
            return
        persons = [p for event, _ in decoded if (p := getattr(event, "person_id", None)) is not None]
        facts = await PersonFacts.load(conn, persons)
        hires = [e.person_id for e, _ in decoded if isinstance(e, reg.EmploymentRegistered) and e.kind != "unit"]
        drawing = await queries.drawing_benefit(conn, hires) if hires else set()
        records = [p for e, _ in decoded if (p := _decides_over(e, drawing)) is not None]
        loaded = await self.commands.load_many(conn, records)
        work = Pass(facts, self.commands.batch(loaded, facts.region), drawing)
        for event, envelope in decoded:
            self._handlers[envelope.type](work, event, envelope)
        await facts.save(conn)
        for sql, params in work.employers:
            await conn.execute(sql, params)
        await work.insured.commit(conn)

    def _registered(self, work: Pass, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.PersonRegistered)
        known = work.persons.rows.get(event.person_id)
        row = PersonRow(event.region_code, event.status)
        work.persons.put(
            event.person_id, replace(known, region_code=row.region_code, status=row.status) if known else row
        )

    def _moved(self, work: Pass, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.PersonMoved)
        work.persons.update(event.person_id, region_code=event.region_code)

    def _employed(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        """A hire: the benefit stops (re-employment) and, for a unit, the employer must enrol within 30 days."""
        assert isinstance(event, reg.EmploymentRegistered)
        work.persons.update(event.person_id, status="employed", unemployment_registered_on=None)
        metadata = caused_by(envelope, "registration")
        if event.kind != "unit":
            if event.person_id in work.drawing:  # most hires: nothing to stop, and no stream to fold
                stop = self._stop("reemployed", event.started_on)
                work.insured.change(event.person_id, stop, metadata, region_code=envelope.region_code)
            return
        # one decision for both, on one state
        work.insured.change(
            event.person_id,
            self.commands.expecting(
                employer_id=event.employer_id, started_on=event.started_on, source=event.source, stops_benefit=True
            ),
            metadata,
            region_code=envelope.region_code,
        )

    def _employment_ended(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, reg.EmploymentEnded)
        work.persons.status(event.person_id, envelope.region_code, event.status_after)

    def _unemployed(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, reg.UnemploymentRegistered)
        known = work.persons.rows.get(event.person_id)
        region = known.region_code if known is not None else envelope.region_code
        if region is None:
            raise ValueError(f"UnemploymentRegistered of unknown person {event.person_id} names no region")
        row = PersonRow(region, "registered_unemployed", event.registered_on, event.involuntary)
        work.persons.put(event.person_id, row)

    def _deregistered(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, reg.UnemploymentDeregistered)
        work.persons.status(event.person_id, envelope.region_code, event.status_after)
        reason = DEREGISTRATION_STOPS.get(event.reason)
        if reason is not None:
            stop = self._stop(reason, event.deregistered_on)
            work.insured.change(
                event.person_id, stop, caused_by(envelope, "registration"), region_code=envelope.region_code
            )

    def _retired(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, reg.PersonRetired)
        work.persons.status(event.person_id, envelope.region_code, "retired")
        stop = self._stop("pension", event.retired_on)
        work.insured.change(
            event.person_id, stop, caused_by(envelope, "registration"), region_code=envelope.region_code
        )

    def _died(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        """A death registration recorded stops the pension; one insurance reported itself is already known."""
        assert isinstance(event, reg.PersonDied)
        work.persons.status(event.person_id, envelope.region_code, "deceased")
        if event.source != "insurance":
            died_on = event.died_on
            work.insured.change(
                event.person_id,
                lambda s: retirement.decide_death(s, died_on, died_on, reported_here=False),
                caused_by(envelope, "registration"),
                region_code=envelope.region_code,
            )

    def _employer(self, work: Pass, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.EmployerRegistered)
        work.employers.append(
            (
                "INSERT INTO employers (employer_id, region_code, name) VALUES (%s, %s, %s) ON CONFLICT (employer_id)"
                " DO UPDATE SET region_code = excluded.region_code, name = excluded.name",
                (event.employer_id, event.region_code, event.name),
            )
        )

    def _employer_changed(self, work: Pass, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.EmployerChanged)
        work.employers.append(
            ("UPDATE employers SET region_code = %s WHERE employer_id = %s", (event.region_code, event.employer_id))
        )

    def _employer_gone(self, work: Pass, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.EmployerDeregistered)
        work.employers.append(("UPDATE employers SET active = false WHERE employer_id = %s", (event.employer_id,)))

    def _placed(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        """A placement with an employer: the employer must enrol the person within 30 days."""
        assert isinstance(event, asst.PlacedInJob)
        if event.kind in PLACEMENTS_WITH_EMPLOYER:
            work.insured.change(
                event.person_id,
                self.commands.expecting(
                    employer_id=event.employer_id, started_on=event.started_on, source="assistance"
                ),
                caused_by(envelope, "assistance"),
                region_code=event.region_code,
            )

    def _certified(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, asst.HardToEmployCertified)
        certification, certified_on, review_on = event.certification_id, event.certified_on, event.review_on
        work.insured.change(
            event.person_id,
            lambda s: enrolment.decide_grant_subsidy(
                s, certification_id=certification, certified_on=certified_on, review_on=review_on
            ),
            caused_by(envelope, "assistance"),
            region_code=event.region_code,
        )

    def _certification_ended(self, work: Pass, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, asst.HardToEmployStatusEnded)
        certification, ended_on, reason = event.certification_id, event.ended_on, event.reason
        work.insured.change(
            event.person_id,
            lambda s: enrolment.decide_end_subsidy(s, certification_id=certification, ended_on=ended_on, reason=reason),
            caused_by(envelope, "assistance"),
            region_code=event.region_code,
        )

    @staticmethod
    def _stop(reason: BenefitStopReason, on: date) -> Callable[[InsuredState], list[Event]]:
        return lambda s: list(benefit.decide_stop_benefit(s, reason, on))


def _decides_over(event: Event, drawing: set[str]) -> str | None:
    """The person whose insurance record reacting to ``event`` decides over (the batch loads it), if any."""
    if isinstance(event, reg.EmploymentRegistered):
        needed = event.kind == "unit" or event.person_id in drawing
    elif isinstance(event, reg.UnemploymentDeregistered):
        needed = event.reason in DEREGISTRATION_STOPS
    elif isinstance(event, reg.PersonDied):
        needed = event.source != "insurance"
    elif isinstance(event, asst.PlacedInJob):
        needed = event.kind in PLACEMENTS_WITH_EMPLOYER
    else:
        needed = event.event_type in _RECORD_EVENTS
    person: str | None = getattr(event, "person_id", None)
    return person if needed else None
