"""Petition routes (来信来访): register, assign, answer."""

from __future__ import annotations

from datetime import date

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from services.runtime.db import Connection
from services.runtime.eventstore import Metadata
from services.runtime.http import Commands, CurrentPrincipal, DbConnection
from services.runtime.routes import INVALID, NOT_FOUND, answer
from services.supervision.api import Body, ChangeRoutes, Service, Supervision, run_change
from services.supervision.domain.limits import DeadlineView, deadline_view
from services.supervision.domain.petition import Channel, PetitionState

router = APIRouter(tags=["petitions"])


class PetitionerBody(Body):
    """The petitioner (信访人): stored encrypted, never published."""

    name: str = Field(min_length=1)
    phone: str | None = None


class PetitionCreate(Body):
    """A letter, visit, call or online message (信访登记)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "petitioner": {"name": "李四", "phone": "13900000002"},
                    "channel": "visit",
                    "subject": "反映某厂拖欠工资",
                }
            ]
        }
    )

    petitioner: PetitionerBody
    channel: Channel
    subject: str = Field(min_length=1, examples=["反映某厂拖欠工资"])
    region_code: str | None = None
    received_on: date | None = None


class AssignmentBody(Body):
    """Assign to an officer (交办)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"assignee": "inspector-1"}]})

    assignee: str = Field(min_length=1)
    assigned_on: date | None = None


class AnswerBody(Body):
    """Answer the petitioner (答复)."""

    model_config = ConfigDict(json_schema_extra={"examples": [{"summary": "已督促企业发放，企业承诺月底前付清"}]})

    summary: str = Field(min_length=1)
    answered_on: date | None = None


class PetitionPublic(BaseModel):
    """A petition with its answer limit (no petitioner identity)."""

    petition_id: str
    region_code: str
    channel: Channel
    subject: str
    received_on: date
    answer: DeadlineView
    assignee: str | None
    answered_on: date | None
    version: int


def petition_public(service: Supervision, state: PetitionState) -> PetitionPublic:
    """The answer about a petition."""
    ctx = service.context
    return PetitionPublic(
        petition_id=state.petition_id,
        region_code=state.region_code,
        channel=state.channel,
        subject=state.subject,
        received_on=state.received_on,
        answer=deadline_view(ctx.calendar, state.answer_due, state.provisional, ctx.today(), state.answered_on),
        assignee=state.assignee,
        answered_on=state.answered_on,
        version=state.version,
    )


@router.post("/petitions", status_code=201, response_model=PetitionPublic, responses=INVALID)
async def register_petition(body: PetitionCreate, service: Service, command: Commands) -> Response:
    """Register a petition where you work."""

    async def run(conn: Connection, meta: Metadata) -> PetitionPublic:
        changed = await service.petitions.register(
            conn, command.principal, body.region_code, body.petitioner.name, body.petitioner.phone, body.channel,
            body.subject, body.received_on, meta,
        )  # fmt: skip
        return petition_public(service, changed.after)

    return await run_change(command, run, 201)


@router.get("/petitions/{petition_id}", response_model=PetitionPublic, responses=NOT_FOUND)
async def get_petition(petition_id: str, service: Service, principal: CurrentPrincipal, conn: DbConnection) -> Response:
    """One petition."""
    state = await service.petitions.get(conn, principal, petition_id)
    return answer(petition_public(service, state), state.version)


_CHANGES = ChangeRoutes(router, "petition_id", petition_public, PetitionPublic)
_CHANGES.add(
    "/petitions/{petition_id}/assignment",
    AssignmentBody,
    "assign",
    "",
    lambda s, conn, who, petition_id, b, expected, meta: s.petitions.assign(
        conn, who, petition_id, b.assigned_on, b.assignee, expected, meta
    ),
    "Assign the petition.",
)
_CHANGES.add(
    "/petitions/{petition_id}/answer",
    AnswerBody,
    "answer_petition",
    "",
    lambda s, conn, who, petition_id, b, expected, meta: s.petitions.answer(
        conn, who, petition_id, b.answered_on, b.summary, expected, meta
    ),
    "Answer the petitioner.",
)
