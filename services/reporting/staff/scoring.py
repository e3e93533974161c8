"""The monthly evaluation (月度考核评分): a score per staff member from the four parts, rankings within
township and county, the last places (末位) and the townships and villages that met their targets
(以奖代补). Pure: the settings and the month's credited work in, the evaluation out.

Parts, each 0 to 100 (docs/rules.md, "Staff performance"):
- workload (服务工作量): workload points against the role's monthly target, capped at 100;
- effect (服务效果): effect points (placements, households cleared in time, ...) against the role's target;
- cost (服务成本): output (workload and effect points) per yuan of the post's monthly funding, against the
  best of the county that month (the best gets 100);
- satisfaction (服务对象满意度): the mean rating, 1 -> 0 and 5 -> 100; without ratings the part is left
  out and the other parts share its weight.

The score is the weighted mean of the parts present, to two decimals. Rankings order by score, then by
subject; equal scores share a rank. Seed 003 (四) dismisses whoever ranks last twice running: last in the
county this month and the month before is ``dismissal_due``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

from services.reporting.staff.credit import KINDS
from services.reporting.staff.settings import StaffPerformanceSettings


@dataclass(frozen=True)
class StaffWork:
    """One staff member's month: the post and the credited work, kind by kind, with the events behind it."""

    staff_id: str
    subject: str
    role: str
    region_code: str
    township_code: str
    #: kind -> how many events of it were credited.
    counts: Mapping[str, int] = field(default_factory=dict)
    #: kind -> the ids of those events, oldest first (ratings: the rating events); empty when not asked for.
    events: Mapping[str, Sequence[str]] = field(default_factory=dict)
    #: The scores of the month's ratings.
    ratings: Sequence[int] = ()


@dataclass(frozen=True)
class Evaluation:
    """One staff member's score, its parts and where it ranks."""

    work: StaffWork
    workload_points: int
    effect_points: int
    monthly_funding_yuan: float
    parts: dict[str, float | None]
    score: float
    township_rank: int = 0
    township_size: int = 0
    county_rank: int = 0
    county_size: int = 0
    last_in_township: bool = False
    last_in_county: bool = False
    dismissal_due: bool = False


@dataclass(frozen=True)
class RegionTarget:
    """Whether a township or village met its month (以奖代补): its staff's mean score and placements."""

    region_code: str
    level: str
    staff: int
    mean_score: float | None
    placements: int
    placements_target: int
    met: bool


def points(work: StaffWork, part: str) -> int:
    """The work's points of one part (a placement earns 3, a service 1; docs/rules.md)."""
    return sum(KINDS[k].points * n for k, n in work.counts.items() if KINDS[k].part == part)


def _capped(value: float, target: float) -> float:
    return round(min(100.0, 100.0 * value / target), 2) if target > 0 else 0.0


def _ranks(evaluations: Sequence[Evaluation]) -> list[int]:
    """Competition ranks (1, 2, 2, 4) of evaluations already in order."""
    ranks: list[int] = []
    for n, e in enumerate(evaluations):
        ranks.append(ranks[-1] if n and e.score == evaluations[n - 1].score else n + 1)
    return ranks


def evaluate(
    works: Sequence[StaffWork],
    settings: StaffPerformanceSettings,
    year: int,
    *,
    last_before: frozenset[str] = frozenset(),
) -> list[Evaluation]:
    """Score and rank a county's staff for one month, best first; ``last_before``: the subjects last in the
    county the month before (for ``dismissal_due``)."""
    drafts = []
    for work in works:
        workload, effect = points(work, "workload"), points(work, "effect")
        funding = settings.funding(work.role, year) / 12
        drafts.append((work, workload, effect, funding, (workload + effect) / funding))
    best_value = max((d[4] for d in drafts), default=0.0)
    scored = []
    for work, workload, effect, funding, value in drafts:
        parts: dict[str, float | None] = {
            "workload": _capped(workload, settings.workload_target[work.role]),
            "cost": _capped(value, best_value),
            "effect": _capped(effect, settings.effect_target[work.role]),
            "satisfaction": (
                round(100.0 * (sum(work.ratings) / len(work.ratings) - 1) / 4, 2) if work.ratings else None
            ),
        }
        present = {p: v for p, v in parts.items() if v is not None}
        weight = sum(settings.weights[p] for p in present)
        score = round(sum(settings.weights[p] * v for p, v in present.items()) / weight, 2) if weight else 0.0
        scored.append(Evaluation(work, workload, effect, round(funding, 2), parts, score))
    scored.sort(key=lambda e: (-e.score, e.work.subject))
    county = _ranks(scored)
    by_township: dict[str, list[int]] = {}
    for n, e in enumerate(scored):
        by_township.setdefault(e.work.township_code, []).append(n)
    township_rank: dict[int, tuple[int, int]] = {}
    for members in by_township.values():
        for n, rank in zip(members, _ranks([scored[m] for m in members]), strict=True):
            township_rank[n] = (rank, len(members))
    last_county = county[-1] if scored else 0
    result = []
    for n, e in enumerate(scored):
        rank, size = township_rank[n]
        lowest = max(township_rank[m][0] for m in by_township[e.work.township_code])
        county_last = len(scored) > 1 and county[n] == last_county
        result.append(
            replace(
                e,
                township_rank=rank,
                township_size=size,
                county_rank=county[n],
                county_size=len(scored),
                last_in_township=size > 1 and rank == lowest,
                last_in_county=county_last,
                dismissal_due=county_last and e.work.subject in last_before,
            )
        )
    return result


def region_targets(evaluations: Sequence[Evaluation], settings: StaffPerformanceSettings) -> list[RegionTarget]:
    """Per township and village with staff: whether it met its month (以奖代补 list), by region code."""
    groups: dict[tuple[str, str], list[Evaluation]] = {}
    for e in evaluations:
        if e.work.township_code.endswith("000000"):
            continue  # the county bureau's own staff: no township or village to reward
        groups.setdefault((e.work.township_code, "township"), []).append(e)
        if e.work.region_code != e.work.township_code:
            groups.setdefault((e.work.region_code, "village"), []).append(e)
    targets = []
    for (code, level), members in sorted(groups.items()):
        mean = round(sum(e.score for e in members) / len(members), 2)
        placed = sum(e.work.counts.get("placement", 0) for e in members)
        target = settings.township_placements_target if level == "township" else settings.village_placements_target
        met = mean >= settings.reward_min_score and placed >= target
        targets.append(RegionTarget(code, level, len(members), mean, placed, target, met))
    return targets
