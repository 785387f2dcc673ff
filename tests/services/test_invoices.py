"""Invoices: one per order, a company's tax number checked, numbers per seller without gaps even
when issued at the same moment; on SQLite and PostgreSQL."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from marketplace.core.errors import IllegalTransition, NotFound, ValidationFailed
from marketplace.extensions import db
from marketplace.orders import fulfilment, invoices, services
from marketplace.orders.models import Invoice, Order
from marketplace.orders.services import AddressInput, LineInput
from marketplace.payments import refunds
from marketplace.payments.capture import record_payment
from tests.fixtures.concurrency import run_at_once
from tests.fixtures.factories import (
    DELIVERY,
    make_product,
    make_seller,
    make_user,
    valid_credit_code,
)

ADDRESS = AddressInput(**DELIVERY)


def paid_order(session, buyer, product, key):
    order = services.checkout(session, buyer, [LineInput(product.id, 1)], ADDRESS,
                              idempotency_key=key)[0]
    record_payment(session, order, provider="simulated", reference=f"sim-{order.id}",
                            amount_fen=order.total_fen, currency="CNY")
    return order


@pytest.fixture
def shop(session):
    seller = make_seller(session, name="古楼茶叶合作社")
    other = make_seller(session, name="溆浦枣业合作社", region_code="431224")
    return {"tea": make_product(session, seller, price_fen=4500, stock=100),
            "zao": make_product(session, other, price_fen=3800, stock=100),
            "buyer": make_user(session, "buyer"), "stranger": make_user(session, "buyer")}


def test_personal_and_company_titles(session, shop):
    buyer = shop["buyer"]
    first = paid_order(session, buyer, shop["tea"], "inv-key-0001")
    with pytest.raises(NotFound):
        invoices.request_invoice(session, shop["stranger"], first, kind="personal", title="张三")
    with pytest.raises(ValidationFailed) as err:
        invoices.request_invoice(session, buyer, first, kind="company", title="怀化市某局",
                                 tax_no="91430000123456789X")
    assert "tax_no" in err.value.errors
    company = invoices.request_invoice(session, buyer, first, kind="company",
                                       title="怀化市机关事务局", tax_no=valid_credit_code(7))
    assert company.serial == 1 and company.amount_fen == first.paid_fen
    again = invoices.request_invoice(session, buyer, first, kind="personal", title="王小红")
    assert again.id == company.id  # one invoice per order
    second = paid_order(session, buyer, shop["tea"], "inv-key-0002")
    assert invoices.request_invoice(session, buyer, second, kind="personal",
                                    title="王小红").serial == 2
    other = paid_order(session, buyer, shop["zao"], "inv-key-0003")  # another seller: from 1
    assert invoices.request_invoice(session, buyer, other, kind="personal",
                                    title="王小红").number.endswith("-000001")


def test_unpaid_or_fully_refunded_orders_get_no_invoice(session, shop):
    buyer = shop["buyer"]
    unpaid = services.checkout(session, buyer, [LineInput(shop["tea"].id, 1)], ADDRESS,
                               idempotency_key="inv-key-0004")[0]
    with pytest.raises(IllegalTransition):
        invoices.request_invoice(session, buyer, unpaid, kind="personal", title="王小红")
    paid = paid_order(session, buyer, shop["tea"], "inv-key-0005")
    staff = make_user(session, "seller_staff", seller=shop["tea"].seller)
    fulfilment.ship(session, staff, paid, carrier="顺丰", tracking_no="SF12345678")
    refunds.refund(session, staff, paid)
    with pytest.raises(IllegalTransition):
        invoices.request_invoice(session, buyer, paid, kind="personal", title="王小红")


def test_concurrent_invoices_are_numbered_without_gaps(app, session, shop):
    buyers = [make_user(session, "buyer") for _ in range(8)]
    orders = [paid_order(session, b, shop["tea"], f"inv-conc-{i:04d}")
              for i, b in enumerate(buyers)]
    pairs = [(b.id, o.id) for b, o in zip(buyers, orders, strict=True)]
    session.commit()

    def issue(i: int) -> str:
        from marketplace.accounts.models import User
        buyer_id, order_id = pairs[i]
        invoices.request_invoice(db.session, db.session.get(User, buyer_id),
                                 db.session.get(Order, order_id), kind="personal", title="王小红")
        return "ok"

    errors = [r for r in run_at_once(app, len(pairs), issue) if r != "ok"]
    assert errors == []
    serials = sorted(session.scalars(select(Invoice.serial)
                                     .where(Invoice.seller_id == shop["tea"].seller_id)))
    assert serials == list(range(1, 9))
