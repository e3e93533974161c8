"""Routes of employment and unemployment registration (就业失业登记) on a ledger entry."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from fastapi.responses import Response

from services.registration.api.deps import CHANGE, ChangePerson
from services.registration.commands import employment
from services.registration.models import (
    EmploymentCreate,
    EmploymentEnd,
    PersonChange,
    UnemploymentCreate,
    UnemploymentDeregistration,
)

router = APIRouter(tags=["registration"])

Route = Callable[..., Awaitable[Response]]


def change_route(path: str, summary: str) -> Callable[[Route], Route]:
    """The decorator of a route that changes a ledger entry's employment status."""
    return router.post(path, response_model=PersonChange, responses=CHANGE, summary=summary)


@change_route(
    "/persons/{person_id}/employment", "Employment registration (就业登记); flags a hire reported after 30 days"
)
async def register_employment(person_id: str, body: EmploymentCreate, change: ChangePerson) -> Response:
    return await change(person_id, body, employment.register_employment)


@change_route(
    "/persons/{person_id}/employment/end",
    "End of employment (终止/解除劳动关系); flags a termination reported after 15 days",
)
async def end_employment(person_id: str, body: EmploymentEnd, change: ChangePerson) -> Response:
    return await change(person_id, body, employment.end_employment)


@change_route("/persons/{person_id}/unemployment", "Unemployment registration (失业登记)")
async def register_unemployment(person_id: str, body: UnemploymentCreate, change: ChangePerson) -> Response:
    return await change(person_id, body, employment.register_unemployment)


@change_route("/persons/{person_id}/unemployment/deregistration", "Cancel an unemployment registration (注销失业登记)")
async def deregister_unemployment(person_id: str, body: UnemploymentDeregistration, change: ChangePerson) -> Response:
    return await change(person_id, body, employment.deregister_unemployment)
