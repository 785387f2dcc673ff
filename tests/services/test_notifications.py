"""Notifications as stored (both engines): a paid order tells its buyer and its seller's staff in
one statement, each row with the message's key and values and the endpoint its link is built
from; a lot below the guaranteed price tells the staff and the offices over it the same way."""
from __future__ import annotations

import json
from datetime import date

from sqlalchemy import select

from marketplace.core.i18n import Msg
from marketplace.ledger import lots
from marketplace.ledger.lots import LotInput
from marketplace.notifications import services as notifications
from marketplace.notifications.messages import unpack
from marketplace.notifications.models import Notification
from marketplace.orders import services
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments.capture import record_payment
from marketplace.sellers.models import SellerKind
from tests.fixtures.factories import (
    DELIVERY,
    make_household,
    make_product,
    make_seller,
    make_user,
    region,
)


def rows(session, user) -> list[Notification]:
    return list(session.scalars(select(Notification).where(Notification.user_id == user.id)
                                .order_by(Notification.id)))


def stored(n: Notification) -> tuple:
    return n.message_key, json.loads(n.message_values), n.endpoint, json.loads(n.endpoint_args)


def test_a_paid_order_stores_key_values_and_endpoints(session):
    seller = make_seller(session, name="古楼茶叶合作社")
    tea = make_product(session, seller, price_fen=4500, stock=10)
    staff = [make_user(session, "seller_staff", seller=seller) for _ in range(2)]
    buyer = make_user(session, "buyer")
    order = services.checkout(session, buyer, [LineInput(tea.id, 1)], AddressInput(**DELIVERY),
                              idempotency_key="notify-0001")[0]
    record_payment(session, order, provider="simulated", reference=f"sim-{order.id}",
                   amount_fen=order.total_fen, currency="CNY")
    session.commit()
    (told,) = rows(session, buyer)
    assert stored(told) == ("订单 %(n)s 已付款，等待商家发货", {"n": order.number},
                            "orders.order_page", {"order_id": order.id})
    assert told.text == f"订单 {order.number} 已付款，等待商家发货" and told.url == ""
    assert unpack(told.message_key, told.message_values) == told.text
    for user in staff:
        (told,) = rows(session, user)
        assert stored(told) == ("新订单 %(n)s 已付款，请尽快发货", {"n": order.number},
                                "seller_orders.index", {"seller": seller.id, "status": "paid"})


def test_a_nested_message_and_an_anchor_are_stored(session):
    user = make_user(session, "buyer")
    message = Msg("订单 %(n)s：%(note)s", n="N1", note=Msg("订单%(status)s，不能退款",
                                                          status=Msg("已取消")))
    notifications.notify(session, [user.id, user.id], message, "households.office_index",
                         _anchor="lots")
    (told,) = rows(session, user)  # each user once
    assert told.text == "订单 N1：订单已取消，不能退款"
    assert stored(told)[2:] == ("households.office_index", {"_anchor": "lots"})
    back = unpack(told.message_key, told.message_values)
    assert back == message and back.values["note"].values["status"].template == "已取消"


def test_a_lot_below_the_guarantee_links_to_the_lots_pages(session):
    township = region(session, "430525101")  # over the household's village
    household = make_household(session, n=901)
    office = make_user(session, "office", region_obj=township)
    seller = make_seller(session, kind=SellerKind.enterprise, members=[(household, 1)])
    oil = make_product(session, seller, name="山茶油", price_fen=10000, stock=100)
    staff = make_user(session, "seller_staff", seller=seller)
    lots.set_product_terms(session, staff, oil, lot_backed=True, guaranteed_price="18.50")
    lots.record_lot(session, staff, seller, LotInput(oil.id, household.code, 10, "16",
                                                     date.today()))
    (to_staff,), (to_office,) = rows(session, staff), rows(session, office)
    key, values, endpoint, args = stored(to_staff)
    assert key.startswith("收购批次低于保底收购价") and values["price"] == "16.00"
    assert (endpoint, args) == ("seller.supply_lots", {"seller": seller.id})
    assert stored(to_office)[2:] == ("households.office_index", {"_anchor": "lots"})
