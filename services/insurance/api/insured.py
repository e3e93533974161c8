"""Routes on an insured person: enrolment, unemployment benefit, retirees, death and survivor claims."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from contracts.insurance import MONTH_PATTERN, InsuranceType
from contracts.regions import normalise_region_code
from services.insurance import queries
from services.insurance.api.answers import run_change
from services.insurance.commands import require_person_reader
from services.insurance.commands.insured import BenefitClaim as Claim
from services.insurance.commands.insured import InsuredCommands
from services.insurance.domain import enrolment, retirement
from services.insurance.domain.insured import InsuredState
from services.insurance.domain.months import month_bounds, parse_month, require_not_future_month
from services.insurance.models import (
    BenefitClaim,
    BenefitPayment,
    BenefitStop,
    Certification,
    DeathReport,
    EnrolmentChange,
    EnrolmentCreate,
    InsuredChange,
    InsuredPublic,
    PaymentRun,
    RetireeCreate,
    SurvivorClaim,
    SurvivorPayment,
    Suspended,
    SuspensionRun,
)
from services.runtime.aggregate import Changed
from services.runtime.db import Connection
from services.runtime.errors import Conflict, RuleViolated
from services.runtime.eventstore import Metadata
from services.runtime.groupcommit import GroupCommit
from services.runtime.http import Commands, CurrentPrincipal, DbConnection, json_response
from services.runtime.routes import (
    INVALID,
    NOT_FOUND,
    STALE,
    IfMatchHeader,
    OptionalExpectedVersion,
    answer,
    optional_if_match,
)

router = APIRouter(tags=["insured persons"])
_CHANGE = {**NOT_FOUND, **STALE, **INVALID}
#: Times a claim that named no version is decided again after a concurrent change of the same person.
CONFLICT_RETRIES = 4


def _region(code: str) -> str:
    """A region code from the path, 12 digits (a 6-digit county code is shorthand); 422 when it is none."""
    try:
        return normalise_region_code(code)
    except ValueError as exc:
        raise RuleViolated("RegionCodeValid", str(exc), field="region_code") from None


def _commands(request: Request) -> InsuredCommands:
    commands: InsuredCommands = request.app.state.insured
    return commands


@router.get(
    "/persons/{person_id}/insurance",
    response_model=InsuredPublic,
    responses=NOT_FOUND,
    summary="A person's insurance record",
)
async def get_insured(person_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    require_person_reader(principal)
    state = await _commands(request).state(conn, person_id, principal)
    return answer(InsuredPublic.of(state).model_dump(mode="json"), state.version)


@router.get("/persons/{person_id}/contributions", summary="A person's contribution ledger, newest month first")
async def get_contributions(
    person_id: str, request: Request, principal: CurrentPrincipal, conn: DbConnection
) -> Response:
    require_person_reader(principal)
    await _commands(request).state(conn, person_id, principal)
    rows = await queries.person_contributions(conn, person_id)
    return json_response({"person_id": person_id, "months": rows})


@router.post(
    "/persons/{person_id}/enrolments",
    status_code=201,
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Enrol in one insurance type (参保登记)",
)
async def enrol(
    person_id: str, body: EnrolmentCreate, request: Request, command: Commands, expected: OptionalExpectedVersion
) -> Response:
    handlers = _commands(request)
    spec = enrolment.Enrol(body.insurance_type, body.basis, body.enrolled_on, body.employer_id)

    async def work(conn: Connection, meta: Metadata) -> InsuredChange:
        return InsuredChange.of(await handlers.enrol(conn, command.principal, person_id, spec, meta, expected))

    return await run_change(command, work, status_code=201)


def _end_route(action: str, summary: str) -> None:
    @router.post(
        f"/persons/{{person_id}}/enrolments/{{insurance_type}}/{action}",
        response_model=InsuredChange,
        responses=_CHANGE,
        summary=summary,
        name=f"enrolment_{action}",
    )
    async def end(
        person_id: str,
        insurance_type: InsuranceType,
        body: EnrolmentChange,
        request: Request,
        command: Commands,
        expected: OptionalExpectedVersion,
    ) -> Response:
        handlers = _commands(request)
        verb = {"suspension": "suspend", "resumption": "resume", "termination": "terminate"}[action]
        spec = enrolment.EndEnrolment(insurance_type, verb, body.on, body.reason)  # type: ignore[arg-type]

        async def work(conn: Connection, meta: Metadata) -> InsuredChange:
            return InsuredChange.of(
                await handlers.end_enrolment(conn, command.principal, person_id, spec, meta, expected)
            )

        return await run_change(command, work)


_end_route("suspension", "Suspend an enrolment, with the reason (暂停)")
_end_route("resumption", "Resume a suspended enrolment")
_end_route("termination", "Terminate an enrolment, with the reason (终止)")


@router.post(
    "/persons/{person_id}/unemployment-benefit",
    status_code=201,
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Claim the unemployment benefit (失业保险金); the decision names its articles",
)
async def claim_benefit(
    person_id: str, body: BenefitClaim, request: Request, command: Commands, if_match: IfMatchHeader = None
) -> Response:
    # If-Match is read here rather than as a dependency: the claim may be group-committed below, and the
    # version travels with it into the batch.
    expected = await optional_if_match(if_match)
    handlers = _commands(request)
    if command.metadata.idempotency_key:  # the answer is stored with the claim, in its own transaction

        async def work(conn: Connection, meta: Metadata) -> InsuredChange:
            return InsuredChange.of(
                await handlers.claim_benefit(conn, command.principal, person_id, body.claimed_on, meta, expected)
            )

        return await run_change(command, work, status_code=201)
    # With the other claims waiting, in one transaction (group commit): a county's claims day.
    batches: GroupCommit[Claim, Changed[InsuredState]] = request.app.state.claim_batches
    claim = Claim(command.principal, person_id, body.claimed_on, command.metadata, expected)
    for attempt in range(CONFLICT_RETRIES + 1):
        try:
            changed = await batches.submit(claim)
            break
        except Conflict:
            if expected is not None or attempt == CONFLICT_RETRIES:
                raise  # the caller named a version, or others keep changing the person
    return answer(InsuredChange.of(changed).model_dump(mode="json"), changed.version, status_code=201)


@router.post(
    "/persons/{person_id}/unemployment-benefit/payments",
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Pay one month of the benefit",
)
async def pay_benefit(person_id: str, body: BenefitPayment, request: Request, command: Commands) -> Response:
    handlers = _commands(request)

    async def work(conn: Connection, meta: Metadata) -> InsuredChange:
        return InsuredChange.of(await handlers.pay_benefit(conn, command.principal, person_id, body.month, meta))

    return await run_change(command, work)


@router.post(
    "/unemployment-benefit/payments",
    response_model=PaymentRun,
    responses=INVALID,
    summary="The monthly payment run: pay the month to every benefit in your region not yet paid for it",
)
async def pay_benefits(body: BenefitPayment, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    require_not_future_month(body.month, handlers.today())

    async def work(conn: Connection, meta: Metadata) -> PaymentRun:
        return PaymentRun(month=body.month, paid=await handlers.pay_benefits(conn, command.principal, body.month, meta))

    return await command.run(work, status_code=200)


@router.post(
    "/persons/{person_id}/unemployment-benefit/stop",
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Stop the benefit: refusal of suitable work, enlistment, emigration, prison (条例 Art 15)",
)
async def stop_benefit(person_id: str, body: BenefitStop, request: Request, command: Commands) -> Response:
    handlers = _commands(request)

    async def work(conn: Connection, meta: Metadata) -> InsuredChange:
        changed = await handlers.stop_benefit(
            conn, person_id, body.reason, body.stopped_on, meta, principal=command.principal
        )
        if not changed.events:
            raise RuleViolated("BenefitIsBeingPaid", f"person {person_id} draws no benefit", field="person_id")
        return InsuredChange.of(changed)

    return await run_change(command, work)


@router.post(
    "/retirees",
    status_code=201,
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Transfer a retiree into community management (退休人员社会化管理)",
)
async def transfer_in(body: RetireeCreate, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    spec = retirement.TransferIn(
        body.monthly_pension_fen, body.retired_on, body.contribution_years, body.transferred_on
    )

    async def work(conn: Connection, meta: Metadata) -> InsuredChange:
        return InsuredChange.of(await handlers.transfer_in(conn, command.principal, body.person_id, spec, meta))

    return await run_change(command, work, status_code=201)


@router.post(
    "/persons/{person_id}/certifications",
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Certify pension eligibility (资格认证); a suspended pension resumes with back pay",
)
async def certify(
    person_id: str, body: Certification, request: Request, command: Commands, expected: OptionalExpectedVersion
) -> Response:
    handlers = _commands(request)

    async def work(conn: Connection, meta: Metadata) -> InsuredChange:
        return InsuredChange.of(
            await handlers.certify(conn, command.principal, person_id, body.certified_on, meta, expected)
        )

    return await run_change(command, work)


@router.post("/retirees/suspensions", summary="Suspend the pensions whose certification is overdue, in your region")
async def suspend_overdue(body: SuspensionRun, request: Request, command: Commands) -> Response:
    handlers = _commands(request)
    as_of = body.as_of or handlers.today()

    async def work(conn: Connection, meta: Metadata) -> Suspended:
        return Suspended(as_of=as_of, suspended=await handlers.suspend_overdue(conn, command.principal, as_of, meta))

    return await command.run(work, status_code=200)


@router.get(
    "/regions/{region_code}/retirees/certification-due",
    summary="Retirees due for certification this month (or overdue), by village",
)
async def certification_due(
    region_code: str,
    request: Request,
    principal: CurrentPrincipal,
    conn: DbConnection,
    month: str | None = Query(default=None, pattern=MONTH_PATTERN),
) -> Response:
    require_person_reader(principal)
    principal.require_region(_region(region_code))
    today = _commands(request).today()
    year, number = parse_month(month) if month else (today.year, today.month)
    first, last = month_bounds(f"{year:04d}-{number:02d}")
    rows = await queries.certification_due(conn, region_code, first, last)
    return json_response({"month": f"{year:04d}-{number:02d}", "count": len(rows), "retirees": rows})


@router.get(
    "/regions/{region_code}/enrolment-expectations/overdue",
    summary="New hires not enrolled within 30 days (社会保险法 Art 58)",
)
async def overdue_expectations(
    region_code: str,
    request: Request,
    principal: CurrentPrincipal,
    conn: DbConnection,
    as_of: date | None = None,
    limit: int = Query(default=500, ge=1, le=5000),
) -> Response:
    require_person_reader(principal)
    principal.require_region(_region(region_code))
    day = as_of or _commands(request).today()
    rows = await queries.overdue_expectations(conn, region_code, day, limit)
    return json_response({"as_of": day.isoformat(), "count": len(rows), "overdue": rows})


@router.post(
    "/persons/{person_id}/death",
    status_code=201,
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Report a death (死亡报告): the pension stops from the next month; registration is told",
)
async def report_death(person_id: str, body: DeathReport, request: Request, command: Commands) -> Response:
    handlers = _commands(request)

    async def work(conn: Connection, meta: Metadata) -> InsuredChange:
        return InsuredChange.of(
            await handlers.report_death(conn, command.principal, person_id, body.died_on, body.reported_on, meta)
        )

    return await run_change(command, work, status_code=201)


@router.post(
    "/persons/{person_id}/survivor-benefits",
    status_code=201,
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Claim the funeral grant and survivor payment (丧葬补助金, 抚恤金)",
)
async def claim_survivor(person_id: str, body: SurvivorClaim, request: Request, command: Commands) -> Response:
    handlers = _commands(request)

    async def work(conn: Connection, meta: Metadata) -> InsuredChange:
        return InsuredChange.of(
            await handlers.claim_survivor(conn, command.principal, person_id, body.claimed_on, meta)
        )

    return await run_change(command, work, status_code=201)


@router.post(
    "/persons/{person_id}/survivor-benefits/payment",
    response_model=InsuredChange,
    responses=_CHANGE,
    summary="Pay the survivor claim",
)
async def pay_survivor(person_id: str, body: SurvivorPayment, request: Request, command: Commands) -> Response:
    handlers = _commands(request)

    async def work(conn: Connection, meta: Metadata) -> InsuredChange:
        return InsuredChange.of(await handlers.pay_survivor(conn, command.principal, person_id, body.paid_on, meta))

    return await run_change(command, work)
