"""The ledger of bench/reports.py: N ledger entries with the paid orders, lines and refunds
behind them over two years of China days, written in bulk (COPY on PostgreSQL, executemany on
SQLite), then `income_days` and `sales_days` derived by two INSERT ... SELECT ... GROUP BY
statements and checked against `ledger.rollup.derive`.

The ledger's hash chain is NOT valid here: `hash` is the entry's number in 64 hex digits and
`prev_hash` the one before (so `flask ledger verify` would fail at the first entry). Everything
the reports read is real: every entry belongs to a real order line of a paid order of a real
seller and product, sale entries sum to the line's attributable amount (the seller's share,
split by member weight for a cooperative, by supply households for an enterprise), a refunded
order is refunded in full (one refund row, its entries reversed on the refund's day), and the
pre-aggregates hold exactly what `rollup.rebuild` would derive from them.
"""
from __future__ import annotations

import bisect
import random
import time
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

from bench.checkout import log
from bench.reports_data import (
    BUYERS,
    CHANNELS,
    CHINA_OFFSET,
    KIND_ORDERS,
    REFUND_RATE,
    Built,
    Loader,
    SellerSpec,
    Shape,
    build_places,
    drop_constraints,
    restore_constraints,
)

# ---- orders, lines, entries, refunds --------------------------------------------------------

class OrderMaker:
    """Paid orders day by day, their lines and ledger entries (and, for some, a full refund on
    a later day with its reversals), the entries numbered in time order."""

    def __init__(self, rng: random.Random, sellers: list[SellerSpec], first: date, last: date,
                 county_weight: list[float], county_ids: list[tuple[int, str]]):
        self.rng, self.sellers, self.first, self.last = rng, sellers, first, last
        self.county_ids = county_ids
        weights = [KIND_ORDERS[s.kind] * county_weight[s.county] * rng.lognormvariate(0, 0.5)
                   for s in sellers]
        kind_total = defaultdict(float)
        for s, w in zip(sellers, weights, strict=True):
            kind_total[s.kind] += w
        weights = [w * KIND_ORDERS[s.kind] / kind_total[s.kind]
                   for s, w in zip(sellers, weights, strict=True)]
        self.cum = list(_accumulate(weights))
        self.channels = [c for c, _ in CHANNELS]
        self.channel_cum = list(_accumulate([w for _, w in CHANNELS]))
        self.order_id = self.line_id = self.refund_id = 0
        self.pending: dict[date, list[tuple]] = defaultdict(list)  # refund day -> orders

    def pick(self, cum):
        return bisect.bisect_right(cum, self.rng.random() * cum[-1])

    def order(self, day: date, left: int | None = None):
        """One paid order of `day`: (order row, line rows, entries (household, line, fen),
        paid_at, refund day or None). With `left`, at most that many entries."""
        rng = self.rng
        seller = self.sellers[min(self.pick(self.cum), len(self.sellers) - 1)]
        channel = self.channels[min(self.pick(self.channel_cum), len(self.channels) - 1)]
        local = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            seconds=rng.randint(7 * 3600, 23 * 3600 - 1))  # China wall time 07:00-23:00
        created = local - CHINA_OFFSET
        paid = created + timedelta(seconds=0 if channel == "offline" else rng.randint(20, 1800))
        n = rng.choices((1, 2, 3), (60, 30, 10))[0]
        products = rng.sample(seller.products, min(n, len(seller.products)))
        self.order_id += 1
        oid = self.order_id
        lines, entries, goods = [], [], 0
        for product_id, price, _category in products:
            if left is not None and len(entries) >= left:
                break
            quantity = rng.choices((1, 2, 3, 5, 10), (55, 25, 10, 6, 4))[0]
            amount = price * quantity
            attributable = amount * seller.share_bp // 10_000
            if seller.kind == "household_shop":
                weights = {seller.household: 1}
            elif seller.kind == "cooperative":
                weights = seller.members
            else:  # an enterprise's supply lots: 1-3 households, by units drawn
                weights = {h: rng.randint(1, 5) for h in rng.sample(
                    seller.suppliers, rng.choice((1, 1, 2, 3)))}
            if left is not None and len(weights) > left - len(entries):
                weights = dict(sorted(weights.items())[:left - len(entries)])
            parts = _split(attributable, weights)
            self.line_id += 1
            lines.append((self.line_id, oid, product_id, f"压测商品{product_id}", "1件", price,
                          quantity, amount, seller.share_bp, attributable))
            entries += [(h, self.line_id, fen) for h, fen in parts.items()]
            goods += amount
        shipping = 0 if channel == "offline" or not seller.shipping or goods >= seller.free_from \
            else seller.shipping
        total = goods + shipping
        refund_day = None
        if channel != "offline" and left is None and rng.random() < REFUND_RATE:
            refund_day = day + timedelta(days=rng.randint(1, 15))
            if refund_day >= self.last:
                refund_day = None
        county_id = self.county_ids[seller.county][0]
        offline = channel == "offline"
        row = (oid, f"RB{oid:014d}", 1, 1 + oid % BUYERS, seller.id, channel,
               "cancelled" if refund_day else "completed", goods, shipping, total, total,
               total if refund_day else 0, "CNY", False, "refunded" if refund_day else "",
               paid, "cash" if offline else "simulated", "压测", "13900000000", county_id,
               "压测省", "压测地址", local.date() if offline else None,
               "消费帮扶集市" if offline else "", f"R{oid}" if offline else None, created, paid)
        return row, lines, entries, paid, refund_day, total

    def refund(self, day: date, oid: int, total: int, entries: list[tuple]):
        """The full refund of order `oid` on `day`: (refund row, reversal entries, at)."""
        at = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(
            seconds=self.rng.randint(8 * 3600, 22 * 3600)) - CHINA_OFFSET
        self.refund_id += 1
        row = (self.refund_id, oid, total, "压测退款", "refunded", 1, 1, f"RBR{oid}",
               at - timedelta(hours=1), at)
        return row, [(h, lid, -fen) for h, lid, fen in entries], at


ORDER_COLUMNS = ("id", "number", "checkout_id", "buyer_id", "seller_id", "channel", "status",
                 "goods_fen", "shipping_fen", "total_fen", "paid_fen", "refunded_fen", "currency",
                 "stock_held", "cancel_reason", "paid_at", "payment_method", "recipient",
                 "mobile", "region_id", "region_names", "address_detail", "sold_on", "place",
                 "receipt_no", "created_at", "updated_at")
LINE_COLUMNS = ("id", "order_id", "product_id", "name", "spec", "unit_price_fen", "quantity",
                "amount_fen", "share_bp", "attributable_fen")
ENTRY_COLUMNS = ("seq", "household_id", "order_line_id", "amount_fen", "kind", "created_at",
                 "prev_hash", "hash")
REFUND_COLUMNS = ("id", "order_id", "amount_fen", "reason", "status", "requested_by",
                  "decided_by", "provider_reference", "created_at", "decided_at")


def _split(amount: int, weights: dict[int, int]) -> dict[int, int]:
    from marketplace.ledger.rules import split_among
    return split_among(amount, weights)


def _accumulate(values):
    total = 0.0
    for v in values:
        total += v
        yield total


def day_weights(days: list[date], rng: random.Random) -> list[float]:
    """Growth over the span, the Spring Festival, Mid-Autumn and Double Eleven, weekends."""
    season = {1: 1.5, 2: 1.3, 9: 1.3, 11: 1.4, 12: 1.2}
    n = len(days)
    return [(1 + 0.6 * i / n) * season.get(d.month, 1.0) * (1.15 if d.weekday() >= 5 else 1.0)
            * rng.uniform(0.85, 1.15) for i, d in enumerate(days)]


def build_orders(engine, rng: random.Random, sellers: list[SellerSpec], built: Built,
                 entries_target: int, first: date, last: date, progress_every: int = 500_000):
    """The paid orders of the days `first`..`last` until exactly `entries_target` entries."""
    county_weight = [rng.lognormvariate(0, 0.5) for _ in built.counties]
    maker = OrderMaker(rng, sellers, first, last, county_weight, built.counties)
    # a pilot (its own random numbers) for the entries an order makes on average
    pilot = OrderMaker(random.Random(rng.random()), sellers, first, last, county_weight,
                       built.counties)
    made = [pilot.order(first) for _ in range(4000)]
    per_order = sum(len(m[2]) * (2 if m[4] else 1) for m in made) / len(made)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    weights = day_weights(days, rng)
    planned = 0.97 * entries_target / per_order  # the last day tops up
    orders_of_day = [int(planned * w / sum(weights)) for w in weights]
    seq = reserved = 0  # entries numbered; reversal entries still to come (counted already)
    chunk = _Chunk()
    next_note = progress_every
    for i, day in enumerate(days):
        stamped = []  # (at, household, line, fen)
        for oid, total, entries in maker.pending.pop(day, []):
            row, reversals, at = maker.refund(day, oid, total, entries)
            chunk.refunds.append(row)
            stamped += [(at, h, lid, fen) for h, lid, fen in reversals]
            reserved -= len(reversals)
        count = len(stamped) + reserved
        final = i == len(days) - 1
        n = 0
        while (n < orders_of_day[i] and seq + count < entries_target) or (
                final and seq + count < entries_target):
            left = entries_target - seq - count if final else None
            row, lines, entries, paid, refund_day, total = maker.order(day, left)
            if not entries:
                maker.order_id -= 1
                maker.line_id -= len(lines)
                continue
            chunk.orders.append(row)
            chunk.lines += lines
            stamped += [(paid, h, lid, fen) for h, lid, fen in entries]
            count += len(entries)
            if refund_day is not None:
                maker.pending[refund_day].append((row[0], total, entries))
                reserved += len(entries)
                count += len(entries)
            n += 1
        stamped.sort(key=lambda e: e[0])
        for at, h, lid, fen in stamped:
            seq += 1
            chunk.entries.append((seq, h, lid, fen, "sale" if fen > 0 else "reversal", at,
                                  f"{seq - 1:064x}", f"{seq:064x}"))
        if len(chunk.entries) >= 200_000 or final:
            chunk.flush(engine, built)
        if seq >= next_note:
            log(f"  {seq:,} entries, {maker.order_id:,} orders ({day})")
            next_note += progress_every
    assert not any(maker.pending.values()), "refunds left after the last day"
    built.first_day, built.last_day = first, last
    return seq


class _Chunk:
    def __init__(self):
        self.orders, self.lines, self.entries, self.refunds = [], [], [], []

    def flush(self, engine, built: Built) -> None:
        with engine.begin() as conn:
            load = Loader(conn)
            built.orders += load.rows("orders", ORDER_COLUMNS, self.orders)
            built.lines += load.rows("order_lines", LINE_COLUMNS, self.lines)
            built.entries += load.rows("ledger_entries", ENTRY_COLUMNS, self.entries)
            built.refunds += load.rows("refunds", REFUND_COLUMNS, self.refunds)
        self.__init__()


# ---- the pre-aggregates ------------------------------------------------------------------------

def _day(pg: bool, column: str) -> str:
    return (f"CAST(({column} AT TIME ZONE 'Asia/Shanghai') AS date)" if pg
            else f"date({column}, '+8 hours')")


def _month(pg: bool, column: str) -> str:
    return (f"CAST(to_char({column} AT TIME ZONE 'Asia/Shanghai', 'YYYYMM') AS integer)" if pg
            else f"CAST(strftime('%Y%m', {column}, '+8 hours') AS INTEGER)")


def income_sql(pg: bool) -> str:
    """income_days from the entries: what `rollup.add_income` adds, entry by entry."""
    return (
        "INSERT INTO income_days (day, household_id, channel, category_id, seller_kind, "
        "village_id, month, amount_fen, entries) "
        "SELECT g.day, g.household_id, g.channel, g.category_id, g.kind, h.village_id, g.month, "
        "g.amount, g.n FROM (SELECT " + _day(pg, "e.created_at") + " AS day, "
        + _month(pg, "e.created_at") + " AS month, e.household_id, o.channel, p.category_id, "
        "s.kind, SUM(e.amount_fen) AS amount, COUNT(*) AS n FROM ledger_entries e "
        "JOIN order_lines l ON l.id = e.order_line_id JOIN orders o ON o.id = l.order_id "
        "JOIN products p ON p.id = l.product_id JOIN sellers s ON s.id = o.seller_id "
        "GROUP BY 1, 2, 3, 4, 5, 6) g JOIN households h ON h.id = g.household_id")


def sales_sql(pg: bool) -> str:
    """sales_days from the paid orders and their refunds: what `rollup.add_sales` and
    `add_refund` add. Valid for this data only: every refund gives back a whole order (so each
    line's goods come back whole, `goods_refunded_by_line`), one refund per order."""
    def part(at: str, sales: str, refunds: str, orders: str, source: str) -> str:
        return (f"SELECT {_day(pg, at)} AS day, o.seller_id, o.channel, p.category_id, s.kind, "
                f"{_month(pg, at)} AS month, {sales} AS sales, {refunds} AS refunds, "
                f"{orders} AS n FROM {source} JOIN order_lines l ON l.order_id = o.id "
                "JOIN products p ON p.id = l.product_id JOIN sellers s ON s.id = o.seller_id ")
    return (
        "INSERT INTO sales_days (day, seller_id, channel, category_id, seller_kind, month, "
        "sales_fen, refunds_fen, orders) SELECT day, seller_id, channel, category_id, kind, "
        "month, SUM(sales), SUM(refunds), SUM(n) FROM ("
        + part("o.paid_at", "SUM(l.amount_fen)", "0", "COUNT(DISTINCT o.id)", "orders o")
        + "WHERE o.paid_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6 UNION ALL "
        + part("r.decided_at", "0", "SUM(l.amount_fen)", "0",
               "refunds r JOIN orders o ON o.id = r.order_id")
        + "WHERE r.status = 'refunded' AND o.paid_at IS NOT NULL GROUP BY 1, 2, 3, 4, 5, 6) x "
        "GROUP BY day, seller_id, channel, category_id, kind, month")


def months_sql() -> list[str]:
    """income_months, sales_months and household_periods from the days: what `rollup`
    adds with them: the areas are counties, the first `rollup.AREA_PATH` characters of a path
    ('/43/4301/430102/'; every seller here is at a county or below)."""
    from marketplace.ledger import rollup
    area = "JOIN regions a ON a.path = substr({}.path, 1, %d)" % rollup.AREA_PATH
    periods = ["month", "(month / 100) * 10 + (month % 100 - 1) / 3 + 1", "month / 100"]
    return [
        "INSERT INTO income_months (month, area_id, channel, category_id, seller_kind, "
        "amount_fen, entries) SELECT d.month, a.id, d.channel, d.category_id, d.seller_kind, "
        "SUM(d.amount_fen), SUM(d.entries) FROM income_days d JOIN regions v ON v.id = "
        "d.village_id " + area.format("v") + " GROUP BY d.month, a.id, d.channel, "
        "d.category_id, d.seller_kind",
        "INSERT INTO sales_months (month, area_id, channel, category_id, seller_kind, "
        "sales_fen, refunds_fen) SELECT d.month, a.id, d.channel, d.category_id, "
        "d.seller_kind, SUM(d.sales_fen), SUM(d.refunds_fen) FROM sales_days d JOIN sellers s "
        "ON s.id = d.seller_id JOIN regions r ON r.id = s.region_id " + area.format("r")
        + " GROUP BY d.month, a.id, d.channel, d.category_id, d.seller_kind",
    ] + [
        "INSERT INTO household_periods (village_id, period, household_id, amount_fen, entries) "
        f"SELECT village_id, {key}, household_id, SUM(amount_fen), SUM(entries) "
        f"FROM income_days GROUP BY village_id, {key}, household_id" for key in periods]


class _Sample:
    """A connection for `rollup.derive` that reads only some households' entries and some
    sellers' orders and refunds (the same statements, narrowed)."""

    def __init__(self, conn, households: list[int], sellers: list[int]):
        from sqlalchemy import bindparam, text

        from marketplace.ledger import rollup
        self.conn, self.params = conn, {"hs": households, "ss": sellers}
        paid = "WHERE o.paid_at IS NOT NULL"
        refunds = "WHERE status = :done"
        assert paid in rollup.PAID_LINES.text and refunds in rollup.REFUNDS.text
        self.map = {
            rollup.ALL_ENTRIES: text(rollup.ALL_ENTRIES.text + " WHERE e.household_id IN :hs")
            .bindparams(bindparam("hs", expanding=True)),
            rollup.PAID_LINES: text(rollup.PAID_LINES.text.replace(
                paid, paid + " AND o.seller_id IN :ss")).bindparams(
                bindparam("ss", expanding=True)),
            rollup.REFUNDS: text(rollup.REFUNDS.text.replace(
                refunds, refunds + " AND order_id IN (SELECT id FROM orders WHERE seller_id IN "
                ":ss)")).bindparams(bindparam("ss", expanding=True)),
        }

    def execute(self, statement, params=None):
        narrowed = self.map.get(statement)
        if narrowed is None:
            raise AssertionError(f"rollup.derive ran an unknown statement: {statement}")
        wanted = {k: v for k, v in self.params.items() if f":{k}" in narrowed.text}
        return self.conn.execute(narrowed, {**(params or {}), **wanted})


def check_sample(conn, rng: random.Random, households: int = 400, sellers: int = 60) -> str:
    """'' when the stored rows of a sample of households (and of one whole village) and of
    sellers are what `rollup.derive` implies for them; else the first difference."""
    from sqlalchemy import text

    from marketplace.ledger import rollup
    with_income = [h for (h,) in conn.execute(text(
        "SELECT DISTINCT household_id FROM ledger_entries WHERE seq % 97 = 0"))]
    village = conn.execute(text("SELECT village_id FROM households WHERE id = :h"),
                           {"h": rng.choice(with_income)}).scalar()
    sample_h = sorted(set(rng.sample(with_income, min(households, len(with_income)))) | {
        h for (h,) in conn.execute(text("SELECT id FROM households WHERE village_id = :v"),
                                   {"v": village})})
    sample_s = sorted(rng.sample([s for (s,) in conn.execute(text("SELECT id FROM sellers"))],
                                 sellers))
    want_income, want_sales = rollup.derive(_Sample(conn, sample_h, sample_s))
    have_income, have_sales = rollup.stored(_Narrowed(conn, sample_h, sample_s))
    if not want_income or not want_sales:
        return "the sample derived nothing"
    for name, want, have in (("income_days", want_income, have_income),
                             ("sales_days", want_sales, have_sales)):
        for key in sorted(set(want) | set(have), key=str):
            if want.get(key) != have.get(key):
                return f"{name} {key}: {have.get(key)} stored, {want.get(key)} implied"
    return ""


class _Narrowed:
    """A connection for `rollup.stored` that reads the sample's rows only."""

    def __init__(self, conn, households, sellers):
        self.conn, self.households, self.sellers = conn, households, sellers

    def execute(self, statement, params=None):
        from sqlalchemy import bindparam, text
        sql = statement.text
        if "FROM income_days" in sql:
            return self.conn.execute(text(sql + " WHERE household_id IN :ids").bindparams(
                bindparam("ids", expanding=True)), {"ids": self.households})
        return self.conn.execute(text(sql + " WHERE seller_id IN :ids").bindparams(
            bindparam("ids", expanding=True)), {"ids": self.sellers})


def build(engine, *, entries: int, seed: int, shape: Shape, today: date) -> Built:
    """The whole data set on a migrated, empty database (`engine`)."""
    from sqlalchemy import text
    rng = random.Random(seed)
    built = Built()
    now = datetime.now(UTC)
    pg = engine.dialect.name == "postgresql"
    big = ["orders", "order_lines", "ledger_entries", "refunds", "income_days", "sales_days"]
    t0 = time.perf_counter()
    with engine.begin() as conn:
        if pg:
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
        restore = drop_constraints(conn, big, {"income_days", "sales_days"}) if pg else []
        sellers = build_places(conn, rng, shape, now, built)
    built.seconds["places"] = time.perf_counter() - t0
    log(f"  {sum(built.regions.values()):,} regions, {built.households:,} households, "
        f"{len(sellers):,} sellers in {built.seconds['places']:.1f} s")
    t0 = time.perf_counter()
    last = today - timedelta(days=1)
    first = last - timedelta(days=729)
    build_orders(engine, rng, sellers, built, entries, first, last)
    built.seconds["orders"] = time.perf_counter() - t0
    log(f"  {built.entries:,} entries, {built.orders:,} orders, {built.lines:,} lines, "
        f"{built.refunds:,} refunds in {built.seconds['orders']:.1f} s")
    t0 = time.perf_counter()
    with engine.begin() as conn:
        if pg:
            conn.execute(text("SET LOCAL work_mem = '256MB'"))
        conn.execute(text(income_sql(pg)))
        conn.execute(text(sales_sql(pg)))
        for statement in months_sql():
            conn.execute(text(statement))
        conn.execute(text("UPDATE ledger_head SET last_seq = :n, last_hash = :h"),
                     {"n": built.entries, "h": f"{built.entries:064x}"})
    built.seconds["rollups"] = time.perf_counter() - t0
    log(f"  income_days, sales_days and the months in {built.seconds['rollups']:.1f} s")
    if pg:
        t0 = time.perf_counter()
        with engine.begin() as conn:
            conn.execute(text("SET LOCAL maintenance_work_mem = '512MB'"))
            restore_constraints(conn, restore)
            for table in ("regions", "households", "users", "checkouts", "sellers",
                          "cooperative_members", "products", "orders", "order_lines", "refunds"):
                conn.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                                  f"(SELECT max(id) FROM {table}))"))
        built.seconds["constraints"] = time.perf_counter() - t0
        log(f"  keys, foreign keys and indexes back in {built.seconds['constraints']:.1f} s")
        t0 = time.perf_counter()
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE)"))
        built.seconds["vacuum"] = time.perf_counter() - t0
        log(f"  VACUUM (ANALYZE) in {built.seconds['vacuum']:.1f} s")
    return built
