"""Payments captured by providers, provider notifications, and refunds (money going back)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, str_enum
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.orders.models import Order


class PaymentStatus(StrEnum):
    succeeded = "succeeded"  # the order's one payment
    refund_due = "refund_due"  # captured, but the order could not take it (reason): to go back
    refunded = "refunded"  # such a capture, paid back through its provider (refund_reference)


class TurnedAway(StrEnum):
    """Why a capture could not be its order's payment (payments.reason)."""
    already_paid = "already_paid"  # the order was paid by another payment
    amount_mismatch = "amount_mismatch"  # not the amount or the currency due
    cancelled = "cancelled"  # the order was cancelled (by the buyer, or refunded in full)
    sold_out = "sold_out"  # it came after the payment window and the units were gone


TURNED_AWAY_LABELS = {
    TurnedAway.already_paid: "订单已由另一笔付款支付",
    TurnedAway.amount_mismatch: "付款金额或币种与订单不符",
    TurnedAway.cancelled: "订单已取消",
    TurnedAway.sold_out: "付款到账时库存已售出",
}


class Payment(db.Model):
    """Money captured by a provider for an order; (provider, reference) is unique, so a
    confirmation delivered twice is recorded once. Every capture is either its order's one
    payment (succeeded) or money that goes back (refund_due, then refunded): a capture the
    order could not take keeps its reason, and its refund's attempts and last error until the
    provider has paid it back (`payments.payback`)."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("provider", "reference", name="uq_payments_reference"),
                      CheckConstraint("amount_fen > 0", name="amount_positive"),
                      Index("ix_payments_status", "status"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus))
    refund_reference: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
    reason: Mapped[str] = mapped_column(String(32), default="", server_default="")  # TurnedAway
    refund_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    refund_error: Mapped[str] = mapped_column(String(200), default="", server_default="")
    # a process paying it back holds it until then (a claim that lapses if that process dies)
    refund_claimed_until: Mapped[datetime | None] = mapped_column(AwareDateTime())
    refunded_at: Mapped[datetime | None] = mapped_column(AwareDateTime())


class PaymentEvent(db.Model):
    """A provider's notification (webhook event), recorded once by its id: a replayed event
    finds its row and changes nothing."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_id", name="uq_payment_events_event"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    provider: Mapped[str] = mapped_column(String(16))
    event_id: Mapped[str] = mapped_column(String(255))
    kind: Mapped[str] = mapped_column(String(64))
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    outcome: Mapped[str] = mapped_column(String(32), default="")
    received_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)


class RefundStatus(StrEnum):
    requested = "requested"  # the buyer asked; the seller or an admin decides
    refunded = "refunded"  # approved and paid back through the provider
    rejected = "rejected"  # refused, with a reason


REFUND_STATUS_LABELS = {RefundStatus.requested: "待处理", RefundStatus.refunded: "已退款",
                        RefundStatus.rejected: "已拒绝"}


class Refund(db.Model):
    """Money going back for an order: asked for by the buyer or given by the seller; never more
    in all than was paid."""

    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[RefundStatus] = mapped_column(str_enum(RefundStatus))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    provider_reference: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime())

    order: Mapped[Order] = relationship()

    @property
    def status_label(self) -> str:
        return REFUND_STATUS_LABELS[self.status]
