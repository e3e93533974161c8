"""ID numbers (GB 11643-1999) and unified social credit codes (GB 32100-2015), docs/rules.md examples."""

import re
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from contracts.identifiers import (
    CREDIT_CODE_ALPHABET,
    ID_CHECK_CHARS,
    ID_WEIGHTS,
    REGISTERING_DEPARTMENTS,
    RESIDENT_ID_PROVINCE_CODES,
    CitizenId,
    CitizenIdInfo,
    CreditCode,
    citizen_id_check_character,
    credit_code_check_character,
    parse_citizen_id,
    parse_credit_code,
)

TODAY = date(2025, 6, 1)


def with_check(body17: str) -> str:
    return body17 + citizen_id_check_character(body17)


def test_constants_match_the_standard():
    assert tuple(2 ** (17 - i) % 11 for i in range(17)) == ID_WEIGHTS
    assert ID_CHECK_CHARS == "10X98765432"
    assert len(CREDIT_CODE_ALPHABET) == 31
    assert not set("IOSVZ") & set(CREDIT_CODE_ALPHABET)


@pytest.mark.parametrize("number", ["11010519491231002X", "440524188001010014", "34052419800101001X"])
def test_rules_examples_are_valid(number):
    info = parse_citizen_id(number, today=TODAY)
    assert info.number == number
    assert not info.converted_from_15
    assert citizen_id_check_character(number[:17]) == number[17]


def test_parts_of_an_id_number():
    assert parse_citizen_id("11010519491231002X") == CitizenIdInfo(
        number="11010519491231002X",
        address_code="110105",
        birth_date=date(1949, 12, 31),
        sex="female",
        converted_from_15=False,
    )
    assert parse_citizen_id("440524188001010014").sex == "male"


def test_whitespace_and_lowercase_x_are_normalised():
    assert parse_citizen_id("  11010519491231002x\n").number == "11010519491231002X"


def test_legacy_15_digit_number_is_converted():
    info = parse_citizen_id("110105491231002")
    assert info.number == "11010519491231002X"
    assert info.converted_from_15
    assert info.birth_date == date(1949, 12, 31)
    assert info.sex == "female"


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("1101051949123100", "must have 18 characters (or 15 for an old number), got 16"),
        ("11010519491231002XX", "got 19"),
        ("", "got 0"),
        ("1101051949123100A2", "17 digits followed by a digit or X"),
        ("X10105194912310021", "17 digits followed by a digit or X"),
        ("11010549123100X", "old 15-character ID number must be all digits"),
        ("110105194912310021", "check character should be X, got 1"),
        (with_check("11010519800230001"), "birth date 19800230 in the ID number is not a real date"),
        ("110105800230001", "birth date 19800230"),
        (with_check("00010519491231002"), "unknown province code 00"),
        (with_check("77010519491231002"), "unknown province code 77"),
        (with_check("11010517991231002"), "birth year 1799 in the ID number is before 1800"),
        (with_check("11010520250602001"), "birth date 2025-06-02 in the ID number is in the future"),
    ],
)
def test_rejections_name_the_reason(raw, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_citizen_id(raw, today=TODAY)


def test_born_today_is_not_future():
    assert parse_citizen_id(with_check("11010520250601001"), today=TODAY).birth_date == TODAY


def test_check_character_needs_17_digits():
    with pytest.raises(ValueError, match="must be digits"):
        citizen_id_check_character("1101051949123100")


id_bodies = st.builds(
    lambda province, county, birth, sequence: f"{province}{county}{birth:%Y%m%d}{sequence}",
    st.sampled_from(sorted(RESIDENT_ID_PROVINCE_CODES)),
    st.from_regex(r"[0-9]{4}", fullmatch=True),
    st.dates(min_value=date(1800, 1, 1), max_value=TODAY),
    st.from_regex(r"[0-9]{3}", fullmatch=True),
)


@given(id_bodies)
def test_any_valid_body_with_its_check_character_validates(body):
    number = body + citizen_id_check_character(body)
    assert parse_citizen_id(number, today=TODAY).number == number


@given(id_bodies, st.integers(0, 17), st.sampled_from("0123456789X"))
def test_any_single_character_change_is_rejected(body, position, replacement):
    number = body + citizen_id_check_character(body)
    if number[position] == replacement:
        return
    changed = number[:position] + replacement + number[position + 1 :]
    with pytest.raises(ValueError):
        parse_citizen_id(changed, today=TODAY)


def test_credit_code_rules_example():
    info = parse_credit_code("91350100M000100Y43")
    assert info.check_ok
    assert (info.registering_department, info.category) == ("9", "1")
    assert info.authority_code == "350100"
    assert info.organisation_code == "M000100Y4"
    assert credit_code_check_character("91350100M000100Y4") == "3"


def test_credit_code_is_uppercased():
    assert parse_credit_code(" 91350100m000100y43 ").code == "91350100M000100Y43"


def test_bad_credit_check_is_an_error_unless_legacy_allowed():
    with pytest.raises(ValueError, match="check character should be 3, got 4"):
        parse_credit_code("91350100M000100Y44")
    legacy = parse_credit_code("91350100M000100Y44", allow_legacy=True)
    assert legacy.code == "91350100M000100Y44"
    assert not legacy.check_ok


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        ("91350100M000100Y4", "must have 18 characters, got 17"),
        ("91350100M000100Y433", "got 19"),
        ("91350100O000100Y43", "may not contain O"),
        ("91350100M0001-0Y43", "may not contain -"),
    ],
)
def test_credit_code_shape_errors_raise_even_for_legacy(raw, reason):
    with pytest.raises(ValueError, match=reason):
        parse_credit_code(raw, allow_legacy=True)


credit_bodies = st.builds(
    lambda head, authority, organisation: head + authority + organisation,
    st.sampled_from(
        sorted(department + category for department, (_, cats) in REGISTERING_DEPARTMENTS.items() for category in cats)
    ),
    st.from_regex(r"[0-9]{6}", fullmatch=True),
    st.text(alphabet=CREDIT_CODE_ALPHABET, min_size=9, max_size=9),
)


@given(credit_bodies)
def test_any_credit_body_with_its_check_character_validates(body):
    code = body + credit_code_check_character(body)
    assert parse_credit_code(code).check_ok


@given(credit_bodies, st.integers(0, 17), st.sampled_from(CREDIT_CODE_ALPHABET + "IOSVZ"))
def test_any_single_credit_character_change_is_rejected(body, position, replacement):
    code = body + credit_code_check_character(body)
    if code[position] == replacement:
        return
    with pytest.raises(ValueError):
        parse_credit_code(code[:position] + replacement + code[position + 1 :])


class Person(BaseModel):
    citizen_id: CitizenId
    employer: CreditCode | None = None


def test_annotated_types_normalise_in_models():
    person = Person(citizen_id="110105491231002", employer="91350100m000100y43")
    assert person.citizen_id == "11010519491231002X"
    assert person.employer == "91350100M000100Y43"


def test_annotated_types_give_field_errors_named_by_their_rule():
    with pytest.raises(ValidationError) as caught:
        Person(citizen_id="110105194912310021", employer="91350100M000100Y44")
    errors = {error["loc"]: (error["type"], error["msg"]) for error in caught.value.errors()}
    assert errors[("citizen_id",)] == ("CitizenIdValid", "check character should be X, got 1")
    assert errors[("employer",)] == ("CreditCodeValid", "check character should be 3, got 4")


def test_json_schema_is_informative():
    properties = Person.model_json_schema()["properties"]
    assert properties["citizen_id"]["examples"] == ["11010519491231002X"]
    assert "GB 11643-1999" in properties["citizen_id"]["description"]
    assert "pattern" in properties["citizen_id"]
    assert Person.model_json_schema(mode="serialization")["properties"]["citizen_id"]["pattern"] == (
        "^[0-9]{17}[0-9X]$"
    )


# --- other identity documents numbered like GB 11643 (issue 16, item 5) ---------------------------------


def test_a_resident_id_says_it_is_one():
    info = parse_citizen_id("430527199003070011", today=TODAY)
    assert (info.document_type, info.nationality_code) == ("resident_id", None)
    assert parse_citizen_id("110105491231002").document_type == "resident_id"


@pytest.mark.parametrize(
    ("body", "document_type"),
    [
        ("81000019900307001", "hk_macao_residence_permit"),  # Hong Kong resident, 港澳居民居住证
        ("82000019851231002", "hk_macao_residence_permit"),  # Macao resident
        ("83000019700101003", "taiwan_residence_permit"),  # Taiwan resident, 台湾居民居住证
    ],
)
def test_residence_permits_of_hong_kong_macao_and_taiwan_residents_are_accepted_with_their_type(body, document_type):
    info = parse_citizen_id(with_check(body), today=TODAY)
    assert info.document_type == document_type
    assert info.address_code == body[:6]
    assert info.birth_date == date(int(body[6:10]), int(body[10:12]), int(body[12:14]))
    assert info.sex == ("male" if int(body[16]) % 2 else "female")


def test_a_2023_foreigners_permanent_residence_id_is_accepted_with_province_and_nationality():
    # 9, issued in Beijing (11), nationality 840 (GB/T 2659: United States), born 1980-01-01, sequence 002.
    info = parse_citizen_id(with_check("91184019800101002"), today=TODAY)
    assert info.document_type == "foreign_permanent_residence_id"
    assert (info.address_code, info.nationality_code) == ("110000", "840")
    assert (info.birth_date, info.sex) == (date(1980, 1, 1), "female")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("81030019900307001", "starting 81 is a residence permit number, which starts 810000"),
        ("82010019851231002", "which starts 820000"),
        ("83052719700101003", "which starts 830000"),
        ("98184019800101002", "81 is not a mainland province code"),
        ("97184019800101002", "71 is not a mainland province code"),
        ("90084019800101002", "00 is not a mainland province code"),
    ],
)
def test_numbers_no_document_uses_are_refused(body, reason):
    with pytest.raises(ValueError, match=re.escape(reason)):
        parse_citizen_id(with_check(body), today=TODAY)


@pytest.mark.parametrize("old", ["810000900307001", "911840800101002"])
def test_an_old_15_digit_number_is_never_a_permit(old):
    with pytest.raises(ValueError, match="old 15-digit number is a resident ID number"):
        parse_citizen_id(old, today=TODAY)


def test_the_field_type_accepts_every_document_and_names_the_rule_when_refusing():
    assert Person(citizen_id=with_check("83000019700101003")).citizen_id.startswith("830000")
    with pytest.raises(ValidationError) as caught:
        Person(citizen_id=with_check("83052719700101003"))
    assert caught.value.errors()[0]["type"] == "CitizenIdValid"


# --- credit code segments (issue 16, item 4) ------------------------------------------------------------


def credit(body17: str) -> str:
    return body17 + credit_code_check_character(body17)


@pytest.mark.parametrize(
    "body",
    [
        "11430527MB1234567",  # 机构编制, 机关
        "12100000400012345",  # 机构编制, 事业单位
        "31430000MD0000001",  # 司法行政, 律师执业机构
        "51430527MJ0000002",  # 民政, 社会团体
        "52430527MJ0000003",  # 民政, 民办非企业单位
        "81430527MC0000004",  # 工会, 基层工会
        "92430527MA4L00005",  # 工商, 个体工商户
        "93430527MA4L00006",  # 工商, 农民专业合作社
        "N2430527MF0000007",  # 农业, 村级集体经济组织
        "Y1430527MG0000008",  # 其他
    ],
)
def test_credit_codes_of_every_department_in_gb_32100_are_accepted(body):
    info = parse_credit_code(credit(body))
    assert info.check_ok and (info.registering_department, info.category) == (body[0], body[1])


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("B1430527MA4L00001", "position 1 of a credit code is the registering department"),
        ("01430527MA4L00001", "registering department (1, 2, 3, 4, 5, 6, 7, 8, 9, A, N, Y), not 0"),
        ("94430527MA4L00001", "under registering department 9 (工商) it is one of 1 企业, 2 个体工商户"),
        ("99430527MA4L00001", "农民专业合作社, not 9"),
        ("5A430527MJ0000002", "under registering department 5 (民政)"),
        ("Y2430527MG0000008", "under registering department Y (其他) it is one of 1 其他, not 2"),
        ("9143052AMA4L00001", "positions 3-8 of a credit code are the registering authority's GB/T 2260 code"),
        ("91M30527MA4L00001", "digits only, got M30527"),
    ],
)
def test_credit_codes_the_standard_makes_impossible_are_refused_even_as_legacy(body, reason):
    for code in (credit(body), body + "0"):
        with pytest.raises(ValueError, match=re.escape(reason)):
            parse_credit_code(code, allow_legacy=True)


def test_a_code_failing_only_its_check_character_still_takes_the_legacy_path():
    code = "91430527MA4L00001" + ("0" if credit("91430527MA4L00001")[-1] != "0" else "1")
    assert parse_credit_code(code, allow_legacy=True).check_ok is False
    with pytest.raises(ValueError, match="check character should be"):
        parse_credit_code(code)
