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

from collections.abc import Awaitable, Callable, Sequence
from datetime import date

from contracts import assistance as asst
from contracts import registration as reg
from contracts.envelope import Event, EventEnvelope
from contracts.insurance import BenefitStopReason
from contracts.registry import decode
from contracts.topics import ASSISTANCE_EVENTS, REGISTRATION_EVENTS
from services.insurance import queries
from services.insurance.commands.insured import InsuredCommands
from services.insurance.domain import benefit
from services.insurance.domain.insured import InsuredState
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


_PERSON_STATUS = """
    INSERT INTO persons (person_id, region_code, status) VALUES (%s, %s, %s)
    ON CONFLICT (person_id) DO UPDATE SET status = excluded.status
"""


class InsuranceReactions:
    """The consumer handler keeping registration's facts and reacting to hires, stops, deaths, certifications."""

    name = NAME

    def __init__(self, commands: InsuredCommands) -> None:
        self.commands = commands
        self._handlers: dict[str, Callable[[Connection, Event, EventEnvelope], Awaitable[None]]] = {
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
        """Apply each event in order, inside the consumer's transaction."""
        for envelope in events:
            handler = self._handlers.get(envelope.type)
            if handler is not None:
                await handler(conn, decode(envelope), envelope)

    async def _status(self, conn: Connection, person_id: str, region: str | None, status: str) -> None:
        if region is None:  # nowhere to place a person not seen before: only a known one changes
            await conn.execute("UPDATE persons SET status = %s WHERE person_id = %s", (status, person_id))
        else:
            await conn.execute(_PERSON_STATUS, (person_id, region, status))

    async def _registered(self, conn: Connection, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.PersonRegistered)
        await conn.execute(
            "INSERT INTO persons (person_id, region_code, status) VALUES (%s, %s, %s)"
            " ON CONFLICT (person_id) DO UPDATE SET region_code = excluded.region_code, status = excluded.status",
            (event.person_id, event.region_code, event.status),
        )

    async def _moved(self, conn: Connection, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.PersonMoved)
        await conn.execute(
            "UPDATE persons SET region_code = %s WHERE person_id = %s", (event.region_code, event.person_id)
        )

    async def _employed(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        """A hire: the benefit stops (re-employment) and, for a unit, the employer must enrol within 30 days."""
        assert isinstance(event, reg.EmploymentRegistered)
        await conn.execute(
            "UPDATE persons SET status = 'employed', unemployment_registered_on = NULL WHERE person_id = %s",
            (event.person_id,),
        )
        metadata = caused_by(envelope, "registration")
        if event.kind != "unit":
            if not await queries.draws_benefit(conn, event.person_id):
                return  # most hires: nothing to stop, and no stream to fold
            stop = self._stop("reemployed", event.started_on)
            await self.commands.change(conn, event.person_id, stop, metadata, region_code=envelope.region_code)
            return
        # one load and one append for both: the hot path of a county's hires (bench/insurance.py)
        await self.commands.expect_enrolment(
            conn,
            event.person_id,
            envelope.region_code,
            employer_id=event.employer_id,
            started_on=event.started_on,
            source=event.source,
            metadata=metadata,
            stops_benefit=True,
        )

    async def _employment_ended(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, reg.EmploymentEnded)
        await self._status(conn, event.person_id, envelope.region_code, event.status_after)

    async def _unemployed(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, reg.UnemploymentRegistered)
        await conn.execute(
            "INSERT INTO persons (person_id, region_code, status, unemployment_registered_on, involuntary)"
            " VALUES (%s, %s, 'registered_unemployed', %s, %s) ON CONFLICT (person_id) DO UPDATE SET"
            " status = 'registered_unemployed', unemployment_registered_on = excluded.unemployment_registered_on,"
            " involuntary = excluded.involuntary",
            (event.person_id, envelope.region_code, event.registered_on, event.involuntary),
        )

    async def _deregistered(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, reg.UnemploymentDeregistered)
        await self._status(conn, event.person_id, envelope.region_code, event.status_after)
        reason = DEREGISTRATION_STOPS.get(event.reason)
        if reason is not None:
            stop = self._stop(reason, event.deregistered_on)
            await self.commands.change(
                conn, event.person_id, stop, caused_by(envelope, "registration"), region_code=envelope.region_code
            )

    async def _retired(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, reg.PersonRetired)
        await self._status(conn, event.person_id, envelope.region_code, "retired")
        stop = self._stop("pension", event.retired_on)
        await self.commands.change(
            conn, event.person_id, stop, caused_by(envelope, "registration"), region_code=envelope.region_code
        )

    async def _died(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        """A death registration recorded stops the pension; one insurance reported itself is already known."""
        assert isinstance(event, reg.PersonDied)
        await self._status(conn, event.person_id, envelope.region_code, "deceased")
        if event.source != "insurance":
            await self.commands.record_death(
                conn, event.person_id, envelope.region_code, event.died_on, caused_by(envelope, "registration")
            )

    async def _employer(self, conn: Connection, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.EmployerRegistered)
        await conn.execute(
            "INSERT INTO employers (employer_id, region_code, name) VALUES (%s, %s, %s)"
            " ON CONFLICT (employer_id) DO UPDATE SET region_code = excluded.region_code, name = excluded.name",
            (event.employer_id, event.region_code, event.name),
        )

    async def _employer_changed(self, conn: Connection, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.EmployerChanged)
        await conn.execute(
            "UPDATE employers SET region_code = %s WHERE employer_id = %s", (event.region_code, event.employer_id)
        )

    async def _employer_gone(self, conn: Connection, event: Event, _: EventEnvelope) -> None:
        assert isinstance(event, reg.EmployerDeregistered)
        await conn.execute("UPDATE employers SET active = false WHERE employer_id = %s", (event.employer_id,))

    async def _placed(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        """A placement with an employer: the employer must enrol the person within 30 days."""
        assert isinstance(event, asst.PlacedInJob)
        if event.kind in PLACEMENTS_WITH_EMPLOYER:
            await self.commands.expect_enrolment(
                conn,
                event.person_id,
                event.region_code,
                employer_id=event.employer_id,
                started_on=event.started_on,
                source="assistance",
                metadata=caused_by(envelope, "assistance"),
            )

    async def _certified(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, asst.HardToEmployCertified)
        await self.commands.grant_subsidy(
            conn,
            event.person_id,
            event.region_code,
            certification_id=event.certification_id,
            certified_on=event.certified_on,
            review_on=event.review_on,
            metadata=caused_by(envelope, "assistance"),
        )

    async def _certification_ended(self, conn: Connection, event: Event, envelope: EventEnvelope) -> None:
        assert isinstance(event, asst.HardToEmployStatusEnded)
        await self.commands.end_subsidy(
            conn,
            event.person_id,
            event.region_code,
            certification_id=event.certification_id,
            ended_on=event.ended_on,
            reason=event.reason,
            metadata=caused_by(envelope, "assistance"),
        )

    @staticmethod
    def _stop(reason: BenefitStopReason, on: date) -> Callable[[InsuredState], list[Event]]:
        return lambda s: list(benefit.decide_stop_benefit(s, reason, on))
