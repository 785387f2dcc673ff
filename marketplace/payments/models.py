"""Payments captured by providers, provider notifications, and refunds (money going back)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, str_enum
from marketplace.core.time import now_utc
from marketplace.extensions import db
from marketplace.orders.models import Order


class PaymentStatus(StrEnum):
    succeeded = "succeeded"  # captured for this order
    refunded = "refunded"  # captured after the order could no longer be served; returned


class Payment(db.Model):
    """Money captured by a provider for an order; (provider, reference) is unique, so a
    confirmation delivered twice is recorded once."""

    __tablename__ = "payments"
    __table_args__ = (UniqueConstraint("provider", "reference", name="uq_payments_reference"),
                      CheckConstraint("amount_fen > 0", name="amount_positive"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PaymentStatus] = mapped_column(str_enum(PaymentStatus))
    refund_reference: Mapped[str] = mapped_column(String(64), default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)


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
