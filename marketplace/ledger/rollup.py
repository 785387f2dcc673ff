"""The reports' pre-aggregates, derived in the transaction that posts (`income_days`, `sales_days`).

- `add_income` runs inside `chain.append`: every chained entry adds its amount to its
  household's row for the China day of the posting, by the order's channel, the product's
  category and the seller's kind. So the rows hold exactly what the entries hold, whoever
  appends.
- `add_sales` / `add_refund` run where `posting` attributes a paid order or a refund: the goods
  paid (shipping excluded) by seller, channel and category on the China day of the capture,
  and the goods money a refund gives back (refunds go to the shipping last, as
  `rules.reversed_target` has it; a partial refund of the goods is split across the lines by
  amount with largest-remainder rounding, `rules.split_among`).

Both tables are sums that only grow by upserts (`INSERT ... ON CONFLICT DO UPDATE SET x = x +
excluded.x`, the same text on SQLite and PostgreSQL), written after the ledger head is taken,
rows in key order, so concurrent postings never deadlock on them.

`derive` computes both tables from scratch (the entries, the paid orders and the refunds);
`check` compares it with what is stored (run by `chain.verify`, so `flask ledger verify`
checks them), and `rebuild` writes it (the migration that made the tables).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime

from sqlalchemy import Date, bindparam, text

from marketplace.core.time import CHINA
from marketplace.ledger import rules

INCOME_KEY = ("day", "household_id", "channel", "category_id", "seller_kind")
SALES_KEY = ("day", "seller_id", "channel", "category_id")

UPSERT_INCOME = text(
    "INSERT INTO income_days (day, household_id, channel, category_id, seller_kind, village_id, "
    "month, amount_fen, entries) VALUES (:day, :household_id, :channel, :category_id, "
    ":seller_kind, :village_id, :month, :amount_fen, :entries) "
    "ON CONFLICT (day, household_id, channel, category_id, seller_kind) DO UPDATE SET "
    "amount_fen = income_days.amount_fen + excluded.amount_fen, "
    "entries = income_days.entries + excluded.entries"
).bindparams(bindparam("day", type_=Date))
UPSERT_SALES = text(
    "INSERT INTO sales_days (day, seller_id, channel, category_id, seller_kind, month, "
    "sales_fen, refunds_fen, orders) VALUES (:day, :seller_id, :channel, :category_id, "
    ":seller_kind, :month, :sales_fen, :refunds_fen, :orders) "
    "ON CONFLICT (day, seller_id, channel, category_id) DO UPDATE SET "
    "sales_fen = sales_days.sales_fen + excluded.sales_fen, "
    "refunds_fen = sales_days.refunds_fen + excluded.refunds_fen, "
    "orders = sales_days.orders + excluded.orders"
).bindparams(bindparam("day", type_=Date))

# an order line's dimensions: (channel, category, seller kind)
LINE_DIMS = text(
    "SELECT l.id, o.channel, p.category_id, s.kind FROM order_lines l "
    "JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id "
    "JOIN sellers s ON s.id = o.seller_id WHERE l.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
VILLAGES = text("SELECT id, village_id FROM households WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))
CATEGORIES = text("SELECT id, category_id FROM products WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))


def china_day(at: datetime) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(CHINA).date()


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def _value(v) -> str:
    return str(getattr(v, "value", v))


# ---- posting -----------------------------------------------------------------------------------

def add_income(conn, entries: Sequence[rules.ChainEntry], at: datetime) -> None:
    """Add chained entries (all made at `at`) to their households' rows."""
    if not entries:
        return
    dims = {lid: (str(ch), int(cat), str(kind)) for lid, ch, cat, kind in conn.execute(
        LINE_DIMS, {"ids": sorted({e.order_line_id for e in entries})})}
    villages = dict(conn.execute(VILLAGES, {"ids": sorted({e.household_id for e in entries})})
                    .all())
    day = china_day(at)
    rows: dict[tuple, list[int]] = {}
    for e in entries:
        channel, category, kind = dims[e.order_line_id]
        row = rows.setdefault((day, e.household_id, channel, category, kind), [0, 0])
        row[0] += e.amount_fen
        row[1] += 1
    _upsert_income(conn, {key: [villages[key[1]], amount, count]
                          for key, (amount, count) in rows.items()})


def add_sales(conn, orders: Iterable, at: datetime, categories: dict[int, int]) -> None:
    """Paid orders (loaded, or plain objects with id, seller, channel and lines) add their
    goods to the day of `at`; `categories`: product id -> category id."""
    rows: dict[tuple, list[int]] = {}
    day = china_day(at)
    for order in orders:
        seen = set()
        for line in order.lines:
            key = (day, order.seller.id, _value(order.channel),
                   categories[line.product_id])
            row = rows.setdefault(key + (_value(order.seller.kind),), [0, 0, 0])
            row[0] += line.amount_fen
            if key not in seen:
                row[2] += 1
                seen.add(key)
    _upsert_sales(conn, rows)


def add_refund(conn, order, refunded_before: int, refunded_after: int, at: datetime) -> None:
    """The goods money a refund from `refunded_before` to `refunded_after` (the order's
    refunded totals) gives back, split over the lines, on the day of `at`."""
    parts = goods_refunded_by_line(order.goods_fen, refunded_before, refunded_after,
                                   [(line.id, line.amount_fen) for line in order.lines])
    if not parts:
        return
    categories = dict(conn.execute(CATEGORIES, {"ids": sorted({
        line.product_id for line in order.lines})}).all())
    day, rows = china_day(at), {}
    for line in order.lines:
        if parts.get(line.id):
            key = (day, order.seller.id, _value(order.channel), categories[line.product_id],
                   _value(order.seller.kind))
            rows.setdefault(key, [0, 0, 0])[1] += parts[line.id]
    _upsert_sales(conn, rows)


def goods_refunded_by_line(goods_fen: int, before: int, after: int,
                           lines: Sequence[tuple[int, int]]) -> dict[int, int]:
    """Line id -> the goods money (> 0) a refund from `before` to `after` gives back: the
    goods are refunded before the shipping, and a part of the goods is split by line amount
    (the parts of all refunds of a line never exceed it)."""
    goods_before, goods_after = min(before, goods_fen), min(after, goods_fen)
    if goods_after <= goods_before or goods_fen <= 0:
        return {}
    weights = {lid: amount for lid, amount in lines if amount > 0}
    # the cumulative split, so that the parts of successive refunds sum to the whole exactly
    upto_after = rules.split_among(goods_after, weights) if goods_after else {}
    upto_before = rules.split_among(goods_before, weights) if goods_before else {}
    return {lid: upto_after.get(lid, 0) - upto_before.get(lid, 0) for lid in weights
            if upto_after.get(lid, 0) - upto_before.get(lid, 0)}


def _upsert_income(conn, rows: dict[tuple, list[int]]) -> None:
    """INCOME_KEY -> [village, amount, entries], added in key order."""
    if rows:
        conn.execute(UPSERT_INCOME, [
            {"day": d, "household_id": h, "channel": ch, "category_id": cat, "seller_kind": kind,
             "village_id": v, "month": month_of(d), "amount_fen": amount, "entries": n}
            for (d, h, ch, cat, kind), (v, amount, n) in sorted(rows.items())])


def _upsert_sales(conn, rows: dict[tuple, list[int]]) -> None:
    if rows:
        conn.execute(UPSERT_SALES, [
            {"day": d, "seller_id": s, "channel": ch, "category_id": cat, "seller_kind": kind,
             "month": month_of(d), "sales_fen": sales, "refunds_fen": refunds, "orders": n}
            for (d, s, ch, cat, kind), (sales, refunds, n) in sorted(rows.items())])


# ---- deriving from scratch, checking, rebuilding -------------------------------------------------

ALL_ENTRIES = text(
    "SELECT e.created_at, e.household_id, h.village_id, o.channel, p.category_id, s.kind, "
    "e.amount_fen FROM ledger_entries e JOIN households h ON h.id = e.household_id "
    "JOIN order_lines l ON l.id = e.order_line_id JOIN orders o ON o.id = l.order_id "
    "JOIN products p ON p.id = l.product_id JOIN sellers s ON s.id = o.seller_id")
PAID_LINES = text(
    "SELECT o.id, o.paid_at, o.seller_id, s.kind, o.channel, o.goods_fen, l.id, p.category_id, "
    "l.amount_fen FROM orders o JOIN sellers s ON s.id = o.seller_id "
    "JOIN order_lines l ON l.order_id = o.id JOIN products p ON p.id = l.product_id "
    "WHERE o.paid_at IS NOT NULL ORDER BY o.id, l.id")
REFUNDS = text("SELECT order_id, amount_fen, decided_at FROM refunds WHERE status = :done "
               "ORDER BY order_id, decided_at, id")


def read_time(at) -> datetime:
    """A time as a raw statement reads it (SQLite: text; naive values are UTC), aware."""
    if isinstance(at, str):
        at = datetime.fromisoformat(at)
    return at if at.tzinfo else at.replace(tzinfo=UTC)


def derive(conn) -> tuple[dict[tuple, list[int]], dict[tuple, list[int]]]:
    """Both tables as the entries, the paid orders and the refunds imply them: key (as
    INCOME_KEY / SALES_KEY, with the seller's kind last for sales) -> values."""
    income: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])  # village, amount, entries
    for at, household, village, channel, category, kind, amount in conn.execute(ALL_ENTRIES):
        row = income[(china_day(read_time(at)), household, str(channel), int(category), str(kind))]
        row[0], row[1], row[2] = village, row[1] + amount, row[2] + 1
    sales: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0])
    orders: dict[int, tuple] = {}  # id -> (seller, kind, channel, goods)
    counted: set[tuple] = set()  # (order, key): an order counts once per category and day
    lines: dict[int, list[tuple[int, int, int]]] = defaultdict(list)  # order -> (line, cat, fen)
    for oid, paid_at, seller, kind, channel, goods, lid, category, amount in conn.execute(
            PAID_LINES):
        day = china_day(read_time(paid_at))
        key = (day, seller, str(channel), int(category), str(kind))
        if (oid, key) not in counted:
            counted.add((oid, key))
            sales[key][2] += 1
        sales[key][0] += amount
        orders[oid] = (seller, str(kind), str(channel), goods)
        lines[oid].append((lid, int(category), amount))
    refunded: dict[int, int] = defaultdict(int)
    for oid, amount, decided_at in conn.execute(REFUNDS, {"done": "refunded"}):
        if oid not in orders:
            continue
        seller, kind, channel, goods = orders[oid]
        before = refunded[oid]
        refunded[oid] += amount
        category_of = {lid: cat for lid, cat, _a in lines[oid]}
        day = china_day(read_time(decided_at))
        for lid, part in goods_refunded_by_line(goods, before, refunded[oid], [
                (lid, a) for lid, _c, a in lines[oid]]).items():
            sales[(day, seller, channel, category_of[lid], kind)][1] += part
    return dict(income), dict(sales)


def stored(conn) -> tuple[dict[tuple, list[int]], dict[tuple, list[int]]]:
    income = {(_day(d), h, ch, cat, kind): [v, amount, n] for d, h, ch, cat, kind, v, amount, n
              in conn.execute(text(
                  "SELECT day, household_id, channel, category_id, seller_kind, village_id, "
                  "amount_fen, entries FROM income_days"))}
    sales = {(_day(d), s, ch, cat, kind): [a, r, n] for d, s, ch, cat, kind, a, r, n
             in conn.execute(text(
                 "SELECT day, seller_id, channel, category_id, seller_kind, sales_fen, "
                 "refunds_fen, orders FROM sales_days"))}
    return income, sales


def _day(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def check(conn) -> str:
    """'' when both tables hold what the entries and orders imply; else what differs first."""
    want_income, want_sales = derive(conn)
    have_income, have_sales = stored(conn)
    for name, want, have in (("income_days", want_income, have_income),
                             ("sales_days", want_sales, have_sales)):
        for key in sorted(set(want) | set(have), key=str):
            if want.get(key) != have.get(key):
                return (f"{name} {tuple(map(str, key))}: "
                        f"{have.get(key)} stored, {want.get(key)} implied")
    return ""


def rebuild(conn) -> None:
    """Write both tables from scratch (they must be empty)."""
    income, sales = derive(conn)
    _upsert_income(conn, income)
    _upsert_sales(conn, sales)
