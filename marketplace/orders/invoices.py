"""Invoices: the buyer asks for one per paid order (a personal or company title; a company's tax
number is checked as a unified social credit code); each seller numbers its invoices 1, 2, 3 ...
without gaps: the number is taken from the seller's counter row in the same transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, text, update
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.core.errors import IllegalTransition, NotFound, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.core.validators import normalize_credit_code
from marketplace.orders import notices
from marketplace.orders.models import Invoice, InvoiceCounter, Order, OrderStatus

INVOICEABLE = (OrderStatus.paid, OrderStatus.shipped, OrderStatus.received,
               OrderStatus.completed)
KINDS = ("personal", "company")
# the same SQL on both engines (INSERT ... ON CONFLICT DO NOTHING)
NEW_COUNTER = text("INSERT INTO invoice_counters (seller_id, last_no) VALUES (:seller_id, 0) "
                   "ON CONFLICT (seller_id) DO NOTHING")


def next_serial(session: Session, seller_id: int) -> int:
    """Raise the seller's counter and return the new value; the row lock (PostgreSQL) or the
    single writer (SQLite) serialises concurrent issues for one seller."""
    session.execute(NEW_COUNTER, {"seller_id": seller_id})
    return session.execute(update(InvoiceCounter).where(InvoiceCounter.seller_id == seller_id)
                           .values(last_no=InvoiceCounter.last_no + 1)
                           .returning(InvoiceCounter.last_no)).scalar_one()


def request_invoice(session: Session, buyer: User, order: Order, *, kind: str, title: str,
                    tax_no: str = "", now: datetime | None = None) -> Invoice:
    """Issue the order's invoice (or answer the one issued before)."""
    if order.buyer_id != buyer.id:
        raise NotFound("未找到该订单")
    existing = session.scalar(select(Invoice).where(Invoice.order_id == order.id))
    if existing is not None:
        return existing
    if order.status not in INVOICEABLE:
        raise IllegalTransition(Msg("订单%(status)s，不能开发票", status=Msg(order.status_label)))
    errors: dict[str, list[str]] = {}
    title = (title or "").strip()
    if kind not in KINDS:
        errors["kind"] = ["请选择个人或单位抬头"]
    if not 2 <= len(title) <= 100:
        errors["title"] = ["请填写发票抬头（2–100 个字）"]
    code = ""
    if kind == "company":
        code = normalize_credit_code(tax_no) or ""
        if not code:
            errors["tax_no"] = ["请填写正确的纳税人识别号（18 位统一社会信用代码）"]
    if errors:
        raise ValidationFailed("发票信息不完整", errors=errors)
    amount = order.paid_fen - order.refunded_fen
    if amount <= 0:
        raise IllegalTransition("订单已全额退款，不能开发票")
    invoice = Invoice(order_id=order.id, seller_id=order.seller_id,
                      serial=next_serial(session, order.seller_id), kind=kind, title=title,
                      tax_no=code, amount_fen=amount, issued_at=now or now_utc(),
                      requested_by=buyer.id)
    session.add(invoice)
    notices.to_seller(session, order, Msg("订单 %(n)s 开具了发票 %(i)s", n=order.number,
                                          i=invoice.number))
    session.flush()
    return invoice
