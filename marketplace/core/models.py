"""Shared model pieces: typed columns, timestamps, the enum column type."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, DateTime, Enum, Integer
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from marketplace.core.time import as_aware, now_utc

# BigInteger on PostgreSQL, plain INTEGER on SQLite (so that it is an alias of the rowid)
BigId = BigInteger().with_variant(Integer(), "sqlite")


class AwareDateTime(TypeDecorator):
    """Stores UTC; always hands back timezone-aware datetimes, also on SQLite."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use marketplace.core.time.now_utc()")
        return value

    def process_result_value(self, value, dialect):
        return as_aware(value)


def str_enum(enum_cls: type[StrEnum], length: int = 24):
    """Stored as its string value (VARCHAR with a CHECK), never as the Python name."""
    return Enum(enum_cls, native_enum=False, length=length, validate_strings=True,
                values_callable=lambda cls: [m.value for m in cls],
                name=enum_cls.__name__.lower(), create_constraint=True)


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc, nullable=False)
    updated_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc, onupdate=now_utc,
                                                 nullable=False)
