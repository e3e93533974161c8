"""Reading a village's ledger (台账) upload: XLSX (first sheet) or CSV (UTF-8 or GBK), streamed row by row.

The header row is found among the first rows by the usual Chinese titles (or the English field names);
every row is checked on its own so one bad row never hides the others (docs/design.md "Security and data":
the error names the field and the reason).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import Any

from openpyxl import load_workbook
from pydantic import BaseModel, Field, ValidationError

from contracts.registration import PERSON_CATEGORIES
from services.registration.models.person import PersonCreate
from services.runtime.errors import (
    RuleViolated,
    UnsupportedMediaType,
)
from services.runtime.spreadsheets import bounded_rows, check_workbook, decode_csv

#: Rows scanned for the header row (a ledger often has a title and a date above it).
HEADER_SEARCH_ROWS = 10

#: Column headers a clerk's ledger uses, and the English field names, for each field.
COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "证件号码", "身份证"),
    "name": ("姓名",),
    "region_code": ("所在村(社区)代码", "村(社区)代码", "所在村代码", "村居代码", "区划代码", "行政区划代码"),
    "phone": ("联系电话", "手机号码", "手机号", "电话"),
    "hukou": ("户籍类型", "户口性质", "户籍性质"),
    "education": ("文化程度", "学历"),
    "categories": ("人员类别", "人员分类"),
}
REQUIRED_FIELDS = ("id_number", "name", "region_code")
#: What the clerk calls each field, for messages and the errors workbook.
COLUMN_TITLES = {f: aliases[0] for f, aliases in COLUMN_ALIASES.items()}

_HUKOU = {
    "农业": "rural",
    "农业户口": "rural",
    "农村": "rural",
    "农村户口": "rural",
    "rural": "rural",
    "非农业": "urban",
    "非农业户口": "urban",
    "城镇": "urban",
    "城镇户口": "urban",
    "居民户口": "urban",
    "urban": "urban",
}
_CATEGORIES = {
    "失业人员": "unemployed",
    "失业": "unemployed",
    "下岗职工": "laid_off",
    "下岗": "laid_off",
    "农村富余劳动力": "rural_surplus_labour",
    "富余劳动力": "rural_surplus_labour",
    "新成长劳动力": "new_entrant",
    "高校毕业生": "new_entrant",
    "应届毕业生": "new_entrant",
    "灵活就业人员": "flexible_employment",
    "灵活就业": "flexible_employment",
    "外出务工人员": "migrant_worker",
    "外出务工": "migrant_worker",
    "农民工": "migrant_worker",
    "退休人员": "retired",
    "退休": "retired",
    **{name: name for name in PERSON_CATEGORIES},
}
_CATEGORY_SEPARATORS = re.compile(r"[、,，;；/\s]+")
#: What Excel makes of an 18-digit number saved to CSV: 4.30527E+17.
_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
#: Fields whose digits survive being stored as an Excel number (12 and 11 digits are under 15 significant).
_NUMBER_OK = frozenset({"region_code", "phone"})


def normalise_header(text: str) -> str:
    return re.sub(r"\s+", "", text).replace("（", "(").replace("）", ")").lower()


HEADER_FIELDS = {
    normalise_header(alias): name for name, aliases in COLUMN_ALIASES.items() for alias in (name, *aliases)
}


class ImportRowError(BaseModel):
    """Why one field of one row was not accepted."""

    row: int = Field(description="Row number as the spreadsheet shows it (the header row counts)")
    field: str
    column: str | None = Field(default=None, description="The column header in the uploaded file")
    reasons: list[str]
    rule: str | None = None


@dataclass
class LedgerRow:
    """One data row: its number, its cells as text, what it asks to register, and what is wrong with it."""

    number: int
    cells: list[str]
    values: dict[str, Any]
    body: PersonCreate | None = None
    errors: list[ImportRowError] = field(default_factory=list)


@dataclass
class Ledger:
    """A parsed upload: the header as written and every non-empty row after it."""

    columns: list[str]
    rows: list[LedgerRow]


# --- reading -------------------------------------------------------------------------------------------------


def read_ledger(data: bytes, file_name: str) -> Ledger:
    """Parse and validate an uploaded ledger (XLSX or CSV); 415 for another kind, 422 for a bad header or a
    column of the wrong type, which must be fixed in the file before any row can be trusted."""
    suffix = Path(file_name).suffix.lower()
    if data.startswith(b"PK\x03\x04") and suffix in ("", ".xlsx", ".xlsm"):
        return _validate(_xlsx_rows(data))
    if suffix == ".csv" or (suffix == "" and not data.startswith(b"PK")):
        return _validate(_csv_rows(data))
    raise UnsupportedMediaType(
        f"{file_name} is neither an .xlsx workbook nor a .csv file; save the ledger as .xlsx and upload it again",
        field="file",
    )


def _xlsx_rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    check_workbook(data)
    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises many kinds for a damaged file
        raise RuleViolated("LedgerIsReadable", f"the workbook cannot be read: {exc}", field="file") from exc
    try:
        sheet = workbook.worksheets[0]
        yield from enumerate(bounded_rows(sheet.iter_rows(values_only=True)), start=1)
    finally:
        workbook.close()


def _csv_rows(data: bytes) -> Iterator[tuple[int, Sequence[Any]]]:
    yield from enumerate(bounded_rows(csv.reader(io.StringIO(decode_csv(data)))), start=1)


def _validate(rows: Iterable[tuple[int, Sequence[Any]]]) -> Ledger:
    iterator = iter(rows)
    header, fields = _find_header(iterator)
    ledger = Ledger(columns=[_text(cell) for cell in header], rows=[])
    wrong_types: dict[str, list[int]] = {}
    first_row_of: dict[str, int] = {}
    for number, raw in iterator:
        cells = [_text(cell) for cell in raw]
        if not any(cells):
            continue
        values: dict[str, Any] = {}
        for index, name in fields.items():
            cell = raw[index] if index < len(raw) else None
            value = _cell_value(name, cell)
            if value is _WRONG_TYPE:
                wrong_types.setdefault(name, []).append(number)
                continue
            if value is not None:
                values[name] = value
        row = LedgerRow(number, cells, values)
        ledger.rows.append(row)
        _check_row(row, first_row_of)
    if wrong_types:
        raise _wrong_type_error(wrong_types, header, fields)
    return ledger


def _find_header(rows: Iterator[tuple[int, Sequence[Any]]]) -> tuple[Sequence[Any], dict[int, str]]:
    best: tuple[Sequence[Any], dict[int, str]] | None = None
    for _, raw in rows:
        fields: dict[int, str] = {}
        for index, cell in enumerate(raw):
            name = HEADER_FIELDS.get(normalise_header(_text(cell)))
            if name is not None and name not in fields.values():
                fields[index] = name
        if best is None or len(fields) > len(best[1]):
            best = (raw, fields)
        if all(name in fields.values() for name in REQUIRED_FIELDS):
            return raw, fields
        if _ >= HEADER_SEARCH_ROWS:
            break
    found = set(best[1].values()) if best else set()
    missing = [name for name in REQUIRED_FIELDS if name not in found]
    titles = ", ".join(f"{COLUMN_TITLES[name]} ({name})" for name in missing)
    raise RuleViolated(
        "LedgerHasRequiredColumns",
        f"the ledger has no column {titles}; the header row needs 身份证号, 姓名 and 所在村(社区)代码",
        field=COLUMN_TITLES[missing[0]],
        missing_columns=[COLUMN_TITLES[name] for name in missing],
    )


_WRONG_TYPE = object()


def _cell_value(name: str, cell: Any) -> Any:
    """A cell as the field's text, None when empty, or ``_WRONG_TYPE`` when its type cannot be that field."""
    if cell is None:
        return None
    if isinstance(cell, bool | datetime | date | time):
        return _WRONG_TYPE
    if isinstance(cell, int | float):
        if name in _NUMBER_OK and float(cell).is_integer():
            return str(int(cell))
        return _WRONG_TYPE
    text = str(cell).strip()
    if name == "id_number" and _SCIENTIFIC.match(text):
        return _WRONG_TYPE
    return text or None


def _wrong_type_error(wrong: dict[str, list[int]], header: Sequence[Any], fields: dict[int, str]) -> RuleViolated:
    columns = {name: _text(header[index]) for index, name in fields.items()}
    name, numbers = next(iter(wrong.items()))
    shown = ", ".join(str(n) for n in numbers[:5]) + (f" and {len(numbers) - 5} more" if len(numbers) > 5 else "")
    hint = (
        "Excel keeps only 15 significant digits of a number, so an 18-digit ID number stored as a number is "
        "already wrong; format the column as text, re-enter the numbers and upload again"
        if name == "id_number"
        else "the column must hold text"
    )
    return RuleViolated(
        "LedgerColumnHasTextCells",
        f"column {columns[name]} ({name}) holds numbers or dates instead of text in rows {shown}: {hint}",
        field=columns[name],
        columns=[columns[n] for n in wrong],
    )


def _check_row(row: LedgerRow, first_row_of: dict[str, int]) -> None:
    def refuse(name: str, reason: str, rule: str | None = None) -> None:
        # The column's header as written is filled in once the whole file is read.
        row.errors.append(ImportRowError(row=row.number, field=name, reasons=[reason], rule=rule))

    values = dict(row.values)
    hukou = values.pop("hukou", None)
    if hukou is not None:
        mapped = _HUKOU.get(hukou.lower())
        if mapped is None:
            refuse("hukou", f"户籍类型 must be 农业 or 非农业 (rural or urban), got {hukou!r}")
        else:
            values["hukou"] = mapped
    categories = values.pop("categories", None)
    if categories is not None:
        parts = [p for p in _CATEGORY_SEPARATORS.split(categories) if p]
        unknown = [p for p in parts if p not in _CATEGORIES]
        if unknown:
            refuse("categories", f"unknown 人员类别 {', '.join(unknown)}; known: {', '.join(PERSON_CATEGORIES)}")
        else:
            values["categories"] = sorted({_CATEGORIES[p] for p in parts})
    try:
        body = PersonCreate.model_validate(values)
    except ValidationError as invalid:
        for error in invalid.errors():
            name = str(error["loc"][0]) if error["loc"] else "row"
            reason = str(error["msg"]).removeprefix("Value error, ")
            if error["type"] == "missing":
                reason = f"{COLUMN_TITLES.get(name, name)} is empty"
            refuse(name, reason)
        return
    if row.errors:
        return
    earlier = first_row_of.setdefault(body.id_number.upper(), row.number)
    if earlier != row.number:
        refuse("id_number", f"same ID number as row {earlier}", "DuplicateRowInFile")
        return
    row.body = body


def _text(cell: Any) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return str(cell).strip()


# --- importing -----------------------------------------------------------------------------------------------
