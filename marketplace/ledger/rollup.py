"""The reports' pre-aggregates, derived in the transaction that posts: `income_days`,
`sales_days`, and from the same rows `income_months`, `sales_months` (by month and area: the
county a village or a seller's region lies in) and `household_periods` (a household's net per
calendar month, quarter and year).

- `add_income` runs inside `chain.append`: every chained entry adds its amount to its
  household's rows for the China day of the posting (its day, its county's month, its month,
  quarter and year), by the order's channel, the product's category and the seller's kind. So
  the rows hold exactly what the entries hold, whoever appends.
- `add_sales` / `add_refund` run where `posting` attributes a paid order or a refund: the goods
  paid (shipping excluded) by seller, channel and category on the China day of the capture,
  and the goods money a refund gives back (refunds go to the shipping last, as
  `rules.reversed_target` has it; a partial refund of the goods is split across the lines by
  amount with largest-remainder rounding, `rules.split_among`); and the same by month and area.

All are sums that only grow by upserts (`INSERT ... ON CONFLICT DO UPDATE SET x = x +
excluded.x`, the same text on SQLite and PostgreSQL, a few hundred rows per statement),
written after the ledger head is taken, rows in key order, so concurrent postings never
deadlock on them. `posting` knows the lines' dimensions and reads where the households and
sellers are once (`places`); other callers of `chain.append` leave them to be read.

`derive` computes the days from scratch (the entries, the paid orders and the refunds),
`derive_months` the rest from the days; `check` compares them with what is stored (run by
`chain.verify`, so `flask ledger verify` checks them), and `rebuild` writes them (the
migrations that made the tables: 0026 the days, 0030 the months and periods).
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import lru_cache

from sqlalchemy import Date, bindparam, text

from marketplace.core.time import CHINA
from marketplace.ledger import rules
from marketplace.regions.models import LEVEL_CODE_LENGTH, LEVEL_ORDER

INCOME_KEY = ("day", "household_id", "channel", "category_id", "seller_kind")
SALES_KEY = ("day", "seller_id", "channel", "category_id")
AREA_CODES = 3  # an area is a path's first three codes: province, city, county (GB/T 2260)
# ... whose lengths are fixed by level: '/43/4305/430525/' is 16 characters
AREA_PATH = 1 + sum(LEVEL_CODE_LENGTH[level] + 1 for level in LEVEL_ORDER[:AREA_CODES])


@dataclass(frozen=True)
class Table:
    """One pre-aggregate: its key columns, the columns written once, the sums."""
    name: str
    key: tuple[str, ...]
    fixed: tuple[str, ...]
    sums: tuple[str, ...]

    @property
    def columns(self) -> tuple[str, ...]:
        return self.key + self.fixed + self.sums


INCOME_DAYS = Table("income_days", INCOME_KEY, ("village_id", "month"), ("amount_fen", "entries"))
SALES_DAYS = Table("sales_days", SALES_KEY, ("seller_kind", "month"),
                   ("sales_fen", "refunds_fen", "orders"))
INCOME_MONTHS = Table("income_months", ("area_id", "month", "channel", "category_id",
                                        "seller_kind"), (), ("amount_fen", "entries"))
SALES_MONTHS = Table("sales_months", ("area_id", "month", "channel", "category_id",
                                      "seller_kind"), (), ("sales_fen", "refunds_fen"))
HOUSEHOLD_PERIODS = Table("household_periods", ("village_id", "period", "household_id"), (),
                          ("amount_fen", "entries"))
TABLES = (INCOME_DAYS, SALES_DAYS, INCOME_MONTHS, SALES_MONTHS, HOUSEHOLD_PERIODS)
ROWS_PER_STATEMENT = 300  # 9 columns: far under SQLite's 32,766 variables

# an order line's dimensions: (channel, category, seller kind)
LINE_DIMS = text(
    "SELECT l.id, o.channel, p.category_id, s.kind FROM order_lines l "
    "JOIN orders o ON o.id = l.order_id JOIN products p ON p.id = l.product_id "
    "JOIN sellers s ON s.id = o.seller_id WHERE l.id IN :ids"
).bindparams(bindparam("ids", expanding=True))
# where households and sellers are: their region and its area (the region whose path is the
# first AREA_PATH characters of theirs; a shorter path is its own)
PLACES = text(
    "SELECT 'h', h.id, h.village_id, a.id FROM households h JOIN regions v "
    "ON v.id = h.village_id JOIN regions a ON a.path = substr(v.path, 1, :n) "
    "WHERE h.id IN :households UNION ALL "
    "SELECT 's', s.id, s.region_id, a.id FROM sellers s JOIN regions r ON r.id = s.region_id "
    "JOIN regions a ON a.path = substr(r.path, 1, :n) WHERE s.id IN :sellers"
).bindparams(bindparam("households", expanding=True), bindparam("sellers", expanding=True))
CATEGORIES = text("SELECT id, category_id FROM products WHERE id IN :ids").bindparams(
    bindparam("ids", expanding=True))


def china_day(at: datetime) -> date:
    return (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(CHINA).date()


def month_of(day: date) -> int:
    return day.year * 100 + day.month


def period_keys(day: date) -> tuple[int, int, int]:
    """The `household_periods` keys of a day: its month (202611), quarter (20264), year (2026)."""
    return day.year * 100 + day.month, day.year * 10 + (day.month - 1) // 3 + 1, day.year


def area_path(path: str) -> str:
    """The path of the area (county) a region's path lies in; a region above a county is its
    own area."""
    return path[:AREA_PATH]


def _value(v) -> str:
    return str(getattr(v, "value", v))


def line_dims(orders: Iterable, categories: dict[int, int]) -> dict[int, tuple[str, int, str]]:
    """Line id -> (channel, category, seller kind) of loaded orders (or plain objects)."""
    return {line.id: (_value(order.channel), categories[line.product_id], _value(order.seller.kind))
            for order in orders for line in order.lines}


@dataclass
class Places:
    """Household id -> (village id, area id); seller id -> area id."""
    households: dict[int, tuple[int, int]] = field(default_factory=dict)
    sellers: dict[int, int] = field(default_factory=dict)


def places(conn, household_ids: Iterable[int] = (), seller_ids: Iterable[int] = ()) -> Places:
    """Where the households and sellers are, for the pre-aggregates (one read)."""
    out = Places()
    for what, oid, region, area in conn.execute(PLACES, {
            "households": sorted(set(household_ids)), "sellers": sorted(set(seller_ids)),
            "n": AREA_PATH}):
        if what == "h":
            out.households[oid] = (region, area)
        else:
            out.sellers[oid] = area
    return out


# ---- posting -----------------------------------------------------------------------------------

def add_income(conn, entries: Sequence[rules.ChainEntry], at: datetime, *,
               dims: dict[int, tuple[str, int, str]] | None = None,
               where: Places | None = None) -> None:
    """Add chained entries (all made at `at`) to their households' rows (days, months,
    periods). `dims` (line id -> channel, category, seller kind) and `where` (the households'
    places) are read when the caller does not know them."""
    if not entries:
        return
    lines = sorted({e.order_line_id for e in entries})
    if dims is None or any(line not in dims for line in lines):
        dims = {lid: (str(ch), int(cat), str(kind)) for lid, ch, cat, kind in conn.execute(
            LINE_DIMS, {"ids": lines})}
    households = {e.household_id for e in entries}
    if where is None or not households <= where.households.keys():
        where = places(conn, households)
    day = china_day(at)
    month, keys = month_of(day), period_keys(day)
    days: dict[tuple, list[int]] = {}
    months: dict[tuple, list[int]] = {}
    held: dict[tuple, list[int]] = {}
    for e in entries:
        channel, category, kind = dims[e.order_line_id]
        village, area = where.households[e.household_id]
        _add(days, (day, e.household_id, channel, category, kind), (village, month),
             (e.amount_fen, 1))
        _add(months, (area, month, channel, category, kind), (), (e.amount_fen, 1))
        for key in keys:
            _add(held, (village, key, e.household_id), (), (e.amount_fen, 1))
    upsert(conn, INCOME_DAYS, days)
    upsert(conn, INCOME_MONTHS, months)
    upsert(conn, HOUSEHOLD_PERIODS, held)


def add_sales(conn, orders: Iterable, at: datetime, categories: dict[int, int], *,
              areas: dict[int, int] | None = None) -> None:
    """Paid orders (loaded, or plain objects with id, seller, channel and lines) add their
    goods to the day of `at`; `categories`: product id -> category id; `areas`: seller id ->
    area id (read when not given)."""
    orders = list(orders)
    sellers = {order.seller.id for order in orders}
    if areas is None or not sellers <= areas.keys():
        areas = places(conn, seller_ids=sellers).sellers
    days: dict[tuple, list[int]] = {}
    months: dict[tuple, list[int]] = {}
    day = china_day(at)
    month = month_of(day)
    for order in orders:
        seen = set()
        channel, kind = _value(order.channel), _value(order.seller.kind)
        for line in order.lines:
            category = categories[line.product_id]
            key = (day, order.seller.id, channel, category)
            _add(days, key, (kind, month), (line.amount_fen, 0, 0 if key in seen else 1))
            seen.add(key)
            _add(months, (areas[order.seller.id], month, channel, category, kind), (),
                 (line.amount_fen, 0))
    upsert(conn, SALES_DAYS, days)
    upsert(conn, SALES_MONTHS, months)


def add_refund(conn, order, refunded_before: int, refunded_after: int, at: datetime) -> None:
    """The goods money a refund from `refunded_before` to `refunded_after` (the order's
    refunded totals) gives back, split over the lines, on the day of `at`."""
    parts = goods_refunded_by_line(order.goods_fen, refunded_before, refunded_after,
                                   [(line.id, line.amount_fen) for line in order.lines])
    if not parts:
        return
    categories = dict(conn.execute(CATEGORIES, {"ids": sorted({
        line.product_id for line in order.lines})}).all())
    area = places(conn, seller_ids=[order.seller.id]).sellers[order.seller.id]
    day = china_day(at)
    month = month_of(day)
    channel, kind = _value(order.channel), _value(order.seller.kind)
    days: dict[tuple, list[int]] = {}
    months: dict[tuple, list[int]] = {}
    for line in order.lines:
        if parts.get(line.id):
            category = categories[line.product_id]
            _add(days, (day, order.seller.id, channel, category), (kind, month),
                 (0, parts[line.id], 0))
            _add(months, (area, month, channel, category, kind), (), (0, parts[line.id]))
    upsert(conn, SALES_DAYS, days)
    upsert(conn, SALES_MONTHS, months)


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


def _add(rows: dict[tuple, list], key: tuple, fixed: tuple, sums: tuple) -> None:
    """rows[key] = [*fixed, *sums], the sums added."""
    row = rows.get(key)
    if row is None:
        rows[key] = [*fixed, *sums]
    else:
        for i, v in enumerate(sums, start=len(fixed)):
            row[i] += v


@lru_cache(maxsize=None)
def _upsert_sql(table: Table, n: int):
    """INSERT of `n` rows that adds to the sums of rows already there: the same text on SQLite
    and PostgreSQL (a key appears once per statement: the callers sum first)."""
    cols = table.columns
    values = ", ".join("(" + ", ".join(f":{c}_{i}" for c in cols) + ")" for i in range(n))
    sums = ", ".join(f"{c} = {table.name}.{c} + excluded.{c}" for c in table.sums)
    statement = text(f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES {values} "
                     f"ON CONFLICT ({', '.join(table.key)}) DO UPDATE SET {sums}")
    if "day" in cols:  # dates bound as dates (SQLite's own adapter is deprecated)
        statement = statement.bindparams(*[bindparam(f"day_{i}", type_=Date) for i in range(n)])
    return statement


def upsert(conn, table: Table, rows: dict[tuple, list]) -> None:
    """Add `rows` (key -> [*fixed, *sums]) in key order, a few hundred per statement."""
    if not rows:
        return
    cols = table.columns
    ordered = [key + tuple(values) for key, values in sorted(rows.items())]
    for at in range(0, len(ordered), ROWS_PER_STATEMENT):
        chunk = ordered[at:at + ROWS_PER_STATEMENT]
        conn.execute(_upsert_sql(table, len(chunk)),
                     {f"{c}_{i}": v for i, row in enumerate(chunk)
                      for c, v in zip(cols, row, strict=True)})


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


def derive_months(conn, income: dict[tuple, list[int]], sales: dict[tuple, list[int]]
                  ) -> dict[str, dict[tuple, list[int]]]:
    """`income_months`, `sales_months` and `household_periods` as the days (`derive`'s) imply
    them, by table name."""
    area_of = dict(conn.execute(text("SELECT path, id FROM regions")).all())
    seller_area = {sid: area_of[area_path(path)] for sid, path in conn.execute(text(
        "SELECT s.id, r.path FROM sellers s JOIN regions r ON r.id = s.region_id"))}
    village_area: dict[int, int] = {}
    for vid, path in conn.execute(text("SELECT id, path FROM regions WHERE id IN "
                                       "(SELECT village_id FROM households)")):
        village_area[vid] = area_of[area_path(path)]
    months: dict[tuple, list[int]] = {}
    held: dict[tuple, list[int]] = {}
    for (day, household, channel, category, kind), (village, amount, n) in income.items():
        _add(months, (village_area[village], month_of(day), channel, category, kind), (),
             (amount, n))
        for key in period_keys(day):
            _add(held, (village, key, household), (), (amount, n))
    sold: dict[tuple, list[int]] = {}
    for (day, seller, channel, category, kind), (paid, back, _n) in sales.items():
        _add(sold, (seller_area[seller], month_of(day), channel, category, kind), (), (paid, back))
    return {INCOME_MONTHS.name: months, SALES_MONTHS.name: sold, HOUSEHOLD_PERIODS.name: held}


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


def stored_months(conn) -> dict[str, dict[tuple, list[int]]]:
    out = {}
    for table in (INCOME_MONTHS, SALES_MONTHS, HOUSEHOLD_PERIODS):
        width = len(table.key)
        out[table.name] = {tuple(row[:width]): list(row[width:]) for row in conn.execute(text(
            f"SELECT {', '.join(table.columns)} FROM {table.name}"))}
    return out


def _day(value) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


def check(conn) -> str:
    """'' when the five tables hold what the entries and orders imply; else what differs
    first."""
    want_income, want_sales = derive(conn)
    have_income, have_sales = stored(conn)
    want = {INCOME_DAYS.name: want_income, SALES_DAYS.name: want_sales,
            **derive_months(conn, want_income, want_sales)}
    have = {INCOME_DAYS.name: have_income, SALES_DAYS.name: have_sales, **stored_months(conn)}
    for name in want:
        for key in sorted(set(want[name]) | set(have[name]), key=str):
            if want[name].get(key) != have[name].get(key):
                return (f"{name} {tuple(map(str, key))}: "
                        f"{have[name].get(key)} stored, {want[name].get(key)} implied")
    return ""


def rebuild(conn, *, days: bool = True, months: bool = True) -> None:
    """Write the tables from scratch (they must be empty): the days (migration 0026), the
    months and periods (0030)."""
    income, sales = derive(conn)
    if days:
        upsert(conn, INCOME_DAYS, {k: [v[0], month_of(k[0]), v[1], v[2]]
                                    for k, v in income.items()})
        upsert(conn, SALES_DAYS, {k[:4]: [k[4], month_of(k[0]), *v] for k, v in sales.items()})
    if months:
        for name, rows in derive_months(conn, income, sales).items():
            upsert(conn, next(t for t in TABLES if t.name == name), rows)
