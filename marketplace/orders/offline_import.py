"""Offline sales from a file: CSV (UTF-8 with or without a BOM, else GBK / GB18030) or xlsx, a
header row with Chinese column names (日期, 地点, 收据号, 商品编号(SKU), 数量, 单价(元),
付款方式(现金/转账); English names and a few variants are understood too), then one row per
line sold; rows with the same receipt number are one sale with many lines, and a receipt's
later rows may leave its date, place and payment method blank.

`read_file` turns the bytes into numbered rows (the line numbers a spreadsheet shows: the header
is line 1); `plan` checks every row against the seller's products, stock and receipts already
recorded, and answers the sales to record (each with the order recorded before under its
receipt number, if the same sale was) or raises one `ImportFailed` naming every bad line, so
that the import (payments.offline.import_offline_sales) writes all or nothing. `template_csv` and
`template_xlsx` are the files to fill in.
"""
from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.catalog.models import Product
from marketplace.core.errors import ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.orders import offline, services
from marketplace.orders.models import Order
from marketplace.sellers.models import Seller

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000  # data rows of one file
FIELDS = ("sold_on", "place", "receipt_no", "sku", "quantity", "unit_price", "payment_method")
HEAD_FIELDS = ("sold_on", "place", "payment_method")  # a receipt's, given on its first row
TEMPLATE_HEADERS = ("日期", "地点", "收据号", "商品编号(SKU)", "数量", "单价(元)", "付款方式(现金/转账)")
# a header (NFKC, lower case, without spaces and without a part in brackets) -> field
HEADER_NAMES = {
    "日期": "sold_on", "销售日期": "sold_on", "date": "sold_on", "sold_on": "sold_on",
    "地点": "place", "销售地点": "place", "地点或活动": "place", "place": "place",
    "收据号": "receipt_no", "收据编号": "receipt_no", "单据号": "receipt_no",
    "receipt_no": "receipt_no", "receipt": "receipt_no",
    "商品编号": "sku", "sku": "sku", "商品sku": "sku",
    "数量": "quantity", "quantity": "quantity",
    "单价": "unit_price", "销售单价": "unit_price", "unit_price": "unit_price",
    "price": "unit_price",
    "付款方式": "payment_method", "支付方式": "payment_method",
    "payment_method": "payment_method", "payment": "payment_method",
}
FIELD_LABELS = {"sold_on": "日期", "place": "地点", "receipt_no": "收据号", "sku": "商品编号(SKU)",
                "quantity": "数量", "unit_price": "单价(元)", "payment_method": "付款方式"}


@dataclass(frozen=True)
class ImportRow:
    line: int  # as a spreadsheet numbers it (the header is line 1)
    values: dict  # field -> text ("" when blank)


@dataclass(frozen=True)
class LineProblem:
    line: int  # 0: the file as a whole
    message: str


class ImportFailed(ValidationFailed):
    """Nothing was imported: `problems` names every bad line (details.lines in JSON)."""

    code = "import_failed"

    def __init__(self, problems: Sequence[LineProblem]):
        self.problems = sorted(problems, key=lambda p: p.line)
        super().__init__(
            Msg("有 %(n)s 处错误，未导入任何数据", n=len(self.problems)), field="file",
            details={"lines": [{"line": p.line, "message": p.message} for p in self.problems]})


# ---- reading a file ----------------------------------------------------------------------------

def read_file(filename: str, data: bytes) -> list[ImportRow]:
    """The data rows of an uploaded CSV or xlsx file (blank rows left out)."""
    if not data:
        raise ImportFailed([LineProblem(0, Msg("请选择要导入的 CSV 或 xlsx 文件"))])
    if len(data) > MAX_BYTES:
        raise ImportFailed([LineProblem(0, Msg("文件不能超过 %(n)s MB", n=MAX_BYTES // 2**20))])
    if data[:4] == b"PK\x03\x04":
        table = _xlsx_rows(data)
    elif (filename or "").lower().endswith((".xlsx", ".xls")):
        raise ImportFailed([LineProblem(0, Msg("无法读取该文件：请上传 xlsx 或 CSV 文件"))])
    else:
        table = _csv_rows(data)
    return _rows(table)


def decode_csv(data: bytes) -> str:
    """UTF-8 (a BOM is dropped), else GB18030 (GBK's superset: what Excel saves in Chinese)."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ImportFailed([LineProblem(0, Msg("无法识别文件编码：请保存为 UTF-8 或 GBK 编码的 CSV"))]
                           ) from None


def _csv_rows(data: bytes) -> list[tuple[int, list]]:
    text = decode_csv(data)
    first = text.split("\n", 1)[0]
    delimiter = "\t" if "\t" in first and "," not in first else ","
    try:
        return [(n, row) for n, row in enumerate(
            csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1)]
    except csv.Error:
        raise ImportFailed([LineProblem(0, Msg("CSV 文件格式有误"))]) from None


def _xlsx_rows(data: bytes) -> list[tuple[int, list]]:
    from openpyxl import load_workbook
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = []
        for n, values in enumerate(sheet.iter_rows(values_only=True), start=1):
            if n > MAX_ROWS + 50:
                break
            rows.append((n, [_cell(v) for v in values]))
        book.close()
        return rows
    except Exception:  # noqa: BLE001 - not a workbook, or a damaged one
        raise ImportFailed([LineProblem(0, Msg("无法读取该 xlsx 文件"))]) from None


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def header_field(text: str) -> str | None:
    key = unicodedata.normalize("NFKC", str(text or "")).lower()
    key = re.sub(r"\s+", "", re.sub(r"[(\[（【].*?[)\]）】]", "", key))
    return HEADER_NAMES.get(key)


def _rows(table: list[tuple[int, list]]) -> list[ImportRow]:
    table = [(n, row) for n, row in table if any(str(v).strip() for v in row)]
    if not table:
        raise ImportFailed([LineProblem(0, Msg("文件里没有内容"))])
    header_line, header = table[0]
    columns = {}
    for index, text in enumerate(header):
        name = header_field(text)
        if name and name not in columns:
            columns[name] = index
    missing = [FIELD_LABELS[f] for f in FIELDS if f not in columns]
    if missing:
        raise ImportFailed([LineProblem(header_line, Msg(
            "缺少列：%(cols)s（第一行应为表头：%(all)s）", cols="、".join(missing),
            all="、".join(TEMPLATE_HEADERS)))])
    data = table[1:]
    if len(data) > MAX_ROWS:
        raise ImportFailed([LineProblem(0, Msg("一次最多导入 %(n)s 行", n=MAX_ROWS))])
    return [ImportRow(n, {f: (str(row[i]).strip() if i < len(row) else "")
                          for f, i in columns.items()}) for n, row in data]


# ---- checking the rows -------------------------------------------------------------------------

@dataclass
class _Receipt:
    receipt_no: str
    first: ImportRow
    rows: list[ImportRow] = field(default_factory=list)
    head: dict = field(default_factory=dict)  # field -> (value, line)


def plan(session: Session, seller: Seller, rows: Sequence[ImportRow], today: date
         ) -> list[tuple[offline.CleanSale, Order | None]]:
    """The file's sales, each with the order recorded before for the same sale (None: to
    record); ImportFailed naming every bad line otherwise (see the module)."""
    problems: list[LineProblem] = []
    if not rows:
        raise ImportFailed([LineProblem(0, Msg("文件里没有销售记录"))])
    receipts = _group(rows, problems)
    found = _products(session, seller, rows)
    sales: list[tuple[_Receipt, offline.CleanSale]] = []
    for receipt in receipts.values():
        sale = _sale(session, seller, receipt, today, found, problems)
        if sale is not None:
            sales.append((receipt, sale))
    recorded = {o.receipt_no: o for o in session.scalars(select(Order).where(
        Order.seller_id == seller.id, Order.receipt_no.in_([s.receipt_no for _, s in sales])))}
    planned = []
    for receipt, sale in sales:
        before = recorded.get(sale.receipt_no)
        if before is not None and offline.order_signature(before) != sale.signature():
            problems.append(LineProblem(receipt.first.line, Msg(
                "收据号 %(no)s 已录入另一笔销售（订单 %(n)s）；更正请对原订单退款",
                no=sale.receipt_no, n=before.number)))
            continue
        planned.append((receipt, sale, before))
    _check_stock(session, [(r, s) for r, s, before in planned if before is None], problems)
    if problems:
        raise ImportFailed(problems)
    return [(sale, before) for _, sale, before in planned]


def _group(rows: Sequence[ImportRow], problems: list[LineProblem]) -> dict[str, _Receipt]:
    receipts: dict[str, _Receipt] = {}
    for row in rows:
        try:
            receipt_no = offline.receipt_value(row.values.get("receipt_no"))
        except ValidationFailed as err:
            problems.append(LineProblem(row.line, err.message))
            continue
        receipt = receipts.setdefault(receipt_no, _Receipt(receipt_no, row))
        receipt.rows.append(row)
        for name in HEAD_FIELDS:
            value = row.values.get(name, "")
            if not value:
                continue
            if name not in receipt.head:
                receipt.head[name] = (value, row.line)
            elif _same(name, receipt.head[name][0]) != _same(name, value):
                problems.append(LineProblem(row.line, Msg(
                    "同一收据号的%(what)s应相同（与第 %(n)s 行不同）",
                    what=Msg(FIELD_LABELS[name]), n=receipt.head[name][1])))
    return receipts


def _same(name: str, value: str) -> str:
    """A head field as compared between a receipt's rows (dates and methods as understood)."""
    try:
        if name == "sold_on":
            return offline.parse_day(value).isoformat()
        if name == "payment_method":
            return offline.method_value(value).value
    except ValidationFailed:
        pass
    return " ".join(value.split())


def _products(session: Session, seller: Seller, rows: Sequence[ImportRow]):
    skus = {unicodedata.normalize("NFKC", r.values.get("sku", "")).strip().upper()
            for r in rows} - {""}
    found = session.scalars(select(Product).where(
        Product.seller_id == seller.id, Product.status.in_(offline.SELLABLE),
        func.upper(Product.sku).in_(skus))).all() if skus else []
    return {p.id: p for p in found}, {p.sku.upper(): p for p in found}


def _sale(session, seller, receipt: _Receipt, today: date, found, problems
          ) -> offline.CleanSale | None:
    bad = len(problems)
    head = {}
    for name, check in (("sold_on", lambda v: offline.sold_on_value(v, today)),
                        ("place", offline.place_value),
                        ("payment_method", offline.method_value)):
        value, line = receipt.head.get(name, ("", receipt.first.line))
        try:
            head[name] = check(value)
        except ValidationFailed as err:
            problems.append(LineProblem(line, err.message))
    if len(receipt.rows) > offline.MAX_LINES:
        problems.append(LineProblem(receipt.rows[offline.MAX_LINES].line, Msg(
            "一张收据最多 %(n)s 行", n=offline.MAX_LINES)))
    lines = [offline.OfflineLine(quantity=row.values.get("quantity"),
                                 unit_price=row.values.get("unit_price"),
                                 sku=row.values.get("sku", "")) for row in receipt.rows]
    clean, line_problems = offline.clean_lines(session, seller, lines, found=found)
    for n, messages in line_problems.items():
        problems.append(LineProblem(receipt.rows[n - 1].line, "；".join(messages)))
    if len(problems) > bad:
        return None
    return offline.CleanSale(head["sold_on"], head["place"], head["payment_method"],
                             receipt.receipt_no, tuple(clean))


def _check_stock(session: Session, sales, problems: list[LineProblem]) -> None:
    """Every product's units in the file's new sales against its free stock (units unpaid orders
    hold past their window are given back first, as at checkout): each line of a short product
    is named."""
    wanted: dict[int, int] = {}
    for _, sale in sales:
        for line in sale.lines:
            wanted[line.product.id] = wanted.get(line.product.id, 0) + line.quantity
    products = {line.product.id: line.product for _, sale in sales for line in sale.lines}
    short = [pid for pid, n in wanted.items() if products[pid].stock < n]
    if short and services.expire(session, now=now_utc(), product_ids=short):
        short = [pid for pid in short if products[pid].stock < wanted[pid]]
    for receipt, sale in sales:
        for line in sale.lines:
            if line.product.id in short:
                rows = [r.line for r in receipt.rows if _sku(r) == line.product.sku.upper()]
                problems.append(LineProblem(rows[0] if rows else receipt.first.line, Msg(
                    "库存不足：%(name)s 仅剩 %(n)s 件，本次导入共 %(m)s 件",
                    name=line.product.name, n=products[line.product.id].stock,
                    m=wanted[line.product.id])))


def _sku(row: ImportRow) -> str:
    return unicodedata.normalize("NFKC", row.values.get("sku", "")).strip().upper()


# ---- the templates -----------------------------------------------------------------------------

def template_csv() -> bytes:
    """The header row, UTF-8 with a BOM (Excel opens it as Chinese text)."""
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerow(TEMPLATE_HEADERS)
    return out.getvalue().encode("utf-8-sig")


TEMPLATE_NOTES = (
    "每行一种商品；同一收据号的多行是同一笔销售，后面的行可以不填日期、地点和付款方式。",
    "日期：年-月-日，不晚于今天，最多 90 天以前。",
    "商品编号(SKU)：商家中心“商品”页显示的编号，只能是本经营主体已上架或已下架的商品。",
    "单价(元)：实际成交单价，可以与网店价格不同，最多两位小数。",
    "付款方式：现金或转账。收据号在本经营主体内不能重复；同一文件再次导入不会重复录入。",
    "导入要么全部成功，要么一行也不导入：有错误时会列出每一行的行号和原因。",
)


def template_xlsx() -> bytes:
    """The header row (bold, frozen, widths) and a sheet of notes with an example."""
    from openpyxl import Workbook
    from openpyxl.styles import Font
    book = Workbook()
    sheet = book.active
    sheet.title = "线下销售"
    sheet.append(list(TEMPLATE_HEADERS))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter, width in zip("ABCDEFG", (12, 24, 14, 16, 8, 10, 20), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    notes = book.create_sheet("填写说明")
    for text in TEMPLATE_NOTES:
        notes.append([text])
    notes.append([])
    notes.append(["示例"])
    notes.append(list(TEMPLATE_HEADERS))
    notes.append(["2026-11-15", "洞口县消费帮扶集市", "A0001", "T00000001", 3, 45.00, "现金"])
    notes.append(["", "", "A0001", "T00000002", 1, 38.50, ""])
    notes.column_dimensions["A"].width = 90
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
