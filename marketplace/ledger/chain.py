"""Appending to the attribution ledger and verifying it.

`append` numbers and chains new entries in the caller's transaction: it locks the head row
(`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's single writer), so concurrent postings are
chained one after another and the sequence has no gaps. There is no update or delete path: the
table's triggers refuse both on each engine.

`verify` walks the whole chain in sequence order (streamed, in batches) and checks each entry's
number, link and hash, that the head row names the last entry, that no household's total for a
line goes below zero (reversals within what was posted), and that each attributed line's parts
sum to its attributable amount and its reversals to what its order's refunds imply (the goods
refunded before the shipping: `rules.reversed_target`), so the ledger's total is what the paid
and refunded lines imply.
"""
from __future__ import annotations

import json
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from marketplace.core.db import driver_execute, driver_many, use_twin
from marketplace.core.i18n import Msg
from marketplace.core.time import now_utc
from marketplace.ledger import rollup, rules, sql

ENTRIES, HEAD = sql.ENTRIES, sql.HEAD


@dataclass(frozen=True)
class NewEntry:
    household_id: int
    order_line_id: int
    amount_fen: int  # > 0 sale, < 0 reversal


def append(session: Session, new: Sequence[NewEntry], *, now: datetime | None = None,
           attributions: Sequence[dict] = (), dims: dict | None = None,
           where: rollup.Places | None = None) -> list[rules.ChainEntry]:
    """Append `new` to the chain in this transaction (the caller commits); returns them as
    chained. Zero amounts are refused (a household that gets nothing has no entry).
    `attributions` ({"line", "bp", "fen"}: an order line's share and attributable amount) are
    written with the entries, in the same statement on PostgreSQL. `dims` and `where`: what
    the reports' pre-aggregates need of the lines and households, when the caller knows it
    (`rollup.add_income` reads what is missing)."""
    if not new:
        return []
    now = (now or now_utc()).astimezone(UTC)  # stored and hashed as UTC on both engines
    conn = session.connection()
    seq, last = _take_head(conn)
    # the entries share `now`: its canonical text is made once, and each hash with
    # rules.digest, which is rules.make_entry's hash given that text
    moment = rules.moment_text(now)
    chained = []
    for entry in new:
        if entry.amount_fen == 0:
            raise ValueError("a ledger entry needs a non-zero amount")
        kind = rules.SALE if entry.amount_fen > 0 else rules.REVERSAL
        seq += 1
        made = rules.digest(last, seq, entry.household_id, entry.order_line_id,
                            entry.amount_fen, kind, moment)
        chained.append(rules.ChainEntry(seq, entry.household_id, entry.order_line_id,
                                        entry.amount_fen, kind, now, last, made))
        last = made
    _write(conn, chained, now, attributions)
    rollup.add_income(conn, chained, now, dims=dims, where=where)
    return chained


def _take_head(conn) -> tuple[int, str]:
    """The head's number and hash, locked until the transaction ends (made if missing)."""
    twin = use_twin(conn, "ledger.append")
    for _ in range(2):
        rows = (driver_execute(conn, sql.PG_TAKE_HEAD) if twin
                else conn.execute(sql.TAKE_HEAD).all())
        if rows:
            return rows[0][0], rows[0][1]
        conn.execute(sql.MAKE_HEAD, {"h": rules.GENESIS_HASH})
    raise RuntimeError("the ledger head row could not be made")


def _write(conn, chained: list[rules.ChainEntry], now: datetime,
           attributions: Sequence[dict]) -> None:
    """Insert the chained entries (all made at `now`) and move the head to the last of them
    (and set the lines' attributions): portable Core statements, or on PostgreSQL twin
    ledger.append's one statement."""
    last = chained[-1]
    if use_twin(conn, "ledger.append"):
        lines = {"lines": [a["line"] for a in attributions], "bps": [a["bp"] for a in attributions],
                 "fens": [a["fen"] for a in attributions]} if attributions else {}
        driver_execute(conn, sql.PG_APPEND_WITH_LINES if attributions else sql.PG_APPEND, {
            **lines, "at": now, "last_seq": last.seq, "last_hash": last.hash,
            "entries": json.dumps([
                {"seq": e.seq, "household_id": e.household_id, "order_line_id": e.order_line_id,
                 "amount_fen": e.amount_fen, "kind": e.kind, "prev_hash": e.prev_hash,
                 "hash": e.hash} for e in chained])})
        return
    at = stored_time(conn.dialect, now)
    driver_many(conn, sql.INSERT_ENTRIES, [
        {"seq": e.seq, "household_id": e.household_id, "order_line_id": e.order_line_id,
         "amount_fen": e.amount_fen, "kind": str(e.kind), "created_at": at,
         "prev_hash": e.prev_hash, "hash": e.hash} for e in chained])
    driver_many(conn, sql.MOVE_HEAD, [{"seq": last.seq, "hash": last.hash}])
    if attributions:
        conn.execute(sql.SET_ATTRIBUTION, list(attributions))


_time_binders: dict[str, Callable | None] = {}  # dialect name -> the column type's processor


def stored_time(dialect, at: datetime):
    """`at` as the created_at column's type binds it on `dialect` (SQLite: UTC text
    'YYYY-MM-DD HH:MM:SS.ffffff'; PostgreSQL: the datetime itself); the processor is looked up
    once per dialect, not at every append."""
    if dialect.name not in _time_binders:
        _time_binders[dialect.name] = (ENTRIES.c.created_at.type.dialect_impl(dialect)
                                       .bind_processor(dialect))
    process = _time_binders[dialect.name]
    return process(at) if process else at


# ---- verifying ----------------------------------------------------------------------------------

@dataclass
class Verdict:
    entries: int
    problem: str = ""  # empty when everything holds
    seq: int | None = None  # the first entry that does not fit

    @property
    def ok(self) -> bool:
        return not self.problem



def read_chain(session: Session,
               batch: int) -> tuple[Iterator[list[tuple]], Callable[[object], str]]:
    """The entries in sequence order, in batches, and how to turn a stored time into its
    canonical text. Twin ledger.chain reads them as the driver gives them (no per-value type
    processing: a million rows): from a server-side cursor on PostgreSQL, which formats the
    time itself; SQLite holds the UTC time as 'YYYY-MM-DD HH:MM:SS.ffffff' (SQLAlchemy's
    format). The portable read streams the Core select and formats each time."""
    conn = session.connection()
    driver = conn.connection.driver_connection
    if use_twin(conn, "ledger.chain"):
        cursor = driver.cursor(name="ledger_verify")
        cursor.execute(sql.RAW_CHAIN.format(moment=sql.PG_MOMENT))
        return _read_ahead(cursor, batch), str
    if use_twin(conn, "ledger.chain", "sqlite"):
        cursor = driver.cursor()
        cursor.execute(sql.RAW_CHAIN.format(moment="created_at"))

        def chunks() -> Iterator[list[tuple]]:
            try:
                while chunk := cursor.fetchmany(batch):
                    yield chunk
            finally:
                cursor.close()
        return chunks(), _sqlite_moment
    # options on the statement, not the connection (Connection.execution_options changes it)
    result = conn.execute(sql.CHAIN.execution_options(stream_results=True, yield_per=batch))
    moment = rules.moment_text
    return ((list(map(tuple, part)) for part in result.partitions()),
            lambda at: at if isinstance(at, str) else moment(at))


def _sqlite_moment(raw: str) -> str:
    return raw.replace(" ", "T", 1) + "+00:00"


def _read_ahead(cursor, batch: int, depth: int = 3) -> Iterator[list[tuple]]:
    """The cursor's batches, fetched by a thread of their own up to `depth` batches ahead: the
    server produces the next batch (and the driver waits for it, without the GIL) while this
    thread checks the last one. Only the reader uses the connection until the batches end or
    the caller stops early (then the reader is stopped and joined before the cursor closes)."""
    ready: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read() -> None:
        try:
            while not stop.is_set():
                chunk = cursor.fetchmany(batch)
                ready.put(chunk)
                if not chunk:
                    return
        except Exception as exc:  # noqa: BLE001 - handed to the consumer, raised there
            ready.put(exc)

    reader = threading.Thread(target=read, name="ledger-verify-reader", daemon=True)
    reader.start()
    try:
        while True:
            chunk = ready.get()
            if isinstance(chunk, Exception):
                raise chunk
            if not chunk:
                return
            yield chunk
    finally:
        stop.set()
        while reader.is_alive():  # let a reader blocked on a full queue finish its put
            try:
                ready.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()
        cursor.close()


def _chunk_holds(chunk: list[tuple], before: int, prev: str, moment) -> bool:
    """Whether a batch of entries (numbered after `before`, the last hash before them `prev`)
    is sound, checked a batch at a time (comprehensions: a million entries in seconds)."""
    sale, reversal, digest = rules.SALE, rules.REVERSAL, rules.digest
    return ([r[0] for r in chunk] == list(range(before + 1, before + 1 + len(chunk)))
            and [r[6] for r in chunk] == [prev] + [r[7] for r in chunk[:-1]]
            and all((k == sale and a > 0) or (k == reversal and a < 0)
                    for _, _, _, a, k, _, _, _ in chunk)
            and [digest(p, s, h, ln, a, k, moment(t)) for s, h, ln, a, k, t, p, _ in chunk]
            == [r[7] for r in chunk])


def _first_bad(chunk: list[tuple], before: int, prev: str, moment) -> Verdict:
    """The verdict for a batch that does not hold: its first entry that does not fit."""
    for count, row in enumerate(chunk, start=before + 1):
        seq, household, line, amount, kind, at, stored_prev, stored = row
        entry = rules.ChainEntry(seq, household, line, amount, kind, rollup.read_time(at), stored_prev,
                                 stored)
        problem = rules.entry_problem(entry, count, prev)
        if problem:
            return Verdict(count - 1, problem, seq)
        prev = stored
    return Verdict(before, Msg("一批记录未通过核对，却找不到出错的一条"), None)


def verify(session: Session, *, batch: int = 20_000, lines: bool = True, rollups: bool = True,
           anchors: dict[int, str] | None = None,
           progress: Callable[[int], None] | None = None) -> Verdict:
    """Check the whole ledger; the verdict names the first entry that does not fit. With
    `lines` false only the chain and the balances are checked, not what the order lines imply
    (for chains written by hand, as in tests). `anchors` (entry number -> hash, as `head`
    answered it at some earlier time and someone kept it outside the database) must still be
    in the chain: a chain rewritten consistently from an earlier entry on, head row included,
    holds together but no longer passes through the hashes recorded before. With `lines` and
    `rollups`, the reports' pre-aggregates must hold what the entries and orders imply
    (`rollup.check`)."""
    anchors = dict(anchors or {})
    chunks, moment = read_chain(session, batch)
    expected_prev, count = rules.GENESIS_HASH, 0
    totals: dict[tuple[int, int], int] = {}  # (line, household) -> running total
    below = None  # (seq, household, line) of the first entry taking a household below zero
    given: dict[int, int] = {}  # line -> what its sales gave
    taken: dict[int, int] = {}  # line -> what its reversals took back (> 0)
    last: dict[int, int] = {}  # line -> its last entry
    total_of, given_of = totals.get, given.get
    for chunk in chunks:
        if not _chunk_holds(chunk, count, expected_prev, moment):
            return _first_bad(chunk, count, expected_prev, moment)
        if anchors and (broken := _anchor_problem(chunk, anchors)):
            return broken
        last.update({row[2]: row[0] for row in chunk})
        for seq, household, line, amount, _kind, _at, _prev, _hash in chunk:
            key = (line, household)
            total = totals[key] = total_of(key, 0) + amount
            if amount > 0:
                given[line] = given_of(line, 0) + amount
            else:
                taken[line] = taken.get(line, 0) - amount
                if total < 0 and below is None:
                    below = (seq, household, line)
        count += len(chunk)
        expected_prev = chunk[-1][7]
        if progress:
            progress(len(chunk))
    head = session.connection().execute(select(HEAD.c.last_seq, HEAD.c.last_hash)
                                        .where(HEAD.c.id == 1)).first()
    if head is not None and (head.last_seq, head.last_hash) != (count, expected_prev):
        return Verdict(count, Msg("台账头与最后一条记录不符（末尾的记录被删除，或台账头被改动）"),
                       count + 1 if head.last_seq > count else None)
    if any(seq > count for seq in anchors):
        return Verdict(count, Msg("记录的锚点第 %(seq)s 条已不在台账中（台账被截短）",
                                  seq=min(s for s in anchors if s > count)), count + 1)
    if below is not None:
        return Verdict(count, Msg("帮扶对象 %(household)s 在订单行 %(line)s 上冲回的多于所得",
                                  household=below[1], line=below[2]), below[0])
    if lines and (problem := _lines_problem(session, given, taken, last, count)):
        return problem
    if lines and rollups and (differs := rollup.check(session.connection())):
        return Verdict(count, Msg("报表汇总表与台账、订单不符：%(what)s", what=differs))
    return Verdict(count)


def _anchor_problem(chunk: list[tuple], anchors: dict[int, str]) -> Verdict | None:
    """The first anchor in this batch (of a chain that holds so far) whose hash differs."""
    first, last = chunk[0][0], chunk[-1][0]
    for seq in sorted(s for s in anchors if first <= s <= last):
        if chunk[seq - first][7] != anchors[seq]:
            return Verdict(seq - 1, Msg("哈希与记录的锚点不符（此前的台账被整体改写）"), seq)
    return None


@dataclass(frozen=True)
class Head:
    seq: int  # the last entry's number (0: an empty ledger)
    hash: str
    at: datetime | None  # when it was written

    @property
    def anchor(self) -> str:
        """How `flask ledger verify --anchor` takes it back: '<seq>:<hash>'."""
        return f"{self.seq}:{self.hash}"


def head(session: Session) -> Head:
    """The last entry: write its number and hash down somewhere outside the database (a report,
    a printed page, another system) to check later that the chain still passes through it."""
    row = session.execute(select(ENTRIES.c.seq, ENTRIES.c.hash, ENTRIES.c.created_at)
                          .order_by(ENTRIES.c.seq.desc()).limit(1)).first()
    return Head(row.seq, row.hash, row.created_at) if row else Head(0, rules.GENESIS_HASH, None)


def parse_anchor(text: str) -> tuple[int, str]:
    """'<seq>:<hash>' as `Head.anchor` writes it; ValueError when it is not of that form."""
    seq, sep, digest = (text or "").strip().partition(":")
    digest = digest.strip().lower()
    if not (sep and seq.strip().isdigit() and int(seq) > 0 and len(digest) == 64
            and all(c in "0123456789abcdef" for c in digest)):
        raise ValueError(text)
    return int(seq), digest


def _lines_problem(session: Session, given: dict[int, int], taken: dict[int, int],
                   last: dict[int, int], count: int) -> Verdict | None:
    """Each attributed line's parts sum to its attributable amount, and its reversals to what
    its order's refunds imply (`rules.reversed_target`): the ledger's total is what the paid
    and refunded lines imply. Names a failing line's last entry."""
    target = rules.reversed_target
    for line_id, attributable, goods, refunded in session.connection().execute(
            sql.ATTRIBUTED):
        implied = target(attributable, goods, refunded) if goods else 0
        if given.get(line_id, 0) != attributable or taken.get(line_id, 0) != implied:
            return Verdict(count, Msg("订单行 %(line)s：记入 %(given)s 分、冲回 %(taken)s 分，按其归属"
                                      "应为 %(attributable)s 分和 %(implied)s 分", line=line_id,
                                      given=given.get(line_id, 0), taken=taken.get(line_id, 0),
                                      attributable=attributable, implied=implied),
                           last.get(line_id))
        last.pop(line_id, None)
    for line_id, seq in sorted(last.items(), key=lambda kv: kv[1]):
        return Verdict(count, Msg("订单行 %(line)s 从未归属，却有台账记录", line=line_id), seq)
    return None


def entry_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(ENTRIES)) or 0


