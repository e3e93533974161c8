"""The spreadsheets clerks upload and download (CSV and XLSX), read and written so that a hostile or careless file
cannot hurt the service or the next person who opens an export.

- Text: a CSV is UTF-8 (with or without a byte order mark) or GBK/GB 18030 (what Excel in Chinese saves). A file
  whose lines mix the two is refused: decoded either way, half of it would be stored as mojibake.
- Zip bombs: an XLSX is a zip archive; the sizes its members declare bound what ``zipfile`` will ever unpack (it
  stops at the declared size and then fails the checksum), so the declared total is checked before a byte is
  unpacked.
- Width: a row wider than ``MAX_COLUMNS`` is refused rather than carried through validation and storage.
- Formula injection (CSV/XLSX injection, OWASP): a cell that starts with ``= + - @`` (or a tab or carriage
  return) is a formula to a spreadsheet program. Exports write such text as text: in XLSX as a string cell, in
  CSV behind a leading apostrophe, which the spreadsheet shows and never evaluates.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from openpyxl.cell import WriteOnlyCell
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from services.runtime.errors import PayloadTooLarge, RuleViolated

#: The most columns a row of an upload may have: Excel 2003's limit, far more than any ledger or contribution file
#: has, and it keeps a 1,000-column file from becoming a 1,000-column staging table or error workbook.
MAX_COLUMNS = 256

#: How many times its own size an XLSX may unpack to. Sheet XML of real ledgers compresses about 5 to 15 times; a
#: zip bomb compresses a thousand times and more.
MAX_UNPACK_RATIO = 20

#: What a spreadsheet program reads as the start of a formula.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def decode_csv(data: bytes, *, field: str = "file") -> str:
    """The text of an uploaded CSV: UTF-8, else GB 18030 (a superset of GBK); a 422 naming ``field`` when it is
    neither, or when its lines mix the two."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    utf8_lines = [number for number, line in enumerate(data.split(b"\n"), start=1) if _is_utf8_cjk(line)]
    if utf8_lines:
        gbk_lines = [n for n, line in enumerate(data.split(b"\n"), start=1) if not _is_utf8(line)]
        raise RuleViolated(
            "FileHasOneEncoding",
            f"lines {_first(utf8_lines)} are UTF-8 but lines {_first(gbk_lines)} are not (GBK?): save the whole "
            "file in one encoding (in Excel: 另存为 CSV UTF-8) and upload it again",
            field=field,
        )
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError as exc:
        raise RuleViolated(
            "FileIsText",
            f"the CSV is neither UTF-8 nor GBK text (undecodable bytes at offset {exc.start})",
            field=field,
        ) from exc


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _is_utf8_cjk(line: bytes) -> bool:
    """Whether the line is UTF-8 holding a character of three bytes or more (every Chinese character): a GBK
    line may pass as UTF-8 by chance when it is short, hardly ever with a three-byte sequence in it."""
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return any(ord(char) >= 0x800 for char in text)


def _first(numbers: Sequence[int], shown: int = 5) -> str:
    more = f" and {len(numbers) - shown} more" if len(numbers) > shown else ""
    return ", ".join(str(n) for n in numbers[:shown]) + more


def check_workbook(data: bytes, *, field: str = "file") -> None:
    """Refuse (413) an XLSX whose members would unpack to more than ``MAX_UNPACK_RATIO`` times its size, and
    (422) one that is no zip archive; nothing is unpacked to find out."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, ValueError) as exc:
        raise RuleViolated("WorkbookIsReadable", f"the workbook cannot be read: {exc}", field=field) from exc
    limit = MAX_UNPACK_RATIO * max(len(data), 64 * 1024)
    if unpacked > limit:
        raise PayloadTooLarge(
            f"the workbook unpacks to {unpacked:,} bytes, more than {MAX_UNPACK_RATIO} times its size "
            f"({len(data):,} bytes): no real ledger does; save it again from Excel or send it as CSV",
            field=field,
        )


def bounded_rows(rows: Iterable[Sequence[Any]], *, field: str = "file") -> Iterator[Sequence[Any]]:
    """``rows`` without their trailing empty cells; a 422 naming ``field`` at the first row with a value past
    column ``MAX_COLUMNS``."""
    for number, row in enumerate(rows, start=1):
        width = len(row)
        while width and (row[width - 1] is None or row[width - 1] == ""):
            width -= 1
        if width > MAX_COLUMNS:
            raise RuleViolated(
                "FileWithinColumnLimit",
                f"row {number} has {width} columns; a file may have at most {MAX_COLUMNS}: delete the columns "
                "that are not part of the form and upload again",
                field=field,
                columns=width,
            )
        yield row[:width] if width < len(row) else row


def is_formula(value: object) -> bool:
    """Whether a spreadsheet program would read ``value`` as a formula."""
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


def csv_text(value: object) -> object:
    """``value`` as a CSV cell that no spreadsheet evaluates: formula-like text behind an apostrophe."""
    return "'" + value if isinstance(value, str) and is_formula(value) else value


def xlsx_cell(sheet: WriteOnlyWorksheet, value: object) -> object:
    """``value`` for a write-only sheet's row: formula-like text as a string cell (openpyxl would otherwise write
    any text starting with ``=`` as a formula), anything else as it is."""
    if not isinstance(value, str) or not is_formula(value):
        return value
    cell = WriteOnlyCell(sheet, value=value)
    cell.data_type = "s"
    return cell
