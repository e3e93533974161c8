"""Registration's HTTP routes, one module per aggregate (the names of ``domain/`` and ``commands/``).

Each route is thin: typed dependencies give it the caller, the ledger and the version it expects; a read
answers with the stream's version as ETag; a change runs one command in one transaction
(docs/adr/0004-service-shape.md).
"""

from fastapi import APIRouter

from services.registration.api import (
    employer,
    employment,
    household,
    imports,
    person,
    search,
    service_point,
    staff,
    survey,
    vacancy,
)
from services.registration.api.person import REGISTER_PERSON

router = APIRouter()
for module in (person, employer, vacancy, service_point, staff, imports, employment, survey, search, household):
    router.include_router(module.router)

__all__ = ["REGISTER_PERSON", "router"]
