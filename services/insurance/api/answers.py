"""The answer every command route gives: the command's body with the stream's new version as ETag."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, Protocol

from fastapi.responses import Response

from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import CommandContext
from services.runtime.routes import with_etag


class Versioned(Protocol):
    """An answer that names the stream's new version."""

    @property
    def version(self) -> int:
        """The ETag of the answer."""
        ...


async def run_change(
    command: CommandContext,
    work: Callable[[Connection, Metadata], Awaitable[Versioned]],
    *,
    status_code: int = 200,
) -> Response:
    """Run ``work`` as one idempotent command and answer with the stream's new version as ETag."""
    seen: list[int] = []

    async def wrapped(conn: Connection, metadata: Metadata) -> Any:
        result = await work(conn, metadata)
        seen.append(result.version)
        return result

    response = await command.run(wrapped, status_code=status_code)
    return with_etag(response, seen[0]) if seen else response
