"""Employment and unemployment registration (就业失业登记) as decisions on the person aggregate.

Each builds the decision :func:`~services.registration.commands.person.change_person` runs; the rules
(deadlines of 就业服务与就业管理规定 Art 62, one status at a time) are in ``domain/employment.py``.
"""

from __future__ import annotations

from services.registration import queries
from services.registration.commands.context import Ledger
from services.registration.commands.person import PersonDecision
from services.registration.domain.employment import (
    RegisterEmployment,
    decide_deregister_unemployment,
    decide_end_employment,
    decide_register_employment,
    decide_register_unemployment,
)
from services.registration.models.employment import (
    EmploymentCreate,
    EmploymentEnd,
    UnemploymentCreate,
    UnemploymentDeregistration,
)
from services.runtime.aggregate import is_uuid
from services.runtime.db import Connection
from services.runtime.errors import RuleViolated


async def require_registered_employer(conn: Connection, employer_id: str | None, field: str = "employer_id") -> None:
    """An employer a registration names must be in the ledger (422 naming ``field`` otherwise)."""
    if employer_id is not None and not (is_uuid(employer_id) and await queries.employer_exists(conn, employer_id)):
        raise RuleViolated("EmployerMustBeRegistered", f"no employer {employer_id}", field=field)


async def employed(ledger: Ledger, conn: Connection, registration: RegisterEmployment) -> PersonDecision:
    """Employment registration (就业登记) as reported here or by another service (a placement)."""
    await require_registered_employer(conn, registration.employer_id)
    today = ledger.today()
    return PersonDecision(lambda s: decide_register_employment(s, registration, today=today))


async def register_employment(
    ledger: Ledger, conn: Connection, person_id: str, body: EmploymentCreate
) -> PersonDecision:
    """Employment registration (就业登记); flags a hire reported after 30 days

    The employer, if named, must be in the ledger.
    """
    registration = RegisterEmployment(
        kind=body.kind,
        started_on=body.started_on,
        reported_on=body.reported_on or ledger.today(),
        employer_id=body.employer_id,
        vacancy_id=body.vacancy_id,
    )
    return await employed(ledger, conn, registration)


async def end_employment(ledger: Ledger, conn: Connection, person_id: str, body: EmploymentEnd) -> PersonDecision:
    """End of employment (终止/解除劳动关系); flags a termination reported after 15 days"""
    today = ledger.today()
    reported_on = body.reported_on or today
    return PersonDecision(lambda s: decide_end_employment(s, body.ended_on, body.reason, reported_on, today=today))


async def register_unemployment(
    ledger: Ledger, conn: Connection, person_id: str, body: UnemploymentCreate
) -> PersonDecision:
    """Unemployment registration (失业登记)"""
    today = ledger.today()
    return PersonDecision(lambda s: decide_register_unemployment(s, body.registered_on or today, today=today))


async def deregister_unemployment(
    ledger: Ledger, conn: Connection, person_id: str, body: UnemploymentDeregistration
) -> PersonDecision:
    """Cancel an unemployment registration (注销失业登记)"""
    today = ledger.today()
    day = body.deregistered_on or today
    return PersonDecision(lambda s: decide_deregister_unemployment(s, day, body.reason, today=today))
