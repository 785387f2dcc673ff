"""Appending to the attribution ledger and verifying it.

`append` numbers and chains new entries in the caller's transaction: it locks the head row
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's single writer), so concurrent postings are
chained one after another and the sequence has no gaps. There is no update or delete path: the
table's triggers refuse both on each engine.

`verify` walks the whole chain in sequence order (streamed, in batches) and checks each entry's
number, link and hash, that the head row names the last entry, and that no household's total
for a line is below zero (reversals within what was posted).
"""
from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select, text, update
from sqlalchemy.orm import Session

from marketplace.core.time import now_utc
from marketplace.ledger import rules
from marketplace.ledger.models import LedgerEntry, LedgerHead

ENTRIES = LedgerEntry.__table__
HEAD = LedgerHead.__table__
TAKE_HEAD = select(HEAD.c.last_seq, HEAD.c.last_hash).where(HEAD.c.id == 1).with_for_update()
# the head row is made by the migration; recreated if a tool emptied the table
MAKE_HEAD = text("INSERT INTO ledger_head (id, last_seq, last_hash) VALUES (1, 0, :h) "
                 "ON CONFLICT (id) DO NOTHING")
INSERT_ENTRIES = ENTRIES.insert()
MOVE_HEAD = update(HEAD).where(HEAD.c.id == 1)


@dataclass(frozen=True)
class NewEntry:
    household_id: int
    order_line_id: int
    amount_fen: int  # > 0 sale, < 0 reversal


def append(session: Session, new: Sequence[NewEntry], *,
           now: datetime | None = None) -> list[rules.ChainEntry]:
    """Append `new` to the chain in this transaction (the caller commits); returns them as
    chained. Zero amounts are refused (a household that gets nothing has no entry)."""
    if not new:
        return []
    now = (now or now_utc()).astimezone(UTC)  # stored and hashed as UTC on both engines
    conn = session.connection()
    head = conn.execute(TAKE_HEAD).first()
    if head is None:
        conn.execute(MAKE_HEAD, {"h": rules.GENESIS_HASH})
        head = conn.execute(TAKE_HEAD).first()
    seq, last = head
    chained = []
    for entry in new:
        if entry.amount_fen == 0:
            raise ValueError("a ledger entry needs a non-zero amount")
        kind = rules.SALE if entry.amount_fen > 0 else rules.REVERSAL
        made = rules.make_entry(seq, last, entry.household_id, entry.order_line_id,
                                entry.amount_fen, kind, now)
        chained.append(made)
        seq, last = made.seq, made.hash
    conn.execute(INSERT_ENTRIES, [
        {"seq": e.seq, "household_id": e.household_id, "order_line_id": e.order_line_id,
         "amount_fen": e.amount_fen, "kind": e.kind, "created_at": e.created_at,
         "prev_hash": e.prev_hash, "hash": e.hash} for e in chained])
    conn.execute(MOVE_HEAD.values(last_seq=seq, last_hash=last))
    return chained


# ---- verifying ----------------------------------------------------------------------------------

@dataclass
class Verdict:
    entries: int
    problem: str = ""  # empty when everything holds
    seq: int | None = None  # the first entry that does not fit

    @property
    def ok(self) -> bool:
        return not self.problem


NEGATIVE = (select(ENTRIES.c.order_line_id, ENTRIES.c.household_id,
                   func.min(ENTRIES.c.seq).label("first_seq"))
            .group_by(ENTRIES.c.order_line_id, ENTRIES.c.household_id)
            .having(func.sum(ENTRIES.c.amount_fen) < 0))


CHAIN_SQL = ("SELECT seq, household_id, order_line_id, amount_fen, kind, {moment}, prev_hash, "
             "hash FROM ledger_entries ORDER BY seq")
# PostgreSQL writes the canonical time text itself (rules.moment_text's form)
PG_MOMENT = ("to_char(created_at AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')")


def _raw_chain(session: Session, batch: int) -> tuple[Iterator[tuple], Callable[[object], str]]:
    """The entries as the driver gives them (no per-value type processing: a million rows), in
    batches from a server-side cursor on PostgreSQL, and how to turn a stored time into its
    canonical text: SQLite holds the UTC time as 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's
    format), PostgreSQL formats it in the query."""
    conn = session.connection()
    driver = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        cursor = driver.cursor(name="ledger_verify")
        cursor.execute(CHAIN_SQL.format(moment=PG_MOMENT))
        moment = str
    else:
        cursor = driver.cursor()
        cursor.execute(CHAIN_SQL.format(moment="created_at"))

        def moment(raw: str) -> str:
            return raw.replace(" ", "T", 1) + "+00:00"

    def rows() -> Iterator[tuple]:
        try:
            while chunk := cursor.fetchmany(batch):
                yield from chunk
        finally:
            cursor.close()
    return rows(), moment


def verify(session: Session, *, batch: int = 20_000,
           progress: Callable[[int], None] | None = None) -> Verdict:
    """Check the whole ledger; the verdict names the first entry that does not fit."""
    rows, moment = _raw_chain(session, batch)
    expected_prev, count, digest = rules.GENESIS_HASH, 0, rules.digest
    sale, reversal = rules.SALE, rules.REVERSAL
    for seq, household, line, amount, kind, at, prev, stored in rows:
        count += 1
        if seq != count or prev != expected_prev \
                or not ((kind == sale and amount > 0) or (kind == reversal and amount < 0)) \
                or digest(prev, seq, household, line, amount, kind, moment(at)) != stored:
            entry = rules.ChainEntry(seq, household, line, amount, kind, _aware(at), prev, stored)
            return Verdict(count - 1, rules.entry_problem(entry, count, expected_prev) or "?",
                           seq)
        expected_prev = stored
        if progress and count % batch == 0:
            progress(batch)
    if progress and count % batch:
        progress(count % batch)
    head = session.connection().execute(select(HEAD.c.last_seq, HEAD.c.last_hash)
                                        .where(HEAD.c.id == 1)).first()
    if head is not None and (head.last_seq, head.last_hash) != (count, expected_prev):
        return Verdict(count, "the head row does not name the last entry (entries removed from "
                       "the end, or the head changed)",
                       count + 1 if head.last_seq > count else None)
    below = session.connection().execute(NEGATIVE.order_by("first_seq").limit(1)).first()
    if below is not None:
        return Verdict(count, f"household {below.household_id} gave back more than it was given "
                       f"for order line {below.order_line_id}",
                       _crossing(session, below.order_line_id, below.household_id))
    return Verdict(count)


def _crossing(session: Session, order_line_id: int, household_id: int) -> int | None:
    """The entry at which a household's running total for a line went below zero."""
    total = 0
    for seq, amount in session.connection().execute(
            select(ENTRIES.c.seq, ENTRIES.c.amount_fen)
            .where(ENTRIES.c.order_line_id == order_line_id,
                   ENTRIES.c.household_id == household_id).order_by(ENTRIES.c.seq)):
        total += amount
        if total < 0:
            return seq
    return None


def entry_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ENTRIES)) or 0


def _aware(at) -> datetime:
    """A time as `_raw_chain` reads it, as an aware datetime."""
    parsed = datetime.fromisoformat(at)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
