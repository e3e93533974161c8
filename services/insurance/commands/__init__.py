"""Insurance command handlers: load what the rules need, decide, append, in one transaction.

One module per aggregate: ``insured`` (a person's enrolments, benefits, pension and death),
``employer_account`` (arrears), ``contributions`` (bulk posting of a month's contribution file).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from services.insurance.domain.contributions import BaseBounds
from services.runtime.auth import Principal, Role
from services.runtime.errors import Forbidden, RuleViolated

#: Roles that enter insurance business: the village station, the township office, the county bureau.
CLERKS = frozenset({Role.VILLAGE, Role.TOWNSHIP, Role.COUNTY, Role.ADMIN})


def require_clerk(principal: Principal) -> None:
    """Only staff of the service network write; analysts and inspectors read."""
    if principal.role not in CLERKS:
        raise Forbidden(f"a {principal.role} may not change insurance records")


def require_person_reader(principal: Principal) -> None:
    """Analysts read aggregates only, never a person."""
    if not principal.sees_persons:
        raise Forbidden("analysts read aggregates only")


@dataclass(frozen=True)
class Policy:
    """The provincial figures the rules need (settings, per province and year)."""

    bounds: BaseBounds
    #: The monthly unemployment benefit (失业保险金标准), in fen: set by the province, below the minimum wage.
    unemployment_benefit_fen: int
    #: Province code -> year -> urban per-capita monthly disposable income, in fen (人社部发〔2021〕18号).
    monthly_income_fen: dict[str, dict[int, int]] = field(default_factory=dict)
    #: Days within which an employer enrols a new hire (社会保险法 Art 58).
    enrolment_days: int = 30

    def income(self, province_code: str, year: int) -> int:
        """The province's monthly income figure of ``year``; 422 when the setting does not have it."""
        try:
            return self.monthly_income_fen[province_code][year]
        except KeyError:
            raise RuleViolated(
                "ProvinceIncomeFigureKnown",
                f"no urban per-capita disposable income is set for province {province_code} and year {year}"
                " (setting PROVINCE_MONTHLY_INCOME_FEN)",
                field="province_code",
            ) from None
