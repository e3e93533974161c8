"""Supervision's reactions to other services' events (docs/design.md, "Cross-service reactions").

- registration ``EmployerRegistered`` / ``EmployerChanged`` / ``EmployerDeregistered`` -> supervision's view
  of employers, so complaints, cases and inspections can name a registered employer by its id;
- insurance ``EmployerArrearsReported`` -> an arrears monitoring item opens and the employer's rating is
  reconsidered (B while arrears are open); ``EmployerArrearsCleared`` -> the item closes, the rating again.

They run in the consumer runtime's transaction after its inbox kept redeliveries out, so each event changes
the state once; the rules themselves also ignore a repeated report or clearance.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import replace

from contracts import registration as reg
from contracts.envelope import Event, EventEnvelope
from contracts.insurance import EmployerArrearsCleared, EmployerArrearsReported
from contracts.registry import decode
from contracts.topics import INSURANCE_EVENTS, REGISTRATION_EVENTS
from services.runtime.aggregate import Aggregate
from services.runtime.db import Connection
from services.runtime.eventstore import EventStore, Metadata
from services.supervision import queries
from services.supervision.commands.rating import RatingCommands
from services.supervision.domain import monitoring
from services.supervision.domain.monitoring import MonitoringState
from services.supervision.domain.rating import ComplianceFacts

NAME = "supervision.reactions"

#: The topics supervision reacts to.
SOURCE_TOPICS = [REGISTRATION_EVENTS.name, INSURANCE_EVENTS.name]

_MONITORING_STREAMS = uuid.UUID("7d3f5b8e-1a2c-4e6f-9b0d-3c5e7a9f1b2d")


def monitoring_stream_id(employer_id: str) -> str:
    """The arrears monitoring stream of an employer."""
    return str(uuid.uuid5(_MONITORING_STREAMS, employer_id))


def _caused_by(envelope: EventEnvelope, service: str) -> Metadata:
    return Metadata(
        actor=f"{service}:{envelope.actor}" if envelope.actor else service,
        correlation_id=envelope.correlation_id,
        causation_id=str(envelope.event_id),
    )


class SupervisionReactions:
    """The consumer handler for registration's employers and insurance's arrears."""

    name = NAME

    def __init__(self, store: EventStore, ratings: RatingCommands) -> None:
        self.ratings = ratings
        self.monitoring: Aggregate[monitoring.MonitoringState] = Aggregate(
            store, "arrears_monitoring", monitoring.evolve_monitoring, name="arrears monitoring"
        )

    async def apply(self, conn: Connection, events: Sequence[EventEnvelope]) -> None:
        """Apply each event in order, inside the consumer's transaction."""
        for envelope in events:
            if envelope.type == reg.EmployerRegistered.event_type:
                registered = decode(envelope)
                assert isinstance(registered, reg.EmployerRegistered)
                await queries.save_registered_employer(
                    conn, registered.employer_id, registered.credit_code, registered.name, registered.region_code
                )
            elif envelope.type == reg.EmployerChanged.event_type:
                changed = decode(envelope)
                assert isinstance(changed, reg.EmployerChanged)
                updates = {c.field: c.new for c in changed.changes}
                await queries.change_registered_employer(
                    conn, changed.employer_id, {**updates, "region_code": changed.region_code}
                )
            elif envelope.type == reg.EmployerDeregistered.event_type:
                gone = decode(envelope)
                assert isinstance(gone, reg.EmployerDeregistered)
                await queries.deregister_employer(conn, gone.employer_id, gone.deregistered_on)
            elif envelope.type == EmployerArrearsReported.event_type:
                await self.arrears_reported(conn, envelope)
            elif envelope.type == EmployerArrearsCleared.event_type:
                await self.arrears_cleared(conn, envelope)

    async def _employer_id(self, conn: Connection, registration_id: str) -> str:
        """Supervision's id of a registered employer (one first entered by credit code keeps that id)."""
        row = await queries.employer_by_id(conn, registration_id)
        return row.employer_id if row else registration_id

    async def arrears_reported(self, conn: Connection, envelope: EventEnvelope) -> None:
        """Open the monitoring item; the rating sees open arrears."""
        report = decode(envelope)
        assert isinstance(report, EmployerArrearsReported)
        await self._monitor(
            conn,
            envelope,
            report.employer_id,
            report.region_code,
            lambda before, employer_id: monitoring.decide_open(before, employer_id, report),
            lambda facts: replace(
                facts, arrears_open=True, arrears_fen=report.arrears_fen, arrears_months=len(report.months)
            ),
        )

    async def arrears_cleared(self, conn: Connection, envelope: EventEnvelope) -> None:
        """Close the monitoring item; the rating no longer counts the arrears."""
        cleared = decode(envelope)
        assert isinstance(cleared, EmployerArrearsCleared)
        await self._monitor(
            conn,
            envelope,
            cleared.employer_id,
            cleared.region_code,
            lambda before, _: monitoring.decide_close(before, cleared),
            lambda facts: replace(facts, arrears_open=False, arrears_fen=0, arrears_months=0),
        )

    async def _monitor(
        self,
        conn: Connection,
        envelope: EventEnvelope,
        registration_id: str,
        region_code: str,
        decide: Callable[[MonitoringState | None, str], Sequence[Event]],
        rated: Callable[[ComplianceFacts], ComplianceFacts],
    ) -> None:
        """Insurance's news of an employer's arrears: the monitoring item's decision on its stream, and the
        rating's facts changed, both in the consumer's transaction."""
        metadata = _caused_by(envelope, "insurance")
        employer_id = await self._employer_id(conn, registration_id)
        stream_id = monitoring_stream_id(employer_id)
        before = await self.monitoring.load(conn, stream_id)
        events = decide(before, employer_id)
        if events:
            await self.monitoring.record(conn, stream_id, before, events, metadata)
        await self.ratings.update(conn, employer_id, region_code, rated, metadata)
