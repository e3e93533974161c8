"""Money as whole fen (分, 0.01 yuan): integers everywhere, never floats (docs/rules.md, "Insurance")."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated

from pydantic import Field, Strict

#: The largest amount any store keeps (Postgres ``bigint``); beyond it a value is refused as input, not
#: failed on at the database.
MAX_FEN = 2**63 - 1

Fen = Annotated[int, Strict(), Field(ge=-MAX_FEN, le=MAX_FEN)]
"""Pydantic field type: an amount in fen. Strict, so floats, bools and strings are rejected, not coerced."""

NonNegativeFen = Annotated[int, Strict(), Field(ge=0, le=MAX_FEN)]
"""Pydantic field type: an amount in fen that is zero or more."""

# Either plain digits or correctly grouped thousands, then at most two decimals.
_YUAN = re.compile(r"-?(?:[0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?")


def format_yuan(fen: int) -> str:
    """An amount in fen written as yuan with thousands separators, e.g. 123456 -> "1,234.56"."""
    sign = "-" if fen < 0 else ""
    yuan, cents = divmod(abs(fen), 100)
    return f"{sign}{yuan:,}.{cents:02d}"


def yuan_to_fen(text: str) -> int:
    """Parse an amount in yuan ("1234.56", "1,234.5", "12") exactly into fen."""
    stripped = text.strip()
    match = _YUAN.fullmatch(stripped)
    if match is None:
        raise ValueError(f"not an amount in yuan: {text!r}")
    if match.group(1) is not None and len(match.group(1)) > 2:
        raise ValueError(f"amount {text!r} has more than 2 decimal places; the smallest unit is 1 fen")
    return int(Decimal(stripped.replace(",", "")) * 100)
