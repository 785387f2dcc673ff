"""Bank transfer (对公转账) for organisations: the order waits for the transfer (a longer window),
the buyer uploads the bank's voucher, the seller or an admin confirms the money arrived; an
unconfirmed order times out like any unpaid one (`expire`)."""
from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from marketplace.accounts.models import User
from marketplace.catalog import images
from marketplace.core.errors import IllegalTransition, NotFound, RuleBroken
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.orders import notices
from marketplace.orders.fulfilment import check_seller
from marketplace.orders.models import Order, OrderEvent, OrderEventKind, OrderStatus
from marketplace.payments.capture import PaymentOutcome, record_payment

TRANSFER_WINDOW = timedelta(days=3)
METHOD = "bank_transfer"


def _pending(order: Order) -> None:
    if order.status != OrderStatus.pending_payment or not order.stock_held:
        raise IllegalTransition(Msg("订单%(status)s，不能对公转账", status=Msg(order.status_label)))


def choose(session: Session, buyer: User, order: Order, *, window: timedelta = TRANSFER_WINDOW,
           now: datetime | None = None) -> Order:
    """The buyer will pay by transfer: the stock stays reserved for the transfer window."""
    if order.buyer_id != buyer.id:
        raise NotFound("未找到该订单")
    _pending(order)
    now = now or now_utc()
    if order.reserved_until and order.reserved_until < now:
        raise IllegalTransition("付款时间已过，请重新下单")
    order.payment_method = METHOD
    order.reserved_until = max(order.reserved_until or now, now + window)
    order.events.append(OrderEvent(kind=OrderEventKind.bank_transfer, from_status=order.status,
                                   to_status=order.status, actor_id=buyer.id, created_at=now,
                                   note="选择对公转账"))
    session.flush()
    return order


def upload_voucher(session: Session, buyer: User, order: Order, data: bytes, folder: Path, *,
                   max_bytes: int, now: datetime | None = None) -> Order:
    """The bank's voucher (a photo or scan), re-encoded like product pictures."""
    if order.buyer_id != buyer.id:
        raise NotFound("未找到该订单")
    _pending(order)
    if order.payment_method != METHOD:
        raise RuleBroken("请先选择对公转账")
    stored = images.store(data, folder, max_bytes=max_bytes, max_side=2000, thumb_side=400,
                          label=Msg("转账凭证"))
    images.track_new(session, folder, stored.filename, stored.thumb_filename)
    if order.voucher_filename:
        stem = order.voucher_filename.rsplit(".", 1)[0]
        images.delete_after_commit(session, folder, order.voucher_filename, f"{stem}_t.jpg",
                                   images.thumb_filename(stem))
    now = now or now_utc()
    order.voucher_filename, order.voucher_uploaded_at = stored.filename, now
    order.events.append(OrderEvent(kind=OrderEventKind.voucher, from_status=order.status,
                                   to_status=order.status, actor_id=buyer.id, created_at=now,
                                   note="上传转账凭证"))
    notices.to_seller(session, order, Msg("订单 %(n)s 上传了转账凭证，请核对到账", n=order.number))
    session.flush()
    return order


def confirm(session: Session, actor: User, order: Order, *,
            now: datetime | None = None) -> PaymentOutcome:
    """The seller (or an admin) saw the money arrive: the order is paid."""
    check_seller(actor, order)
    if order.payment_method != METHOD:
        raise RuleBroken("该订单不是对公转账")
    if not order.voucher_filename:
        raise RuleBroken("买家还没有上传转账凭证")
    return record_payment(session, order, provider=METHOD, reference=f"bank-{order.id}",
                          amount_fen=order.total_fen, currency=order.currency, now=now)
