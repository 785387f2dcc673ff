"""The notifications table: short messages inside the site (no mail server needed)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.models import AwareDateTime, BigId
from marketplace.core.time import now_utc
from marketplace.extensions import db


class Notification(db.Model):
    """A message inside the site (no mail server needed): what happened to one's orders."""

    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_user_unread", "user_id", "read_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(String(200))
    url: Mapped[str] = mapped_column(String(200), default="")
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
    read_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
