"""Routes of employment and unemployment registration (就业失业登记) on a ledger entry."""

from __future__ import annotations

from fastapi import APIRouter

from services.registration.api.deps import PersonRoute, add_person_changes
from services.registration.commands.employment import (
    deregister_unemployment,
    end_employment,
    register_employment,
    register_unemployment,
)
from services.registration.models import EmploymentCreate, EmploymentEnd, UnemploymentCreate, UnemploymentDeregistration

router = APIRouter(tags=["registration"])

EMPLOYMENT = "Employment registration (就业登记); flags a hire reported after 30 days"
END = "End of employment (终止/解除劳动关系); flags a termination reported after 15 days"
UNEMPLOYMENT = "Unemployment registration (失业登记)"
DEREGISTRATION = "Cancel an unemployment registration (注销失业登记)"

add_person_changes(
    router,
    [
        PersonRoute("/persons/{person_id}/employment", EmploymentCreate, register_employment, EMPLOYMENT),
        PersonRoute("/persons/{person_id}/employment/end", EmploymentEnd, end_employment, END),
        PersonRoute("/persons/{person_id}/unemployment", UnemploymentCreate, register_unemployment, UNEMPLOYMENT),
        PersonRoute(
            "/persons/{person_id}/unemployment/deregistration",
            UnemploymentDeregistration,
            deregister_unemployment,
            DEREGISTRATION,
        ),
    ],
)
