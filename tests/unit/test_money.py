"""Money is integer fen, never floats (docs/rules.md, "Insurance")."""

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from contracts.money import Fen, NonNegativeFen, format_yuan, yuan_to_fen


class Payment(BaseModel):
    amount: Fen
    balance: NonNegativeFen = 0


def test_integers_are_accepted():
    assert Payment(amount=-500, balance=0).amount == -500
    assert Payment.model_validate_json('{"amount": 123456}').amount == 123456


@pytest.mark.parametrize("value", [12.0, 12.5, True, "12.5", "12"])
def test_floats_bools_and_strings_are_field_errors(value):
    with pytest.raises(ValidationError) as caught:
        Payment(amount=value)
    assert caught.value.errors()[0]["loc"] == ("amount",)


@pytest.mark.parametrize("payload", ['{"amount": 1.0}', '{"amount": true}', '{"amount": "1"}'])
def test_json_floats_bools_and_strings_are_rejected(payload):
    with pytest.raises(ValidationError):
        Payment.model_validate_json(payload)


def test_non_negative_fen():
    with pytest.raises(ValidationError) as caught:
        Payment(amount=0, balance=-1)
    assert caught.value.errors()[0]["loc"] == ("balance",)
    with pytest.raises(ValidationError):
        Payment(amount=0, balance=1.0)


@pytest.mark.parametrize(
    ("fen", "text"),
    [
        (0, "0.00"),
        (5, "0.05"),
        (-5, "-0.05"),
        (123456, "1,234.56"),
        (-123456, "-1,234.56"),
        (100000000, "1,000,000.00"),
    ],
)
def test_format_yuan(fen, text):
    assert format_yuan(fen) == text


@pytest.mark.parametrize(
    ("text", "fen"),
    [
        ("1234.56", 123456),
        ("1,234.5", 123450),
        ("12", 1200),
        (" 0.07 ", 7),
        ("-0.05", -5),
        ("1,000,000", 100000000),
        ("0.29", 29),
    ],
)
def test_yuan_to_fen(text, fen):
    assert yuan_to_fen(text) == fen


def test_more_than_two_decimals_is_rejected():
    with pytest.raises(ValueError, match="more than 2 decimal places"):
        yuan_to_fen("1.234")


@pytest.mark.parametrize("text", ["", "abc", "1.", ".5", "1,23", "12,34.5", "1e3", "¥12", "1.2.3", "+1"])
def test_non_amounts_are_rejected(text):
    with pytest.raises(ValueError, match="not an amount in yuan"):
        yuan_to_fen(text)


@given(st.integers(-(10**12), 10**12))
def test_format_and_parse_round_trip(fen):
    assert yuan_to_fen(format_yuan(fen)) == fen
