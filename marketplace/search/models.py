"""The search outbox: one row per change that the index must follow, written in the same
transaction as the change (see marketplace.search.outbox)."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, Index
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.models import AwareDateTime, BigId, str_enum
from marketplace.core.time import now_utc
from marketplace.extensions import db


class OutboxKind(StrEnum):
    product = "product"  # one product changed (or was deleted)
    seller = "seller"  # a seller's name or status changed: all its products
    region = "region"  # a region was renamed: all products from its subtree


class SearchOutbox(db.Model):
    __tablename__ = "search_outbox"
    __table_args__ = (Index("ix_search_outbox_created_at", "created_at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[OutboxKind] = mapped_column(str_enum(OutboxKind, 16))
    entity_id: Mapped[int] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
