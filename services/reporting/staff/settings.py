"""The evaluation's settings: weights of the four parts, each post's funding, the monthly targets.

Environment variables with the prefix ``STAFF_`` (JSON for the mappings), e.g.
``STAFF_WEIGHTS='{"workload": 40, "cost": 10, "effect": 30, "satisfaction": 20}'`` or
``STAFF_FUNDING_BY_YEAR='{"2027": {"broker": 6000}}'``. The defaults follow seed 003 (docs/rules.md,
"Staff performance").
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from contracts.registration import STAFF_ROLES

#: The four parts of seed 003 (四): 服务工作量、服务成本、服务效果、服务对象满意度.
SCORE_PARTS = ("workload", "cost", "effect", "satisfaction")


def _every_role(values: dict[str, int], what: str) -> dict[str, int]:
    missing = [role for role in STAFF_ROLES if role not in values]
    unknown = [role for role in values if role not in STAFF_ROLES]
    if missing or unknown:
        raise ValueError(f"{what} needs every role {', '.join(STAFF_ROLES)}: missing {missing}, unknown {unknown}")
    if any(v <= 0 for v in values.values()):
        raise ValueError(f"{what} must be positive")
    return values


class StaffPerformanceSettings(BaseSettings):
    """How the county scores its service network each month."""

    model_config = SettingsConfigDict(env_prefix="STAFF_", env_file=None, extra="ignore")

    #: Weight of each part in the score; a part without data (no rating yet) leaves the others to share it.
    weights: dict[str, float] = Field(
        default_factory=lambda: {"workload": 30.0, "cost": 20.0, "effect": 30.0, "satisfaction": 20.0}
    )
    #: Yearly funding of a post from the employment fund, in yuan: seed 003 (三) pays 30,000 per guidance
    #: officer and 5,000 per village broker; coordinators and clerks default to the guidance officer's.
    funding_yuan: dict[str, int] = Field(
        default_factory=lambda: {"broker": 5_000, "guidance_officer": 30_000, "coordinator": 30_000, "clerk": 30_000}
    )
    #: Other years' funding, by year then role (roles left out keep ``funding_yuan``).
    funding_by_year: dict[int, dict[str, int]] = Field(default_factory=dict)
    #: Workload points a month that earn the full workload part, per role.
    workload_target: dict[str, int] = Field(
        default_factory=lambda: {"broker": 20, "guidance_officer": 40, "coordinator": 30, "clerk": 30}
    )
    #: Effect points a month that earn the full effect part, per role (a placement is 3).
    effect_target: dict[str, int] = Field(
        default_factory=lambda: {"broker": 6, "guidance_officer": 12, "coordinator": 6, "clerk": 6}
    )
    #: 以奖代补 (seed 004 五(三)): a township or village meets its month when its staff's mean score reaches
    #: this and they placed at least the target below.
    reward_min_score: float = 80.0
    township_placements_target: int = 3
    village_placements_target: int = 1

    @field_validator("weights")
    @classmethod
    def _weights(cls, values: dict[str, float]) -> dict[str, float]:
        if set(values) != set(SCORE_PARTS):
            raise ValueError(f"weights needs exactly {', '.join(SCORE_PARTS)}, got {', '.join(values)}")
        if any(v < 0 for v in values.values()) or not sum(values.values()):
            raise ValueError("weights must be non-negative and not all zero")
        return values

    @field_validator("funding_yuan", "workload_target", "effect_target")
    @classmethod
    def _per_role(cls, values: dict[str, int]) -> dict[str, int]:
        return _every_role(values, "a per-role setting")

    def funding(self, role: str, year: int) -> int:
        """A post's yearly funding in yuan."""
        return self.funding_by_year.get(year, {}).get(role, self.funding_yuan[role])
