"""What every registration aggregate shares: a region must be known, a day must not be in the future, and a
stream's first event gives its state."""

from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any, TypeVar

from contracts.envelope import Event
from contracts.regions import Region, RegionLevel
from services.runtime.errors import RuleViolated

S = TypeVar("S")


def known_region(region: Region | None, code: str) -> Region:
    """The region a command names; 422 when the reference table does not know it."""
    if region is None:
        raise RuleViolated("RegionMustExist", f"unknown region {code}", field="region_code")
    return region


def region_at(region: Region | None, code: str, levels: tuple[RegionLevel, ...], rule: str, where: str) -> Region:
    """The known region a command names, at one of ``levels``: ``where`` says what sits there, e.g. "a
    person lives in a village or community"; 422 naming ``rule`` otherwise."""
    known = known_region(region, code)
    if known.level not in levels:
        raise RuleViolated(rule, f"{where}, but {known.code} {known.name} is a {known.level}", field="region_code")
    return known


def not_in_future(day: date, today: date, field_name: str, rule: str) -> None:
    """A recorded day must have happened already (``rule`` names which one)."""
    if day > today:
        raise RuleViolated(rule, f"{field_name} {day} is in the future (today is {today})", field=field_name)


def named_day_not_in_future(day: date | None, today: date | None, field_name: str, rule: str) -> None:
    """A past day a command may name (it happened then, not today) must have happened already: a caller that
    names one must say what today is."""
    if day is None:
        return
    if today is None:
        raise ValueError(f"{field_name} {day} needs today's date to check it against")
    not_in_future(day, today, field_name, rule)


def started_by(state_type: type[S], first: Event, **values: Any) -> S:
    """The state a stream's first event starts: every field of ``state_type`` the event carries, then ``values``."""
    carried = {f.name: getattr(first, f.name) for f in dataclasses.fields(state_type) if hasattr(first, f.name)}  # type: ignore[arg-type]
    return state_type(**{**carried, **values})


def not_first(kind: str, event: Event) -> ValueError:
    """The error for a stream whose first event does not start it."""
    return ValueError(f"a {kind} stream must start with its opening event, not {event.event_type}")
