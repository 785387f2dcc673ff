"""Offline sales (线下销售) on both engines: recorded as paid offline orders whose income is posted
to the ledger in the same transaction (the chain verifies), units taken from stock, the receipt
number once per seller (the same sale again answers its order), corrections by refund with
reversals, and the file import: all or nothing, every bad line by its number, CSV in UTF-8 with
or without a BOM and in GBK, and xlsx."""
from __future__ import annotations

import io
from datetime import timedelta

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from marketplace.catalog.models import Product, ProductStatus
from marketplace.core.errors import Conflict, NotFound, RuleBroken, ValidationFailed
from marketplace.core.time import today_china
from marketplace.ledger import chain
from marketplace.ledger.models import LedgerEntry
from marketplace.orders import offline_import
from marketplace.orders.models import Channel, Order, OrderLine, OrderStatus
from marketplace.orders.offline import OfflineLine, OfflineSaleInput
from marketplace.orders.offline_import import ImportFailed, ImportRow
from marketplace.orders.services import InsufficientStock
from marketplace.payments import offline, refunds
from marketplace.payments.models import Payment, PaymentStatus
from marketplace.sellers.models import SellerStatus
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.factories import make_cooperative, make_product, make_seller, make_user


@pytest.fixture
def stall(session):
    """A cooperative (10% to its three member households) with two listed products, its staff
    member, and another seller's product."""
    seller, households = make_cooperative(session, first=700, weights=(1, 2, 3), share_bp=1000)
    tea = make_product(session, seller, name="云雾茶", price_fen=12800, stock=10)
    dates = make_product(session, seller, name="红枣", price_fen=3800, stock=5)
    staff = make_user(session, "buyer", "seller_staff", seller=seller)
    other = make_product(session, make_seller(session), name="别家的茶", stock=10)
    session.commit()
    return {"seller": seller, "tea": tea, "dates": dates, "staff": staff, "other": other,
            "households": households}


def sale(stall, receipt="A0001", lines=None, **kw) -> OfflineSaleInput:
    lines = lines if lines is not None else [
        OfflineLine(stall["tea"].id, 3, 10000), OfflineLine(stall["dates"].id, 2, 3550)]
    values = {"sold_on": today_china() - timedelta(days=3), "place": "洞口县消费帮扶集市",
              "payment_method": "cash", "receipt_no": receipt, **kw}
    return OfflineSaleInput(lines=lines, **values)


def counts(session) -> tuple[int, int, int]:
    return tuple(session.scalar(select(func.count()).select_from(model))
                 for model in (Order, Payment, LedgerEntry))


def entries_of(session, order) -> int:
    return session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0))
                          .join(OrderLine, OrderLine.id == LedgerEntry.order_line_id)
                          .where(OrderLine.order_id == order.id))


def test_a_sale_is_a_paid_offline_order_posted_to_the_ledger(session, stall):
    order = offline.record_offline_sale(session, stall["staff"], stall["seller"], sale(stall))
    session.commit()
    session.expire_all()
    order = session.get(Order, order.id)
    assert order.channel == Channel.offline and order.status == OrderStatus.received
    assert (order.goods_fen, order.total_fen, order.paid_fen) == (37100, 37100, 37100)
    assert order.receipt_no == "A0001" and order.place == "洞口县消费帮扶集市"
    assert order.sold_on == today_china() - timedelta(days=3)
    assert order.payment_method == "offline_cash" and order.buyer_id == stall["staff"].id
    prices = {ln.product_id: ln.unit_price_fen for ln in order.lines}
    assert prices == {stall["tea"].id: 10000, stall["dates"].id: 3550}  # not the catalogue's
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id))
    assert (payment.provider, payment.status, payment.amount_fen) == (
        "offline_cash", PaymentStatus.succeeded, 37100)
    # 10% of each line, split among the members 1:2:3, posted in the same transaction
    assert [ln.attributable_fen for ln in order.lines] == [3000, 710]
    assert entries_of(session, order) == 3710
    assert chain.verify(session).ok
    assert [e.kind for e in order.events] == ["created", "paid", "received"]
    tea, dates = session.get(Product, stall["tea"].id), session.get(Product, stall["dates"].id)
    assert (tea.stock, tea.held, dates.stock, dates.held) == (7, 0, 3, 0)


def test_transfer_and_prices_as_yuan_text(session, stall):
    order = offline.record_offline_sale(
        session, stall["staff"], stall["seller"], sale(
            stall, lines=[OfflineLine(str(stall["tea"].id), "2", "88.5")],
            payment_method="转账", sold_on=today_china().isoformat()))
    session.commit()
    assert order.payment_method == "offline_transfer" and order.total_fen == 17700


def test_the_same_receipt_again_answers_the_same_order_and_writes_nothing(session, stall):
    first = offline.record(session, stall["staff"], stall["seller"], sale(stall))
    session.commit()
    before = counts(session)
    again = offline.record(session, stall["staff"], stall["seller"], sale(stall))
    session.commit()
    assert first.created and not again.created and again.order.id == first.order.id
    assert counts(session) == before
    assert session.get(Product, stall["tea"].id).stock == 7  # taken once


def test_the_same_receipt_at_once_records_one_sale(app, session, stall):
    """Four requests record the same receipt at the same moment: one order, one payment, the
    stock taken once; the others answer that order (PostgreSQL: the unique index makes them
    wait for the first and find it; SQLite: one writer)."""
    seller_id, staff_id, data = stall["seller"].id, stall["staff"].id, sale(stall)
    session.commit()  # nothing of this session is read in the threads

    def record(_i: int) -> str:
        from marketplace.accounts.models import User
        from marketplace.extensions import db
        from marketplace.sellers.models import Seller
        done = offline.record(db.session, db.session.get(User, staff_id),
                              db.session.get(Seller, seller_id), data)
        return f"{done.order.id} {'new' if done.created else 'again'}"

    results = run_at_once(app, 4, record)
    session.expire_all()
    assert sorted(r.split()[1] for r in results) == ["again", "again", "again", "new"], results
    assert len({r.split()[0] for r in results}) == 1
    assert counts(session)[:2] == (1, 1)
    assert session.get(Product, stall["tea"].id).stock == 7
    assert chain.verify(session).ok


def test_the_same_receipt_with_another_sale_is_a_conflict(session, stall):
    offline.record_offline_sale(session, stall["staff"], stall["seller"], sale(stall))
    session.commit()
    before = counts(session)
    with pytest.raises(Conflict) as err:
        offline.record_offline_sale(session, stall["staff"], stall["seller"],
                                    sale(stall, place="另一个集市"))
    session.rollback()
    assert err.value.code == "receipt_no_taken" and err.value.status == 409
    assert counts(session) == before
    # another seller may use the same receipt number
    other = stall["other"]
    staff = make_user(session, "seller_staff", seller=other.seller)
    offline.record_offline_sale(session, staff, other.seller,
                                sale(stall, lines=[OfflineLine(other.id, 1, 100)]))
    session.commit()


def test_every_problem_is_named_and_nothing_is_written(session, stall):
    draft = make_product(session, stall["seller"], name="草稿", status=ProductStatus.draft)
    before = counts(session)
    with pytest.raises(ValidationFailed) as err:
        offline.record_offline_sale(session, stall["staff"], stall["seller"], OfflineSaleInput(
            sold_on=today_china() + timedelta(days=1), place="", payment_method="card",
            receipt_no="A 1", lines=[OfflineLine(stall["other"].id, 1, 100),
                                     OfflineLine(draft.id, 1, 100),
                                     OfflineLine(stall["tea"].id, 0, 100),
                                     OfflineLine(stall["dates"].id, 1, "abc")]))
    session.rollback()
    errors = err.value.errors
    assert set(errors) == {"sold_on", "place", "payment_method", "receipt_no", "lines"}
    assert [d["line"] for d in err.value.details["lines"]] == [1, 2, 3, 4]
    assert "第 3 行" in errors["lines"][2]
    assert counts(session) == before
    with pytest.raises(ValidationFailed) as err:
        offline.record_offline_sale(session, stall["staff"], stall["seller"],
                                    sale(stall, sold_on=today_china() - timedelta(days=91)))
    assert "90" in err.value.errors["sold_on"][0]


def test_an_event_must_be_checked_by_the_entry_point(session, stall):
    """A bare id is refused: help.events.tags.offline_event checks the event (see
    tests/services/test_events.py for the sales recorded against one)."""
    with pytest.raises(RuleBroken) as err:
        offline.record_offline_sale(session, stall["staff"], stall["seller"],
                                    sale(stall, event_id=3))
    assert err.value.status == 422 and err.value.code == "event_unavailable"


def test_stock_shortage_names_every_short_line(session, stall):
    before = counts(session)
    with pytest.raises(InsufficientStock) as err:
        offline.record_offline_sale(session, stall["staff"], stall["seller"], sale(
            stall, lines=[OfflineLine(stall["tea"].id, 11, 100),
                          OfflineLine(stall["dates"].id, 6, 100)]))
    session.rollback()
    assert {line["product_id"] for line in err.value.details["lines"]} == {
        stall["tea"].id, stall["dates"].id}
    assert counts(session) == before
    assert session.get(Product, stall["tea"].id).stock == 10


def test_who_may_record(session, stall):
    stranger = make_user(session, "seller_staff", seller=stall["other"].seller)
    with pytest.raises(NotFound):
        offline.record_offline_sale(session, stranger, stall["seller"], sale(stall))
    stall["seller"].status = SellerStatus.suspended
    with pytest.raises(RuleBroken):
        offline.record_offline_sale(session, stall["staff"], stall["seller"], sale(stall))


def test_corrections_are_refunds_with_reversals(session, stall):
    order = offline.record_offline_sale(session, stall["staff"], stall["seller"], sale(stall))
    session.commit()
    record = refunds.refund(session, stall["staff"], order, amount_fen=10000, reason="少找零")
    session.commit()
    assert record.provider_reference == f"offline-refund-{record.id}"
    # 10000 of 37100 back: each line reverses floor(attributable x 10000 / 37100)
    assert entries_of(session, order) == sum(a - a * 10000 // 37100 for a in (3000, 710))
    assert chain.verify(session).ok
    refunds.refund(session, stall["staff"], order, reason="整单退回")
    session.commit()
    assert order.refunded_fen == order.paid_fen and entries_of(session, order) == 0
    assert chain.verify(session).ok


# ---- the import --------------------------------------------------------------------------------

def rows_of(stall, *rows) -> list[ImportRow]:
    """Numbered rows (from line 2) of (date, place, receipt, sku, quantity, price, method)."""
    return [ImportRow(n, dict(zip(offline_import.FIELDS, row, strict=True)))
            for n, row in enumerate(rows, start=2)]


def good_rows(stall):
    day = (today_china() - timedelta(days=1)).isoformat()
    tea, dates = stall["tea"].sku, stall["dates"].sku
    return rows_of(stall, (day, "集市", "R1", tea, "2", "100", "现金"),
                   ("", "", "R1", dates, "1", "35.5", ""),
                   (day, "庙会", "R2", tea, "1", "99.90", "转账"))


def test_an_import_records_each_receipt_as_one_sale(session, stall):
    orders = offline.import_offline_sales(session, stall["staff"], stall["seller"],
                                          good_rows(stall))
    session.commit()
    assert [(o.receipt_no, len(o.lines), o.total_fen) for o in orders] == [
        ("R1", 2, 23550), ("R2", 1, 9990)]
    assert orders.repeated == 0
    assert [o.payment_method for o in orders] == ["offline_cash", "offline_transfer"]
    assert chain.verify(session).ok
    before = counts(session)
    again = offline.import_offline_sales(session, stall["staff"], stall["seller"],
                                         good_rows(stall))
    session.commit()
    assert [o.id for o in again] == [o.id for o in orders] and again.repeated == 2
    assert counts(session) == before


def test_an_import_with_bad_lines_names_each_and_writes_nothing(session, stall):
    day = today_china().isoformat()
    tea, dates = stall["tea"].sku, stall["dates"].sku
    rows = rows_of(stall, (day, "集市", "R1", tea, "2", "100", "现金"),      # 2: fine
                   (day, "集市", "R1", "NOPE", "1", "10", "现金"),          # 3: unknown SKU
                   (day, "集市", "R2", dates, "x", "10", "现金"),           # 4: quantity
                   (day, "别处", "R1", dates, "1", "10", "现金"),           # 5: another place
                   (day, "集市", "", dates, "1", "10", "现金"),             # 6: no receipt
                   ("2020-01-01", "集市", "R3", dates, "1", "10", "现金"),  # 7: too old
                   (day, "集市", "R4", stall["other"].sku, "1", "10", "现金"))  # 8: not ours
    before = counts(session)
    with pytest.raises(ImportFailed) as err:
        offline.import_offline_sales(session, stall["staff"], stall["seller"], rows)
    session.rollback()
    assert [p.line for p in err.value.problems] == [3, 4, 5, 6, 7, 8]
    assert err.value.details["lines"][0]["line"] == 3 and err.value.status == 400
    assert counts(session) == before


def test_an_import_checks_stock_across_its_sales_and_receipts_recorded_before(session, stall):
    day = today_china().isoformat()
    dates = stall["dates"].sku
    offline.record_offline_sale(session, stall["staff"], stall["seller"], sale(stall))
    session.commit()
    rows = rows_of(stall, (day, "集市", "R1", dates, "2", "10", "现金"),
                   (day, "集市", "R2", dates, "2", "10", "现金"),   # 3 + 2 left after A0001: 4 > 3
                   (day, "集市", "A0001", dates, "1", "10", "现金"))  # taken by another sale
    with pytest.raises(ImportFailed) as err:
        offline.import_offline_sales(session, stall["staff"], stall["seller"], rows)
    session.rollback()
    assert [p.line for p in err.value.problems] == [2, 3, 4]
    assert "库存不足" in err.value.problems[0].message


# ---- reading files -----------------------------------------------------------------------------

CSV_TEXT = ("日期,地点,收据号,商品编号(SKU),数量,单价(元),付款方式(现金/转账)\r\n"
            "2026-11-15,洞口县消费帮扶集市,A1,T1,3,45.00,现金\r\n"
            ",,A1,T2,1,38.5,\r\n\r\n")


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "gbk"])
def test_csv_in_utf8_with_or_without_bom_and_in_gbk(encoding):
    rows = offline_import.read_file("sales.csv", CSV_TEXT.encode(encoding))
    assert [r.line for r in rows] == [2, 3]
    assert rows[0].values == {"sold_on": "2026-11-15", "place": "洞口县消费帮扶集市",
                              "receipt_no": "A1", "sku": "T1", "quantity": "3",
                              "unit_price": "45.00", "payment_method": "现金"}
    assert rows[1].values["place"] == "" and rows[1].values["sku"] == "T2"


def test_xlsx_rows_and_the_templates():
    book = Workbook()
    sheet = book.active
    sheet.append(["收据号", "日期", "地点", "商品编号（SKU）", "数量", "单价", "付款方式", "备注"])
    sheet.append(["A1", today_china(), "集市", 1001, 3.0, 45.5, "现金", "x"])
    buffer = io.BytesIO()
    book.save(buffer)
    rows = offline_import.read_file("sales.xlsx", buffer.getvalue())
    assert rows[0].values == {"receipt_no": "A1", "sold_on": today_china().isoformat(),
                              "place": "集市", "sku": "1001", "quantity": "3",
                              "unit_price": "45.5", "payment_method": "现金"}
    template = load_workbook(io.BytesIO(offline_import.template_xlsx()))
    assert [c.value for c in template.worksheets[0][1]] == list(offline_import.TEMPLATE_HEADERS)
    assert offline_import.template_csv().startswith(b"\xef\xbb\xbf")
    for name, data in (("t.csv", offline_import.template_csv()),
                       ("t.xlsx", offline_import.template_xlsx())):
        assert offline_import.read_file(name, data) == []


def test_files_that_cannot_be_read():
    for name, data, line in (("a.csv", b"", 0), ("a.csv", "日期,地点\n1,2\n".encode(), 1),
                             ("a.xlsx", b"PK\x03\x04broken", 0),
                             ("a.csv", b"\xff\xfe\x00\x00\xff", 0)):
        with pytest.raises(ImportFailed) as err:
            offline_import.read_file(name, data)
        assert err.value.problems[0].line == line, name
