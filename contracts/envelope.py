"""The envelope every event travels in, on the topics and in the stores (docs/design.md, "Events and the store")."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field


class Event(BaseModel):
    """Base of every domain event: an immutable fact with a type name and a schema version.

    Subclasses set ``event_type`` (the name on the wire), ``stream_type`` (the aggregate it belongs to)
    and bump ``schema_version`` when their shape changes (older versions are upcast on read).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_type: ClassVar[str]
    stream_type: ClassVar[str]
    schema_version: ClassVar[int] = 1


class EventEnvelope(BaseModel):
    """An event as published: identity, position in its stream, provenance and the event's data.

    ``region_code`` is where it happened (a person's village, an employer's township), so consumers can
    route and aggregate without decoding ``data``.
    """

    model_config = ConfigDict(frozen=True)

    event_id: UUID
    type: str = Field(description="Event type name, e.g. PersonRegistered")
    schema_version: int = Field(ge=1)
    stream_type: str = Field(description="Aggregate kind, e.g. person")
    stream_id: str = Field(description="Aggregate id; also the Kafka message key")
    version: int = Field(ge=1, description="Position of the event in its stream: 1, 2, 3 ...")
    region_code: str | None = Field(default=None, description="12-digit NBS code of where it happened")
    occurred_at: datetime
    recorded_at: datetime
    actor: str | None = Field(default=None, description="Staff id of who caused it")
    correlation_id: str | None = None
    causation_id: str | None = None
    data: dict[str, Any]
