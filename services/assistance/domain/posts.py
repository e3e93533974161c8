"""Public-welfare posts (公益性岗位): a unit's posts with a count, a monthly subsidy and a term.

Posts are for certified hard-to-employ persons (就业促进法 Art 55); filling one places its occupant
(安置就业). The term is at most 3 years by default (a setting); an occupant leaves on exit or when the
post's term ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from contracts import assistance as a
from contracts.envelope import Event
from services.assistance.domain import Policy, years_after
from services.runtime.errors import RuleViolated


@dataclass(frozen=True)
class PostState:
    """A post as its stream tells it; ``occupants`` maps person ids to the end of their placement."""

    post_id: str
    region_code: str
    version: int
    unit: str
    title: str
    positions: int
    monthly_subsidy_fen: int
    term_starts_on: date
    term_ends_on: date
    occupants: dict[str, date] = field(default_factory=dict)
    ended_on: date | None = None

    @property
    def vacant(self) -> int:
        """Positions not taken."""
        return self.positions - len(self.occupants)


def evolve_post(state: PostState | None, event: Event) -> PostState:
    """The post after one more of its events."""
    if isinstance(event, a.PublicWelfarePostCreated):
        return PostState(
            event.post_id,
            event.region_code,
            1,
            event.unit,
            event.title,
            event.positions,
            event.monthly_subsidy_fen,
            event.term_starts_on,
            event.term_ends_on,
        )
    assert state is not None, f"{event.event_type} before PublicWelfarePostCreated"
    state = replace(state, version=state.version + 1)
    if isinstance(event, a.PublicWelfarePostFilled):
        return replace(state, occupants={**state.occupants, event.person_id: event.ends_on})
    if isinstance(event, a.PublicWelfarePostExited):
        return replace(state, occupants={k: v for k, v in state.occupants.items() if k != event.person_id})
    if isinstance(event, a.PublicWelfarePostTermEnded):
        return replace(state, occupants={}, ended_on=event.ended_on)
    return state


@dataclass(frozen=True)
class CreatePost:
    """Develop a post (开发公益性岗位)."""

    post_id: str
    region_code: str
    unit: str
    title: str
    positions: int
    monthly_subsidy_fen: int
    term_starts_on: date
    term_ends_on: date


def decide_create_post(command: CreatePost, policy: Policy) -> list[a.PublicWelfarePostCreated]:
    """A post with a term that ends after it starts and lasts at most the longest term."""
    if command.term_ends_on <= command.term_starts_on:
        raise RuleViolated("TermEndsAfterStart", "term_ends_on must be after term_starts_on", field="term_ends_on")
    longest = years_after(command.term_starts_on, policy.post_max_term_years)
    if command.term_ends_on > longest:
        raise RuleViolated(
            "PostTermAtMostThreeYears" if policy.post_max_term_years == 3 else "PostTermWithinLimit",
            f"a post's term is at most {policy.post_max_term_years} years: until {longest} at the latest",
            field="term_ends_on",
        )
    return [
        a.PublicWelfarePostCreated(
            post_id=command.post_id,
            region_code=command.region_code,
            unit=command.unit,
            title=command.title,
            positions=command.positions,
            monthly_subsidy_fen=command.monthly_subsidy_fen,
            term_starts_on=command.term_starts_on,
            term_ends_on=command.term_ends_on,
        )
    ]


def decide_fill(
    state: PostState,
    *,
    person_id: str,
    case_id: str,
    certification_id: str | None,
    started_on: date,
    ends_on: date | None,
) -> list[a.PublicWelfarePostFilled]:
    """A certified person takes a position while the term runs and a position is free."""
    if state.ended_on is not None:
        raise RuleViolated("PostTermRunning", f"the post's term ended on {state.ended_on}", field="post_id")
    if certification_id is None:
        raise RuleViolated(
            "PostForCertifiedHardToEmploy",
            f"person {person_id} is not certified hard to employ (就业促进法 Art 55)",
            field="person_id",
        )
    if person_id in state.occupants:
        raise RuleViolated("PersonHoldsPostOnce", f"person {person_id} already holds this post", field="person_id")
    if state.vacant < 1:
        raise RuleViolated("PostHasVacancy", f"all {state.positions} positions of the post are filled", field="post_id")
    until = ends_on or state.term_ends_on
    if not state.term_starts_on <= started_on < until <= state.term_ends_on:
        raise RuleViolated(
            "PlacementWithinTerm",
            f"the placement must start and end within the term {state.term_starts_on} to {state.term_ends_on}",
            field="started_on",
        )
    return [
        a.PublicWelfarePostFilled(
            post_id=state.post_id,
            region_code=state.region_code,
            person_id=person_id,
            case_id=case_id,
            certification_id=certification_id,
            started_on=started_on,
            ends_on=until,
        )
    ]


def decide_exit(state: PostState, person_id: str, reason: str, on: date) -> list[a.PublicWelfarePostExited]:
    """An occupant leaves the post (退出)."""
    if person_id not in state.occupants:
        raise RuleViolated("ExitOfAnOccupant", f"person {person_id} does not hold this post", field="person_id")
    return [
        a.PublicWelfarePostExited(
            post_id=state.post_id, region_code=state.region_code, person_id=person_id, exited_on=on, reason=reason
        )
    ]


def decide_term_end(state: PostState, on: date) -> list[a.PublicWelfarePostTermEnded]:
    """The post's term has run out; its occupants leave it."""
    if state.ended_on is not None:
        raise RuleViolated("PostTermRunning", f"the post's term already ended on {state.ended_on}", field="post_id")
    if on < state.term_ends_on:
        raise RuleViolated("PostTermReached", f"the term runs until {state.term_ends_on}", field="ended_on")
    return [
        a.PublicWelfarePostTermEnded(
            post_id=state.post_id, region_code=state.region_code, ended_on=on, occupants=sorted(state.occupants)
        )
    ]


def ending_within(state: PostState, today: date, days: int) -> bool:
    """Whether a running post's term ends within ``days`` of ``today`` (so its occupants need a next step)."""
    return state.ended_on is None and (state.term_ends_on - today).days <= days
