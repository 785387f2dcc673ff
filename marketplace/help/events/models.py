"""Fairs and live-sale events (消费帮扶集市, 直播带货). An order placed from an event's page
carries the event (`orders.event_id`), and so may an offline sale recorded at it; the event's
report sums them."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, TimestampMixin, str_enum
from marketplace.extensions import db


class EventKind(StrEnum):
    fair = "fair"  # 消费帮扶集市 / 赶集会: a place and dates
    live = "live"  # 直播带货: a stream


EVENT_KIND_LABELS = {EventKind.fair: "帮扶集市", EventKind.live: "直播带货"}


class EventStatus(StrEnum):
    draft = "draft"
    published = "published"
    cancelled = "cancelled"


EVENT_STATUS_LABELS = {EventStatus.draft: "草稿", EventStatus.published: "已发布",
                       EventStatus.cancelled: "已取消"}


class Event(TimestampMixin, db.Model):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_status_starts", "status", "starts_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    title: Mapped[str] = mapped_column(String(80))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime] = mapped_column(AwareDateTime())
    ends_at: Mapped[datetime] = mapped_column(AwareDateTime())
    place: Mapped[str] = mapped_column(String(120), default="")  # empty: online only
    online: Mapped[bool] = mapped_column(default=False)
    stream_url: Mapped[str] = mapped_column(String(300), default="")
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), index=True)  # organiser's
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id"))  # or a unit organises
    organiser: Mapped[str] = mapped_column(String(80), default="")  # as shown: 洞口县乡村振兴局
    status: Mapped[EventStatus] = mapped_column(str_enum(EventStatus),
                                                default=EventStatus.draft)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    region = relationship("Region")
    sellers = relationship("EventSeller", order_by="EventSeller.position")
    products = relationship("EventProduct", order_by="EventProduct.position")


class EventSeller(db.Model):
    """A featured seller of an event."""

    __tablename__ = "event_sellers"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    seller = relationship("Seller")


class EventProduct(db.Model):
    """A featured product of an event."""

    __tablename__ = "event_products"

    event_id: Mapped[int] = mapped_column(ForeignKey("events.id"), primary_key=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"), primary_key=True)
    position: Mapped[int] = mapped_column(default=0)

    product = relationship("Product")
