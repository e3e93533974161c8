"""Matching (人岗匹配): open vacancies ranked for a job seeker, each with the reasons for its place.

Points, highest first: the occupation sought (40 exact, 20 related), each skill the vacancy names (10,
at most 30), closeness in the region tree (30 same village, 20 same township, 10 same county) and the
wage (20 when the top of the range reaches the wage expected; without an expectation 1 per 1,000 yuan,
at most 20). Ties go to the better-paid vacancy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from contracts.money import format_yuan
from services.assistance.domain.cases import OpenVacancy, Profile

OCCUPATION_EXACT, OCCUPATION_RELATED = 40, 20
SKILL_POINTS, SKILL_CAP = 10, 30
#: Points by the length of the region code prefix two places share (village 12, township 9, county 6).
DISTANCE_POINTS = ((12, 30, "same village"), (9, 20, "same township"), (6, 10, "same county"))
WAGE_POINTS = 20


@dataclass(frozen=True)
class Match:
    """One vacancy's place in the ranking and why."""

    vacancy: OpenVacancy
    score: int
    reasons: tuple[str, ...]


def _occupation(profile: Profile, vacancy: OpenVacancy) -> tuple[int, str | None]:
    wanted = [o.strip().lower() for o in profile.occupations if o.strip()]
    occupation = vacancy.occupation.strip().lower()
    if occupation in wanted:
        return OCCUPATION_EXACT, f"occupation {vacancy.occupation} is one the person seeks"
    related = next((o for o in wanted if o in occupation or occupation in o), None)
    if related is not None:
        return OCCUPATION_RELATED, f"occupation {vacancy.occupation} is related to {related} sought"
    return 0, None


def _skills(profile: Profile, vacancy: OpenVacancy) -> tuple[int, str | None]:
    text = f"{vacancy.occupation} {vacancy.requirements or ''}".lower()
    named = [s for s in profile.skills if s.strip() and s.strip().lower() in text]
    if not named:
        return 0, None
    return min(SKILL_CAP, SKILL_POINTS * len(named)), f"asks for skills the person has: {', '.join(named)}"


def _distance(home: str, vacancy: OpenVacancy) -> tuple[int, str]:
    for length, points, words in DISTANCE_POINTS:
        if home[:length] == vacancy.region_code[:length]:
            return points, words
    return 0, "outside the person's county"


def _wage(profile: Profile, vacancy: OpenVacancy) -> tuple[int, str]:
    top = format_yuan(vacancy.wage_max_fen)
    expected = profile.expected_wage_fen
    if expected is None:
        return min(
            WAGE_POINTS, vacancy.wage_max_fen // 100_000
        ), f"pays up to {top} yuan a month (no expectation recorded)"
    if vacancy.wage_max_fen >= expected:
        return WAGE_POINTS, f"pays up to {top} yuan, at least the {format_yuan(expected)} expected"
    return 0, f"pays at most {top} yuan, below the {format_yuan(expected)} expected"


def rank(profile: Profile, home_region: str, vacancies: Sequence[OpenVacancy], limit: int = 20) -> list[Match]:
    """Open vacancies with positions left, best first, each with its reasons."""
    matches = []
    for vacancy in vacancies:
        if not vacancy.is_open or vacancy.remaining < 1:
            continue
        parts = [
            _occupation(profile, vacancy),
            _skills(profile, vacancy),
            _distance(home_region, vacancy),
            _wage(profile, vacancy),
        ]
        score = sum(points for points, _ in parts)
        reasons = tuple(reason for _, reason in parts if reason)
        matches.append(Match(vacancy, score, reasons))
    matches.sort(key=lambda m: (-m.score, -m.vacancy.wage_max_fen, m.vacancy.vacancy_id))
    return matches[:limit]
