"""The notifications table: short messages inside the site (no mail server needed), stored as a
message key with its values and an endpoint with its arguments (see `messages`)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
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
    text: Mapped[str] = mapped_column(String(200))  # the Chinese rendering (the fallback)
    url: Mapped[str] = mapped_column(String(200), default="")  # rows written before `endpoint`
    message_key: Mapped[str] = mapped_column(String(200), default="", server_default="")
    message_values: Mapped[str] = mapped_column(Text, default="", server_default="")  # JSON
    endpoint: Mapped[str] = mapped_column(String(64), default="", server_default="")
    endpoint_args: Mapped[str] = mapped_column(Text, default="", server_default="")  # JSON
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
    read_at: Mapped[datetime | None] = mapped_column(AwareDateTime())
