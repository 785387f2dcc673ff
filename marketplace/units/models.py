"""Units (单位) and their members, annual reserved-share filings, and group purchases (团购):
campaigns, their products and tier prices, participations and the money participants paid.

Counted amounts are never stored: a unit's counted amount for a year is summed from the orders
that carry its `unit_id` (channels unit_member, unit_purchase, group_purchase), paid net of
refunds (`units.counting`).
"""
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
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, TimestampMixin, str_enum
from marketplace.core.time import now_utc
from marketplace.extensions import db

# ---- units ------------------------------------------------------------------------------------


class UnitKind(StrEnum):
    budget = "budget"  # 预算单位: files an annual reserved share of its canteen spend
    enterprise = "enterprise"  # 企业
    union = "union"  # 工会: welfare and condolence purchases
    social_org = "social_org"  # 社会组织


UNIT_KIND_LABELS = {UnitKind.budget: "预算单位", UnitKind.enterprise: "企业",
                    UnitKind.union: "工会", UnitKind.social_org: "社会组织"}


class UnitStatus(StrEnum):
    pending = "pending"  # applied, waiting for a platform admin
    verified = "verified"  # may count purchases, file and run group purchases
    rejected = "rejected"  # turned down with a reason; the applicant may send it again
    suspended = "suspended"  # stopped by a platform admin


UNIT_STATUS_LABELS = {UnitStatus.pending: "待审核", UnitStatus.verified: "已认证",
                      UnitStatus.rejected: "已驳回", UnitStatus.suspended: "已暂停"}


class Unit(TimestampMixin, db.Model):
    """A budget unit, enterprise, union or social organisation. Its supervising office is the
    office over `office_region_id` (by default the county over its region)."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[UnitKind] = mapped_column(str_enum(UnitKind))
    name: Mapped[str] = mapped_column(String(100))
    credit_code: Mapped[str] = mapped_column(String(18), unique=True)  # also its tax number
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    office_region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)
    contact_name: Mapped[str] = mapped_column(String(32))
    contact_mobile: Mapped[str] = mapped_column(String(11))
    address_detail: Mapped[str] = mapped_column(String(200), default="")  # within its region
    invoice_title: Mapped[str] = mapped_column(String(100), default="")  # "" = its name
    status: Mapped[UnitStatus] = mapped_column(str_enum(UnitStatus), default=UnitStatus.pending,
                                               index=True)
    rejection_reason: Mapped[str] = mapped_column(String(200), default="")
    applied_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    verified_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    # members join with this code (or the link carrying it) until it expires; None: revoked
    invite_code: Mapped[str | None] = mapped_column(String(16), unique=True)
    invite_expires_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    on_leaderboard: Mapped[bool] = mapped_column(default=False)  # opted in to 爱心单位榜

    region = relationship("Region", foreign_keys=[region_id], lazy="joined")
    office_region = relationship("Region", foreign_keys=[office_region_id], lazy="joined")
    members: Mapped[list[UnitMember]] = relationship(back_populates="unit",
                                                     order_by="UnitMember.id")

    @property
    def kind_label(self) -> str:
        return UNIT_KIND_LABELS[self.kind]

    @property
    def status_label(self) -> str:
        return UNIT_STATUS_LABELS[self.status]


class UnitMember(db.Model):
    """A person's membership of a unit (a person may belong to several); admins manage it."""

    __tablename__ = "unit_members"
    __table_args__ = (UniqueConstraint("unit_id", "user_id", name="uq_unit_members_user"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    is_admin: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)

    unit: Mapped[Unit] = relationship(back_populates="members")
    user = relationship("User", lazy="joined")


# ---- annual filings -----------------------------------------------------------------------------


class FilingStatus(StrEnum):
    pending = "pending"  # filed, waiting for the supervising office
    sent_back = "sent_back"  # returned with a reason; the unit files again
    approved = "approved"  # fixed: its reserved amount no longer changes


FILING_STATUS_LABELS = {FilingStatus.pending: "待审核", FilingStatus.sent_back: "已退回",
                        FilingStatus.approved: "已通过"}


class UnitFiling(TimestampMixin, db.Model):
    """A budget unit's filing for one year: canteen food spend and the reserved share, or no
    canteen, or a canteen shared with another unit that files."""

    __tablename__ = "unit_filings"
    __table_args__ = (UniqueConstraint("unit_id", "year", name="uq_unit_filings_year"),
                      CheckConstraint("canteen_spend_fen >= 0", name="spend_not_negative"),
                      CheckConstraint("reserved_fen >= 0", name="reserved_not_negative"),
                      CheckConstraint("reserved_share_bp BETWEEN 0 AND 10000",
                                      name="share_in_range"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    no_canteen: Mapped[bool] = mapped_column(default=False)  # 无食堂: no quota
    shared_with_unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))
    canteen_spend_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    reserved_share_bp: Mapped[int] = mapped_column(Integer, default=0)
    reserved_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[FilingStatus] = mapped_column(str_enum(FilingStatus),
                                                 default=FilingStatus.pending, index=True)
    filed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    filed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    decided_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    reason: Mapped[str] = mapped_column(String(200), default="")  # why it was sent back

    unit: Mapped[Unit] = relationship(foreign_keys=[unit_id], lazy="joined")
    events: Mapped[list[FilingEvent]] = relationship(order_by="FilingEvent.id",
                                                     back_populates="filing")

    @property
    def status_label(self) -> str:
        if self.no_canteen and self.status == FilingStatus.approved:
            return "无食堂"
        return FILING_STATUS_LABELS[self.status]


class FilingEvent(db.Model):
    """Append-only history of a filing: filed (with what), approved, sent back (with why)."""

    __tablename__ = "filing_events"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    filing_id: Mapped[int] = mapped_column(ForeignKey("unit_filings.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # filed, approved, sent_back
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    note: Mapped[str] = mapped_column(String(200), default="")
    at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)

    filing: Mapped[UnitFiling] = relationship(back_populates="events")


class ReserveMinimum(db.Model):
    """The minimum reserved share for budget units in a region's subtree (the deepest region
    with a row wins; none: the configured default, 10%)."""

    __tablename__ = "reserve_minimums"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), unique=True)
    share_bp: Mapped[int] = mapped_column(Integer)
    set_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    set_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)

    region = relationship("Region", lazy="joined")


class FilingReminder(db.Model):
    """A reminder sent to a unit's admins before a year's deadline (30 or 7 days): unique, so
    the reminder job sends each once however often it runs."""

    __tablename__ = "filing_reminders"
    __table_args__ = (UniqueConstraint("unit_id", "year", "days_before",
                                       name="uq_filing_reminders_once"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id"))
    year: Mapped[int] = mapped_column(Integer)
    days_before: Mapped[int] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)


# ---- group purchases ---------------------------------------------------------------------------


class CampaignStatus(StrEnum):
    open = "open"  # taking participants until the deadline
    succeeded = "succeeded"  # closed with the minimum reached: orders made
    failed = "failed"  # closed short of the minimum: every hold released, every fen refunded


CAMPAIGN_STATUS_LABELS = {CampaignStatus.open: "进行中", CampaignStatus.succeeded: "已成团",
                          CampaignStatus.failed: "未成团"}


class Delivery(StrEnum):
    individual = "individual"  # each participant's own address and payment
    consolidated = "consolidated"  # one address of the unit, one order paid by the unit


class Audience(StrEnum):
    members = "members"  # the unit's members
    link = "link"  # anyone with the link


class Campaign(TimestampMixin, db.Model):
    """A group purchase: products of one seller at tier prices by total quantity, a minimum
    (all or nothing), a per-person limit and a deadline (closing settles it)."""

    __tablename__ = "campaigns"
    __table_args__ = (CheckConstraint("minimum_quantity >= 1", name="minimum_positive"),
                      CheckConstraint("per_person_limit >= 1", name="limit_positive"),
                      Index("ix_campaigns_status_deadline", "status", "deadline"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    created_by: Mapped[int] = mapped_column(ForeignKey("users.id"))
    title: Mapped[str] = mapped_column(String(100))
    description: Mapped[str] = mapped_column(Text, default="")
    minimum_quantity: Mapped[int] = mapped_column(Integer)
    per_person_limit: Mapped[int] = mapped_column(Integer)
    starts_at: Mapped[datetime] = mapped_column(AwareDateTime())
    deadline: Mapped[datetime] = mapped_column(AwareDateTime())
    delivery: Mapped[Delivery] = mapped_column(str_enum(Delivery))
    audience: Mapped[Audience] = mapped_column(str_enum(Audience))
    link_code: Mapped[str] = mapped_column(String(16), unique=True)  # the share link's secret
    status: Mapped[CampaignStatus] = mapped_column(str_enum(CampaignStatus),
                                                   default=CampaignStatus.open)
    closed_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # consolidated delivery: the unit's address, and the one order made at the close
    recipient: Mapped[str] = mapped_column(String(32), default="")
    mobile: Mapped[str] = mapped_column(String(11), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    address_detail: Mapped[str] = mapped_column(String(200), default="")
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))

    unit = relationship("Unit", lazy="joined")
    seller = relationship("Seller", lazy="joined")
    products: Mapped[list[CampaignProduct]] = relationship(
        back_populates="campaign", order_by="CampaignProduct.id", lazy="selectin")

    @property
    def status_label(self) -> str:
        return CAMPAIGN_STATUS_LABELS[self.status]


class CampaignProduct(db.Model):
    __tablename__ = "campaign_products"
    __table_args__ = (UniqueConstraint("campaign_id", "product_id",
                                       name="uq_campaign_products_product"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    list_price_fen: Mapped[int] = mapped_column(BigInteger)  # the catalogue price at opening

    campaign: Mapped[Campaign] = relationship(back_populates="products")
    product = relationship("Product", lazy="joined")
    tiers: Mapped[list[CampaignTier]] = relationship(order_by="CampaignTier.min_quantity",
                                                     lazy="selectin")


class CampaignTier(db.Model):
    """From `min_quantity` units of the product in all, everyone pays `price_fen` a unit."""

    __tablename__ = "campaign_tiers"
    __table_args__ = (UniqueConstraint("campaign_product_id", "min_quantity",
                                       name="uq_campaign_tiers_quantity"),
                      CheckConstraint("min_quantity >= 1", name="min_positive"),
                      CheckConstraint("price_fen > 0", name="price_positive"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_product_id: Mapped[int] = mapped_column(ForeignKey("campaign_products.id"),
                                                     index=True)
    min_quantity: Mapped[int] = mapped_column(Integer)
    price_fen: Mapped[int] = mapped_column(BigInteger)


class ParticipationStatus(StrEnum):
    pending_payment = "pending_payment"  # individual: holds its units until paid (window)
    joined = "joined"  # committed: paid (individual) or counted (consolidated)
    withdrawn = "withdrawn"  # left before the deadline (refunded in full if paid)
    expired = "expired"  # not paid in time: its units released
    settled = "settled"  # the campaign succeeded: its order made (the difference refunded)
    failed = "failed"  # the campaign failed: units released, refunded in full


PARTICIPATION_STATUS_LABELS = {
    ParticipationStatus.pending_payment: "待付款", ParticipationStatus.joined: "已参团",
    ParticipationStatus.withdrawn: "已退出", ParticipationStatus.expired: "超时未付",
    ParticipationStatus.settled: "已成团", ParticipationStatus.failed: "未成团已退款"}
# the participations whose units are held for the campaign
HOLDING = (ParticipationStatus.pending_payment, ParticipationStatus.joined)


class Participation(TimestampMixin, db.Model):
    """One person's part in a campaign: quantities (holding stock), their address (individual
    delivery), what they paid at the starting price and what went back."""

    __tablename__ = "participations"
    __table_args__ = (
        UniqueConstraint("campaign_id", "user_id", "idempotency_key",
                         name="uq_participations_key"),
        CheckConstraint("refunded_fen <= paid_fen", name="refund_within_paid"),
        Index("ix_participations_campaign_status", "campaign_id", "status"),
        Index("ix_participations_user", "user_id", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaigns.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    status: Mapped[ParticipationStatus] = mapped_column(str_enum(ParticipationStatus))
    amount_due_fen: Mapped[int] = mapped_column(BigInteger, default=0)  # at the starting price
    paid_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    # money to go back through the provider that is not back yet (a provider outage)
    refund_due_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    pay_by: Mapped[datetime | None] = mapped_column(AwareDateTime())
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    recipient: Mapped[str] = mapped_column(String(32), default="")
    mobile: Mapped[str] = mapped_column(String(11), default="")
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    region_names: Mapped[str] = mapped_column(String(200), default="")
    address_detail: Mapped[str] = mapped_column(String(200), default="")

    campaign: Mapped[Campaign] = relationship(lazy="joined")
    user = relationship("User", lazy="joined")
    lines: Mapped[list[ParticipationLine]] = relationship(
        order_by="ParticipationLine.product_id", lazy="selectin",
        cascade="all, delete-orphan")
    payments: Mapped[list[ParticipationPayment]] = relationship(
        order_by="ParticipationPayment.id", lazy="selectin")

    @property
    def status_label(self) -> str:
        return PARTICIPATION_STATUS_LABELS[self.status]

    @property
    def quantity(self) -> int:
        return sum(line.quantity for line in self.lines)


class ParticipationLine(db.Model):
    __tablename__ = "participation_lines"
    __table_args__ = (UniqueConstraint("participation_id", "product_id",
                                       name="uq_participation_lines_product"),
                      CheckConstraint("quantity > 0", name="quantity_positive"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participations.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    quantity: Mapped[int] = mapped_column(Integer)


class ParticipationPaymentStatus(StrEnum):
    succeeded = "succeeded"  # captured for the participation
    refunded = "refunded"  # paid back in full (withdrawn, failed campaign)
    settled = "settled"  # became its order's payment (the difference, if any, refunded)


class ParticipationPayment(db.Model):
    """Money a provider captured for a participation, recorded once per (provider, reference).
    At a successful close it becomes the order's one payment (the same provider reference, the
    final amount) and what was paid above the tier price goes back; otherwise all goes back."""

    __tablename__ = "participation_payments"
    __table_args__ = (UniqueConstraint("provider", "reference",
                                       name="uq_participation_payments_reference"),
                      CheckConstraint("amount_fen > 0", name="amount_positive"),
                      CheckConstraint("refunded_fen <= amount_fen", name="refund_within"))

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    participation_id: Mapped[int] = mapped_column(ForeignKey("participations.id"), index=True)
    provider: Mapped[str] = mapped_column(String(16))
    reference: Mapped[str] = mapped_column(String(64))
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[ParticipationPaymentStatus] = mapped_column(
        str_enum(ParticipationPaymentStatus))
    refunded_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    refund_reference: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
