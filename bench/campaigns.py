#!/usr/bin/env python
"""Group purchase benchmark: closing a campaign of 5,000 paid participants against plain inserts
of the same rows, and joins per second over HTTP against order checkouts.

    .venv/bin/python bench/campaigns.py [--engine sqlite|pg|both] [--participants 5000]
                                        [--duration 10] [--concurrency 16] [--profile]

For each engine (SQLite, and PostgreSQL in a scratch database of its own, created and dropped
as bench/checkout.py does: --pg-url or MARKETPLACE_BENCH_PG_URL), on a fresh database through
the migrations and `flask seed demo` (bench/campaigns_fixtures.py adds the rest):

1. Close. A unit's members' campaign with individual delivery, past its deadline, with N paid
   participants (1-3 units each; tiers 48.00 / 45.00 / 41.70 yuan at 1 / N/2 / N units, so the
   close lands on the deepest tier and everyone gets a difference back) of a cooperative with
   member households (so the close posts ledger entries). The first two join and pay through
   `units.campaigns`; the others are bulk copies of what those calls wrote (participation, line,
   one succeeded payment; the product's units moved from stock to held). Then
   `units.settlement.close` and the commit are timed. Checks: orders made, the sum of refunds
   equals the sum of differences exact to the fen (and every participant's paid - refunded is
   their order's total), held units back to 0, `ledger.chain.verify` ok.
   Baseline: the rows the close inserted (checkouts, orders, order lines, 2 order events per
   order, payments, and its ledger entries, into a copy of the ledger's table) read back and
   inserted again with plain executemany Core INSERTs in one transaction, committed.
   Prints the close time (target <= 5 s) and close / baseline (target <= 3).
2. HTTP. gunicorn (--workers sync workers, as bench/checkout.py) on 127.0.0.1; bearer tokens for
   fresh buyers (minted in-process; one buyer joins once). C client threads for --duration
   seconds each: first POST /api/v1/orders (one unit, the baseline), then POST
   /api/v1/campaigns/{id}/participations (one unit of a campaign open to anyone with the link,
   one new buyer per join). Prints joins/s, p50/p95 latency, errors by status and code (they
   must be 0; insufficient_stock is counted apart, the products have plenty of stock), orders/s
   and joins/s / orders/s.

A RESULTS block on stdout ends the run; progress goes to stderr. --profile runs the close under
cProfile (its time is then inflated) and prints the top functions. Timings are never asserted:
the exit status is 1 only when the run fails, a check fails or a server answers 5xx.
"""
from __future__ import annotations

import argparse
import cProfile
import http.client
import os
import platform
import shutil
import signal
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.checkout import (
    DEFAULT_PG_URL,
    PgScratch,
    Skip,
    app_env,
    in_app,
    log,
    request,
    run_flask,
    server_errors,
    start_server,
)
from bench.pyload import percentile
from bench.storefront import log_profile, stop_server

TARGET_CLOSE_S = 5.0
TARGET_RATIO = 3.0
JOIN_STOCK = ORDER_STOCK = 1_000_000


# --------------------------------------------------------------------------- HTTP load


@dataclass
class Phase:
    label: str
    ok: int = 0
    insufficient: int = 0
    seconds: float = 0.0
    ms: list[float] = field(default_factory=list)  # successful calls
    errors: Counter = field(default_factory=Counter)  # "409 already_joined" -> n
    samples: list[str] = field(default_factory=list)
    exhausted: bool = False  # ran out of fresh buyers before the time was up

    @property
    def rate(self) -> float:
        return self.ok / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        return percentile(sorted(self.ms), q)

    @property
    def broken(self) -> int:
        return sum(n for k, n in self.errors.items() if k.startswith("5") or "transport" in k)


def run_phase(port: int, label: str, next_call, *, duration: float, concurrency: int) -> Phase:
    """`concurrency` threads call `next_call(slot)` -> (path, body, token) or None (no more)
    and POST it, back to back, until `duration` seconds have passed."""
    phase = Phase(label)
    lock = threading.Lock()
    start = time.perf_counter()
    deadline = start + duration

    def worker(slot: int) -> None:
        ms, ok, short, errors, samples = [], 0, 0, Counter(), []
        while time.perf_counter() < deadline:
            call = next_call(slot)
            if call is None:
                phase.exhausted = True
                break
            path, body, token = call
            try:
                status, answer, took = request(port, "POST", path, body, token=token)
            except (OSError, http.client.HTTPException) as exc:
                errors[f"transport {type(exc).__name__}"] += 1
                time.sleep(0.05)
                continue
            if status in (200, 201):
                ok += 1
                ms.append(took)
                continue
            code = ((answer or {}).get("error") or {}).get("code", "-")
            if code == "insufficient_stock":
                short += 1
            else:
                errors[f"{status} {code}"] += 1
                if len(samples) < 3:
                    samples.append(f"{status} {str(answer)[:300]}")
        with lock:
            phase.ms += ms
            phase.ok += ok
            phase.insufficient += short
            phase.errors.update(errors)
            phase.samples += samples[:max(0, 6 - len(phase.samples))]

    threads = [threading.Thread(target=worker, args=(i,), daemon=True)
               for i in range(concurrency)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    phase.seconds = time.perf_counter() - start
    return phase


def join_calls(campaign_id: int, product_id: int, tokens: list[str]):
    """One fresh buyer per join (a buyer joins a campaign once)."""
    from bench.campaigns_fixtures import ADDRESS
    lock, taken = threading.Lock(), [0]
    address = {"recipient": ADDRESS.recipient, "mobile": ADDRESS.mobile,
               "region_code": ADDRESS.region_code, "detail": ADDRESS.detail}

    def next_call(_slot: int):
        with lock:
            if taken[0] >= len(tokens):
                return None
            token = tokens[taken[0]]
            taken[0] += 1
        return (f"/api/v1/campaigns/{campaign_id}/participations",
                {"lines": [{"product_id": product_id, "quantity": 1}], "address": address,
                 "idempotency_key": uuid.uuid4().hex}, token)
    next_call.used = taken  # type: ignore[attr-defined]
    return next_call


def order_calls(product_id: int, tokens: list[str]):
    from bench.campaigns_fixtures import ADDRESS
    address = {"recipient": ADDRESS.recipient, "mobile": ADDRESS.mobile,
               "region_code": ADDRESS.region_code, "detail": ADDRESS.detail}

    def next_call(slot: int):
        return ("/api/v1/orders", {"lines": [{"product_id": product_id, "quantity": 1}],
                                   "address": address, "idempotency_key": uuid.uuid4().hex},
                tokens[slot % len(tokens)])
    return next_call


# --------------------------------------------------------------------------- one engine


@dataclass
class Result:
    engine: str
    skipped: str = ""
    failed: bool = False
    # the close
    participants: int = 0
    units: int = 0
    close_s: float = 0.0
    floor_s: float = 0.0
    profiled: bool = False
    written: dict[str, int] = field(default_factory=dict)
    floor_rows: dict[str, int] = field(default_factory=dict)
    check: object | None = None  # CloseCheck
    prices: tuple[int, int] = (0, 0)
    # HTTP
    orders: Phase | None = None
    joins: Phase | None = None
    http_check: str = ""
    http_ok: bool = True
    server_errors: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ratio(self) -> float:
        return self.close_s / self.floor_s if self.floor_s else 0.0


def build(env: dict[str, str], args) -> tuple:
    from bench import campaigns_fixtures as cf
    from marketplace.core.time import now_utc
    from marketplace.units.models import Audience
    from marketplace.units.rules import Tier

    run_flask(env, "db", "upgrade")
    run_flask(env, "seed", "demo", "--image-size", "32")
    with in_app(env) as (_app, db):
        session = db.session
        shop = cf.make_shop(session, members=args.members, products={
            "close": args.participants * 3 + 1000, "join": JOIN_STOCK, "order": ORDER_STOCK})
        cc = None
        if args.participants:
            cc = cf.make_close_campaign(session, shop, args.participants, seed=args.seed,
                                        progress=log)
        join_campaign = None
        http_users: list[int] = []
        if not args.skip_http:
            now = now_utc()
            join_campaign = cf.open_campaign(
                session, shop, shop.products["join"],
                tiers=[Tier(1, 4800), Tier(1000, 4500), Tier(100_000, 4000)], minimum=1,
                limit=3, audience=Audience.link, now=now,
                deadline=now + timedelta(days=2)).id
            http_users = cf.add_users(session, args.http_users, prefix="campaign.http")
        session.commit()
    return shop, cc, join_campaign, http_users


def close_phase(env: dict[str, str], cc, result: Result, args) -> None:
    from bench import campaigns_fixtures as cf
    from marketplace.ledger import chain
    from marketplace.units import settlement
    from marketplace.units.models import Campaign

    with in_app(env) as (_app, db):
        session = db.session
        with db.engine.connect() as conn:
            before = cf.write_counts(conn)
        entries_before = chain.entry_count(session)
        session.rollback()
        campaign = session.get(Campaign, cc.campaign_id)
        profiler = cProfile.Profile() if args.profile else None
        log(f"  closing the campaign of {cc.participants} participants ({cc.units} units)"
            + (" under cProfile" if profiler else "") + " ...")
        t0 = time.perf_counter()
        if profiler:
            profiler.enable()
        closed = settlement.close(session, campaign, cf.PROVIDERS, now=cc.close_at)
        session.commit()
        if profiler:
            profiler.disable()
        result.close_s = time.perf_counter() - t0
        result.profiled = profiler is not None
        if not closed.closed_here or closed.orders != cc.participants:
            raise RuntimeError(f"the close did not settle the campaign: {closed}")
        log(f"  closed in {result.close_s:.2f} s: {closed.orders} orders")
        with db.engine.connect() as conn:
            after = cf.write_counts(conn)
        result.written = {k: after[k] - before[k] for k in after}
        result.check = cf.check_close(session, cc)
        session.rollback()
        with db.engine.connect() as conn:
            rows = cf.close_rows(conn, cc.campaign_id, entries_before)
        result.floor_rows = rows.counts()
        log(f"  baseline: {sum(result.floor_rows.values())} rows as plain inserts ...")
        result.floor_s = cf.floor(db.engine, rows)
        log(f"  baseline: {result.floor_s:.2f} s")
        if profiler:
            log_profile(profiler, "cumulative", 40, "the close", write=log)
            log_profile(profiler, "tottime", 25, "the close", write=log)


def http_phase(engine: str, env: dict[str, str], workdir: Path, shop, join_campaign: int,
               users: list[int], result: Result, args) -> None:
    from sqlalchemy import func, select

    from marketplace.accounts.models import User
    from marketplace.accounts.services import issue_token
    from marketplace.catalog.models import Product
    from marketplace.units.models import Participation

    with in_app(env) as (app, db):
        secret = app.config["SECRET_KEY"]
        tokens = [issue_token(u, secret) for u in db.session.scalars(
            select(User).where(User.id.in_(users)).order_by(User.id))]
    warm = min(args.warmup, len(tokens) // 4)
    server = None
    try:
        server = start_server(engine, env, workdir, workers=args.workers)
        log(f"  gunicorn: {args.workers} sync workers on 127.0.0.1:{server.port}; "
            f"{len(tokens)} buyers with tokens")
        orders = order_calls(shop.products["order"], tokens[:max(args.concurrency, 16)])
        joins = join_calls(join_campaign, shop.products["join"], tokens)
        for label, calls in (("orders", orders), ("joins", joins)):
            run_phase(server.port, f"{label} warm-up", _limited(calls, warm),
                      duration=60, concurrency=min(args.concurrency, 4))
        log(f"  orders: POST /api/v1/orders for {args.duration:g} s at concurrency "
            f"{args.concurrency} ...")
        result.orders = run_phase(server.port, "orders", orders, duration=args.duration,
                                  concurrency=args.concurrency)
        log(f"  orders: {result.orders.ok} in {result.orders.seconds:.1f} s = "
            f"{result.orders.rate:.1f}/s, errors {dict(result.orders.errors) or 0}")
        log(f"  joins: POST /api/v1/campaigns/{join_campaign}/participations for "
            f"{args.duration:g} s at concurrency {args.concurrency} ...")
        result.joins = run_phase(server.port, "joins", joins, duration=args.duration,
                                 concurrency=args.concurrency)
        log(f"  joins: {result.joins.ok} in {result.joins.seconds:.1f} s = "
            f"{result.joins.rate:.1f}/s, errors {dict(result.joins.errors) or 0}")
        if server.proc.poll() is not None:
            raise RuntimeError(f"gunicorn died under load:\n{server.log_tail()}")
    finally:
        stop_server(server)
    if server is not None:
        result.server_errors = server_errors(server.logfile)
    with in_app(env) as (_app, db):
        parts = db.session.scalar(select(func.count()).select_from(Participation)
                                  .where(Participation.campaign_id == join_campaign))
        held = db.session.scalar(select(Product.held)
                                 .where(Product.id == shop.products["join"]))
    # every join that answered 2xx made one participation holding one unit (warm-up included)
    expected = warm + result.joins.ok
    result.http_ok = parts == expected and held == expected
    result.http_check = (f"{parts} participations, {held} units held for the campaign "
                         f"(expected {expected} each): "
                         f"{'consistent' if result.http_ok else 'INCONSISTENT'}")


def _limited(calls, count: int):
    lock, n = threading.Lock(), [0]

    def next_call(slot: int):
        with lock:
            if n[0] >= count:
                return None
            n[0] += 1
        return calls(slot)
    return next_call


def run_engine(engine: str, url: str, workdir: Path, args) -> Result:
    result = Result(engine)
    t0 = time.perf_counter()
    instance = workdir / engine
    instance.mkdir(parents=True, exist_ok=True)
    env = app_env(url, instance)
    log(f"[{engine}] migrating, seeding the demo data, {args.participants} participants, "
        f"{args.http_users} buyers for the joins ...")
    shop, cc, join_campaign, users = build(env, args)
    log(f"  built in {time.perf_counter() - t0:.1f} s")
    if cc is not None:
        result.participants, result.units = cc.participants, cc.units
        result.prices = (cc.starting_price, cc.final_price)
        close_phase(env, cc, result, args)
    if join_campaign is not None:
        http_phase(engine, env, workdir, shop, join_campaign, users, result, args)
    result.seconds = time.perf_counter() - t0
    return result


# --------------------------------------------------------------------------- report


def report(results: list[Result], args) -> None:
    out = ["", "RESULTS",
           f"campaigns benchmark: {args.participants} participants closed; HTTP joins and "
           f"orders for {args.duration:g} s each at concurrency {args.concurrency} (gunicorn "
           f"{args.workers} sync workers); {os.cpu_count()} CPUs, "
           f"{platform.python_implementation()} {platform.python_version()}"]
    for r in results:
        if r.skipped:
            out.append(f"[{r.engine}] {'' if r.failed else 'SKIPPED: '}{r.skipped}")
            continue
        out.append(f"[{r.engine}]")
        if r.check is not None:
            c = r.check
            met = "met" if r.close_s <= TARGET_CLOSE_S else "MISSED"
            out.append(f"  close                  : {r.close_s:.2f} s for {r.participants} "
                       f"participants, {r.units} units (target <= {TARGET_CLOSE_S:g} s: {met})"
                       + (" [under cProfile]" if r.profiled else ""))
            out.append(f"  baseline (plain inserts): {r.floor_s:.2f} s for "
                       + ", ".join(f"{k} {v}" for k, v in r.floor_rows.items()))
            met = "met" if r.ratio <= TARGET_RATIO else "MISSED"
            out.append(f"  ratio close/baseline   : {r.ratio:.2f} (target <= {TARGET_RATIO:g}: "
                       f"{met})")
            out.append("  the close wrote        : "
                       + ", ".join(f"{k} {v}" for k, v in r.written.items()))
            out.append(f"  orders made            : {c.orders} ({c.participants_settled} "
                       f"participations settled)")
            out.append(f"  refunds                : {c.refunded} fen = differences "
                       f"{c.differences} fen ({r.prices[0]} -> {r.prices[1]} fen a unit): "
                       f"{'exact' if c.refunded == c.differences and c.exact else 'WRONG'}")
            out.append(f"  held units             : {c.held} (stock {c.stock}, expected "
                       f"{c.expected_stock})")
            out.append(f"  ledger verify          : {c.ledger}")
            out.append(f"  close checks           : {'ok' if c.ok else 'FAILED'}")
        if r.joins is not None:
            j, o = r.joins, r.orders
            out.append(f"  joins/s                : {j.rate:.1f} ({j.ok} in {j.seconds:.1f} s"
                       + ("; ran out of fresh buyers" if j.exhausted else "") + ")")
            out.append(f"  join p50/p95           : {j.pct(50):.1f} / {j.pct(95):.1f} ms")
            out.append(f"  join errors            : {dict(j.errors) or 0}; insufficient_stock "
                       f"{j.insufficient}")
            out.append(f"  orders/s (baseline)    : {o.rate:.1f} ({o.ok} in {o.seconds:.1f} s); "
                       f"p50/p95 {o.pct(50):.1f} / {o.pct(95):.1f} ms; errors "
                       f"{dict(o.errors) or 0}")
            out.append(f"  ratio joins/orders     : {j.rate / o.rate if o.rate else 0:.2f}")
            out.append(f"  after the joins        : {r.http_check}")
            for s in (j.samples + o.samples)[:3]:
                out.append(f"  sample error           : {s}")
            if r.server_errors:
                out.append(f"  server log: {len(r.server_errors)} error(s); first:")
                out += ["    " + ln for ln in r.server_errors[0].splitlines()[-20:]]
        out.append(f"  engine wall time       : {r.seconds:.0f} s")
    print("\n".join(out), flush=True)


def broken(r: Result) -> bool:
    if r.failed:
        return True
    if r.skipped:
        return False
    bad = r.check is not None and not r.check.ok
    for phase in (r.joins, r.orders):
        bad |= phase is not None and (phase.broken > 0 or sum(phase.errors.values()) > 0)
    return bad or not r.http_ok


# --------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", choices=("sqlite", "pg", "both"), default="both")
    parser.add_argument("--pg-url", default=os.environ.get("MARKETPLACE_BENCH_PG_URL",
                                                           DEFAULT_PG_URL),
                        help="scratch PostgreSQL database to create and drop "
                             "(env MARKETPLACE_BENCH_PG_URL)")
    parser.add_argument("--participants", type=int, default=5000,
                        help="paid participants of the campaign closed (0: skip the close)")
    parser.add_argument("--members", type=int, default=3,
                        help="member households of the cooperative (ledger entries per line)")
    parser.add_argument("--seed", type=int, default=20241123)
    parser.add_argument("--profile", action="store_true", help="the close under cProfile")
    parser.add_argument("--skip-http", action="store_true", help="only the close")
    parser.add_argument("--duration", type=float, default=10.0,
                        help="seconds of each HTTP phase (orders, then joins)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--warmup", type=int, default=32, help="unmeasured calls per phase")
    parser.add_argument("--http-users", type=int, default=4000,
                        help="fresh buyers for the joins (one join each)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory and the PostgreSQL database")
    args = parser.parse_args(argv)
    if args.participants < 0 or args.concurrency < 1 or args.http_users < 8:
        parser.error("need --participants >= 0, --concurrency >= 1, --http-users >= 8")
    engines = ["sqlite", "pg"] if args.engine == "both" else [args.engine]

    def _terminate(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    workdir = Path(tempfile.mkdtemp(prefix="bench-campaigns-"))
    results: list[Result] = []
    pg: PgScratch | None = None
    try:
        for engine in engines:
            try:
                if engine == "sqlite":
                    url = f"sqlite:///{workdir / 'sqlite.sqlite3'}"
                else:
                    pg = PgScratch(args.pg_url)
                    url = pg.create()
                    log(f"[pg] scratch database {pg.name} on {pg.url.host}")
                results.append(run_engine(engine, url, workdir, args))
            except Skip as exc:
                log(f"[{engine}] skipped: {exc}")
                results.append(Result(engine, skipped=str(exc)))
            except Exception as exc:  # noqa: BLE001 (report it, go on with the others, exit 1)
                log(f"[{engine}] FAILED:\n{traceback.format_exc()}")
                results.append(Result(engine, skipped=f"FAILED: {exc}"[:500], failed=True))
            finally:
                if pg is not None and not args.keep:
                    pg.drop()
        report(results, args)
        return 1 if any(broken(r) for r in results) else 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if pg is not None and args.keep:
            log(f"kept the PostgreSQL database {pg.name}")
        elif pg is not None:
            pg.drop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
