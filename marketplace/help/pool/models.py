"""The donation pool (非指向性捐赠) and the sellers' charity pledges (公益承诺).

Money comes in as donations (`Donation`, paid through the providers; a pledge's monthly payment
is a donation too) and goes out as allocations an office makes to approved needs in its subtree.
Pool money moves only by appending to the insert-only, hash-chained pool ledger
(`PoolEntry`, head in `PoolHead`: the income ledger's discipline); `flask pool verify` checks
it. Received, allocated and balance are sums of the entries, never stored totals.

A directed donation (money a donor gives for a claimed need) is a `Donation` of kind `claim`:
recorded with its receipt, never in the pool ledger.
"""
from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from marketplace.core.models import AwareDateTime, BigId, str_enum
from marketplace.core.time import now_utc
from marketplace.extensions import db

GENESIS_HASH = "0" * 64


class DonationKind(StrEnum):
    pool = "pool"  # to the pool, no target
    claim = "claim"  # money for a claimed need (directed; not in the pool ledger)
    pledge = "pledge"  # a seller's pledged share of a month's turnover, to the pool


class DonationStatus(StrEnum):
    pending = "pending"  # waiting for the provider
    paid = "paid"  # captured: a pool or pledge donation is in the pool ledger
    failed = "failed"
    refunded = "refunded"  # given back (a capture that could not be kept; recorded why)


DONATION_STATUS_LABELS = {DonationStatus.pending: "待支付", DonationStatus.paid: "已到账",
                          DonationStatus.failed: "支付失败", DonationStatus.refunded: "已退回"}


class Donation(db.Model):
    __tablename__ = "donations"
    __table_args__ = (
        CheckConstraint("amount_fen > 0", name="amount_positive"),
        UniqueConstraint("receipt_no", name="uq_donations_receipt_no"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    kind: Mapped[DonationKind] = mapped_column(str_enum(DonationKind))
    donor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[int | None] = mapped_column(ForeignKey("sellers.id"), index=True)  # pledges
    pledge_id: Mapped[int | None] = mapped_column(ForeignKey("pledges.id"), index=True)
    pledge_month: Mapped[int | None] = mapped_column(Integer)  # 202611
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    status: Mapped[DonationStatus] = mapped_column(str_enum(DonationStatus),
                                                   default=DonationStatus.pending)
    provider: Mapped[str] = mapped_column(String(16), default="")
    reference: Mapped[str] = mapped_column(String(64), default="")  # the provider's
    reason: Mapped[str] = mapped_column(String(200), default="")  # why failed / refunded
    receipt_no: Mapped[str | None] = mapped_column(String(32))  # issued when paid
    display_name: Mapped[str] = mapped_column(String(40), default="")  # as the donor wants it
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)
    paid_at: Mapped[datetime | None] = mapped_column(AwareDateTime())

    donor = relationship("User", foreign_keys=[donor_id])

    @property
    def status_label(self) -> str:
        return DONATION_STATUS_LABELS[self.status]


class Allocation(db.Model):
    """Pool money an office gave to an approved need in its subtree (audited)."""

    __tablename__ = "pool_allocations"
    __table_args__ = (CheckConstraint("amount_fen > 0", name="amount_positive"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    need_id: Mapped[int] = mapped_column(ForeignKey("needs.id"), index=True)
    region_id: Mapped[int] = mapped_column(ForeignKey("regions.id"))  # the office's region
    amount_fen: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(200), default="")
    decided_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)

    need = relationship("Need")


class PoolEntryKind(StrEnum):
    donation = "donation"  # in (a pool or pledge donation)
    allocation = "allocation"  # out, to a need
    refund = "refund"  # out: a donation given back


class PoolEntry(db.Model):
    """One movement of pool money, chained by hash like the income ledger (insert-only)."""

    __tablename__ = "pool_entries"

    seq: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=False)
    kind: Mapped[PoolEntryKind] = mapped_column(str_enum(PoolEntryKind))
    amount_fen: Mapped[int] = mapped_column(BigInteger)  # + in, - out
    donation_id: Mapped[int | None] = mapped_column(ForeignKey("donations.id"), index=True)
    allocation_id: Mapped[int | None] = mapped_column(ForeignKey("pool_allocations.id"),
                                                      index=True)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64), unique=True)


class PoolHead(db.Model):
    """The pool ledger's head: its last number and hash, locked by whoever appends."""

    __tablename__ = "pool_head"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    last_seq: Mapped[int] = mapped_column(BigInteger, default=0)
    last_hash: Mapped[str] = mapped_column(String(64), default=GENESIS_HASH)


class PledgeStatus(StrEnum):
    active = "active"
    ended = "ended"
    cancelled = "cancelled"


PLEDGE_STATUS_LABELS = {PledgeStatus.active: "履行中", PledgeStatus.ended: "已结束",
                        PledgeStatus.cancelled: "已撤销"}


class Pledge(db.Model):
    """A seller's promise to give `share_bp` of its paid turnover (net of refunds) to the pool
    for a period; what is due is computed month by month, paying it is a pledge donation."""

    __tablename__ = "pledges"
    __table_args__ = (CheckConstraint("share_bp > 0 AND share_bp <= 10000", name="share_range"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("sellers.id"), index=True)
    share_bp: Mapped[int] = mapped_column(Integer)  # 200 = 2%
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date] = mapped_column(Date)
    status: Mapped[PledgeStatus] = mapped_column(str_enum(PledgeStatus),
                                                 default=PledgeStatus.active)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(AwareDateTime(), default=now_utc)

    seller = relationship("Seller")
