"""Appending to the pool ledger and verifying it (the income ledger's discipline).

`append` numbers and chains a new entry in the caller's transaction, with the head row locked
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite has one writer), so concurrent donations and
allocations are chained one after another without gaps, and whoever holds the head reads a
balance nobody else can spend at the same time (`lock`). There is no update or delete path:
triggers refuse both on each engine (migration 0033).

`verify` walks the whole chain in sequence order and checks each entry's number, link, sign and
hash, that the head names the last entry, that the balance never went below zero, and that the
entries are what the donations and allocations imply: one entry per paid pool or pledge
donation and per allocation, for their amounts, refunds within what was given.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.help.pool import rules
from marketplace.help.pool.models import (
    Allocation,
    Donation,
    DonationKind,
    DonationStatus,
    PoolEntry,
    PoolEntryKind,
    PoolHead,
)
from marketplace.ledger.chain import Verdict  # the income ledger's: the same answer


def lock(session: Session) -> PoolHead:
    """The head row, locked until the transaction ends (made when missing)."""
    for _ in range(2):
        head = session.execute(select(PoolHead).where(PoolHead.id == 1).with_for_update()
                               .execution_options(populate_existing=True)).scalar_one_or_none()
        if head is not None:
            return head
        dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
        session.execute(dialect.insert(PoolHead.__table__)
                        .values(id=1, last_seq=0, last_hash=rules.GENESIS_HASH)
                        .on_conflict_do_nothing())
    raise RuntimeError("the pool head row could not be made")


def append(session: Session, kind: PoolEntryKind | str, amount_fen: int, *,
           donation_id: int | None = None, allocation_id: int | None = None,
           now: datetime | None = None) -> PoolEntry:
    """One entry, numbered and chained after the head (locked here, if the caller has not
    already); the caller commits. In is positive (donation), out negative."""
    kind = PoolEntryKind(kind)
    if not rules.sign_fits(str(kind), amount_fen):
        raise ValueError(f"a pool {kind} cannot be {amount_fen} fen")
    now = (now or now_utc()).astimezone(UTC)
    head = lock(session)
    seq = head.last_seq + 1
    made = rules.digest(head.last_hash, seq, str(kind), amount_fen, donation_id, allocation_id,
                        now)
    entry = PoolEntry(seq=seq, kind=kind, amount_fen=amount_fen, donation_id=donation_id,
                      allocation_id=allocation_id, created_at=now, prev_hash=head.last_hash,
                      hash=made)
    session.add(entry)
    head.last_seq, head.last_hash = seq, made
    session.flush()
    return entry


@dataclass(frozen=True)
class Totals:
    received: int  # donations in
    allocated: int  # to needs (>= 0)
    refunded: int  # given back (>= 0)
    entries: int

    @property
    def balance(self) -> int:
        return self.received - self.allocated - self.refunded


def totals(session: Session) -> Totals:
    """Sums of the entries by kind (never stored totals)."""
    rows = dict(session.execute(select(PoolEntry.kind, func.coalesce(func.sum(
        PoolEntry.amount_fen), 0)).group_by(PoolEntry.kind)).all())
    count = session.scalar(select(func.count()).select_from(PoolEntry)) or 0
    return Totals(int(rows.get(PoolEntryKind.donation, 0)),
                  -int(rows.get(PoolEntryKind.allocation, 0)),
                  -int(rows.get(PoolEntryKind.refund, 0)), count)


def balance(session: Session) -> int:
    return int(session.scalar(select(func.coalesce(func.sum(PoolEntry.amount_fen), 0))) or 0)


# ---- verifying ----------------------------------------------------------------------------------

def entry_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(PoolEntry)) or 0


def verify(session: Session, *, batch: int = 5_000,
           progress: Callable[[int], None] | None = None) -> Verdict:
    """Check the whole pool ledger; the verdict names the first entry that does not fit."""
    columns = (PoolEntry.seq, PoolEntry.kind, PoolEntry.amount_fen, PoolEntry.donation_id,
               PoolEntry.allocation_id, PoolEntry.created_at, PoolEntry.prev_hash,
               PoolEntry.hash)
    result = session.execute(select(*columns).order_by(PoolEntry.seq)
                             .execution_options(yield_per=batch))
    prev, count, running = rules.GENESIS_HASH, 0, 0
    given: dict[int, tuple[int, int]] = {}  # donation -> (its entry, amount)
    back: dict[int, int] = {}  # donation -> refunded (> 0)
    allocated: dict[int, tuple[int, int]] = {}  # allocation -> (its entry, amount > 0)
    for part in result.partitions():
        for row in part:
            link = rules.Link(row[0], str(row[1]), row[2], row[3], row[4], row[5], row[6], row[7])
            problem = rules.link_problem(link, count + 1, prev)
            if problem:
                return Verdict(count, problem, link.seq)
            running += link.amount_fen
            if running < 0:
                return Verdict(count, Msg("余额在此变为负数（支出多于收入）"), link.seq)
            if link.kind == rules.DONATION:
                if link.donation_id is None or link.donation_id in given:
                    return Verdict(count, Msg("捐赠记录缺少捐赠编号，或同一笔捐赠记入两次"),
                                   link.seq)
                given[link.donation_id] = (link.seq, link.amount_fen)
            elif link.kind == rules.REFUND:
                if link.donation_id not in given:
                    return Verdict(count, Msg("退回的捐赠从未记入资金池"), link.seq)
                back[link.donation_id] = back.get(link.donation_id, 0) - link.amount_fen
                if back[link.donation_id] > given[link.donation_id][1]:
                    return Verdict(count, Msg("退回的多于这笔捐赠"), link.seq)
            else:
                if link.allocation_id is None or link.allocation_id in allocated:
                    return Verdict(count, Msg("拨付记录缺少拨付编号，或同一笔拨付记入两次"),
                                   link.seq)
                allocated[link.allocation_id] = (link.seq, -link.amount_fen)
            prev, count = link.hash, count + 1
        if progress:
            progress(len(part))
    head = session.get(PoolHead, 1)
    if head is not None and (head.last_seq, head.last_hash) != (count, prev):
        return Verdict(count, Msg("资金池台账头与最后一条记录不符（末尾的记录被删除，或台账头被改动）"),
                       count + 1 if head.last_seq > count else None)
    return _records_problem(session, given, back, allocated, count) or Verdict(count)


def _records_problem(session: Session, given: dict, back: dict, allocated: dict,
                     count: int) -> Verdict | None:
    """The entries are what the donations and allocations imply."""
    pooled = (DonationKind.pool, DonationKind.pledge)
    for donation_id, kind, status, amount in session.execute(
            select(Donation.id, Donation.kind, Donation.status, Donation.amount_fen)
            .where(Donation.kind.in_(pooled)).order_by(Donation.id)):
        entry = given.pop(donation_id, None)
        if status == DonationStatus.paid and entry is None:
            return Verdict(count, Msg("捐赠 %(id)s 已到账，却没有记入资金池", id=donation_id))
        if entry is not None and entry[1] != amount:
            return Verdict(count, Msg("捐赠 %(id)s 金额为 %(amount)s 分，资金池记入 %(entry)s 分",
                                      id=donation_id, amount=amount, entry=entry[1]), entry[0])
        if entry is not None and status not in (DonationStatus.paid, DonationStatus.refunded):
            return Verdict(count, Msg("捐赠 %(id)s 未到账，却记入了资金池", id=donation_id),
                           entry[0])
        if status == DonationStatus.refunded and entry is not None \
                and back.get(donation_id, 0) != amount:
            return Verdict(count, Msg("捐赠 %(id)s 已退回，资金池却未全额退回", id=donation_id),
                           entry[0])
    if given:
        donation_id, (seq, _) = next(iter(given.items()))
        return Verdict(count, Msg("资金池记入的捐赠 %(id)s 不存在或不属于资金池", id=donation_id),
                       seq)
    for allocation_id, amount in session.execute(
            select(Allocation.id, Allocation.amount_fen).order_by(Allocation.id)):
        entry = allocated.pop(allocation_id, None)
        if entry is None:
            return Verdict(count, Msg("拨付 %(id)s 没有记入资金池", id=allocation_id))
        if entry[1] != amount:
            return Verdict(count, Msg("拨付 %(id)s 金额为 %(amount)s 分，资金池记出 %(entry)s 分",
                                      id=allocation_id, amount=amount, entry=entry[1]), entry[0])
    if allocated:
        allocation_id, (seq, _) = next(iter(allocated.items()))
        return Verdict(count, Msg("资金池记出的拨付 %(id)s 不存在", id=allocation_id), seq)
    return None
