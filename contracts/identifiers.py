"""Resident ID numbers (GB 11643-1999) and unified social credit codes (GB 32100-2015).

Both are validated by their check character; see RULES.md "Identifiers".
"""

from __future__ import annotations

import operator
import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Literal

from pydantic import WithJsonSchema

from contracts.validation import checked_by

ID_WEIGHTS: tuple[int, ...] = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
"""GB 11643-1999 weights W_i = 2^(18-i) mod 11 for the first 17 digits."""

ID_CHECK_CHARS = "10X98765432"
"""GB 11643-1999 check character indexed by S mod 11."""

PROVINCE_CODES: frozenset[str] = frozenset(
    str(code)
    for block in (range(11, 16), range(21, 24), range(31, 38), range(41, 47), range(50, 55), range(61, 66))
    for code in block
) | {"71", "81", "82"}
"""First two digits of GB/T 2260 codes that name a province-level division."""

# GB 11643-1999 gives 440524188001010014 (born 1880) as its own example, so the floor cannot be 1900.
MIN_BIRTH_YEAR = 1800

_ID_18 = re.compile(r"[0-9]{17}[0-9X]")
_ID_15 = re.compile(r"[0-9]{15}")


def citizen_id_check_character(body17: str) -> str:
    """Check character of a resident ID number from its first 17 digits (GB 11643-1999, ISO 7064 MOD 11-2)."""
    if len(body17) != 17 or not body17.isascii() or not body17.isdigit():
        raise ValueError(f"the first 17 characters of an ID number must be digits, got {body17!r}")
    # map() over the digits is several times cheaper than a generator expression on the registration hot path.
    total = sum(map(operator.mul, map(int, body17), ID_WEIGHTS))
    return ID_CHECK_CHARS[total % 11]


@dataclass(frozen=True)
class CitizenIdInfo:
    """What a resident ID number (GB 11643-1999) says about its holder."""

    number: str
    address_code: str
    birth_date: date
    sex: Literal["male", "female"]
    converted_from_15: bool


def parse_citizen_id(raw: str, *, today: date | None = None) -> CitizenIdInfo:
    """Validate a resident ID number (GB 11643-1999) and split it into its parts.

    Legacy 15-digit numbers are converted to 18 digits by inserting "19" before the birth date and
    computing the check character; ``converted_from_15`` says so.
    """
    text = raw.strip().upper()
    converted = len(text) == 15
    if converted:
        if not _ID_15.fullmatch(text):
            raise ValueError("an old 15-character ID number must be all digits")
        body = text[:6] + "19" + text[6:]
        text = body + citizen_id_check_character(body)
    elif len(text) != 18:
        raise ValueError(f"ID number must have 18 characters (or 15 for an old number), got {len(text)}")
    elif not _ID_18.fullmatch(text):
        raise ValueError("ID number must be 17 digits followed by a digit or X")
    else:
        expected = citizen_id_check_character(text[:17])
        if text[17] != expected:
            raise ValueError(f"check character should be {expected}, got {text[17]}")

    if text[:2] not in PROVINCE_CODES:
        raise ValueError(f"unknown province code {text[:2]} at the start of the ID number")

    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValueError(f"birth date {text[6:14]} in the ID number is not a real date") from None
    if birth.year < MIN_BIRTH_YEAR:
        raise ValueError(f"birth year {birth.year} in the ID number is before {MIN_BIRTH_YEAR}")
    if birth > (today or date.today()):
        raise ValueError(f"birth date {birth.isoformat()} in the ID number is in the future")

    return CitizenIdInfo(
        number=text,
        address_code=text[:6],
        birth_date=birth,
        sex="male" if int(text[16]) % 2 else "female",
        converted_from_15=converted,
    )


def _normalise_citizen_id(value: str) -> str:
    return parse_citizen_id(value).number


_CITIZEN_ID_DESCRIPTION = "Resident ID number (GB 11643-1999), 18 characters, check character X in upper case."

CitizenId = Annotated[
    str,
    checked_by("CitizenIdValid", _normalise_citizen_id),
    # Input may be an old 15-digit number or use a lower-case x; output is always the 18-character form.
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*([0-9]{17}[0-9Xx]|[0-9]{15})\s*$",
            "description": _CITIZEN_ID_DESCRIPTION + " Old 15-digit numbers are converted.",
            "examples": ["11010519491231002X"],
        },
        mode="validation",
    ),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9]{17}[0-9X]$",
            "description": _CITIZEN_ID_DESCRIPTION,
            "examples": ["11010519491231002X"],
        },
        mode="serialization",
    ),
]
"""Pydantic field type: a valid resident ID number, normalised to 18 characters (GB 11643-1999)."""


CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100-2015 alphabet: digits and 21 letters (no I, O, S, V, Z), valued 0..30."""

CREDIT_CODE_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
"""GB 32100-2015 weights W_i = 3^(i-1) mod 31."""

_CREDIT_VALUE = {char: value for value, char in enumerate(CREDIT_CODE_ALPHABET)}


def credit_code_check_character(body17: str) -> str:
    """Check character of a unified social credit code from its first 17 characters (GB 32100-2015)."""
    if len(body17) != 17 or any(char not in _CREDIT_VALUE for char in body17):
        raise ValueError(
            f"the first 17 characters of a credit code must come from {CREDIT_CODE_ALPHABET}, got {body17!r}"
        )
    total = sum(_CREDIT_VALUE[char] * weight for char, weight in zip(body17, CREDIT_CODE_WEIGHTS, strict=True))
    return CREDIT_CODE_ALPHABET[-total % 31]


@dataclass(frozen=True)
class CreditCodeInfo:
    """The parts of a unified social credit code (GB 32100-2015).

    ``registering_department`` is position 1 (e.g. 9 market regulation), ``category`` position 2,
    ``authority_code`` the GB/T 2260 code of the registering authority and ``organisation_code`` the
    GB 11714 organisation code. ``check_ok`` is False only for a legacy pilot code accepted on request.
    """

    code: str
    check_ok: bool
    registering_department: str
    category: str
    authority_code: str
    organisation_code: str


def parse_credit_code(raw: str, *, allow_legacy: bool = False) -> CreditCodeInfo:
    """Validate a unified social credit code (GB 32100-2015) and split it into its parts.

    Some early pilot codes are legal but fail the check; with ``allow_legacy`` they are returned with
    ``check_ok=False`` so the caller can flag them, otherwise a bad check character is an error.
    """
    code = raw.strip().upper()
    if len(code) != 18:
        raise ValueError(f"credit code must have 18 characters, got {len(code)}")
    bad = sorted({char for char in code if char not in _CREDIT_VALUE})
    if bad:
        raise ValueError(
            f"credit code may not contain {', '.join(bad)} (allowed: digits and letters except I, O, S, V, Z)"
        )
    expected = credit_code_check_character(code[:17])
    check_ok = code[17] == expected
    if not check_ok and not allow_legacy:
        raise ValueError(f"check character should be {expected}, got {code[17]}")
    return CreditCodeInfo(
        code=code,
        check_ok=check_ok,
        registering_department=code[0],
        category=code[1],
        authority_code=code[2:8],
        organisation_code=code[8:17],
    )


def _normalise_credit_code(value: str) -> str:
    return parse_credit_code(value).code


CreditCode = Annotated[
    str,
    checked_by("CreditCodeValid", _normalise_credit_code),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^[0-9A-HJ-NPQRTUWXY]{18}$",
            "description": "Unified social credit code (GB 32100-2015), 18 characters.",
            "examples": ["91350100M000100Y43"],
        }
    ),
]
"""Pydantic field type: a unified social credit code with a correct check character (GB 32100-2015)."""
