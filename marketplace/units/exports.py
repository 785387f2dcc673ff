"""Spreadsheets (xlsx, written with openpyxl) for offices and units: one sheet, a title row, a
frozen header row, typed cells and fitting column widths. Any report can use `workbook_bytes`.

Cells are typed so that a spreadsheet computes with them: money is given in fen and written as
yuan numbers with two decimals (Decimal(fen) / 100: exact, never through float arithmetic on
money), percentages in basis points as fractions shown as percent, dates as dates.
"""
from __future__ import annotations

import io
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter

MONEY_FORMAT = "#,##0.00"
PERCENT_FORMAT = "0.00%"
DATE_FORMAT = "yyyy-mm-dd"
MAX_WIDTH = 60


@dataclass(frozen=True)
class Money:
    """An amount in fen, written as yuan with two decimals."""

    fen: int


@dataclass(frozen=True)
class Percent:
    """A share in basis points (1500 is 15%), written as a percent; None leaves it empty."""

    bp: int | None


Cell = str | int | Money | Percent | date | None


def _value(cell: Cell):
    """The value and number format openpyxl writes for a typed cell."""
    if isinstance(cell, Money):
        return Decimal(int(cell.fen)) / 100, MONEY_FORMAT
    if isinstance(cell, Percent):
        return (None if cell.bp is None else Decimal(int(cell.bp)) / 10000), PERCENT_FORMAT
    if isinstance(cell, datetime):
        raise TypeError("give a date (China time), not a datetime")
    if isinstance(cell, date):
        return cell, DATE_FORMAT
    if cell is None or isinstance(cell, (str, int)):
        return cell, None
    raise TypeError(f"no xlsx cell type for {type(cell).__name__}")


def _width(value) -> int:
    """Display width of a value: wide (Chinese) characters count twice."""
    if value is None:
        return 0
    if isinstance(value, Decimal):
        text = f"{value:,.2f}"
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = str(value)
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


@dataclass(frozen=True)
class Sheet:
    """One sheet of a workbook: its tab name (at most 31 characters), title row, headers, rows."""

    name: str
    title: str
    headers: Sequence[str]
    rows: Iterable[Sequence[Cell]]


def _fill(ws, title: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]]) -> None:
    """Row 1 the title (bold, across the columns), row 2 the headers (bold), then one row per
    item; everything above row 3 stays in view when scrolling."""
    ws.cell(row=1, column=1, value=title).font = Font(bold=True, size=14)
    if len(headers) > 1:
        ws.merge_cells(start_row=1, start_column=1, end_row=1, end_column=len(headers))
    widths = [_width(h) for h in headers]
    for col, header in enumerate(headers, start=1):
        cell = ws.cell(row=2, column=col, value=header)
        cell.font = Font(bold=True)
        cell.alignment = Alignment(horizontal="center")
    for r, row in enumerate(rows, start=3):
        for col, item in enumerate(row, start=1):
            value, number_format = _value(item)
            cell = ws.cell(row=r, column=col, value=value)
            if number_format:
                cell.number_format = number_format
            if col <= len(widths):
                widths[col - 1] = max(widths[col - 1], _width(value))
    for col, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(col)].width = min(MAX_WIDTH, width + 4)
    ws.freeze_panes = "A3"


def workbook_bytes(title: str, headers: Sequence[str], rows: Iterable[Sequence[Cell]], *,
                   sheet: str = "Sheet1") -> bytes:
    """An xlsx file of one sheet: row 1 the title (bold, across the columns), row 2 the headers
    (bold), then one row per item; everything above row 3 stays in view when scrolling."""
    return sheets_bytes([Sheet(sheet, title, headers, rows)])


def sheets_bytes(sheets: Iterable[Sheet]) -> bytes:
    """An xlsx file of several sheets in order, each written like `workbook_bytes`'s one
    (`sheets` may be a generator: each sheet is built when its turn comes)."""
    book = Workbook()
    first = True
    for sheet in sheets:
        ws = book.active if first else book.create_sheet()
        first = False
        ws.title = sheet.name[:31]
        _fill(ws, sheet.title, sheet.headers, sheet.rows)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
