"""The attribution ledger: insert-only, hash-chained entries, and the chain's head."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from marketplace.core.models import AwareDateTime, BigId, str_enum
from marketplace.extensions import db
from marketplace.ledger import rules


class EntryKind(StrEnum):
    sale = rules.SALE  # attributed when a payment is captured (amount > 0)
    reversal = rules.REVERSAL  # taken back when money is refunded (amount < 0)


class LedgerEntry(db.Model):
    """One household's part of one order line (or of its reversal). Never updated or deleted:
    triggers refuse it on both engines, and each row carries the hash of the one before it."""

    __tablename__ = "ledger_entries"
    __table_args__ = (
        CheckConstraint("(kind = 'sale' AND amount_fen > 0) OR "
                        "(kind = 'reversal' AND amount_fen < 0)", name="sign_fits_kind"),
        Index("ix_ledger_entries_household_seq", "household_id", "seq"),
    )

    # 1, 2, 3 ... without gaps, given under the head row's lock; the key (SQLite's rowid), so
    # that the verifier reads the table in its own order
    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[EntryKind] = mapped_column(str_enum(EntryKind, length=16))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class LedgerHead(db.Model):
    """The last entry's number and hash (one row, id 1): appending locks it, so entries are
    numbered and chained one transaction at a time."""

    __tablename__ = "ledger_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=rules.GENESIS_HASH)
