"""Offline sales through the seller console (both engines): one sale with many lines on one page
(blank rows, more rows without JavaScript), every problem shown where it belongs and nothing
written, the recent sales, the import (every bad line by its number, or how many sales, lines
and what total), the templates, the order list's 线下销售 with the refund that corrects it, and
who may see the pages."""
from __future__ import annotations

import io
from datetime import timedelta
from types import SimpleNamespace

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import func, select

from marketplace.accounts.models import Role
from marketplace.core.time import today_china
from marketplace.extensions import db
from marketplace.ledger.models import LedgerEntry
from marketplace.orders.models import Channel, Order


def text(resp) -> str:
    return resp.get_data(as_text=True)


def offline_orders(app) -> list[Order]:
    with app.app_context():
        db.session().expire_on_commit = False
        orders = list(db.session.scalars(select(Order).where(Order.channel == Channel.offline)
                                         .order_by(Order.id)))
        for order in orders:
            _ = order.lines
        return orders


def ledger_total(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.coalesce(func.sum(LedgerEntry.amount_fen), 0)))


@pytest.fixture
def stall(app, client, make):
    household = make.household(name="张三明", n=6262)
    seller = make.seller(name="古楼茶叶专业合作社", members=[(household, 1)])

    def share(session):
        from marketplace.sellers.models import Seller
        session.get(Seller, seller.id).household_share_bp = 1000
    make(share)
    staff = make.staff(seller, login="staff@example.test")
    tea = make.product(seller, name="古楼云雾茶", price_fen=12800, stock=10)
    dates = make.product(seller, name="溆浦红枣", price_fen=3800, stock=5)
    client.login("staff@example.test")
    return SimpleNamespace(seller=seller, tea=tea, dates=dates, staff=staff)


def sale_form(stall, **kw) -> dict:
    data = {"sold_on": (today_china() - timedelta(days=1)).isoformat(), "place": "洞口县消费帮扶集市",
            "payment_method": "cash", "receipt_no": "NO-88",
            "product_id": [str(stall.tea.id), "", str(stall.dates.id), ""],
            "quantity": ["2", "", "3", ""], "unit_price": ["100", "", "35.5", ""]}
    data.update(kw)
    return data


def test_one_sale_with_many_lines_on_one_page(app, client, stall):
    page = text(client.get("/seller/offline-sales/new"))
    assert page.count('name="quantity"') == 8 and "古楼云雾茶" in page and "再加几行" in page
    assert 'href="/seller/offline-sales?seller=' in page  # the console's tab
    resp = client.post_form("/seller/offline-sales/new", sale_form(stall), follow_redirects=True)
    html = text(resp)
    assert resp.status_code == 200 and "已录入线下销售" in html and "¥306.50" in html
    assert "NO-88" in html and "洞口县消费帮扶集市" in html and "现金" in html
    (order,) = offline_orders(app)
    assert [(ln.product_id, ln.quantity, ln.unit_price_fen) for ln in order.lines] == [
        (stall.tea.id, 2, 10000), (stall.dates.id, 3, 3550)]
    assert ledger_total(app) == 2000 + 1065
    # the same receipt again: the same order, told so
    resp = client.post_form("/seller/offline-sales/new", sale_form(stall), follow_redirects=True)
    assert "该收据号已录入过同样的销售" in text(resp) and len(offline_orders(app)) == 1


def test_more_rows_keep_what_was_typed_and_record_nothing(app, client, stall):
    resp = client.post_form("/seller/offline-sales/new", {**sale_form(stall), "more": "1"})
    html = text(resp)
    assert resp.status_code == 200 and html.count('name="quantity"') == 12
    assert 'value="35.5"' in html and 'value="NO-88"' in html
    assert offline_orders(app) == []


def test_problems_are_shown_where_they_belong_and_nothing_is_written(app, client, stall):
    resp = client.post_form("/seller/offline-sales/new", sale_form(
        stall, sold_on=(today_china() + timedelta(days=2)).isoformat(), place="",
        quantity=["2", "", "0", ""]))
    html = text(resp)
    assert resp.status_code == 400
    assert "销售日期不能晚于今天" in html and "请填写销售地点或活动名称" in html
    assert "数量应为 1 到 99999 之间的整数" in html and 'class="flagged"' in html
    resp = client.post_form("/seller/offline-sales/new", sale_form(
        stall, quantity=["20", "", "3", ""]))
    assert resp.status_code == 400 and "库存不足" in text(resp)
    assert offline_orders(app) == [] and ledger_total(app) == 0


def csv_bytes(stall, encoding="gbk", bad=False) -> bytes:
    day = today_china().isoformat()
    rows = ["日期,地点,收据号,商品编号(SKU),数量,单价(元),付款方式(现金/转账)",
            f"{day},集市,R1,{stall.tea.sku},1,100,现金",
            f",,R1,{stall.dates.sku},{'abc' if bad else '2'},30,",
            f"{day},庙会,R2,{'NOPE' if bad else stall.tea.sku},1,99.9,转账"]
    return ("\r\n".join(rows) + "\r\n").encode(encoding)


def upload(client, data: bytes, name: str):
    return client.post_form("/seller/offline-sales/import",
                            {"file": (io.BytesIO(data), name)},
                            content_type="multipart/form-data", follow_redirects=True)


def test_the_import_reports_every_bad_line_or_what_it_recorded(app, client, stall):
    page = text(client.get("/seller/offline-sales/import"))
    assert "下载 xlsx 模板" in page and "商品编号(SKU)" in page
    resp = upload(client, csv_bytes(stall, bad=True), "sales.csv")
    html = text(resp)
    assert resp.status_code == 400 and "未导入任何数据" in html
    assert "第 3 行：" in html and "第 4 行：" in html and "第 2 行：" not in html
    assert offline_orders(app) == []
    resp = upload(client, csv_bytes(stall), "sales.csv")
    assert "已导入 2 笔销售，共 3 行商品，合计 ¥259.90" in text(resp)
    assert [o.receipt_no for o in offline_orders(app)] == ["R1", "R2"]
    resp = upload(client, csv_bytes(stall, "utf-8-sig"), "again.csv")
    assert "其中 2 笔此前已录入" in text(resp) and len(offline_orders(app)) == 2


def test_an_xlsx_import_and_the_templates(app, client, stall):
    book = Workbook()
    book.active.append(["日期", "地点", "收据号", "商品编号(SKU)", "数量", "单价(元)", "付款方式"])
    book.active.append([today_china(), "集市", "X1", stall.dates.sku, 2, 30.5, "转账"])
    out = io.BytesIO()
    book.save(out)
    resp = upload(client, out.getvalue(), "sales.xlsx")
    assert "已导入 1 笔销售，共 1 行商品，合计 ¥61.00" in text(resp)
    csv = client.get("/seller/offline-sales/template.csv")
    assert csv.status_code == 200 and csv.data.startswith(b"\xef\xbb\xbf")
    assert "attachment" in csv.headers["Content-Disposition"]
    xlsx = client.get("/seller/offline-sales/template.xlsx")
    sheet = load_workbook(io.BytesIO(xlsx.data)).worksheets[0]
    assert sheet["A1"].value == "日期" and sheet.freeze_panes == "A2"


def test_offline_orders_in_the_order_list_are_corrected_by_refund(app, client, stall):
    client.post_form("/seller/offline-sales/new", sale_form(stall))
    (order,) = offline_orders(app)
    html = text(client.get("/seller/orders?status=received"))
    assert "线下销售" in html and "收据号 NO-88" in html and order.number in html
    assert 'name="tracking_no"' not in html  # nothing to ship
    resp = client.post_form(f"/seller/orders/{order.id}/refund",
                            {"amount": "35.50", "reason": "少一盒枣", "from": "received"})
    assert resp.status_code == 302
    assert ledger_total(app) == 3065 - 2000 * 3550 // 30650 - 1065 * 3550 // 30650
    assert "已退 ¥35.50" in text(client.get("/seller/offline-sales"))
    # not among the staff member's own purchases
    assert order.number not in text(client.get("/orders"))


def test_who_may_see_the_pages(app, client, make, stall):
    other = make.seller(name="别家合作社")
    assert client.get(f"/seller/offline-sales?seller={other.id}").status_code == 404
    assert client.get(f"/seller/offline-sales/new?seller={other.id}").status_code == 404
    client.logout()
    make.user(Role.buyer, login="buyer@example.test")
    client.login("buyer@example.test")
    assert client.get("/seller/offline-sales").status_code == 403
    assert client.get("/seller/offline-sales/template.csv").status_code == 403


def test_the_pages_in_english(app, client, stall):
    client.get("/lang/en")
    html = text(client.get("/seller/offline-sales/new"))
    assert "Record an offline sale" in html and "More rows" in html
