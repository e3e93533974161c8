"""Validators that name the rule they check, so a refusal tells the clerk which rule and not only why."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

T = TypeVar("T")


def checked_by(rule: str, check: Callable[[str], T]) -> AfterValidator:
    """A pydantic validator running ``check``; its ValueError becomes an error of type ``rule``.

    The error's type is what the HTTP layer reports as the problem's ``rule`` (e.g. ``CitizenIdValid``).
    """

    def validate(value: str) -> T:
        try:
            return check(value)
        except ValueError as exc:
            raise PydanticCustomError(rule, "{reason}", {"reason": str(exc)}) from None

    return AfterValidator(validate)
