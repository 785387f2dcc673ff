"""Refunds: money going back for an order, never more in all than was paid. The buyer asks
(`request_refund`) and the seller or an admin decides (`approve_refund`, `reject_refund`), or
the seller gives money back at once (`refund`). Money goes back through the provider that took
it (`providers`: by name, as `payments.providers.providers` gives them), and what the refund
takes back from the households is reversed in the ledger in the same transaction. Services
take an explicit session and actor and never commit."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.core.errors import IllegalTransition, NotFound, RuleBroken, ValidationFailed
from marketplace.core.i18n import Msg
from marketplace.core.money import format_fen
from marketplace.core.time import now_utc
from marketplace.ledger import posting
from marketplace.orders import notices
from marketplace.orders.fulfilment import check_seller
from marketplace.orders.holds import transition
from marketplace.orders.models import Order, OrderEvent, OrderEventKind, OrderStatus
from marketplace.payments.models import Payment, PaymentStatus, Refund, RefundStatus
from marketplace.payments.providers import OFFLINE, ProviderUnavailable

REFUNDABLE = (OrderStatus.paid, OrderStatus.shipped, OrderStatus.received)


def refund_for(session: Session, actor: User, refund_id: int) -> Refund:
    """A refund of an order the actor's seller sold (or any, for an admin); 404 otherwise."""
    refund = session.get(Refund, refund_id)
    if refund is None:
        raise NotFound("未找到该退款申请")
    check_seller(actor, refund.order)
    return refund


def refundable_fen(session: Session, order: Order) -> int:
    """Paid, minus refunded, minus refunds asked for and not decided yet."""
    pending = session.scalar(select(func.coalesce(func.sum(Refund.amount_fen), 0)).where(
        Refund.order_id == order.id, Refund.status == RefundStatus.requested)) or 0
    return order.paid_fen - order.refunded_fen - pending


def request_refund(session: Session, buyer: User, order: Order, *, amount_fen: int | None,
                   reason: str, now: datetime | None = None):
    """The buyer asks for money back (all that is left by default)."""
    if order.buyer_id != buyer.id:
        raise NotFound("未找到该订单")
    if order.status not in REFUNDABLE:
        raise IllegalTransition(Msg("订单%(status)s，不能申请退款", status=Msg(order.status_label)))
    left = refundable_fen(session, order)
    amount = left if amount_fen is None else amount_fen
    _check_amount(amount, left)
    reason = (reason or "").strip()
    if not 2 <= len(reason) <= 200:
        raise ValidationFailed("请写明退款原因（2–200 个字）", field="reason")
    now = now or now_utc()
    refund = Refund(order_id=order.id, amount_fen=amount, reason=reason,
                    status=RefundStatus.requested, requested_by=buyer.id, created_at=now)
    session.add(refund)
    order.events.append(OrderEvent(kind=OrderEventKind.refund_requested, from_status=order.status,
                                   to_status=order.status, actor_id=buyer.id, created_at=now,
                                   note=f"{format_fen(amount)} {reason}"[:200]))
    notices.to_seller(session, order, Msg("订单 %(n)s 申请退款 %(a)s", n=order.number,
                                          a=format_fen(amount)))
    session.flush()
    return refund


def _check_amount(amount: int, left: int) -> None:
    if not isinstance(amount, int) or isinstance(amount, bool) or amount <= 0:
        raise ValidationFailed("退款金额必须大于 0", field="amount")
    if amount > left:
        raise RuleBroken(Msg("退款金额超过可退金额 %(left)s", left=format_fen(left)),
                         field="amount", code="refund_exceeds_paid",
                         details={"refundable": left})


def _pay_back(session: Session, actor: User, order: Order, refund, now: datetime,
              providers: dict | None) -> None:
    """Money back through the provider that took it (`providers`: by name; the
    simulated provider answers at once). A provider error leaves nothing recorded."""
    payment = session.scalar(select(Payment).where(Payment.order_id == order.id,
                                                   Payment.status == PaymentStatus.succeeded))
    provider = ((providers or {}).get(payment.provider) or OFFLINE.get(payment.provider)
                if payment else None)  # an offline sale's money is handed back by the seller
    if provider is not None:
        try:
            refund.provider_reference = provider.refund(
                payment.reference, refund.amount_fen, idempotency_key=f"refund-{refund.id}")
        except Exception as exc:  # network, outage, refused: nothing is recorded
            raise ProviderUnavailable("支付服务暂时无法退款，请稍后再试") from exc
    else:
        refund.provider_reference = f"sim-refund-{refund.id}"
    refund.status = RefundStatus.refunded
    refund.decided_by, refund.decided_at = actor.id, now
    notices.to_buyer(session, order, Msg("订单 %(n)s 已退款 %(a)s", n=order.number,
                                         a=format_fen(refund.amount_fen)))
    posting.post_refund(session, order, order.refunded_fen,
                        order.refunded_fen + refund.amount_fen, now)
    order.refunded_fen += refund.amount_fen
    order.events.append(OrderEvent(kind=OrderEventKind.refunded, from_status=order.status,
                                   to_status=order.status, actor_id=actor.id, created_at=now,
                                   note=format_fen(refund.amount_fen)))
    if order.refunded_fen == order.paid_fen and order.status == OrderStatus.paid:
        order.cancel_reason = "refunded"  # nothing shipped, everything back: the order ends
        transition(order, OrderStatus.cancelled, OrderEventKind.cancelled, actor, now, "全额退款")


def approve_refund(session: Session, actor: User, refund, *, now: datetime | None = None,
                   providers: dict | None = None):
    order = refund.order
    check_seller(actor, order)
    if refund.status != RefundStatus.requested:
        raise IllegalTransition("该退款申请已处理")
    now = now or now_utc()
    _check_amount(refund.amount_fen, order.paid_fen - order.refunded_fen)
    session.flush()
    _pay_back(session, actor, order, refund, now, providers)
    session.flush()
    return refund


def reject_refund(session: Session, actor: User, refund, *, reason: str,
                  now: datetime | None = None):
    check_seller(actor, refund.order)
    if refund.status != RefundStatus.requested:
        raise IllegalTransition("该退款申请已处理")
    if not 2 <= len((reason or "").strip()) <= 200:
        raise ValidationFailed("请写明拒绝原因", field="reason")
    now = now or now_utc()
    refund.status, refund.decided_by, refund.decided_at = RefundStatus.rejected, actor.id, now
    refund.order.events.append(OrderEvent(kind=OrderEventKind.refund_rejected, actor_id=actor.id,
                                          from_status=refund.order.status,
                                          to_status=refund.order.status, created_at=now,
                                          note=reason.strip()[:200]))
    notices.to_buyer(session, refund.order, Msg("订单 %(n)s 的退款申请未通过：%(r)s",
                                                n=refund.order.number, r=reason.strip()[:100]))
    session.flush()
    return refund


def refund(session: Session, actor: User, order: Order, *, amount_fen: int | None = None,
           reason: str = "", now: datetime | None = None, providers: dict | None = None):
    """The seller (or an admin) gives money back: part, or all that is left."""
    check_seller(actor, order)
    if order.status not in REFUNDABLE:
        raise IllegalTransition(Msg("订单%(status)s，不能退款", status=Msg(order.status_label)))
    left = refundable_fen(session, order)
    amount = left if amount_fen is None else amount_fen
    _check_amount(amount, left)
    now = now or now_utc()
    record = Refund(order_id=order.id, amount_fen=amount, reason=(reason or "")[:200],
                    status=RefundStatus.requested, requested_by=actor.id, created_at=now)
    session.add(record)
    session.flush()
    _pay_back(session, actor, order, record, now, providers)
    session.flush()
    return record
