"""我的订单 by status a page at a time (全部, 待付款, 待发货, 待收货, 已完成, 退款/售后, each with
its count) and the seller's orders opening where there is work: 待发货, else the first status
that has orders, with a count per status there and on the seller's overview (issue 15, point 4)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select, update

from marketplace.accounts.models import User
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order, OrderEvent, OrderEventKind, OrderStatus
from marketplace.orders.services import AddressInput, LineInput
from tests.fixtures.factories import DELIVERY


@pytest.fixture
def buyer(make):
    return make.user("buyer", login="phone@example.test")


def place(app, buyer_login: str, product_id: int, n: int) -> list[int]:
    """n one-line orders of the buyer, unpaid."""
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == buyer_login))
        ids = [services.checkout(db.session, user, [LineInput(product_id, 1)],
                                 AddressInput(**DELIVERY), idempotency_key=f"phone-{i:04d}")[0].id
               for i in range(n)]
        db.session.commit()
        return ids


def set_status(app, ids, status, **values):
    with app.app_context():
        db.session.execute(update(Order).where(Order.id.in_(ids))
                           .values(status=status, **values))
        db.session.commit()


@pytest.fixture
def many(app, make, buyer):
    """25 orders of one buyer: 21 unpaid, 1 paid, 1 shipped, 1 received, 1 completed with a
    refund asked for (退款/售后)."""
    seller = make.seller(name="月溪茶叶合作社")
    product = make.product(seller, name="高山云雾茶", price_fen=1000, stock=100)
    ids = place(app, "phone@example.test", product.id, 25)
    set_status(app, ids[21:22], OrderStatus.paid, paid_fen=1000)
    set_status(app, ids[22:23], OrderStatus.shipped, paid_fen=1000)
    set_status(app, ids[23:24], OrderStatus.received, paid_fen=1000)
    set_status(app, ids[24:25], OrderStatus.completed, paid_fen=1000)
    with app.app_context():
        db.session.add(OrderEvent(order_id=ids[24], kind=OrderEventKind.refund_requested))
        db.session.commit()
    return {"ids": ids, "seller": seller}


def listed(html: str) -> list[str]:
    return re.findall(r'<a class="order-head" href="/orders/(\d+)"', html)


def tabs(html: str) -> dict[str, str]:
    nav = re.search(r'<nav class="tabs order-tabs".*?</nav>', html, re.S).group(0)
    return {label: n for label, n in
            re.findall(r'>([^<>]+?)(?: <span class="tab-n">(\d+)</span>)?\s*</a>', nav)}


def test_my_orders_by_status_a_page_at_a_time(client, app, many):
    client.login("phone@example.test")
    ids = many["ids"]
    page = client.get("/orders").get_data(as_text=True)
    assert tabs(page) == {"全部": "25", "待付款": "21", "待发货": "1", "待收货": "1",
                          "已完成": "2", "退款/售后": "1"}
    first = listed(page)
    assert first == [str(i) for i in reversed(ids)][:20]  # newest first, 20 a page
    assert "第 1 / 2 页" in page
    second = listed(client.get("/orders?page=2").get_data(as_text=True))
    assert second == [str(i) for i in reversed(ids[:5])]

    def only(tab, wanted):
        html = client.get(f"/orders?tab={tab}").get_data(as_text=True)
        assert sorted(map(int, listed(html))) == sorted(wanted), tab
        assert 'class="active" aria-current="page"' in html
        return html

    html = only("unpaid", ids[1:21])  # the newest 20 of 21
    assert "第 1 / 2 页" in html and "去付款" in html
    assert listed(client.get("/orders?tab=unpaid&page=2").get_data(as_text=True)) == \
        [str(ids[0])]
    only("to_ship", ids[21:22])
    assert "查看物流" in only("to_receive", ids[22:23])
    only("done", ids[23:25])
    only("after_sale", ids[24:25])
    assert listed(client.get("/orders?tab=nonsense").get_data(as_text=True)) == first
    empty = client.get("/orders?tab=unpaid&page=9").get_data(as_text=True)
    assert listed(empty) == [] and "回到第一页" in empty


def test_a_refund_paid_back_counts_as_after_sale(client, app, many):
    client.login("phone@example.test")
    set_status(app, many["ids"][21:22], OrderStatus.paid, paid_fen=1000, refunded_fen=1000)
    page = client.get("/orders?tab=after_sale").get_data(as_text=True)
    assert sorted(map(int, listed(page))) == [many["ids"][21], many["ids"][24]]
    assert tabs(page)["退款/售后"] == "2"


def seller_tabs(html: str) -> dict[str, str]:
    nav = re.search(r'<nav class="tabs" aria-label="按状态筛选">.*?</nav>', html, re.S).group(0)
    return dict(re.findall(r'>([^<>]+?) <span class="tab-n">(\d+)</span></a>', nav))


def active_tab(html: str) -> str:
    return re.search(r'class="active" aria-current="page">([^<]+?) <span', html).group(1)


def test_the_seller_console_opens_on_the_orders_to_ship(client, app, make, many):
    staff = make.staff(many["seller"])
    client.login(staff.email)
    page = client.get("/seller/orders").get_data(as_text=True)
    assert seller_tabs(page) == {"待发货": "1", "待付款": "21", "已发货": "1", "已收货": "1",
                                 "已完成": "1", "已取消": "0"}
    assert active_tab(page) == "待发货"
    assert re.findall(r'action="/seller/orders/(\d+)/ship"', page) == [str(many["ids"][21])]
    overview = client.get("/seller").get_data(as_text=True)  # the overview says so too
    stats = re.search(r'<div class="stats order-stats">.*?</div>', overview, re.S).group(0)
    assert re.findall(r'status=(\w+)">\s*<b>(\d+)</b>', stats) == [
        ("paid", "1"), ("pending_payment", "21"), ("shipped", "1"), ("received", "1"),
        ("completed", "1"), ("cancelled", "0")]
    assert 'class="stat stat-todo"' in stats
    # nothing to ship: the first tab with orders, never an empty default that hides them
    set_status(app, many["ids"][21:22], OrderStatus.shipped)
    page = client.get("/seller/orders").get_data(as_text=True)
    assert active_tab(page) == "待付款" and seller_tabs(page)["待发货"] == "0"
    assert "这里还没有订单。" not in page
    # a tab asked for is shown, empty or not; pages of 20
    page = client.get("/seller/orders?status=paid").get_data(as_text=True)
    assert active_tab(page) == "待发货" and "这里还没有订单。" in page
    page = client.get("/seller/orders?status=pending_payment&page=2").get_data(as_text=True)
    assert "第 2 / 2 页" in page and page.count('<li class="row">') == 1


def test_a_seller_without_orders_opens_on_to_ship(client, app, make):
    seller = make.seller(name="新开的合作社")
    client.login(make.staff(seller).email)
    page = client.get("/seller/orders").get_data(as_text=True)
    assert active_tab(page) == "待发货" and "这里还没有订单。" in page
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Order)) == 0

