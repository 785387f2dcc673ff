"""Cart, checkout, the buyer's orders and the simulated payment page, through the test client."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from marketplace.catalog.models import Product
from marketplace.extensions import db
from marketplace.orders.models import CartItem, Order, OrderStatus
from marketplace.payments.models import Refund
from tests.fixtures.factories import DELIVERY

ADDRESS = DELIVERY


@pytest.fixture
def buyer(make):
    return make.user("buyer", login="buyer1@example.test")


def scalar(app, stmt):
    with app.app_context():
        return db.session.scalar(stmt)


def stock(app, product_id):
    return scalar(app, select(Product.stock).where(Product.id == product_id))


def add(client, product_id, quantity=1):
    return client.post_form("/cart/add", {"product_id": product_id, "quantity": quantity})


def test_visitor_cart_merges_at_sign_in(client, app, goods, buyer):
    assert add(client, goods["tea"], 2).status_code == 302
    page = client.get("/cart").get_data(as_text=True)
    assert "云雾茶" in page and "¥90.00" in page
    client.login("buyer1@example.test")
    assert scalar(app, select(CartItem.quantity).where(CartItem.product_id == goods["tea"])) == 2
    assert "云雾茶" in client.get("/cart").get_data(as_text=True)


def test_quantities_are_checked_against_stock(client, app, goods):
    resp = add(client, goods["zao"], 3)
    assert resp.status_code == 302
    assert "库存只剩 2 件" in client.get(resp.headers["Location"]).get_data(as_text=True)
    assert "购物车是空的" in client.get("/cart").get_data(as_text=True)
    assert add(client, goods["zao"], 2).status_code == 302
    assert add(client, goods["zao"], 1).status_code == 302  # 3 in all: refused
    assert 'value="2"' in client.get("/cart").get_data(as_text=True)


def test_checkout_needs_sign_in(client, goods):
    add(client, goods["tea"])
    resp = client.get("/checkout")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


def checkout_form(client) -> dict:
    page = client.get("/checkout").get_data(as_text=True)
    key = re.search(r'name="idempotency_key" type="hidden" value="([0-9a-f]+)"', page) or \
        re.search(r'id="idempotency_key" name="idempotency_key" type="hidden" value="([0-9a-f]+)"',
                  page)
    assert key, page[:3000]
    return {**ADDRESS, "idempotency_key": key.group(1), "save_address": "y"}  # as the box is


def test_checkout_pay_and_double_submit(client, app, goods, buyer):
    client.login("buyer1@example.test")
    add(client, goods["tea"], 2)
    add(client, goods["zao"], 1)
    form = checkout_form(client)
    resp = client.post_form("/checkout", form)
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/orders")
    assert scalar(app, select(func.count()).select_from(Order)) == 2
    assert stock(app, goods["tea"]) == 3 and stock(app, goods["zao"]) == 1
    assert scalar(app, select(func.count()).select_from(CartItem)) == 0
    # the same page submitted again (double click, refresh): still two orders
    client.post_form("/checkout", form)
    assert scalar(app, select(func.count()).select_from(Order)) == 2

    order_id = scalar(app, select(Order.id).where(Order.goods_fen == 9000))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "待付款" in page and "去付款" in page
    assert "测试" in client.get(f"/orders/{order_id}/pay").get_data(as_text=True)
    client.post_form(f"/orders/{order_id}/pay", {"outcome": "fail"})
    assert scalar(app, select(Order.status).where(Order.id == order_id)) == \
        OrderStatus.pending_payment
    client.post_form(f"/orders/{order_id}/pay", {"outcome": "success"})
    assert scalar(app, select(Order.status).where(Order.id == order_id)) == OrderStatus.paid
    assert "已付款" in client.get("/orders").get_data(as_text=True)
    # the order's history is told in words, not event codes
    history = client.get(f"/orders/{order_id}").get_data(as_text=True).split("订单记录")[1]
    assert "下单" in history and "付款到账 · 测试支付" in history
    assert "created" not in history and "simulated" not in history
    client.get("/lang/en")
    history = client.get(f"/orders/{order_id}").get_data(as_text=True).split("Order history")[1]
    assert "Order placed" in history and "Payment received · Test payment" in history


def test_bad_address_shows_field_errors(client, app, goods, buyer):
    client.login("buyer1@example.test")
    add(client, goods["tea"])
    form = {**checkout_form(client), "mobile": "123", "region_code": ""}
    resp = client.post_form("/checkout", form)
    assert resp.status_code == 400
    assert scalar(app, select(func.count()).select_from(Order)) == 0


def test_cancel_and_late_payment(client, app, goods, buyer):
    client.login("buyer1@example.test")
    add(client, goods["zao"], 2)
    client.post_form("/checkout", checkout_form(client))
    order_id = scalar(app, select(Order.id))
    client.post_form(f"/orders/{order_id}/pay", {"outcome": "late"})  # stock still there
    assert scalar(app, select(Order.status).where(Order.id == order_id)) == OrderStatus.paid
    add(client, goods["tea"], 1)
    client.post_form("/checkout", checkout_form(client))
    second = scalar(app, select(func.max(Order.id)))
    client.post_form(f"/orders/{second}/cancel")
    assert scalar(app, select(Order.status).where(Order.id == second)) == OrderStatus.cancelled
    assert stock(app, goods["tea"]) == 5


def test_another_buyers_order_is_404(client, make_client, app, goods, buyer, make):
    client.login("buyer1@example.test")
    add(client, goods["tea"])
    client.post_form("/checkout", checkout_form(client))
    order_id = scalar(app, select(Order.id))
    make.user("buyer", login="buyer2@example.test")
    other = make_client()
    other.login("buyer2@example.test")
    assert other.get(f"/orders/{order_id}").status_code == 404
    assert other.post_form(f"/orders/{order_id}/pay", {"outcome": "success"}).status_code == 404
    assert other.post_form(f"/orders/{order_id}/cancel").status_code == 404


def test_english_cart(client, goods):
    client.get("/lang/en")
    add(client, goods["tea"])
    page = client.get("/cart").get_data(as_text=True)
    assert "Check out" in page and "Add to cart" not in page
    assert "Add to cart" in client.get(f"/products/{goods['tea']}").get_data(as_text=True)


def test_seller_ships_buyer_confirms_and_asks_a_refund(client, make_client, app, make, goods,
                                                       buyer):
    client.login("buyer1@example.test")
    add(client, goods["tea"], 2)
    client.post_form("/checkout", checkout_form(client))
    order_id = scalar(app, select(Order.id))
    client.post_form(f"/orders/{order_id}/pay", {"outcome": "success"})
    staff = make.staff(goods["seller"])
    seller = make_client()
    seller.login(staff.email)
    page = seller.get("/seller/orders").get_data(as_text=True)
    assert "发货" in page and "王小红" in page
    resp = seller.post_form(f"/seller/orders/{order_id}/ship", {"carrier": "", "tracking_no": ""})
    assert resp.status_code == 302
    assert scalar(app, select(Order.status).where(Order.id == order_id)) == OrderStatus.paid
    seller.post_form(f"/seller/orders/{order_id}/ship",
                     {"carrier": "顺丰速运", "tracking_no": "SF1234567890"})
    assert scalar(app, select(Order.status).where(Order.id == order_id)) == OrderStatus.shipped
    assert "SF1234567890" in client.get(f"/orders/{order_id}").get_data(as_text=True)
    client.post_form(f"/orders/{order_id}/refund", {"amount": "10.00", "reason": "有一罐破损"})
    page = seller.get("/seller/orders?status=shipped").get_data(as_text=True)
    assert "有一罐破损" in page
    refund_id = scalar(app, select(func.max(Refund.id)))
    seller.post_form(f"/seller/refunds/{refund_id}/approve")
    assert scalar(app, select(Order.refunded_fen).where(Order.id == order_id)) == 1000
    client.post_form(f"/orders/{order_id}/receive")
    assert scalar(app, select(Order.status).where(Order.id == order_id)) == OrderStatus.received
    # another seller's staff: 404 on this order
    stranger = make_client()
    stranger.login(make.staff(make.seller(name="别家合作社")).email)
    assert stranger.post_form(f"/seller/orders/{order_id}/ship",
                              {"carrier": "x", "tracking_no": "SF1234"}).status_code == 404


def test_bank_transfer_voucher_and_confirmation(client, make_client, app, make, goods, buyer):
    from tests.fixtures.factories import image_bytes
    client.login("buyer1@example.test")
    add(client, goods["tea"], 1)
    client.post_form("/checkout", checkout_form(client))
    order_id = scalar(app, select(Order.id))
    client.post_form(f"/orders/{order_id}/pay/bank")
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "对公转账" in page and "附言请填订单号" in page
    with app.app_context():
        order = db.session.get(Order, order_id)
        assert order.payment_method == "bank_transfer"
        assert (order.reserved_until - order.created_at).days >= 2  # a longer window
    staff = make.staff(goods["seller"])
    seller = make_client()
    seller.login(staff.email)
    # nothing to confirm before a voucher is there
    seller.post_form(f"/seller/orders/{order_id}/confirm-transfer")
    assert scalar(app, select(Order.status).where(Order.id == order_id)) == \
        OrderStatus.pending_payment
    bad = client.post_form(f"/orders/{order_id}/voucher",
                           {"voucher": (__import__("io").BytesIO(b"not an image"), "x.jpg")},
                           content_type="multipart/form-data")
    assert bad.status_code == 302
    assert scalar(app, select(Order.voucher_filename).where(Order.id == order_id)) == ""
    client.post_form(f"/orders/{order_id}/voucher",
                     {"voucher": (__import__("io").BytesIO(image_bytes("JPEG")), "slip.jpg")},
                     content_type="multipart/form-data")
    assert client.get(f"/orders/{order_id}/voucher").status_code == 200
    assert seller.get(f"/orders/{order_id}/voucher").status_code == 200
    stranger = make_client()
    stranger.login(make.user("buyer", login="buyer3@example.test").email)
    assert stranger.get(f"/orders/{order_id}/voucher").status_code == 404
    assert "转账凭证" in seller.get("/seller/orders?status=pending_payment").get_data(as_text=True)
    seller.post_form(f"/seller/orders/{order_id}/confirm-transfer")
    assert scalar(app, select(Order.status).where(Order.id == order_id)) == OrderStatus.paid


def test_notifications_tell_buyer_and_seller(client, make_client, app, make, goods, buyer):
    staff = make.staff(goods["seller"])
    client.login("buyer1@example.test")
    add(client, goods["tea"], 1)
    client.post_form("/checkout", checkout_form(client))
    order_id = scalar(app, select(Order.id))
    client.post_form(f"/orders/{order_id}/pay", {"outcome": "success"})
    seller = make_client()
    seller.login(staff.email)
    home = seller.get("/").get_data(as_text=True)
    assert '<span class="unread-count">1</span>' in home
    page = seller.get("/notifications").get_data(as_text=True)
    assert "已付款，请尽快发货" in page
    assert 'class="unread-count"' not in seller.get("/").get_data(as_text=True)  # read now
    seller.post_form(f"/seller/orders/{order_id}/ship",
                     {"carrier": "顺丰速运", "tracking_no": "SF1234567890"})
    assert "已发货：顺丰速运 SF1234567890" in client.get("/notifications").get_data(as_text=True)


def test_invoice_request_and_printable_page(client, make_client, app, make, goods, buyer):
    client.login("buyer1@example.test")
    add(client, goods["tea"], 1)
    client.post_form("/checkout", checkout_form(client))
    order_id = scalar(app, select(Order.id))
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "申请发票" not in page  # not paid yet
    client.post_form(f"/orders/{order_id}/pay", {"outcome": "success"})
    resp = client.post_form(f"/orders/{order_id}/invoice",
                            {"kind": "company", "title": "怀化市机关事务局", "tax_no": "123"})
    assert resp.headers["Location"].endswith(f"/orders/{order_id}")
    assert "纳税人识别号" in client.get(resp.headers["Location"]).get_data(as_text=True)
    resp = client.post_form(f"/orders/{order_id}/invoice", {"kind": "personal", "title": "王小红"})
    assert resp.headers["Location"].endswith(f"/orders/{order_id}/invoice")
    html = client.get(f"/orders/{order_id}/invoice").get_data(as_text=True)
    assert "销售发票" in html and "王小红" in html and "-000001" in html and "¥45.00" in html
    staff = make_client()
    staff.login(make.staff(goods["seller"]).email)
    assert staff.get(f"/orders/{order_id}/invoice").status_code == 200
    stranger = make_client()
    stranger.login(make.user("buyer", login="buyer4@example.test").email)
    assert stranger.get(f"/orders/{order_id}/invoice").status_code == 404


def test_address_book_fills_the_next_checkout(client, make_client, app, make, goods, buyer):
    from marketplace.orders.models import SavedAddress
    client.login("buyer1@example.test")
    add(client, goods["tea"], 1)
    client.post_form("/checkout", checkout_form(client))
    assert scalar(app, select(func.count()).select_from(SavedAddress)) == 1
    add(client, goods["zao"], 1)
    page = client.get("/checkout").get_data(as_text=True)
    assert 'value="王小红"' in page and 'value="13912345678"' in page
    assert '<option selected value="431224">' in page or 'value="431224" selected' in page
    # the same address again is not saved twice
    client.post_form("/checkout", checkout_form(client))
    assert scalar(app, select(func.count()).select_from(SavedAddress)) == 1
    entry_id = scalar(app, select(SavedAddress.id))
    other = make_client()
    other.login(make.user("buyer", login="buyer5@example.test").email)
    assert other.post_form(f"/addresses/{entry_id}/delete").status_code == 404
    assert "卢峰镇建设路" in client.get("/addresses").get_data(as_text=True)
    client.post_form(f"/addresses/{entry_id}/delete")
    assert scalar(app, select(func.count()).select_from(SavedAddress)) == 0


def test_stock_held_by_an_expired_order_comes_back_when_read(client, make_client, app, goods,
                                                            buyer, make):
    from datetime import timedelta

    from marketplace.core.time import now_utc
    client.login("buyer1@example.test")
    add(client, goods["zao"], 2)
    client.post_form("/checkout", checkout_form(client))
    assert stock(app, goods["zao"]) == 0
    with app.app_context():
        order = db.session.scalar(select(Order))
        order.reserved_until = now_utc() - timedelta(minutes=1)
        db.session.commit()
    other = make_client()
    other.login(make.user("buyer", login="buyer6@example.test").email)
    assert add(other, goods["zao"], 2).status_code == 302  # the two units are back for sale
    assert "红枣" in other.get("/cart").get_data(as_text=True)
    assert scalar(app, select(Order.status)) == OrderStatus.cancelled


def test_the_order_page_and_my_help_show_whom_a_purchase_helped(client, app, make, buyer):
    from tests.fixtures.factories import make_household, make_product, make_seller

    def coop(session):
        household = make_household(session, n=860, name="赵大山")
        seller = make_seller(session, members=[(household, 1)])
        seller.household_share_bp = 2500
        return make_product(session, seller, name="合作社蜂蜜", price_fen=8000, stock=5).id

    product_id = make(coop)
    client.login("buyer1@example.test")
    assert "您的订单付款后" in client.get("/my-help").get_data(as_text=True)
    add(client, product_id, 1)
    client.post_form("/checkout", checkout_form(client))
    order_id = scalar(app, select(Order.id))
    assert "这笔订单帮扶了" not in client.get(f"/orders/{order_id}").get_data(as_text=True)
    client.post_form(f"/orders/{order_id}/pay", {"outcome": "success"})
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "这笔订单帮扶了" in page and "赵*山" in page and "¥20.00" in page
    assert "赵大山" not in page  # the name is masked
    mine = client.get("/my-help").get_data(as_text=True)
    assert "¥20.00" in mine and "洞口县" in mine
