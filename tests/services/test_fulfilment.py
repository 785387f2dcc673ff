"""After payment: ship, receive, close, refunds; illegal transitions refused; on both engines."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from marketplace.core.errors import IllegalTransition, NotFound, RuleBroken, ValidationFailed
from marketplace.core.time import now_utc
from marketplace.orders import fulfilment, services
from marketplace.orders.models import OrderStatus
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import refunds
from marketplace.payments.capture import record_payment
from marketplace.payments.models import Refund, RefundStatus
from tests.fixtures.factories import DELIVERY, make_product, make_seller, make_user

ADDRESS = AddressInput(**DELIVERY)


@pytest.fixture
def paid(session):
    seller = make_seller(session, name="古楼茶叶合作社")
    product = make_product(session, seller, name="云雾茶", price_fen=4500, stock=10)
    buyer = make_user(session, "buyer")
    staff = make_user(session, "seller_staff", seller=seller)
    stranger = make_user(session, "seller_staff", seller=make_seller(session))
    order = services.checkout(session, buyer, [LineInput(product.id, 2)], ADDRESS,
                              idempotency_key="key-00000001")[0]
    record_payment(session, order, provider="simulated", reference="sim-1",
                            amount_fen=order.total_fen, currency="CNY")
    session.commit()
    return {"order": order, "buyer": buyer, "staff": staff, "stranger": stranger}


def test_ship_receive_complete(session, paid):
    order, staff, buyer = paid["order"], paid["staff"], paid["buyer"]
    with pytest.raises(IllegalTransition):
        fulfilment.confirm_receipt(session, buyer, order)  # not shipped yet
    with pytest.raises(NotFound):  # another seller's staff
        fulfilment.ship(session, paid["stranger"], order, carrier="顺丰", tracking_no="SF1234567")
    with pytest.raises(ValidationFailed) as err:
        fulfilment.ship(session, staff, order, carrier="", tracking_no="#")
    assert set(err.value.errors) == {"carrier", "tracking_no"}
    fulfilment.ship(session, staff, order, carrier="顺丰速运", tracking_no="SF1234567890")
    with pytest.raises(IllegalTransition):
        fulfilment.ship(session, staff, order, carrier="顺丰速运", tracking_no="SF1234567890")
    fulfilment.confirm_receipt(session, buyer, order)
    assert order.status == OrderStatus.received
    assert fulfilment.advance(session, now=now_utc() + timedelta(days=8)) == (0, 1)
    assert order.status == OrderStatus.completed
    assert [e.kind for e in order.events] == ["created", "paid", "shipped", "received",
                                              "completed"]
    with pytest.raises(IllegalTransition):
        services.cancel(session, buyer, order)


def test_shipped_orders_are_received_after_ten_days(session, paid):
    fulfilment.ship(session, paid["staff"], paid["order"], carrier="邮政", tracking_no="EMS12345")
    assert fulfilment.advance(session, now=now_utc() + timedelta(days=9)) == (0, 0)
    assert fulfilment.advance(session, now=now_utc() + timedelta(days=11)) == (1, 0)
    assert paid["order"].status == OrderStatus.received


def test_partial_then_full_refund_never_more_than_paid(session, paid):
    order, staff = paid["order"], paid["staff"]
    total = order.paid_fen
    refunds.refund(session, staff, order, amount_fen=1000, reason="少发一件")
    assert order.refunded_fen == 1000 and order.status == OrderStatus.paid
    with pytest.raises(RuleBroken) as err:
        refunds.refund(session, staff, order, amount_fen=total)
    assert err.value.code == "refund_exceeds_paid"
    assert err.value.details["refundable"] == total - 1000
    refunds.refund(session, staff, order)  # what is left
    assert order.refunded_fen == total
    assert (order.status, order.cancel_reason) == (OrderStatus.cancelled, "refunded")
    with pytest.raises(IllegalTransition):
        refunds.refund(session, staff, order, amount_fen=1)


def test_buyer_requests_and_seller_decides(session, paid):
    order, staff, buyer = paid["order"], paid["staff"], paid["buyer"]
    fulfilment.ship(session, staff, order, carrier="顺丰速运", tracking_no="SF1234567890")
    asked = refunds.request_refund(session, buyer, order, amount_fen=2000, reason="茶叶受潮")
    with pytest.raises(RuleBroken):  # requested money counts against what is left
        refunds.request_refund(session, buyer, order, amount_fen=order.paid_fen - 1999,
                                  reason="再退一些")
    with pytest.raises(NotFound):
        refunds.approve_refund(session, paid["stranger"], asked)
    refunds.approve_refund(session, staff, asked)
    assert asked.status == RefundStatus.refunded and order.refunded_fen == 2000
    assert order.status == OrderStatus.shipped  # shipped goods: the order goes on
    with pytest.raises(IllegalTransition):
        refunds.approve_refund(session, staff, asked)
    second = refunds.request_refund(session, buyer, order, amount_fen=None, reason="全部退")
    refunds.reject_refund(session, staff, second, reason="已签收且无质量问题")
    assert second.status == RefundStatus.rejected and order.refunded_fen == 2000
    session.commit()
    assert session.scalar(select(func.count()).select_from(Refund)) == 2


def test_unpaid_orders_cannot_be_refunded_or_shipped(session, paid):
    buyer, staff = paid["buyer"], paid["staff"]
    product_id = paid["order"].lines[0].product_id
    unpaid = services.checkout(session, buyer, [LineInput(product_id, 1)], ADDRESS,
                               idempotency_key="key-00000002")[0]
    with pytest.raises(IllegalTransition):
        refunds.refund(session, staff, unpaid)
    with pytest.raises(IllegalTransition):
        refunds.request_refund(session, buyer, unpaid, amount_fen=None, reason="不要了")
    with pytest.raises(IllegalTransition):
        fulfilment.ship(session, staff, unpaid, carrier="顺丰", tracking_no="SF12345678")
