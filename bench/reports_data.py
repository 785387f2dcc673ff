"""The places of bench/reports.py: a province-shaped region tree, households, buyers, sellers
(with members and supply households) and products, written in bulk (COPY on PostgreSQL,
executemany on SQLite: `Loader`); bench/reports_ledger.py adds the orders, the ledger entries
and the pre-aggregates.
"""
from __future__ import annotations

import hashlib
import random
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

CHINA_OFFSET = timedelta(hours=8)  # Asia/Shanghai: no daylight saving since 1991
PROVINCE = ("43", "压测省")
CHANNELS = (("individual", 40), ("unit_member", 18), ("unit_purchase", 10),
            ("group_purchase", 10), ("procurement", 7), ("offline", 15))
KIND_ORDERS = {"household_shop": 35, "cooperative": 40, "enterprise": 25}  # share of orders
REFUND_RATE = 0.03  # orders refunded in full, 1-15 days after payment
BUYERS = 500
CHARS = ("青石桃源龙山清江梅岭松林金溪玉泉凤鸣临水安平东湖西河南岗北坪红星新华永丰大田小溪高峰"
         "长乐太和福兴茶园竹林杨柳白云仁义和平双井三合五里九龙黄土白马银杏雪峰云雾油茶柑橘")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶"
GIVEN = "建国明华军平秀英红梅志强桂兰海燕春生德福玉珍金山云秋立新冬梅永清小红"


@dataclass
class Shape:
    cities: int = 14
    counties: int = 110
    townships: tuple[int, int] = (10, 20)
    villages: tuple[int, int] = (10, 15)
    households: tuple[int, int] = (8, 12)


@dataclass
class SellerSpec:
    id: int
    kind: str
    county: int  # index
    share_bp: int
    products: list[tuple[int, int, int]]  # (product id, price, category id)
    household: int | None = None  # a household shop's
    members: dict[int, int] = field(default_factory=dict)  # cooperative: household -> weight
    suppliers: list[int] = field(default_factory=list)  # enterprise: supply households
    shipping: int = 0
    free_from: int = 0


@dataclass
class Built:
    """What the generator made (ids and counts for the measurements)."""
    counties: list[tuple[int, str]] = field(default_factory=list)  # (id, code)
    province_id: int = 0
    regions: dict[str, int] = field(default_factory=dict)  # level -> count
    households: int = 0
    sellers: dict[str, int] = field(default_factory=dict)
    orders: int = 0
    lines: int = 0
    entries: int = 0
    refunds: int = 0
    first_day: date | None = None
    last_day: date | None = None
    seconds: dict[str, float] = field(default_factory=dict)


class Loader:
    """Rows into a table: COPY on PostgreSQL, executemany on SQLite (values converted as
    SQLAlchemy stores them there)."""

    def __init__(self, conn):
        self.conn = conn  # a SQLAlchemy Connection in a transaction
        self.raw = conn.connection.driver_connection
        self.pg = conn.dialect.name == "postgresql"

    def rows(self, table: str, columns: tuple[str, ...], rows) -> int:
        n = 0
        if self.pg:
            cur = self.raw.cursor()
            with cur.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
                    n += 1
            return n
        rows = [tuple(_sqlite_value(v) for v in row) for row in rows]
        self.raw.cursor().executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            f"({', '.join('?' * len(columns))})", rows)
        return len(rows)


def _sqlite_value(v):
    if isinstance(v, datetime):
        return v.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, bool):
        return int(v)
    return v


# ---- PostgreSQL: constraints and indexes off while loading ----------------------------------

def drop_constraints(conn, tables: list[str], keyless: set[str]) -> list[str]:
    """Drop the foreign keys, unique constraints and plain indexes of `tables`, and the primary
    keys of those in `keyless` (rows load without per-row checks and index inserts; the other
    tables get their keys in order); the statements that put them back."""
    from sqlalchemy import bindparam, text
    restore, drops = [], []
    for table in tables:
        kinds = ("f", "u", "p") if table in keyless else ("f", "u")
        for name, _kind, definition in conn.execute(text(
                "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
                "WHERE conrelid = CAST(:t AS regclass) AND contype IN :kinds "
                "ORDER BY contype DESC").bindparams(bindparam("kinds", expanding=True)),
                {"t": table, "kinds": kinds}):
            drops.append(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
            restore.append(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}')
        for name, definition in conn.execute(text(
                "SELECT CAST(i.indexrelid AS regclass)::text, pg_get_indexdef(i.indexrelid) "
                "FROM pg_index i WHERE i.indrelid = CAST(:t AS regclass) AND NOT EXISTS ("
                "SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"),
                {"t": table}):
            drops.append(f"DROP INDEX {name}")
            restore.append(definition)
    for statement in reversed(drops):  # foreign keys first
        conn.execute(text(statement))
    # keys and unique constraints before the foreign keys that may lean on them
    return sorted(restore, key=lambda s: "FOREIGN KEY" in s)


def restore_constraints(conn, statements: list[str]) -> None:
    from sqlalchemy import text
    for statement in statements:
        conn.execute(text(statement))


# ---- the tree, households, sellers, products --------------------------------------------------

class Names:
    def __init__(self, rng: random.Random):
        self.rng = rng
        self.used: dict[object, set[str]] = defaultdict(set)

    def place(self, suffix: str, parent=None) -> str:
        """Two characters and the suffix, unique among the parent's children."""
        used = self.used[parent]
        for _ in range(100):
            name = "".join(self.rng.sample(CHARS, 2)) + suffix
            if name not in used:
                used.add(name)
                return name
        return "".join(self.rng.sample(CHARS, 3)) + suffix

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + "".join(self.rng.sample(GIVEN, self.rng.choice((1, 2))))


def build_places(conn, rng: random.Random, shape: Shape, now: datetime, built: Built):
    """Regions, households, buyers, a checkout, sellers (with members), products. Returns the
    sellers and the per-county households."""
    from sqlalchemy import text
    load = Loader(conn)
    names = Names(rng)
    regions = []  # (id, code, name, level, depth, parent_id, path, name_path)
    rid = 0

    def region(code, name, level, depth, parent):
        nonlocal rid
        rid += 1
        path = (parent[2] if parent else "/") + code + "/"
        name_path = (parent[3] + "/" if parent else "") + name
        regions.append((rid, code, name, level, depth, parent[0] if parent else None, path,
                        name_path))
        return (rid, code, path, name_path)

    province = region(PROVINCE[0], PROVINCE[1], "province", 0, None)
    built.province_id = province[0]
    per_city = [shape.counties // shape.cities + (1 if i < shape.counties % shape.cities else 0)
                for i in range(shape.cities)]
    villages_of_county: list[list[int]] = []
    townships_of_county: list[list[list[int]]] = []  # county -> township -> village ids
    county_ids = []
    for c in range(shape.cities):
        city = region(f"{PROVINCE[0]}{c + 1:02d}", names.place("市", province[0]), "city", 1,
                      province)
        for k in range(per_city[c]):
            district = k < 2  # 区 01-..., 县 21-...
            code = f"{city[1]}{k + 1:02d}" if district else f"{city[1]}{k + 19:02d}"
            county = region(code, names.place("区" if district else "县", city[0]), "county", 2,
                            city)
            county_ids.append((county[0], county[1]))
            towns, all_villages = [], []
            for t in range(rng.randint(*shape.townships)):
                town_kind = t < 8  # 镇 101-..., 乡 201-...
                tcode = f"{county[1]}{(101 + t) if town_kind else (193 + t):03d}"
                township = region(tcode, names.place("镇" if town_kind else "乡",
                                                           county[0]), "township", 3,
                                  county)
                vs = []
                for v in range(rng.randint(*shape.villages)):
                    village = region(f"{tcode}{201 + v:03d}", names.place("村", township[0]),
                                     "village", 4, township)
                    vs.append(village[0])
                towns.append(vs)
                all_villages += vs
            townships_of_county.append(towns)
            villages_of_county.append(all_villages)
    load.rows("regions", ("id", "code", "name", "level", "depth", "parent_id", "path",
                          "name_path"), regions)
    built.counties = county_ids
    for r in regions:
        built.regions[r[3]] = built.regions.get(r[3], 0) + 1

    # households: statuses mixed, monitored ones included
    households, hid = [], 0
    village_households: dict[int, list[int]] = {}
    for vs in villages_of_county:
        for v in vs:
            ids = []
            for _ in range(rng.randint(*shape.households)):
                hid += 1
                status = rng.choices(("lifted", "monitored", "poor"), (75, 15, 10))[0]
                households.append((hid, f"H{hid:010X}", v, names.person(),
                                   hashlib.sha256(f"bench-reports-{hid}".encode()).hexdigest(),
                                   f"{hid % 10000:04d}", rng.randint(1, 8), status, now, now))
                ids.append(hid)
            village_households[v] = ids
    load.rows("households", ("id", "code", "village_id", "head_name", "id_hash", "id_last4",
                             "size", "status", "created_at", "updated_at"), households)
    built.households = hid

    load.rows("users", ("id", "email", "password_hash", "display_name", "active", "created_at",
                        "updated_at"),
              [(i, f"buyer{i}@bench-reports.test", "!", f"压测买家{i}", True, now, now)
               for i in range(1, BUYERS + 1)])
    load.rows("checkouts", ("id", "buyer_id", "idempotency_key", "fingerprint", "created_at"),
              [(1, 1, "bench-reports", "bench-reports", now)])

    categories = [cid for (cid,) in conn.execute(text("SELECT id FROM categories ORDER BY id"))]
    sellers: list[SellerSpec] = []
    seller_rows, member_rows, product_rows = [], [], []
    sid = pid = mid = 0
    for c, (county_id, county_code) in enumerate(county_ids):
        towns = townships_of_county[c]
        county_households = [h for vs in towns for v in vs for h in village_households[v]]
        made = []
        for t, vs in enumerate(towns):  # a household shop per township
            v = rng.choice(vs)
            sid += 1
            made.append((SellerSpec(sid, "household_shop", c, 10_000, [],
                                    household=rng.choice(village_households[v])), v))
        for t in range(0, len(towns), 2):  # a cooperative per two townships
            town_households = [h for v in towns[t] for h in village_households[v]]
            sid += 1
            spec = SellerSpec(sid, "cooperative", c, rng.choice((3000, 4000, 5000, 6000)), [])
            spec.members = {h: rng.randint(1, 9) for h in rng.sample(
                town_households, min(len(town_households), rng.randint(5, 15)))}
            made.append((spec, rng.choice(towns[t])))  # placed at a village of its township
        for _ in range(rng.randint(2, 4)):  # enterprises at the county
            sid += 1
            spec = SellerSpec(sid, "enterprise", c, rng.choice((1000, 1500, 2000, 3000)), [])
            spec.suppliers = rng.sample(county_households, min(len(county_households),
                                                               rng.randint(30, 80)))
            made.append((spec, county_id))
        for spec, place in made:
            if spec.kind != "household_shop" and rng.random() < 0.5:
                spec.shipping, spec.free_from = 1000, 9900
            legal = spec.kind != "household_shop"
            seller_rows.append((
                spec.id, spec.kind, f"压测{spec.kind}{spec.id}", _credit_code(spec.id) if legal
                else None, spec.household, place, names.person(), f"139{spec.id:08d}", "",
                "verified", "", now, spec.shipping, spec.free_from or None, spec.share_bp, now,
                now))
            for h, w in spec.members.items():
                mid += 1
                member_rows.append((mid, spec.id, h, w))
            for k in range(rng.randint(2, 6)):
                pid += 1
                price = rng.choice((990, 1500, 2680, 3800, 4500, 5990, 8800, 12800, 16800, 25800))
                category = rng.choice(categories)
                spec.products.append((pid, price, category))
                product_rows.append((
                    pid, f"RB{spec.id}-{k}", spec.id, category, place, f"压测商品{pid}", "1件", "",
                    price, 1000, "listed", "", "", False, False, spec.kind == "enterprise", now,
                    now, now))
            sellers.append(spec)
            built.sellers[spec.kind] = built.sellers.get(spec.kind, 0) + 1
    load.rows("sellers", ("id", "kind", "name", "credit_code", "household_id", "region_id",
                          "contact_name", "contact_mobile", "description", "status",
                          "status_note", "verified_at", "shipping_fee_fen",
                          "free_shipping_from_fen", "household_share_bp", "created_at",
                          "updated_at"), seller_rows)
    load.rows("cooperative_members", ("id", "seller_id", "household_id", "weight"), member_rows)
    load.rows("products", ("id", "sku", "seller_id", "category_id", "origin_id", "name", "spec",
                           "description", "price_fen", "stock", "status", "review_note",
                           "certificate_no", "certificate_checked", "featured", "lot_backed",
                           "listed_at", "created_at", "updated_at"), product_rows)
    return sellers


def _credit_code(n: int) -> str:
    """A unified social credit code (GB 32100) with a valid check character."""
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    weights = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
    body = f"93{430000 + n % 10000:06d}{n:09d}"[:17]
    check = (31 - sum(alphabet.index(c) * w for c, w in zip(body, weights, strict=True)) % 31) % 31
    return body + alphabet[check]
