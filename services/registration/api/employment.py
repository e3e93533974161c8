"""Routes of employment and unemployment registration (就业失业登记) on a ledger entry."""

from __future__ import annotations

from fastapi import APIRouter

from services.registration.api.deps import add_person_change
from services.registration.commands.employment import (
    deregister_unemployment,
    end_employment,
    register_employment,
    register_unemployment,
)
from services.registration.models.employment import (
    EmploymentCreate,
    EmploymentEnd,
    UnemploymentCreate,
    UnemploymentDeregistration,
)

router = APIRouter(tags=["registration"])

add_person_change(router, "/persons/{person_id}/employment", EmploymentCreate, register_employment)
add_person_change(router, "/persons/{person_id}/employment/end", EmploymentEnd, end_employment)
add_person_change(router, "/persons/{person_id}/unemployment", UnemploymentCreate, register_unemployment)
add_person_change(
    router, "/persons/{person_id}/unemployment/deregistration", UnemploymentDeregistration, deregister_unemployment
)
