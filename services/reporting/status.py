"""``GET /status``: how far the projection is behind the topics, per topic and partition.

What the worker applied comes from ``consumer_progress`` (written in the same transaction as the figures);
the partitions' ends and newest messages come from the broker at the time of the request, so a stopped
or stuck worker shows as falling behind instead of as a stale "caught up".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.runtime.consumer_status import consumer_status
from services.runtime.http import CurrentPrincipal, DbConnection, app_state, json_response


class PartitionLag(BaseModel):
    """One partition of a source topic."""

    topic: str
    partition: int
    committed: int = Field(description="Every message below this offset is in the figures")
    end: int = Field(description="The partition's end offset")
    behind: int = Field(description="Messages not yet in the figures")
    seconds_behind: float = Field(
        description="How much older the first message not yet in the figures is than the newest (0: caught up)"
    )
    last_event_at: datetime | None = Field(description="Broker time of the last message applied")
    updated_at: datetime | None = Field(description="When the worker last recorded progress here")
    live: bool = Field(description="``end`` is the broker's answer now (false: the broker did not answer)")


class ProjectionStatus(BaseModel):
    """How far reporting's projection is behind, per topic and partition."""

    consumer: str
    behind: int = Field(description="Messages not yet in the figures, over every partition")
    seconds_behind: float = Field(description="The largest seconds_behind of any partition")
    topics: list[PartitionLag]


EXAMPLE = {
    "consumer": "reporting.projection",
    "behind": 120,
    "seconds_behind": 1.8,
    "topics": [
        {
            "topic": "registration.events",
            "partition": 0,
            "committed": 4180,
            "end": 4300,
            "behind": 120,
            "seconds_behind": 1.8,
            "last_event_at": "2026-09-30T08:00:00.120000Z",
            "updated_at": "2026-09-30T08:00:00.310000Z",
            "live": True,
        }
    ],
}


def status_router(consumer: str, topics: Sequence[str]) -> APIRouter:
    """The ``/status`` route for the worker named ``consumer`` reading ``topics``."""
    router = APIRouter(tags=["operations"])

    @router.get(
        "/status",
        response_model=ProjectionStatus,
        summary="How far the figures are behind the topics (events and seconds, per partition)",
        responses={200: {"content": {"application/json": {"example": EXAMPLE}}}},
    )
    async def status(request: Request, _: CurrentPrincipal, conn: DbConnection) -> Response:
        partitions = await consumer_status(conn, consumer, topics, app_state(request).bootstrap_servers)
        lags = [PartitionLag(**vars(p)) for p in partitions]
        return json_response(
            ProjectionStatus(
                consumer=consumer,
                behind=sum(p.behind for p in lags),
                seconds_behind=max((p.seconds_behind for p in lags), default=0.0),
                topics=lags,
            )
        )

    return router
