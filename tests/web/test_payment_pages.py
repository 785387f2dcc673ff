"""The simulated payment page: money the order can no longer take goes back at once (the
simulated provider answers at once), recorded with its reason. On SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from marketplace.accounts.models import User
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.orders import services
from marketplace.orders.models import Order, OrderEvent, OrderStatus
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments.models import Payment, PaymentStatus
from tests.fixtures.factories import DELIVERY


def test_a_late_payment_whose_units_were_sold_goes_back_at_once(client, app, make, goods):
    buyer, other = make.user("buyer"), make.user("buyer")
    with app.app_context():  # the buyer's window passed and someone else took both units
        session = db.session
        (order,) = services.checkout(session, session.get(User, buyer.id),
                                     [LineInput(goods["zao"], 2)], AddressInput(**DELIVERY),
                                     idempotency_key="late-page-0001")
        order.reserved_until = now_utc() - timedelta(minutes=1)
        session.commit()
        order_id = order.id
        services.checkout(session, session.get(User, other.id), [LineInput(goods["zao"], 2)],
                          AddressInput(**DELIVERY), idempotency_key="late-page-0002")
        session.commit()
    client.login(buyer.email)
    resp = client.post_form(f"/orders/{order_id}/pay", {"outcome": "success"})
    assert resp.status_code == 302
    page = client.get(f"/orders/{order_id}").get_data(as_text=True)
    assert "付款到账时商品已售完，款项将原路退回" in page
    with app.app_context():
        payment = db.session.scalar(select(Payment).where(Payment.order_id == order_id))
        assert (payment.status, payment.reason) == (PaymentStatus.refunded, "sold_out")
        assert payment.refund_reference and payment.refund_attempts == 1
        assert db.session.get(Order, order_id).status == OrderStatus.cancelled
        assert db.session.scalar(select(OrderEvent.note).where(
            OrderEvent.order_id == order_id, OrderEvent.kind == "payment_refunded")) == \
            "付款到账时库存已售出，¥76.00 已原路退回"
