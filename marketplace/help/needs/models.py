"""Needs (帮扶需求) and micro-wishes (微心愿), their claims, flags and history.

A need is posted for one household (by its liaison, an office over its village, or the
household's own account), reviewed by an office over the household, then open on the public
wall; donors claim it (whole, or part of an amount), a claim holds it for some days and lapses
back, the donor records delivery and the liaison confirms receipt. A micro-wish is a need of a
person (a child, an elderly person) capped at an amount. Every step is a `NeedEvent`.

Match rate (对接率) = needs matched / needs approved: a need is matched when claims cover it
whole (`matched_at`; cleared again if a claim lapses before delivery).
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, str_enum
from marketplace.core.time import now_utc
from marketplace.extensions import db


class NeedKind(StrEnum):
    need = "need"  # 帮扶需求
    wish = "wish"  # 微心愿: a person's, capped at an amount


NEED_KIND_LABELS = {NeedKind.need: "帮扶需求", NeedKind.wish: "微心愿"}


class NeedCategory(StrEnum):
    education = "education"
    medical = "medical"
    housing = "housing"
    production = "production"
    employment = "employment"
    training = "training"
    daily = "daily"


NEED_CATEGORY_LABELS = {
    NeedCategory.education: "教育", NeedCategory.medical: "医疗", NeedCategory.housing: "住房",
    NeedCategory.production: "产业发展", NeedCategory.employment: "就业",
    NeedCategory.training: "技能培训", NeedCategory.daily: "生活物资",
}


class NeedWhat(StrEnum):
    """What is needed: goods (items with quantities), money (an amount) or a service."""
    items = "items"
    amount = "amount"
    service = "service"


NEED_WHAT_LABELS = {NeedWhat.items: "物资", NeedWhat.amount: "资金", NeedWhat.service: "服务"}


class NeedStatus(StrEnum):
    pending = "pending"  # waiting for an office's review
    sent_back = "sent_back"  # the office sent it back with a reason; the poster may edit
    open = "open"  # approved, on the wall, claimable (partly claimed ones too)
    claimed = "claimed"  # claims cover it whole (matched); waiting for delivery / receipt
    fulfilled = "fulfilled"  # every claim delivered and confirmed by the liaison
    expired = "expired"  # its expiry passed while open
    withdrawn = "withdrawn"  # the poster took it back before it was claimed
    removed = "removed"  # an office upheld a flag (duplicate, inappropriate)


NEED_STATUS_LABELS = {
    NeedStatus.pending: "待审核", NeedStatus.sent_back: "已退回", NeedStatus.open: "待认领",
    NeedStatus.claimed: "已认领", NeedStatus.fulfilled: "已完成", NeedStatus.expired: "已过期",
    NeedStatus.withdrawn: "已撤回", NeedStatus.removed: "已下架",
}


class Need(db.Model):
    __tablename__ = "needs"
    __table_args__ = (
        CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount_positive"),
        CheckConstraint("claimed_fen >= 0", name="claimed_not_negative"),
        Index("ix_needs_status_village", "status", "village_id"),
        Index("ix_needs_household", "household_id", "status"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[NeedKind] = mapped_column(str_enum(NeedKind), default=NeedKind.need)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))  # the household's
    category: Mapped[NeedCategory] = mapped_column(str_enum(NeedCategory))
    title: Mapped[str] = mapped_column(String(60))
    description: Mapped[str] = mapped_column(Text, default="")
    what: Mapped[NeedWhat] = mapped_column(str_enum(NeedWhat))
    items: Mapped[list | None] = mapped_column(JSON)  # [{"name", "quantity", "unit"}]
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # what: amount (a wish: its value)
    service: Mapped[str] = mapped_column(String(200), default="")
    beneficiary: Mapped[str] = mapped_column(String(40), default="")  # a wish's person: 孙女, 8岁
    photo: Mapped[str] = mapped_column(String(80), default="")  # re-encoded, no location data
    expires_on: Mapped[date] = mapped_column(Date)
    status: Mapped[NeedStatus] = mapped_column(str_enum(NeedStatus), default=NeedStatus.pending)
    claimed_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # held by live claims
    posted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    posted_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    review_reason: Mapped[str] = mapped_column(String(200), default="")
    approved_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    matched_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    fulfilled_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    # the search tokens of title and description (search.analysis), " a b c " (migration 0032)
    search_tokens: Mapped[str] = mapped_column(Text, default="", server_default="")

    household = relationship("Household")
    village = relationship("Region")
    claims = relationship("Claim", back_populates="need", order_by="Claim.id")

    @property
    def status_label(self) -> str:
        return NEED_STATUS_LABELS[self.status]

    @property
    def category_label(self) -> str:
        return NEED_CATEGORY_LABELS[self.category]


class ClaimStatus(StrEnum):
    held = "held"  # the donor claimed it; lapses at held_until unless delivered
    delivered = "delivered"  # the donor recorded the delivery
    confirmed = "confirmed"  # the liaison confirmed receipt
    lapsed = "lapsed"  # not delivered in time: the need went back to open
    withdrawn = "withdrawn"  # the donor gave it up before delivering


CLAIM_STATUS_LABELS = {
    ClaimStatus.held: "已认领", ClaimStatus.delivered: "已送达", ClaimStatus.confirmed: "已确认收到",
    ClaimStatus.lapsed: "已过期", ClaimStatus.withdrawn: "已放弃",
}


class DeliveryKind(StrEnum):
    goods = "goods"
    money = "money"  # through the payment providers (a directed donation)
    service = "service"


class Claim(db.Model):
    __tablename__ = "need_claims"
    __table_args__ = (
        CheckConstraint("amount_fen IS NULL OR amount_fen > 0", name="amount_positive"),
        Index("ix_need_claims_status_held", "status", "held_until"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    donor_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount_fen: Mapped[int | None] = mapped_column(BigInteger)  # part of an amount; None: whole
    status: Mapped[ClaimStatus] = mapped_column(str_enum(ClaimStatus), default=ClaimStatus.held)
    held_until: Mapped[datetime] = mapped_column(AwareDateTime())
    delivery_kind: Mapped[str] = mapped_column(String(16), default="")  # DeliveryKind
    delivery_note: Mapped[str] = mapped_column(String(500), default="")
    delivered_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"))  # money
    confirmed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    confirmed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    confirm_note: Mapped[str] = mapped_column(String(500), default="")
    confirm_photo: Mapped[str] = mapped_column(String(80), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)

    need = relationship("Need", back_populates="claims")
    donor = relationship("User", foreign_keys=[donor_id])

    @property
    def status_label(self) -> str:
        return CLAIM_STATUS_LABELS[self.status]


class NeedEvent(db.Model):
    """One step in a need's history (posted, edited, approved, sent_back, claimed, lapsed,
    withdrawn, delivered, confirmed, expired, flagged, flag_upheld, flag_dismissed, allocated)."""

    __tablename__ = "need_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    claim_id: Mapped[int | None] = mapped_column(ForeignKey("need_claims.id"))
    kind: Mapped[str] = mapped_column(String(24))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(500), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)


class FlagReason(StrEnum):
    duplicate = "duplicate"
    inappropriate = "inappropriate"


FLAG_REASON_LABELS = {FlagReason.duplicate: "重复发布", FlagReason.inappropriate: "内容不当"}


class FlagStatus(StrEnum):
    open = "open"
    upheld = "upheld"  # the need is removed
    dismissed = "dismissed"


class NeedFlag(db.Model):
    """A report that a need is a duplicate or inappropriate, decided by an office over it."""

    __tablename__ = "need_flags"
    __table_args__ = (UniqueConstraint("need_id", "reporter_id", name="uq_need_flags_once"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    reason: Mapped[FlagReason] = mapped_column(str_enum(FlagReason))
    note: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[FlagStatus] = mapped_column(str_enum(FlagStatus), default=FlagStatus.open)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
