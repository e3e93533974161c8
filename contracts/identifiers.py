"""ID numbers (GB 11643-1999 and the documents numbered like it) and unified social credit codes (GB 32100-2015).

Both are validated by their structure and check character (docs/rules.md, "Identifiers").

The ledger accepts four identity documents whose 18-character numbers share GB 11643's birth date, sequence
(sex) and check character: the resident ID card (居民身份证), the residence permits of Hong Kong and Macao
residents (港澳居民居住证, number starting 810000 or 820000) and of Taiwan residents (台湾居民居住证, 830000),
both under 港澳台居民居住证申领发放办法 (国办发〔2018〕81号), and the 2023 foreigner's permanent residence
ID card (外国人永久居留身份证, 2023 edition: 9, the issuing province, a 3-digit nationality code, then the same
birth date, sequence and check character). ``IdDocumentType`` names which one a number is.
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

MAINLAND_PROVINCE_CODES: frozenset[str] = frozenset(
    str(code)
    for block in (range(11, 16), range(21, 24), range(31, 38), range(41, 47), range(50, 55), range(61, 66))
    for code in block
)
"""First two digits of the GB/T 2260 codes of the 31 mainland provinces, regions and municipalities."""

PROVINCE_CODES: frozenset[str] = MAINLAND_PROVINCE_CODES | {"71", "81", "82"}
"""First two digits of GB/T 2260 codes that name a province-level division (71 Taiwan, 81 Hong Kong, 82 Macao)."""

RESIDENT_ID_PROVINCE_CODES: frozenset[str] = MAINLAND_PROVINCE_CODES | {"71"}
"""Province codes a resident ID card's address code may start with.

Hong Kong and Macao have no household registration, so 81 and 82 begin a residence permit number
(``PERMIT_ADDRESS_CODES``), not a resident ID. 71 (Taiwan in GB/T 2260) is accepted as a resident ID, as the
ledger always did.
"""

IdDocumentType = Literal[
    "resident_id",  # 居民身份证 (GB 11643-1999)
    "hk_macao_residence_permit",  # 港澳居民居住证 (810000 Hong Kong, 820000 Macao)
    "taiwan_residence_permit",  # 台湾居民居住证 (830000)
    "foreign_permanent_residence_id",  # 外国人永久居留身份证, 2023 edition (first digit 9)
]
"""The identity document an 18-character ID number belongs to (docs/rules.md, "Identifiers")."""

ID_DOCUMENT_TYPES: tuple[str, ...] = IdDocumentType.__args__  # type: ignore[attr-defined]

PERMIT_ADDRESS_CODES: dict[str, IdDocumentType] = {
    "810000": "hk_macao_residence_permit",
    "820000": "hk_macao_residence_permit",
    "830000": "taiwan_residence_permit",
}
"""The fixed first six digits of residence permit numbers (港澳台居民居住证申领发放办法, 国办发〔2018〕81号)."""

FOREIGN_PERMANENT_RESIDENCE_PREFIX = "9"
"""First digit of a 2023 foreigner's permanent residence ID number (外国人永久居留身份证)."""

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
    """What an ID number (GB 11643-1999, or a permit numbered like it) says about its holder.

    ``address_code`` is the first six digits: the county of household registration on a resident ID,
    810000/820000/830000 on a residence permit, and for a foreigner's permanent residence ID the issuing
    province padded with zeros (its own digits 4-6 are the ``nationality_code``, GB/T 2659 numeric).
    """

    number: str
    address_code: str
    birth_date: date
    sex: Literal["male", "female"]
    converted_from_15: bool
    document_type: IdDocumentType = "resident_id"
    nationality_code: str | None = None


def id_document_type(number: str) -> IdDocumentType:
    """Which identity document an 18-character ID number belongs to, from its first digits.

    Refuses a prefix no document uses: a residence permit's six leading digits are fixed (810000, 820000,
    830000), a foreigner's permanent residence ID names a mainland province in digits 2-3, and a resident
    ID starts with a province code (docs/rules.md, "Identifiers").
    """
    if number.startswith(FOREIGN_PERMANENT_RESIDENCE_PREFIX):
        if number[1:3] not in MAINLAND_PROVINCE_CODES:
            raise ValueError(
                f"a foreigner's permanent residence ID number names the issuing province in digits 2-3; "
                f"{number[1:3]} is not a mainland province code"
            )
        return "foreign_permanent_residence_id"
    permit = PERMIT_ADDRESS_CODES.get(number[:6])
    if permit is not None:
        return permit
    if number[:2] in ("81", "82", "83"):
        raise ValueError(
            f"an ID number starting {number[:2]} is a residence permit number, which starts {number[:2]}0000"
        )
    if number[:2] not in RESIDENT_ID_PROVINCE_CODES:
        raise ValueError(f"unknown province code {number[:2]} at the start of the ID number")
    return "resident_id"


def parse_citizen_id(raw: str, *, today: date | None = None) -> CitizenIdInfo:
    """Validate an ID number (GB 11643-1999 and the documents numbered like it) and split it into its parts.

    Legacy 15-digit numbers are converted to 18 digits by inserting "19" before the birth date and
    computing the check character; ``converted_from_15`` says so. Only resident IDs had 15 digits.
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

    document = id_document_type(text)
    if converted and document != "resident_id":
        raise ValueError("an old 15-digit number is a resident ID number; it cannot start with 8 or 9")

    try:
        birth = date(int(text[6:10]), int(text[10:12]), int(text[12:14]))
    except ValueError:
        raise ValueError(f"birth date {text[6:14]} in the ID number is not a real date") from None
    if birth.year < MIN_BIRTH_YEAR:
        raise ValueError(f"birth year {birth.year} in the ID number is before {MIN_BIRTH_YEAR}")
    if birth > (today or date.today()):
        raise ValueError(f"birth date {birth.isoformat()} in the ID number is in the future")

    foreign = document == "foreign_permanent_residence_id"
    return CitizenIdInfo(
        number=text,
        address_code=text[1:3] + "0000" if foreign else text[:6],
        birth_date=birth,
        sex="male" if int(text[16]) % 2 else "female",
        converted_from_15=converted,
        document_type=document,
        nationality_code=text[3:6] if foreign else None,
    )


def _normalise_citizen_id(value: str) -> str:
    return parse_citizen_id(value).number


_CITIZEN_ID_DESCRIPTION = (
    "ID number (GB 11643-1999), 18 characters, check character X in upper case: a resident ID, a Hong Kong,"
    " Macao or Taiwan residence permit (810000, 820000, 830000) or a 2023 foreigner's permanent residence ID (9)."
)

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
"""Pydantic field type: an ID number of one of the four documents, normalised to 18 characters (GB 11643-1999)."""


CREDIT_CODE_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
"""GB 32100-2015 alphabet: digits and 21 letters (no I, O, S, V, Z), valued 0..30."""

CREDIT_CODE_WEIGHTS: tuple[int, ...] = tuple(pow(3, i, 31) for i in range(17))
"""GB 32100-2015 weights W_i = 3^(i-1) mod 31."""

_CREDIT_VALUE = {char: value for value, char in enumerate(CREDIT_CODE_ALPHABET)}

REGISTERING_DEPARTMENTS: dict[str, tuple[str, dict[str, str]]] = {
    "1": ("机构编制", {"1": "机关", "2": "事业单位", "3": "中央编办直接管理机构编制的群众团体", "9": "其他"}),
    "2": ("外交", {"1": "外国常驻新闻机构", "9": "其他"}),
    "3": (
        "司法行政",
        {
            "1": "律师执业机构",
            "2": "公证处",
            "3": "基层法律服务所",
            "4": "司法鉴定机构",
            "5": "仲裁委员会",
            "9": "其他",
        },
    ),
    "4": ("文化", {"1": "外国在华文化中心", "9": "其他"}),
    "5": ("民政", {"1": "社会团体", "2": "民办非企业单位", "3": "基金会", "9": "其他"}),
    "6": ("旅游", {"1": "外国旅游部门常驻代表机构", "2": "港澳台地区旅游部门常驻内地(大陆)代表机构", "9": "其他"}),
    "7": ("宗教", {"1": "宗教活动场所", "2": "宗教院校", "9": "其他"}),
    "8": ("工会", {"1": "基层工会", "9": "其他"}),
    "9": ("工商", {"1": "企业", "2": "个体工商户", "3": "农民专业合作社"}),
    "A": ("中央军委改革和编制办公室", {"1": "军队事业单位", "9": "其他"}),
    "N": ("农业", {"1": "组级集体经济组织", "2": "村级集体经济组织", "3": "乡镇级集体经济组织", "9": "其他"}),
    "Y": ("其他", {"1": "其他"}),
}
"""Registering department (position 1) -> its name and its categories (position 2), GB 32100-2015 Table 1
as extended by the national credit-code centre's assignments (外交 ... 工会, 军委编制办, 农业)."""


def _check_credit_code_segments(code: str) -> None:
    """Refuse what GB 32100-2015 makes impossible before the check character is looked at.

    Position 1 must be a registering department and position 2 one of its categories; positions 3-8 are
    the registering authority's GB/T 2260 code, so digits only (docs/rules.md, "Identifiers").
    """
    department = REGISTERING_DEPARTMENTS.get(code[0])
    if department is None:
        raise ValueError(
            f"position 1 of a credit code is the registering department ({', '.join(REGISTERING_DEPARTMENTS)}), "
            f"not {code[0]}"
        )
    name, categories = department
    if code[1] not in categories:
        listed = ", ".join(f"{key} {label}" for key, label in categories.items())
        raise ValueError(
            f"position 2 of a credit code is the category; under registering department {code[0]} ({name}) "
            f"it is one of {listed}, not {code[1]}"
        )
    if not code[2:8].isdigit():
        raise ValueError(
            f"positions 3-8 of a credit code are the registering authority's GB/T 2260 code, digits only, "
            f"got {code[2:8]}"
        )


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
    ``check_ok=False`` so the caller can flag them, otherwise a bad check character is an error. The
    department, category and authority segments are checked either way: only the check character may fail.
    """
    code = raw.strip().upper()
    if len(code) != 18:
        raise ValueError(f"credit code must have 18 characters, got {len(code)}")
    bad = sorted({char for char in code if char not in _CREDIT_VALUE})
    if bad:
        raise ValueError(
            f"credit code may not contain {', '.join(bad)} (allowed: digits and letters except I, O, S, V, Z)"
        )
    _check_credit_code_segments(code)
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
"""Pydantic field type: a unified social credit code with valid segments and check character (GB 32100-2015)."""
