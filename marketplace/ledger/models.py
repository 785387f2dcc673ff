"""The attribution ledger: insert-only, hash-chained entries and the chain's head; the supply
lots (收购批次) that lot-backed sales draw on, and what each sale drew."""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

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


class SupplyLot(db.Model):
    """Produce a seller bought from one household for one product (收购批次), in the product's
    units. Sales of a lot-backed product draw on its lots first in, first out; `remaining` is
    what is left to draw (never below zero). `below_guarantee` flags a purchase price under the
    guaranteed minimum the product had when the lot was recorded."""

    __tablename__ = "supply_lots"
    __table_args__ = (
        CheckConstraint("quantity > 0", name="quantity_positive"),
        CheckConstraint("remaining >= 0 AND remaining <= quantity", name="remaining_range"),
        CheckConstraint("unit_price_fen >= 0", name="price_nonnegative"),
        # first in, first out: a product's lots by purchase date, then as recorded
        Index("ix_supply_lots_product_fifo", "product_id", "purchased_on", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    product_id: Mapped[int] = mapped_column(ForeignKey("products.id"))
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), index=True)
    quantity: Mapped[int] = mapped_column(Integer)
    remaining: Mapped[int] = mapped_column(Integer)
    unit_price_fen: Mapped[int] = mapped_column(BigInteger)
    purchased_on: Mapped[date] = mapped_column(Date)
    guaranteed_price_fen: Mapped[int | None] = mapped_column(BigInteger)  # when recorded
    below_guarantee: Mapped[bool] = mapped_column(default=False, index=True)
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())

    product = relationship("Product", lazy="joined")
    household = relationship("Household", lazy="joined")
    seller = relationship("Seller")

    @property
    def drawn(self) -> int:
        return self.quantity - self.remaining


class LotDraw(db.Model):
    """Units of one order line drawn from one lot when its payment was captured."""

    __tablename__ = "lot_draws"
    __table_args__ = (
        UniqueConstraint("lot_id", "order_line_id", name="uq_lot_draws_pair"),
        CheckConstraint("quantity > 0", name="quantity_positive"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    lot_id: Mapped[int] = mapped_column(ForeignKey("supply_lots.id"))
    order_line_id: Mapped[int] = mapped_column(ForeignKey("order_lines.id"), index=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"))
    quantity: Mapped[int] = mapped_column(Integer)


class IncomeDay(db.Model):
    """What the ledger gave (net of reversals) one household on one China day, by the order's
    channel, the product's category and the seller's kind: the reports' pre-aggregate, derived
    in the posting transaction (`ledger.rollup`) and checked against the entries by
    `flask ledger verify`. Never written elsewhere."""

    __tablename__ = "income_days"
    # covering the reports' reads of a region and a period (an index-only scan on PostgreSQL;
    # without it the planner reads the whole table: bench/reports.py, 997 -> 88 ms)
    __table_args__ = (Index("ix_income_days_village_day", "village_id", "day", "household_id",
                            "channel", "category_id", "seller_kind", "month", "amount_fen"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))  # the household's
    month: Mapped[int] = mapped_column(Integer)  # 202611: for trends on both engines
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # sales minus reversals
    entries: Mapped[int] = mapped_column(Integer)


class SalesDay(db.Model):
    """What one seller sold (goods, shipping excluded) on one China day by channel and
    category, and the goods money refunded that day: the reports' sales pre-aggregate, derived
    where payments are captured and refunded (`ledger.rollup`), checked by
    `flask ledger verify`."""

    __tablename__ = "sales_days"
    __table_args__ = (Index("ix_sales_days_seller_day", "seller_id", "day", "channel",
                            "category_id", "seller_kind", "month", "sales_fen", "refunds_fen"),)

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), primary_key=True)
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_kind: Mapped[str] = mapped_column(String(24))
    month: Mapped[int] = mapped_column(Integer)
    sales_fen: Mapped[int] = mapped_column(BigInteger)  # paid goods
    refunds_fen: Mapped[int] = mapped_column(BigInteger)  # goods money refunded (>= 0)
    orders: Mapped[int] = mapped_column(Integer)  # orders paid that day (lines of one order
    # in several categories count once per category)


class IncomeMonth(db.Model):
    """`income_days` summed by month and area (the county a household's village lies in): the
    splits and trends of a county, a city, a province or everywhere read a few hundred of these
    instead of every household's days (bench/reports.py). Derived in the posting transaction
    with the days (`ledger.rollup`), checked by `flask ledger verify`."""

    __tablename__ = "income_months"

    area_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)  # 202611
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # sales minus reversals
    entries: Mapped[int] = mapped_column(Integer)


class SalesMonth(db.Model):
    """`sales_days` summed by month and area (the county the seller's region lies in, or that
    region when it is above a county)."""

    __tablename__ = "sales_months"

    area_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)
    month: Mapped[int] = mapped_column(Integer, primary_key=True)
    channel: Mapped[str] = mapped_column(String(24), primary_key=True)
    category_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    seller_kind: Mapped[str] = mapped_column(String(24), primary_key=True)
    sales_fen: Mapped[int] = mapped_column(BigInteger)
    refunds_fen: Mapped[int] = mapped_column(BigInteger)


class HouseholdPeriod(db.Model):
    """What the ledger gave one household (net) in one calendar month, quarter and year
    (`period`: 202611, 20264, 2026; `rollup.period_keys`): the households reached in a
    preset period are the rows with a positive amount, read without summing days."""

    __tablename__ = "household_periods"
    # a county's rows: by the key, village by village, the amount in the key's index on
    # PostgreSQL (index only); a province's or a city's: by period, then village
    __table_args__ = (PrimaryKeyConstraint("village_id", "period", "household_id",
                                           postgresql_include=["amount_fen"]),
                      Index("ix_household_periods_period_village", "period", "village_id",
                            "household_id", "amount_fen"))

    # the key leads with the village: a county's rows are read village by village
    village_id: Mapped[int] = mapped_column(ForeignKey("regions.id"), primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)
    household_id: Mapped[int] = mapped_column(ForeignKey("households.id"), primary_key=True)
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    entries: Mapped[int] = mapped_column(Integer)
