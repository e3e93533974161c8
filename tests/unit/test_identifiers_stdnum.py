"""Our ID number and credit code checks against python-stdnum's (``stdnum.cn.ric``, ``stdnum.cn.uscc``).

An independent implementation of the same standards (GB 11643-1999, GB 32100-2015): where both judge a
number, they must agree. stdnum is narrower in two places, which the tests keep out of the comparison:
``cn.ric`` also looks the address code up in its own county list by birth year (so it knows no residence
permit, and refuses an address that did not yet exist when the holder was born), and
``cn.uscc`` wants digits in all of positions 1-8 (so it refuses the departments A, N and Y).
"""

from datetime import date

from hypothesis import given, settings
from hypothesis import strategies as st
from stdnum.cn import ric, uscc

from contracts.identifiers import (
    CREDIT_CODE_ALPHABET,
    REGISTERING_DEPARTMENTS,
    citizen_id_check_character,
    parse_citizen_id,
    parse_credit_code,
)

TODAY = date(2025, 6, 1)

#: stdnum reads its county database on first use, which takes longer than Hypothesis's 200 ms deadline on a
#: busy machine; the comparison is about answers, not speed.
no_deadline = settings(deadline=None)

digit_heads = sorted(
    department + category
    for department, (_, categories) in REGISTERING_DEPARTMENTS.items()
    if department.isdigit()
    for category in categories
)


@no_deadline
@given(st.from_regex(r"[0-9]{17}", fullmatch=True))
def test_id_check_character_agrees_with_stdnum(body):
    assert citizen_id_check_character(body) == ric.calc_check_digit(body + "0")


@no_deadline
@given(
    # Addresses stdnum's list has for every year from 1990 on, and the permits' fixed address codes.
    st.sampled_from(["430527", "110105", "441900", "370402", "810000", "830000"]),
    st.dates(min_value=date(1990, 1, 1), max_value=TODAY),
    st.from_regex(r"[0-9]{3}", fullmatch=True),
    st.sampled_from("0123456789X"),
)
def test_id_numbers_we_accept_and_stdnum_accepts_are_the_same_where_it_knows_the_address(address, born, seq, last):
    number = f"{address}{born:%Y%m%d}{seq}{last}"
    try:
        parse_citizen_id(number, today=TODAY)
        ours = True
    except ValueError:
        ours = False
    if address.startswith("8"):
        # stdnum's county list has no 810000/830000; the check character is still the same computation.
        assert ours == (last == ric.calc_check_digit(number))
    else:
        assert ours == ric.is_valid(number)


@no_deadline
@given(
    st.sampled_from(digit_heads),
    st.from_regex(r"[0-9]{6}", fullmatch=True),
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=10, max_size=10),
)
def test_credit_codes_with_digit_departments_agree_with_stdnum(head, authority, rest):
    code = head + authority + rest
    try:
        parse_credit_code(code)
        ours = True
    except ValueError:
        ours = False
    assert ours == uscc.is_valid(code)
