"""Insurance's HTTP routes: thin, each one a command or a query. One module per aggregate."""

from __future__ import annotations

from fastapi import APIRouter

from services.insurance.api.contributions import router as contributions_router
from services.insurance.api.employers import router as employers_router
from services.insurance.api.enrolments import router as enrolments_router
from services.insurance.api.insured import router as insured_router


def router() -> APIRouter:
    """Every insurance route."""
    combined = APIRouter()
    for part in (insured_router, enrolments_router, employers_router, contributions_router):
        combined.include_router(part)
    return combined
