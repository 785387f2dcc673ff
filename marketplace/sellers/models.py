from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, TimestampMixin, str_enum
from marketplace.extensions import db


class SellerKind(StrEnum):
    household_shop = "household_shop"  # a household selling its own produce
    cooperative = "cooperative"  # 农民专业合作社, with member households
    enterprise = "enterprise"  # 带农企业, an enterprise that drives households


class SellerStatus(StrEnum):
    pending = "pending"  # applied, waiting for a platform admin
    verified = "verified"  # may sell; its listed products are visible
    suspended = "suspended"  # hidden from shoppers until verified again
    rejected = "rejected"  # application turned down with a reason; the applicant may resubmit


SELLER_KIND_LABELS = {
    SellerKind.household_shop: "农户店铺",
    SellerKind.cooperative: "农民专业合作社",
    SellerKind.enterprise: "带农企业",
}
SELLER_STATUS_LABELS = {
    SellerStatus.pending: "待审核",
    SellerStatus.verified: "已认证",
    SellerStatus.suspended: "已暂停",
    SellerStatus.rejected: "已驳回",
}


class Seller(TimestampMixin, db.Model):
    __tablename__ = "sellers"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[SellerKind] = mapped_column(str_enum(SellerKind))
    name: Mapped[str] = mapped_column(String(100), unique=True)
    credit_code: Mapped[str | None] = mapped_column(String(18), unique=True)
    household_id: Mapped[int | None] = mapped_column(ForeignKey("households.id"), unique=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(32))
    contact_mobile: Mapped[str] = mapped_column(String(11))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SellerStatus] = mapped_column(str_enum(SellerStatus),
                                                 default=SellerStatus.pending, index=True)
    status_note: Mapped[str] = mapped_column(String(200), default="")
    # why the platform turned the application down (kept when it is sent again, so that the
    # reviewer sees what was asked; cleared once verified)
    rejection_reason: Mapped[str] = mapped_column(String(200), default="", server_default="")
    rejected_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    verified_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    applicant_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # shipping rule of its orders: a flat fee, waived from a goods amount on (None: never)
    shipping_fee_fen: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    free_shipping_from_fen: Mapped[int | None] = mapped_column(BigInteger)
    # the households' share of a sale's net line amount, in basis points (its products' default)
    household_share_bp: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    region = relationship("Region", lazy="joined")
    household = relationship("Household", lazy="joined")
    members: Mapped[list[CooperativeMember]] = relationship(
        back_populates="seller", cascade="all, delete-orphan", order_by="CooperativeMember.id")

    @property
    def kind_label(self) -> str:
        return SELLER_KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return SELLER_STATUS_LABELS[self.status]


class CooperativeMember(db.Model):
    """A member household of a cooperative, with its weight for attribution."""

    __tablename__ = "cooperative_members"
    __table_args__ = (
        UniqueConstraint("seller_id", "household_id", name="uq_cooperative_members_pair"),
        CheckConstraint("weight > 0 AND weight <= 1000000", name="weight_range"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id", ondelete="CASCADE"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    weight: Mapped[int] = mapped_column(Integer, default=1)

    seller: Mapped[Seller] = relationship(back_populates="members")
    household = relationship("Household", lazy="joined")
