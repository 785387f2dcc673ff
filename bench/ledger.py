#!/usr/bin/env python
"""Ledger benchmark: post households' income for paid lines, verify the chain, against plain
inserts of the same rows; then verify a chain of a million entries.

    .venv/bin/python bench/ledger.py [--engines sqlite,pg] [--lines 100000]
                                     [--verify-entries 1000000]

For each engine (SQLite, and PostgreSQL in a scratch database of its own, as bench/checkout.py):

1. Builds a fresh database through the migrations and the demo data (whose demo orders have
   posted a few hundred entries already: they are in the chain, not in the counts), then adds three
   cooperatives with 3, 4 and 5 member households (weights 1..9) and a product each, and
   --lines paid order lines (4 lines per order, orders spread over the three cooperatives),
   written with Core statements (not timed).
2. Posting: `ledger.posting.post_sale` for every order, one transaction per order as a captured
   payment does it (the orders are loaded before the clock starts, 500 at a time, and are not
   expired by each commit: a payment's session holds its own order only, and expiring 500
   loaded orders at every commit would time the harness): entries per second.
3. Verifying: `ledger.services.verify` over the whole chain: entries per second.
4. Floor: the same entry rows inserted with plain SQLAlchemy Core (executemany, 10,000 rows per
   statement) into a table of the same shape without triggers: rows per second, and the ratio
   posting / floor.
5. Verifying a million: the chain is extended to --verify-entries entries (default 1,000,000; 0
   skips the step) with made-up paid order lines of the same cooperatives, their attributable
   amounts recorded, one order in ten fully refunded and reversed, chained with
   `ledger.services.append` in large batches (not timed); then `ledger.services.verify` over the
   whole chain, as `flask ledger verify` runs it (lines checked too): entries per second and
   seconds (the aim: a million entries in under 10 s).

Prints a RESULTS block; progress goes to stderr. Timings are never asserted: the exit status is
0 unless the run fails or a chain does not verify (1).
"""
from __future__ import annotations

import argparse
import os
import random
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.checkout import (
    DEFAULT_PG_URL,
    PgScratch,
    Skip,
    app_env,
    compare_twins,
    in_app,
    log,
    run_flask,
    twin_settings,
)

LINES_PER_ORDER = 4
MEMBERS = (3, 4, 5)  # beneficiaries per line, one cooperative each


@dataclass
class Result:
    engine: str
    entries: int = 0  # posted by the run (the demo data's own orders posted some before)
    chain: int = 0  # the whole chain verified in step 3
    post_s: float = 0.0
    verify_s: float = 0.0
    floor_s: float = 0.0
    verified: bool = False
    problem: str = ""
    big_entries: int = 0  # step 5: the chain verified, and how long it took
    big_s: float = 0.0
    big_verified: bool = True
    big_problem: str = ""
    skipped: str = ""

    def rate(self, seconds: float) -> float:
        return self.entries / seconds if seconds else 0.0


def make_orders(session, lines: int, seed: int) -> list[int]:
    """Cooperatives with 3, 4, 5 members and `lines` paid order lines; the order ids."""
    from sqlalchemy import insert, select

    from marketplace.accounts.models import User
    from marketplace.catalog.models import Category, Product, ProductStatus
    from marketplace.core.time import now_utc
    from marketplace.households.models import Household
    from marketplace.orders.models import Channel, Checkout, Order, OrderLine, OrderStatus
    from marketplace.orders.services import order_number
    from marketplace.sellers.models import CooperativeMember, Seller, SellerKind, SellerStatus

    rng = random.Random(seed)
    households = list(session.scalars(select(Household.id).order_by(Household.id)))
    region_id = session.scalar(select(Seller.region_id).limit(1))
    category_id = session.scalar(select(Category.id).limit(1))
    buyer_id = session.scalar(select(User.id).limit(1))
    now = now_utc()
    products = []
    for i, size in enumerate(MEMBERS):
        seller = Seller(kind=SellerKind.cooperative, name=f"台账压测合作社{i}", region_id=region_id,
                        contact_name="压测", contact_mobile="13800138000",
                        status=SellerStatus.verified, verified_at=now, household_share_bp=3000)
        session.add(seller)
        session.flush()
        for household in rng.sample(households, size):
            session.add(CooperativeMember(seller_id=seller.id, household_id=household,
                                          weight=rng.randint(1, 9)))
        made = [Product(sku=f"LEDGER-{i}-{k}", seller_id=seller.id, category_id=category_id,
                        origin_id=region_id, name=f"台账压测商品{i}-{k}", spec="1件",
                        description="", price_fen=rng.randint(500, 20000), stock=0,
                        status=ProductStatus.listed, listed_at=now)
                for k in range(LINES_PER_ORDER)]
        session.add_all(made)
        session.flush()
        products.append((seller.id, [(p.id, p.price_fen) for p in made]))
    checkout = Checkout(buyer_id=buyer_id, idempotency_key="bench-ledger",
                        fingerprint="bench-ledger", created_at=now)  # one for all the orders
    session.add(checkout)
    session.flush()
    orders = lines // LINES_PER_ORDER
    conn = session.connection()
    order_ids = []
    for start in range(0, orders, 2000):
        rows = []
        for n in range(start, min(orders, start + 2000)):
            seller_id, items = products[n % len(products)]
            goods = sum(price for _, price in items)
            rows.append({
                "number": order_number(now, 9_000_000 + n, 0), "checkout_id": checkout.id,
                "buyer_id": buyer_id, "seller_id": seller_id, "channel": Channel.individual,
                "status": OrderStatus.paid, "goods_fen": goods, "shipping_fen": 0,
                "total_fen": goods, "paid_fen": goods, "refunded_fen": 0, "currency": "CNY",
                "stock_held": False, "cancel_reason": "", "paid_at": now, "recipient": "压测",
                "mobile": "13800138000", "region_id": region_id, "region_names": "压测",
                "address_detail": "压测", "created_at": now, "updated_at": now})
        ids = conn.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True),
                           rows).scalars().all()
        conn.execute(insert(OrderLine), [
            {"order_id": oid, "product_id": pid, "name": "压测", "spec": "",
             "unit_price_fen": price, "quantity": 1, "amount_fen": price}
            for k, oid in enumerate(ids) for pid, price in products[(start + k) % len(products)][1]])
        order_ids += ids
    session.commit()
    return order_ids


def bench_cooperatives(session) -> list[tuple[int, dict[int, int], list[tuple[int, int, int]]]]:
    """The cooperatives `make_orders` added: (seller id, household -> weight, [(product id,
    price, share in basis points)]), as `posting.post_sale` would read them."""
    from sqlalchemy import select

    from marketplace.catalog.models import Product
    from marketplace.sellers.models import CooperativeMember, Seller

    sellers = session.execute(select(Seller.id, Seller.household_share_bp)
                              .where(Seller.name.like("台账压测合作社%")).order_by(Seller.id)).all()
    made = []
    for seller_id, seller_bp in sellers:
        weights = dict(session.execute(select(CooperativeMember.household_id,
                                              CooperativeMember.weight)
                                       .where(CooperativeMember.seller_id == seller_id)).all())
        products = [(pid, price, seller_bp if bp is None else bp) for pid, price, bp in
                    session.execute(select(Product.id, Product.price_fen,
                                           Product.household_share_bp)
                                    .where(Product.seller_id == seller_id).order_by(Product.id))]
        made.append((seller_id, weights, products))
    return made


def extend_chain(session, target: int, *, orders_per_batch: int = 2000,
                 entries_per_append: int = 10_000) -> None:
    """Make up paid orders of the bench cooperatives and chain their entries until the ledger
    holds `target` entries, consistent as `verify` checks them: each line's attributable
    amount recorded and split among the members by weight, one order in ten fully refunded and
    every part reversed. Orders and lines are written with Core statements; the entries with
    `services.append` (the posting path, large batches, one time per batch)."""
    from datetime import timedelta

    from sqlalchemy import insert, select

    from marketplace.accounts.models import User
    from marketplace.core.time import now_utc
    from marketplace.ledger import chain as services
    from marketplace.ledger import rules
    from marketplace.ledger.chain import NewEntry
    from marketplace.orders.models import Channel, Checkout, Order, OrderLine, OrderStatus
    from marketplace.orders.services import order_number
    from marketplace.sellers.models import Seller

    left = target - services.entry_count(session)
    if left <= 0:
        return
    cooperatives = bench_cooperatives(session)
    buyer_id = session.scalar(select(User.id).limit(1))
    region_id = session.scalar(select(Seller.region_id).limit(1))
    checkout_id = session.scalar(select(Checkout.id)
                                 .where(Checkout.idempotency_key == "bench-ledger"))
    now = now_utc()
    moment = now - timedelta(days=365)  # entries made over the last year, one time per batch
    conn = session.connection()
    n = 0
    while left > 0:
        orders, lines, parts = [], [], []  # parts: per order, [(line index, {household: fen})]
        line_count = 0
        while left > 0 and len(orders) < orders_per_batch:
            seller_id, weights, products = cooperatives[n % len(cooperatives)]
            refunded = n % 10 == 9 and left > 100
            order_lines, order_parts, goods = [], [], 0
            for product_id, price, share in products:
                if left <= 0:
                    break
                amount = rules.attributable_fen(price, share)
                split = rules.split_among(amount, weights)
                if len(split) > left:  # the last line: fewer members, so the count is exact
                    split = rules.split_among(amount, dict(sorted(weights.items())[:left]))
                left -= len(split) * (2 if refunded else 1)
                order_parts.append((line_count, split))
                line_count += 1
                order_lines.append({
                    "product_id": product_id, "name": "压测", "spec": "", "unit_price_fen": price,
                    "quantity": 1, "amount_fen": price, "share_bp": share,
                    "attributable_fen": amount})
                goods += price
            orders.append({
                "number": order_number(now, 8_000_000 + n, 1), "checkout_id": checkout_id,
                "buyer_id": buyer_id, "seller_id": seller_id,
                "channel": Channel.individual, "status": OrderStatus.paid, "goods_fen": goods,
                "shipping_fen": 0, "total_fen": goods, "paid_fen": goods,
                "refunded_fen": goods if refunded else 0, "currency": "CNY",
                "stock_held": False, "cancel_reason": "", "paid_at": now, "recipient": "压测",
                "mobile": "13800138000", "region_id": region_id,
                "region_names": "压测", "address_detail": "压测", "created_at": now,
                "updated_at": now})
            lines.append(order_lines)
            parts.append((order_parts, refunded))
            n += 1
        order_ids = conn.execute(insert(Order).returning(Order.id, sort_by_parameter_order=True),
                                 orders).scalars().all()
        line_ids = conn.execute(
            insert(OrderLine).returning(OrderLine.id, sort_by_parameter_order=True),
            [{**line, "order_id": oid} for oid, order_lines in zip(order_ids, lines, strict=True)
             for line in order_lines]).scalars().all()
        entries = []
        for order_parts, refunded in parts:
            entries += [NewEntry(household, line_ids[i], fen)
                        for i, split in order_parts for household, fen in split.items()]
            if refunded:
                entries += [NewEntry(household, line_ids[i], -fen)
                            for i, split in order_parts for household, fen in split.items()]
        for start in range(0, len(entries), entries_per_append):
            moment += timedelta(seconds=61)
            services.append(session, entries[start:start + entries_per_append], now=moment)
        session.commit()
        conn = session.connection()
        log(f"  chained {services.entry_count(session)}/{target} entries")


def run_engine(engine: str, url: str, workdir: Path, args) -> Result:
    from sqlalchemy import MetaData, Table, select
    from sqlalchemy.orm import joinedload

    result = Result(engine)
    env = app_env(url, workdir / engine)
    (workdir / engine).mkdir(parents=True, exist_ok=True)
    log(f"[{engine}] migrating and seeding the demo data ...")
    run_flask(env, "db", "upgrade")
    run_flask(env, "seed", "demo")
    with in_app(env) as (_app, db):
        from marketplace.core.time import now_utc
        from marketplace.ledger import chain as services
        from marketplace.ledger import posting
        from marketplace.orders.models import Order

        session = db.session
        log(f"[{engine}] {args.lines} paid order lines ...")
        order_ids = make_orders(session, args.lines, args.seed)
        before = services.entry_count(session)  # the demo orders' entries
        log(f"[{engine}] posting {len(order_ids)} orders, one transaction each ...")
        # a commit expires every object in the session: with 500 orders loaded ahead, each
        # commit would expire thousands of objects and reload the next order (a payment's
        # session holds only its own order), so the loaded orders are kept while posting
        session().expire_on_commit = False
        elapsed = 0.0
        for start in range(0, len(order_ids), 500):
            batch = list(session.scalars(
                select(Order).where(Order.id.in_(order_ids[start:start + 500]))
                .options(joinedload(Order.lines), joinedload(Order.seller))).unique())
            t0 = time.perf_counter()
            for order in batch:
                posting.post_sale(session, order, now_utc())
                session.commit()
            elapsed += time.perf_counter() - t0
            session.expunge_all()
            if (start // 500) % 10 == 0:
                log(f"  posted {start + len(batch)}/{len(order_ids)} orders")
        session().expire_on_commit = True
        result.post_s = elapsed
        result.chain = services.entry_count(session)
        result.entries = result.chain - before
        log(f"[{engine}] verifying {result.chain} entries ...")
        t0 = time.perf_counter()
        verdict = services.verify(session)
        result.verify_s = time.perf_counter() - t0
        result.verified, result.problem = verdict.ok, verdict.problem
        session.rollback()

        log(f"[{engine}] floor: the same rows with plain inserts ...")
        rows = [dict(r._mapping) for r in session.execute(
            select(services.ENTRIES).where(services.ENTRIES.c.seq > before))]
        session.rollback()
        floor = Table("ledger_floor", MetaData(),
                      *(c._copy() for c in services.ENTRIES.columns))
        floor.create(db.engine)
        t0 = time.perf_counter()
        with db.engine.begin() as conn:
            for start in range(0, len(rows), 10_000):
                conn.execute(floor.insert(), rows[start:start + 10_000])
        result.floor_s = time.perf_counter() - t0

        if args.verify_entries:
            have = services.entry_count(session)
            log(f"[{engine}] extending the chain from {have} to {args.verify_entries} entries ...")
            extend_chain(session, args.verify_entries)
            log(f"[{engine}] verifying {services.entry_count(session)} entries ...")
            session.rollback()
            t0 = time.perf_counter()
            # the chain extended by hand bypasses posting, so the reports' pre-aggregates do
            # not cover it: the chain, balances and lines only (the posted run above checks all)
            verdict = services.verify(session, rollups=False)
            result.big_s = time.perf_counter() - t0
            result.big_entries = verdict.entries
            result.big_verified, result.big_problem = verdict.ok, verdict.problem
            session.rollback()
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,pg")
    parser.add_argument("--pg-url", default=os.environ.get("MARKETPLACE_BENCH_PG_URL",
                                                           DEFAULT_PG_URL))
    parser.add_argument("--lines", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=20241123)
    parser.add_argument("--verify-entries", type=int, default=1_000_000,
                        help="verify a chain extended to this many entries (0: skip)")
    parser.add_argument("--twins", default="all",
                        help="SQL_TWINS settings to compare, separated by ';' (e.g. "
                             "'all;none'): each engine runs once per setting")
    args = parser.parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="bench-ledger-"))
    results, failed = [], False
    try:
        engines = [e.strip() for e in args.engines.split(",") if e.strip()]
        for engine, setting in ((e, t) for e in engines for t in twin_settings(args.twins)):
            os.environ["MARKETPLACE_SQL_TWINS"] = setting  # create_app reads it
            label = engine if setting == "all" else f"{engine} twins={setting}"
            pg = None
            try:
                if engine == "pg":
                    pg = PgScratch(args.pg_url)
                    url = pg.create()
                else:
                    url = f"sqlite:///{workdir / label.replace(' ', '-')}.sqlite3"
                results.append(run_engine(engine, url, workdir, args))
                results[-1].engine = label
            except Skip as exc:
                results.append(Result(label, skipped=str(exc)))
            finally:
                if pg is not None:
                    pg.drop()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print("\nRESULTS")
    print(f"ledger benchmark: {args.lines} paid lines, {LINES_PER_ORDER} per order, 3-5 "
          "beneficiaries per line, one transaction per posted order")
    for r in results:
        print(f"[{r.engine}]")
        if r.skipped:
            print(f"  skipped: {r.skipped}")
            continue
        print(f"  entries posted         : {r.entries} (chain {r.chain} with the demo orders')")
        print(f"  posting                : {r.rate(r.post_s):,.0f} entries/s ({r.post_s:.1f} s)")
        print(f"  verify                 : {r.chain / r.verify_s if r.verify_s else 0:,.0f} "
              f"entries/s ({r.verify_s:.2f} s): {'chain holds' if r.verified else r.problem}")
        print(f"  floor (plain inserts)  : {r.rate(r.floor_s):,.0f} rows/s ({r.floor_s:.2f} s)")
        print(f"  ratio posting/floor    : {r.post_s and r.floor_s / r.post_s:.3f}")
        if r.big_entries:
            label = f"verify {r.big_entries:,}"
            print(f"  {label:<23}: {r.big_entries / r.big_s:,.0f} entries/s ({r.big_s:.2f} s; "
                  f"{r.big_s * 1_000_000 / r.big_entries:.2f} s per 1,000,000): "
                  f"{'chain holds' if r.big_verified else r.big_problem}")
        failed |= not r.verified or not r.big_verified
    compare_twins(results, lambda r: None if r.skipped else r.rate(r.post_s),
                  "entries/s posting")
    if any(r.big_entries for r in results):
        compare_twins(results, lambda r: r.big_entries / r.big_s if r.big_s else None,
                      "entries/s verifying")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
