"""The notifications page (both engines): a notification sent in Chinese is read in the reader's
language, its link is built from its endpoint (a gone endpoint gives no link, not an error), and
rows written before the keys are shown with their text and typed url."""
from __future__ import annotations

import html

import pytest

from marketplace.accounts.models import User
from marketplace.core.i18n import Msg
from marketplace.extensions import db
from marketplace.notifications import services as notifications
from marketplace.notifications.models import Notification
from marketplace.orders import services
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments.capture import record_payment
from tests.fixtures.factories import DELIVERY


def page(client) -> str:
    return html.unescape(client.get("/notifications").get_data(as_text=True))


@pytest.fixture
def paid(app, make, goods):
    """A paid order of tea: its buyer and the seller's staff have been told."""
    buyer = make.user("buyer", login="buyer1@example.test")
    staff = make.staff(goods["seller"], login="staff@example.test")
    with app.app_context():
        order = services.checkout(db.session, db.session.get(User, buyer.id),
                                  [LineInput(goods["tea"], 1)], AddressInput(**DELIVERY),
                                  idempotency_key="notify-web-0001")[0]
        record_payment(db.session, order, provider="simulated", reference=f"sim-{order.id}",
                       amount_fen=order.total_fen, currency="CNY")
        db.session.commit()
        return {"order_id": order.id, "number": order.number, "seller_id": goods["seller"].id,
                "buyer": buyer, "staff": staff}


def test_a_notification_sent_in_chinese_is_read_in_english(client, make_client, paid):
    client.login("buyer1@example.test")
    assert f"订单 {paid['number']} 已付款，等待商家发货" in page(client)
    client.get("/lang/en")
    english = page(client)
    assert f"Order {paid['number']} is paid; the seller will ship it" in english
    assert "已付款" not in english
    seller = make_client()
    seller.login("staff@example.test")
    seller.get("/lang/en")
    assert f"New order {paid['number']} is paid; please ship it soon" in page(seller)


def test_the_link_comes_from_the_endpoint(client, make_client, paid):
    client.login("buyer1@example.test")
    assert f'href="/orders/{paid["order_id"]}"' in page(client)
    seller = make_client()
    seller.login("staff@example.test")
    assert f'href="/seller/orders?seller={paid["seller_id"]}&status=paid"' in page(seller)


def test_a_nested_message_is_translated_and_an_anchor_kept(app, client, make):
    user = make.user("buyer", login="reader@example.test")
    with app.app_context():
        notifications.notify(db.session, [user.id], Msg(
            "订单 %(n)s：%(note)s", n="N7", note=Msg("订单%(status)s，不能退款",
                                                    status=Msg("已取消"))),
            "households.office_index", _anchor="lots")
        db.session.commit()
    client.login("reader@example.test")
    client.get("/lang/en")
    shown = page(client)
    assert "Order N7: The order is Cancelled and cannot be refunded" in shown
    assert 'href="/office#lots"' in shown


def test_a_gone_endpoint_gives_no_link_and_old_rows_keep_text_and_url(app, client, make):
    user = make.user("buyer", login="reader@example.test")
    with app.app_context():
        notifications.notify(db.session, [user.id], Msg("订单 %(n)s 已付款，等待商家发货", n="N8"),
                             "orders.no_such_page", order_id=8)
        db.session.add(Notification(user_id=user.id, text="订单 N9 已发货", url="/orders/9"))
        db.session.commit()
    client.login("reader@example.test")
    resp = client.get("/notifications")
    shown = html.unescape(resp.get_data(as_text=True))
    assert resp.status_code == 200
    assert "订单 N8 已付款，等待商家发货" in shown and "/orders/8" not in shown
    assert '<a href="/orders/9">订单 N9 已发货</a>' in shown
