"""What registration's routes share: the ledger as a typed dependency, the person-change runner, answers."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any, Protocol, TypeVar

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response

from contracts.regions import normalise_region_code
from services.registration.commands.context import Ledger
from services.registration.commands.person import PersonDecision, change_person
from services.registration.domain.employer import EmployerState
from services.registration.domain.household import HouseholdState
from services.registration.domain.service_point import ServicePointState
from services.registration.domain.vacancy import VacancyState
from services.registration.models.person import PersonChange
from services.runtime.auth import Principal, Role
from services.runtime.db import Connection
from services.runtime.errors import Forbidden, RuleViolated
from services.runtime.http import CommandContext, Commands, CurrentPrincipal
from services.runtime.routes import IfMatchHeader, in_scope, version_from

#: OpenAPI responses of registration's routes.
CONFLICT: dict[int | str, dict[str, Any]] = {409: {"description": "Already registered; the body names the existing id"}}
INVALID: dict[int | str, dict[str, Any]] = {
    422: {"description": "A field breaks a rule; the body names the field and the reason"}
}
CHANGE: dict[int | str, dict[str, Any]] = {
    409: {"description": "Stale version (If-Match / expected_version): read the entry again and retry"},
    404: {"description": "No such person"},
    **INVALID,
}

#: Roles that see a person's ID number, name and phone in full.
PII_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN})


def ledger_of(request: Request) -> Ledger:
    """The app's write side (``app.state.ledger``)."""
    ledger: Ledger = request.app.state.ledger
    return ledger


LedgerDep = Annotated[Ledger, Depends(ledger_of)]

#: The stream a route's path names, loaded for the caller (404 when there is none, 403 outside its region).
EmployerInScope = Annotated[EmployerState, Depends(in_scope(lambda r: ledger_of(r).employers, "employer_id"))]
VacancyInScope = Annotated[VacancyState, Depends(in_scope(lambda r: ledger_of(r).vacancies, "vacancy_id"))]
ServicePointInScope = Annotated[
    ServicePointState, Depends(in_scope(lambda r: ledger_of(r).service_points, "service_point_id"))
]
HouseholdInScope = Annotated[HouseholdState, Depends(in_scope(lambda r: ledger_of(r).households, "household_id"))]


def require_sees_persons(principal: Principal) -> None:
    """Analysts read aggregates only, never a person (docs/design.md "Security and data")."""
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only, never a person")


def person_reader(principal: CurrentPrincipal) -> Principal:
    """The caller, when it may see persons (403 for analysts)."""
    require_sees_persons(principal)
    return principal


#: The caller of a route that shows persons: analysts get 403 before anything is read.
PersonReader = Annotated[Principal, Depends(person_reader)]


def region_query(region: str, rule: str = "RegionCodeValid") -> str:
    """A region code from the query string, padded to 12 digits; 422 naming ``region`` when it is not one."""
    try:
        return normalise_region_code(region)
    except ValueError as exc:
        raise RuleViolated(rule, str(exc), field="region") from exc


class Versioned(Protocol):
    """A change's body: it may name the version it is based on instead of If-Match."""

    @property
    def expected_version(self) -> int | None: ...


B = TypeVar("B", bound=Versioned)

#: Builds a decision on a ledger entry from a route's body (``commands/person.py`` and its neighbours).
Prepare = Callable[[Ledger, Connection, str, B], Awaitable[PersonDecision]]


@dataclass(frozen=True)
class PersonChanger:
    """Runs one change of a ledger entry for a route: in the command's transaction, at the If-Match version."""

    ledger: Ledger
    command: CommandContext
    if_match: str | None

    async def __call__(self, person_id: str, body: B, prepare: Prepare[B]) -> Response:
        """Prepare the decision from ``body``, run it with :func:`change_person`, answer 200 with the change."""
        version = version_from(self.if_match, body.expected_version)
        principal = self.command.principal

        async def run(conn: Connection, metadata: Any) -> Any:
            decision = await prepare(self.ledger, conn, person_id, body)
            return await change_person(self.ledger, conn, principal, person_id, decision, metadata, version)

        return await self.command.run(run, status_code=200, etag=True)


def person_changer(request: Request, command: Commands, if_match: IfMatchHeader = None) -> PersonChanger:
    """The :class:`PersonChanger` of this request."""
    return PersonChanger(ledger_of(request), command, if_match)


ChangePerson = Annotated[PersonChanger, Depends(person_changer)]


def add_person_change(
    router: APIRouter, path: str, body: type[Any], prepare: Prepare[Any], method: str = "POST"
) -> None:
    """Add the route ``{method} {path}`` that changes a ledger entry: ``prepare`` builds the decision from the
    validated ``body``; the answer is the ``PersonChange`` with its version as ETag. The first line of
    ``prepare``'s docstring is the route's summary, so the command and its route say the same."""

    async def endpoint(person_id: str, body: Any, change: ChangePerson) -> Response:
        return await change(person_id, body, prepare)

    # FastAPI reads the body's model from the annotation: the route's own, so validation and OpenAPI are its.
    endpoint.__annotations__ = {**endpoint.__annotations__, "body": body}
    summary = (inspect.getdoc(prepare) or "").splitlines()[0]
    router.add_api_route(
        path,
        endpoint,
        methods=[method],
        response_model=PersonChange,
        responses=CHANGE,
        summary=summary,
        name=prepare.__name__,
    )
