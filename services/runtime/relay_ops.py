"""The relay's ops routes: where it stands in its store (``GET /outbox``) and republishing (``POST /replay``).

Served on the relay process's ops port, which is not exposed outside the cluster; a rebuild in another
service calls them when its topics no longer hold the whole history (docs/adr/0003-rebuild.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Query
from fastapi.responses import Response
from pydantic import BaseModel, Field

from services.runtime.errors import Conflict
from services.runtime.http import json_response
from services.runtime.outbox import OutboxStatus

if TYPE_CHECKING:  # the relay imports this module to offer its routes
    from services.runtime.relay import OutboxRelay


class ReplayStarted(BaseModel):
    """A replay the relay accepted."""

    topic: str
    after: int = Field(description="Every event after this position is republished")
    until: int = Field(description="The store's newest position when asked; done when ``position`` reaches it")


def replay_router(relay: OutboxRelay) -> APIRouter:
    """The relay's ops routes: ``GET /outbox`` (where it stands) and ``POST /replay`` (republish).

    Served on the relay process's ops port, which is not exposed outside the cluster; a rebuild in
    another service calls them when its topics no longer hold the whole history.
    """
    router = APIRouter(tags=["operations"])

    async def status() -> OutboxStatus:
        async with relay.pool.connection() as conn:
            last = await relay.store.last_position(conn)
            through = await relay.store.count_through(conn, relay.position)
        return OutboxStatus(
            topic=relay.topic.name,
            leading=relay.leading,
            position=relay.position,
            last_position=last,
            events_through_position=through,
            replay_pending=relay.replay_after is not None,
        )

    @router.get("/outbox", response_model=OutboxStatus, summary="What the relay has published of its store")
    async def outbox() -> Response:
        return json_response(await status())

    @router.post(
        "/replay",
        response_model=ReplayStarted,
        status_code=202,
        summary="Republish every event after a store position (0: the whole history)",
    )
    async def replay(
        after: Annotated[int, Query(alias="from", ge=0, description="Republish the events after this position")] = 0,
    ) -> Response:
        if not relay.leading:
            raise Conflict("this relay process is waiting for the relay lock and publishes nothing; retry shortly")
        current = await status()
        relay.request_replay(after)
        return json_response(ReplayStarted(topic=relay.topic.name, after=after, until=current.last_position), 202)

    return router
