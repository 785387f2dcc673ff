"""Pure rules of the donation pool: the pool ledger's hashes, receipt numbers and what a
charity pledge makes due in a month.

- A pool entry's hash is sha256(previous hash | seq | kind | amount | donation | allocation |
  time), the time in the income ledger's canonical form (UTC, ISO 8601, microseconds).
- A donation's amount is 0.01 to 1,000,000 yuan.
- A pledge gives `share_bp` of a month's paid turnover net of refunds; the share is rounded half
  up to the fen (a month with nothing or less than nothing sold owes nothing).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from marketplace.core.i18n import Msg

GENESIS_HASH = "0" * 64
DONATION = "donation"  # in
ALLOCATION = "allocation"  # out, to a need
REFUND = "refund"  # out, a donation given back
KINDS = (DONATION, ALLOCATION, REFUND)

MAX_DONATION_FEN = 100_000_000  # 1,000,000 yuan
BP = 10_000


def moment_text(created_at: datetime) -> str:
    """An entry's time in its canonical form: UTC, ISO 8601, microseconds."""
    if created_at.tzinfo is None:
        raise ValueError("naive datetime")
    return created_at.astimezone(UTC).isoformat(timespec="microseconds")


def digest(prev_hash: str, seq: int, kind: str, amount_fen: int, donation_id: int | None,
           allocation_id: int | None, created_at: datetime) -> str:
    """The hash of one pool entry, chained to the one before it."""
    return hashlib.sha256(
        f"{prev_hash}|{seq}|{kind}|{amount_fen}|{donation_id or ''}|{allocation_id or ''}|"
        f"{moment_text(created_at)}".encode()).hexdigest()


def sign_fits(kind: str, amount_fen: int) -> bool:
    """Money in is positive (a donation), money out negative (an allocation or a refund)."""
    return (kind == DONATION and amount_fen > 0) or (kind in (ALLOCATION, REFUND)
                                                      and amount_fen < 0)


@dataclass(frozen=True)
class Link:
    seq: int
    kind: str
    amount_fen: int
    donation_id: int | None
    allocation_id: int | None
    created_at: datetime
    prev_hash: str
    hash: str


def link_problem(entry: Link, expected_seq: int, expected_prev: str) -> str | None:
    """Why `entry` does not fit where the chain expects it (None when it does)."""
    if entry.seq != expected_seq:
        return Msg("编号为 %(seq)s，此处应为 %(expected)s（有记录缺失或被移动）", seq=entry.seq,
                   expected=expected_seq)
    if entry.prev_hash != expected_prev:
        return Msg("所记前一条的哈希与前一条记录不符")
    if entry.kind not in KINDS or not sign_fits(entry.kind, entry.amount_fen):
        return Msg("类型 %(kind)s 与金额 %(amount)s 不符", kind=entry.kind, amount=entry.amount_fen)
    if digest(entry.prev_hash, entry.seq, entry.kind, entry.amount_fen, entry.donation_id,
              entry.allocation_id, entry.created_at) != entry.hash:
        return Msg("内容与其哈希不符（写入后被改动）")
    return None


def receipt_no(donation_id: int, paid_at: datetime, china) -> str:
    """A donation's receipt number: JZ, the China day it was paid, its id (JZ2026111500000042)."""
    return f"JZ{paid_at.astimezone(china):%Y%m%d}{donation_id:08d}"


def donation_amount_problem(amount_fen: int) -> str | None:
    if amount_fen <= 0:
        return Msg("捐赠金额必须大于 0")
    if amount_fen > MAX_DONATION_FEN:
        return Msg("单笔捐赠不能超过 1,000,000 元")
    return None


# ---- pledges ------------------------------------------------------------------------------------

def pledge_due_fen(net_fen: int, share_bp: int) -> int:
    """`share_bp` of a month's net turnover, rounded half up to the fen; nothing for a month
    that sold nothing (or refunded more than it sold)."""
    if not 0 < share_bp <= BP:
        raise ValueError("share must be 1..10000 basis points")
    if net_fen <= 0:
        return 0
    return (net_fen * share_bp * 2 + BP) // (2 * BP)


def month_key(day: date) -> int:
    """202611 for any day of November 2026."""
    return day.year * 100 + day.month


def month_bounds(month: int) -> tuple[date, date]:
    """The first and last day of a month key."""
    year, mon = divmod(month, 100)
    first = date(year, mon, 1)
    following = date(year + (mon == 12), 1 if mon == 12 else mon + 1, 1)
    return first, following - timedelta(days=1)


def months_between(start: date, end: date) -> list[int]:
    """The month keys from `start`'s month to `end`'s, both included (empty if end < start)."""
    out, key = [], month_key(start)
    while start <= end and key <= month_key(end):
        out.append(key)
        year, mon = divmod(key, 100)
        key = (year + 1) * 100 + 1 if mon == 12 else key + 1
    return out


def month_label(month: int) -> str:
    year, mon = divmod(month, 100)
    return f"{year}-{mon:02d}"


def parse_month(text: str) -> int | None:
    """'2026-11' (or 202611) as a month key; None when it is not a month."""
    text = (text or "").strip()
    digits = text.replace("-", "")
    if not (digits.isdigit() and len(digits) == 6):
        return None
    key = int(digits)
    return key if 1 <= key % 100 <= 12 and key // 100 >= 2000 else None


def percent_to_bp(text: str) -> int | None:
    """'2' or '2.5' (percent, up to two decimals) as basis points; None if it is not that."""
    text = (text or "").strip().rstrip("%").strip()
    whole, _, frac = text.partition(".")
    if not whole.isdigit() or (frac and (not frac.isdigit() or len(frac) > 2)):
        return None
    return int(whole) * 100 + int((frac or "0").ljust(2, "0"))
