"""The write side's context: store, calendar, limits, vault, clock; who may act; which employer a command names."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from contracts.identifiers import parse_credit_code
from contracts.regions import RegionLevel, normalise_region_code, region_level
from contracts.supervision import EmployerRef
from services.runtime import regions
from services.runtime.auth import Principal, Role
from services.runtime.db import Connection
from services.runtime.errors import Forbidden, RuleViolated
from services.runtime.eventstore import EventStore
from services.runtime.pii import PiiVault
from services.runtime.workdays import WorkdayCalendar
from services.supervision import queries
from services.supervision.domain.limits import Limits

#: Labour inspection acts on cases (劳动保障监察条例 Art 3): inspectors and the county bureau.
CASE_ROLES = frozenset({Role.INSPECTOR, Role.COUNTY, Role.ADMIN})
#: An investigation's extension is approved by the county bureau (条例 Art 17).
APPROVING_ROLES = frozenset({Role.COUNTY, Role.ADMIN})
#: Who receives complaints and petitions: every service point, a village station on a resident's behalf.
INTAKE_ROLES = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.INSPECTOR, Role.ADMIN})
#: Township offices run the grid and the mediation committees beside the inspectors.
TOWNSHIP_ROLES = frozenset({Role.TOWNSHIP, Role.COUNTY, Role.INSPECTOR, Role.ADMIN})
#: Arbitration committees sit at county level.
ARBITRATION_ROLES = frozenset({Role.COUNTY, Role.ADMIN})


def require_role(principal: Principal, roles: frozenset[Role], action: str) -> None:
    """403 unless the caller's role may ``action``."""
    if principal.role not in roles:
        allowed = ", ".join(sorted(str(r) for r in roles))
        raise Forbidden(f"a {principal.role} may not {action}; that is for: {allowed}", field="role")


def require_person_reader(principal: Principal) -> None:
    """Analysts read aggregates only, never a complaint or a petition (they name persons)."""
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only", field="role")


@dataclass
class Context:
    """What every command needs: the store, the calendar, the limits, the PII vault and today's date."""

    store: EventStore
    calendar: WorkdayCalendar
    limits: Limits
    vault: PiiVault
    today: Callable[[], date] = field(default=date.today)


@dataclass(frozen=True)
class EmployerInput:
    """An employer as a command names it: registration's id, or free text with the credit code."""

    employer_id: str | None = None
    credit_code: str | None = None
    name: str | None = None
    region_code: str | None = None


async def resolve_employer(conn: Connection, given: EmployerInput, prefix: str = "employer") -> EmployerRef:
    """The employer a command is about; 422 naming the field when it cannot be told which one."""
    if given.employer_id:
        row = await queries.employer_by_id(conn, given.employer_id)
        if row is None:
            raise RuleViolated(
                "EmployerKnown",
                f"no employer {given.employer_id} in registration's ledger; name it by credit code instead",
                field=f"{prefix}_id",
            )
        return EmployerRef(
            employer_id=row.employer_id,
            credit_code=row.credit_code,
            name=row.name,
            region_code=row.region_code,
            registered=row.registered,
        )
    if not given.credit_code or not given.name or not given.region_code:
        raise RuleViolated(
            "ComplaintNamesAClearEmployer",
            "name the employer by employer_id, or by credit_code, name and region_code",
            field=f"{prefix}.credit_code",
        )
    try:
        # Strict: a mistyped code must not become a second employer. A legacy pilot code that fails the
        # check is registered in registration (which accepts it with a warning) and named by its id here.
        credit = parse_credit_code(given.credit_code)
    except ValueError as exc:
        raise RuleViolated("CreditCodeValid", str(exc), field=f"{prefix}.credit_code") from None
    known = await queries.employer_by_credit_code(conn, credit.code)
    if known is not None:
        return EmployerRef(
            employer_id=known.employer_id,
            credit_code=known.credit_code,
            name=known.name,
            region_code=known.region_code,
            registered=known.registered,
        )
    region_code = await known_region(conn, given.region_code, f"{prefix}.region_code", employer=True)
    row = queries.EmployerRow(
        queries.free_text_employer_id(credit.code), credit.code, given.name.strip(), region_code, False, None
    )
    await queries.save_free_text_employer(conn, row)
    return EmployerRef(
        employer_id=row.employer_id,
        credit_code=row.credit_code,
        name=row.name,
        region_code=row.region_code,
        registered=False,
    )


async def known_region(conn: Connection, raw: str, field_name: str, *, employer: bool = False) -> str:
    """A region code of the reference table (a township or village for an employer)."""
    try:
        code = normalise_region_code(raw)
    except ValueError as exc:
        raise RuleViolated("RegionCodeValid", str(exc), field=field_name) from None
    region = await regions.find_region(conn, code)
    # A region of another county is not in this service's table: its code alone tells its level.
    level = region.level if region is not None else region_level(code)
    if employer and level not in (RegionLevel.TOWNSHIP, RegionLevel.VILLAGE):
        raise RuleViolated(
            "EmployerSitsInTownshipOrVillage",
            f"an employer sits in a township or village, but {code} is a {level}",
            field=field_name,
        )
    return code
