"""The SQL of posting to the ledger (reading the products' terms, drawing on supply lots,
appending chained entries) and of reading the chain back, built once. Kinds are bound
parameters, never typed here.

Portable statements (both engines) come first. Twins, kept on bench/ledger.py's figures
(docs/architecture.md has them) and proven to give the same rows as their portable
counterparts by tests/services/test_sql_twins.py:

- `ledger.append` (PostgreSQL, PG_TAKE_HEAD and PG_APPEND / PG_APPEND_WITH_LINES: the entries
  as one JSON document, the head moved and the lines' attributions set in the same statement);
- `ledger.chain` (reading a million entries for `verify`: a server-side cursor on PostgreSQL
  with the time formatted by the server, the driver's cursor on SQLite, both without
  SQLAlchemy's per-value processing).

PostgreSQL twins written in the driver's parameter style go through `core.db.driver_execute`.
"""
from __future__ import annotations

from sqlalchemy import bindparam, func, select, text, update

from marketplace.ledger.models import LedgerEntry, LedgerHead, LotDraw, SupplyLot
from marketplace.orders.sql import LINES, ORDERS, PRODUCTS
from marketplace.sellers.models import CooperativeMember

ENTRIES, HEAD, LOTS = LedgerEntry.__table__, LedgerHead.__table__, SupplyLot.__table__
MEMBERS = CooperativeMember.__table__
ENTRY_COLUMNS = ["seq", "household_id", "order_line_id", "amount_fen", "kind", "created_at",
                 "prev_hash", "hash"]

# ---- portable -----------------------------------------------------------------------------------
PRODUCT_TERMS = (select(PRODUCTS.c.id, PRODUCTS.c.household_share_bp, PRODUCTS.c.lot_backed,
                        PRODUCTS.c.category_id)
                 .where(PRODUCTS.c.id.in_(bindparam("ids", expanding=True))))
MEMBER_WEIGHTS = select(MEMBERS.c.household_id, MEMBERS.c.weight).where(
    MEMBERS.c.seller_id == bindparam("seller_id"))
HELD = (select(ENTRIES.c.order_line_id, ENTRIES.c.household_id, func.sum(ENTRIES.c.amount_fen))
        .where(ENTRIES.c.order_line_id.in_(bindparam("lines", expanding=True)))
        .group_by(ENTRIES.c.order_line_id, ENTRIES.c.household_id))
# a product's open lots, first in first out, locked until the transaction ends (FOR UPDATE on
# PostgreSQL; SQLite's single writer)
OPEN_LOTS = (select(LOTS.c.id, LOTS.c.household_id, LOTS.c.remaining)
             .where(LOTS.c.product_id == bindparam("product"), LOTS.c.remaining > 0)
             .order_by(LOTS.c.purchased_on, LOTS.c.id).with_for_update())
# parameters of UPDATE statements are named unlike any column ("p_..."): SQLAlchemy would add a
# SET for a parameter named after a column of the table
TAKE_FROM_LOT = (update(LOTS).where(LOTS.c.id == bindparam("p_lot"),
                                    LOTS.c.remaining >= bindparam("p_quantity"))
                 .values(remaining=LOTS.c.remaining - bindparam("p_quantity")))
INSERT_DRAWS = LotDraw.__table__.insert()
TAKE_HEAD = select(HEAD.c.last_seq, HEAD.c.last_hash).where(HEAD.c.id == 1).with_for_update()
# the head row is made by the migration; recreated if a tool emptied the table
MAKE_HEAD = text("INSERT INTO ledger_head (id, last_seq, last_hash) VALUES (1, 0, :h) "
                 "ON CONFLICT (id) DO NOTHING")
# plain SQL run with core.db.driver_many: compiled once per engine into its driver's parameter
# style, the rows go to the driver's executemany as plain values (the time bound once in the
# column type's form for the engine: chain.stored_time)
INSERT_ENTRIES = text(
    "INSERT INTO ledger_entries (seq, household_id, order_line_id, amount_fen, kind, "
    "created_at, prev_hash, hash) VALUES (:seq, :household_id, :order_line_id, :amount_fen, "
    ":kind, :created_at, :prev_hash, :hash)")
MOVE_HEAD = text("UPDATE ledger_head SET last_seq = :seq, last_hash = :hash WHERE id = 1")
SET_ATTRIBUTION = (update(LINES).where(LINES.c.id == bindparam("line"))
                   .values(share_bp=bindparam("bp"), attributable_fen=bindparam("fen")))
CHAIN = select(*(ENTRIES.c[name] for name in ENTRY_COLUMNS)).order_by(ENTRIES.c.seq)
ATTRIBUTED = (select(LINES.c.id, LINES.c.attributable_fen, ORDERS.c.goods_fen,
                     ORDERS.c.refunded_fen)
              .join(ORDERS, ORDERS.c.id == LINES.c.order_id)
              .where(LINES.c.attributable_fen.is_not(None)))

# ---- twin ledger.append (PostgreSQL) -----------------------------------------------------------
# PostgreSQL: one statement however many entries there are, so one round trip: the rows travel
# as one JSON document (psycopg dumps a JSON string far faster than lists as arrays), and the
# head, locked by PG_TAKE_HEAD, moves in the same statement.
PG_TAKE_HEAD = "SELECT last_seq, last_hash FROM ledger_head WHERE id = 1 FOR UPDATE"
PG_APPEND = (
    "WITH added AS (INSERT INTO ledger_entries (seq, household_id, order_line_id, amount_fen, "
    "kind, created_at, prev_hash, hash) "
    "SELECT seq, household_id, order_line_id, amount_fen, kind, CAST(%(at)s AS TIMESTAMPTZ), "
    "prev_hash, hash FROM json_to_recordset(CAST(%(entries)s AS JSON)) AS e(seq BIGINT, "
    "household_id BIGINT, order_line_id BIGINT, amount_fen BIGINT, kind TEXT, prev_hash TEXT, "
    "hash TEXT)) "
    "UPDATE ledger_head SET last_seq = %(last_seq)s, last_hash = %(last_hash)s WHERE id = 1")
# ... and when posting a sale, the lines' share and attributable amount in the same statement
# (matched through the primary key's index: = ANY of an array, each value by its position)
PG_APPEND_WITH_LINES = PG_APPEND.replace("WITH added AS", (
    "WITH attributed AS (UPDATE order_lines SET "
    "share_bp = (CAST(%(bps)s AS INTEGER[]))[array_position(CAST(%(lines)s AS BIGINT[]), id)], "
    "attributable_fen = (CAST(%(fens)s AS BIGINT[]))[array_position(CAST(%(lines)s AS BIGINT[]), "
    "id)] WHERE id = ANY(CAST(%(lines)s AS BIGINT[]))), added AS"), 1)

# ---- twin ledger.chain (PostgreSQL, SQLite) -----------------------------------------------------
RAW_CHAIN = ("SELECT seq, household_id, order_line_id, amount_fen, kind, {moment}, prev_hash, "
             "hash FROM ledger_entries ORDER BY seq")
# PostgreSQL writes the canonical time text itself (rules.moment_text's form)
PG_MOMENT = ("to_char(created_at AT TIME ZONE 'UTC', "
             "'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"')")
