"""A FastAPI app that does no work, served as the services are: the HTTP floor the limits measure against.

``python -m bench.bare_app`` (``DATABASE_URL``, ``HTTP_PORT`` from the environment) serves

- ``POST /persons``: reads the body and answers 201 ``{}``, the command benchmarks' request with nothing behind it;
- ``GET /select1``: one ``SELECT 1`` on a pooled connection, the query benchmarks' round trip with no query.

uvicorn runs with the options of ``services.runtime.process.serve_api`` (one worker, uvloop, httptools, no
server or date headers), so the difference from a real service is the service's own work.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator

import uvicorn
from fastapi import FastAPI, Request, Response
from psycopg_pool import AsyncConnectionPool


def create_app(database_url: str) -> FastAPI:
    """The bare app on a pool of ``database_url``."""
    pool = AsyncConnectionPool(database_url, min_size=1, max_size=4, open=False)

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        await pool.open(wait=True, timeout=30)
        yield
        await pool.close()

    app = FastAPI(lifespan=lifespan, openapi_url=None)

    @app.post("/persons", status_code=201)
    async def create_person(request: Request) -> Response:
        await request.body()
        return Response(b"{}", status_code=201, media_type="application/json")

    @app.get("/select1")
    async def select1() -> dict[str, int]:
        async with pool.connection() as conn:
            cursor = await conn.execute("SELECT 1")
            row = await cursor.fetchone()
        return {"one": int(row[0]) if row else 0}

    return app


def main() -> None:
    """Serve until SIGTERM."""
    uvicorn.run(
        create_app(os.environ["DATABASE_URL"]),
        host="127.0.0.1",
        port=int(os.environ["HTTP_PORT"]),
        log_level="warning",
        access_log=False,
        loop="uvloop",
        http="httptools",
        lifespan="on",
        proxy_headers=False,
        server_header=False,
        date_header=False,
    )


if __name__ == "__main__":
    main()
