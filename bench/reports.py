#!/usr/bin/env python
"""Reports benchmark: an office's dashboard (`reports.figures.report`) over a province of data,
against a hand-written GROUP BY over the raw ledger entries in the same run.

    .venv/bin/python bench/reports.py [--engine pg|sqlite|both] [--entries 1000000]
                                      [--runs 50] [--warmup 5] [--explain] [--keep]

On a fresh database through the migrations (PostgreSQL: a scratch database created and dropped
as bench/checkout.py does, --pg-url or MARKETPLACE_BENCH_PG_URL; SQLite: a temporary file),
bench/reports_data.py and bench/reports_ledger.py write in bulk (COPY on PostgreSQL; not through
the services):

- a province-shaped region tree in GB/T 2260 shape: 1 province, 14 cities, 110 counties (2
  districts and the rest counties per city), 10-20 townships per county (镇 101-, 乡 201-),
  10-15 villages per township (201-); 8-12 households per village (75% lifted out, 15%
  monitored, 10% registered poor);
- sellers in every county: a household shop per township, a cooperative per two townships
  (5-15 member households of its township, weights 1-9), 2-4 enterprises at the county (30-80
  supply households); 2-6 products each in the migration's categories;
- --entries ledger entries (exactly) over the 730 China days up to yesterday (growth, seasons,
  weekends), with the paid orders and lines behind them (1-3 lines, channels mixed, 15%
  offline), 3% of orders refunded in full 1-15 days later with their entries reversed;
- `income_days` and `sales_days` by two INSERT ... SELECT ... GROUP BY statements, and from
  them `income_months`, `sales_months` and `household_periods` (reports_ledger.months_sql), checked
  against `ledger.rollup.derive` (the code `rollup.rebuild` writes with): on the whole data up
  to 1,000,000 entries (`rollup.check`), else on a sample of households, a whole village and
  sellers (--check).

The hash chain is NOT valid (each entry's hash is its number in hex): `flask ledger verify`
would fail; the reports never read it. Then, measured:

1. County dashboard: `figures.report(session, county, period)` (children and a 12-month trend,
   as the page asks) for last month, last quarter and this year, over a random sample of
   --counties counties (--warmup runs, then --runs runs each), p50/p95 in ms; interleaved with
2. the baseline: the report's sub-region table from the raw entries, one hand-written
   statement: `SELECT township, SUM(e.amount_fen), COUNT(DISTINCT e.household_id) FROM
   ledger_entries e JOIN households h JOIN regions v WHERE v.path LIKE county% AND e.created_at
   in the period's China dates GROUP BY township`; p50/p95 and the ratio dashboard / baseline.
   Targets: county dashboard p95 <= 300 ms and <= 1.5 x the baseline.
3. Province dashboard (region = the province) for the same periods (--province-runs), and the
   baseline by city; target (for --entries 10000000) <= 2 s.
4. The statements of one county report (and with --explain their EXPLAIN ANALYZE plans).
5. The rendered page /office/reports for a county (test client, a platform admin), when the
   route exists.

6. With --proposals (the default), the same again after the proposed covering indexes
   (PROPOSED: not in the migrations) replace ix_income_days_village_day and index sales_days by
   seller, so that one run shows both.

The big run (about 8 minutes of building and 8 of measuring on 2 busy cores):
    bench/reports.py --entries 10000000 --runs 10 --warmup 1 --province-runs 1 \
        --province-warmup 0 --page-runs 5

Prints a RESULTS block; progress goes to stderr. Timings are never asserted: the exit status is
0 unless the run fails or the pre-aggregates differ from what the ledger implies (1).
"""
from __future__ import annotations

import argparse
import os
import random
import re
import shutil
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from datetime import time as clock
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import reports_data, reports_ledger
from bench.checkout import DEFAULT_PG_URL, PgScratch, Skip, app_env, in_app, log, run_flask
from bench.pyload import percentile

TARGET_COUNTY_MS = 300.0
TARGET_RATIO = 1.5
TARGET_PROVINCE_MS = 2000.0
FULL_CHECK_MAX = 1_000_000
PASSWORD = "bench-reports-1"
CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|'
                     r'name="csrf_token" value="([^"]+)"')


@dataclass
class Timing:
    label: str
    values: list[float] = field(default_factory=list)  # ms

    def p(self, q: float) -> float:
        return percentile(sorted(self.values), q)

    def line(self) -> str:
        return (f"p50 {self.p(50):8.1f} ms  p95 {self.p(95):8.1f} ms  max "
                f"{max(self.values):8.1f} ms ({len(self.values)} runs)") if self.values else "-"


@dataclass
class Measured:
    """One pass of the measurements (as is, or with the proposed indexes)."""
    label: str
    county: dict[str, tuple[Timing, Timing]] = field(default_factory=dict)  # period -> (d, b)
    province: dict[str, tuple[Timing, Timing]] = field(default_factory=dict)
    statements: list[tuple[str, float]] = field(default_factory=list)
    statements_label: str = ""
    page: Timing | None = None
    page_note: str = ""


@dataclass
class Result:
    engine: str
    built: reports_data.Built | None = None
    check: str = ""  # '' or the first difference
    check_kind: str = ""
    rows: dict[str, int] = field(default_factory=dict)
    passes: list[Measured] = field(default_factory=list)
    proposal_s: float = 0.0
    version: str = ""
    skipped: str = ""
    failed: bool = False


# Proposals (not in the migrations): covering indexes that let a region's rows be read from the
# index alone, replacing ix_income_days_village_day (the same leading columns).
PROPOSED = {
    "pg": [
        "DROP INDEX ix_income_days_village_day",
        ("CREATE INDEX ix_income_days_village_day ON income_days (village_id, day) INCLUDE "
         "(household_id, channel, category_id, seller_kind, amount_fen, month)"),
        ("CREATE INDEX ix_sales_days_seller_day ON sales_days (seller_id, day) INCLUDE "
         "(channel, category_id, seller_kind, sales_fen, refunds_fen, month)"),
    ],
    "sqlite": [
        "DROP INDEX ix_income_days_village_day",
        ("CREATE INDEX ix_income_days_village_day ON income_days (village_id, day, "
         "household_id, channel, category_id, seller_kind, amount_fen, month)"),
        ("CREATE INDEX ix_sales_days_seller_day ON sales_days (seller_id, day, channel, "
         "category_id, seller_kind, sales_fen, refunds_fen, month)"),
    ],
}


def add_indexes(engine, statements: list[str]) -> float:
    from sqlalchemy import text
    t0 = time.perf_counter()
    with engine.begin() as conn:
        for statement in statements:
            conn.execute(text(statement))
    if engine.dialect.name == "postgresql":
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM (ANALYZE) income_days, sales_days, income_months, "
                              "sales_months, household_periods"))
    return time.perf_counter() - t0


def baseline_sql():
    """The report's sub-region table from the raw entries: per child region (its path is the
    first `n` characters of a village's), the income and the households with any entry."""
    from sqlalchemy import bindparam, text

    from marketplace.core.models import AwareDateTime
    return text(
        "SELECT substr(v.path, 1, :n) AS child, SUM(e.amount_fen), "
        "COUNT(DISTINCT e.household_id) FROM ledger_entries e "
        "JOIN households h ON h.id = e.household_id JOIN regions v ON v.id = h.village_id "
        "WHERE v.path LIKE :prefix AND e.created_at >= :start AND e.created_at < :end "
        "GROUP BY substr(v.path, 1, :n)").bindparams(
        bindparam("start", type_=AwareDateTime()), bindparam("end", type_=AwareDateTime()))


def china_bounds(period) -> tuple[datetime, datetime]:
    from marketplace.core.time import CHINA
    start = datetime.combine(period.start, clock(), CHINA).astimezone(UTC)
    end = datetime.combine(period.end + timedelta(days=1), clock(), CHINA).astimezone(UTC)
    return start, end


def chosen_periods(today):
    from marketplace.reports import periods
    this_month = periods.month(today.year, today.month)
    this_quarter = periods.quarter(today.year, (today.month + 2) // 3)
    return {"month": periods.previous(this_month), "quarter": periods.previous(this_quarter),
            "year": periods.year(today.year)}


def measure(session, codes: list[str], period, warmup: int, child_len: int,
            label: str) -> tuple[Timing, Timing]:
    """figures.report and the baseline, interleaved, for the regions `codes` (the first
    `warmup` not counted)."""
    from sqlalchemy import select

    from marketplace.regions.models import Region
    from marketplace.reports import figures
    base_sql = baseline_sql()
    start, end = china_bounds(period)
    dash, base = Timing(f"{label} dashboard"), Timing(f"{label} baseline")
    for i, code in enumerate(codes):
        region = session.scalars(select(Region).where(Region.code == code)).one()
        t0 = time.perf_counter()
        report = figures.report(session, region, period)
        elapsed = (time.perf_counter() - t0) * 1000
        assert report.children, "a report without sub-regions"
        session.rollback()
        params = {"n": len(region.path) + child_len + 1, "prefix": region.path + "%",
                  "start": start, "end": end}
        t0 = time.perf_counter()
        session.execute(base_sql, params).all()
        base_elapsed = (time.perf_counter() - t0) * 1000
        session.rollback()
        if i >= warmup:
            dash.values.append(elapsed)
            base.values.append(base_elapsed)
    return dash, base


def statements_of(db, session, code: str, period, explain: bool) -> list[tuple[str, float]]:
    """The statements one report runs and their time (ms); with `explain` their plans go to
    stderr (EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL, EXPLAIN QUERY PLAN on SQLite)."""
    from sqlalchemy import event, select

    from marketplace.regions.models import Region
    from marketplace.reports import figures
    region = session.scalars(select(Region).where(Region.code == code)).one()
    seen: list[tuple[str, object, float]] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        conn.info["bench_t0"] = time.perf_counter()

    def after(conn, cursor, statement, parameters, context, executemany):
        seen.append((statement, parameters, (time.perf_counter() - conn.info["bench_t0"]) * 1000))

    event.listen(db.engine, "before_cursor_execute", before)
    event.listen(db.engine, "after_cursor_execute", after)
    try:
        figures.report(session, region, period)
    finally:
        event.remove(db.engine, "before_cursor_execute", before)
        event.remove(db.engine, "after_cursor_execute", after)
    if explain:
        raw = session.connection().connection.driver_connection
        pg = db.engine.dialect.name == "postgresql"
        for statement, parameters, ms in seen:
            log(f"\n---- {ms:.1f} ms: {statement}\n     {parameters}")
            cur = raw.cursor()
            cur.execute(("EXPLAIN (ANALYZE, BUFFERS) " if pg else "EXPLAIN QUERY PLAN ")
                        + statement, parameters)
            for row in cur.fetchall():
                log("     " + " | ".join(str(c) for c in row))
    session.rollback()
    return [(" ".join(s.split())[:150], ms) for s, _p, ms in seen]


def page_timing(env, code: str, period, runs: int) -> tuple[Timing | None, str]:
    """GET /office/reports for the county as a platform admin (test client), if it exists."""
    with in_app(env, push=False) as (app, db):
        if not any(r.rule == "/office/reports" for r in app.url_map.iter_rules()):
            return None, "the route /office/reports does not exist (yet): not measured"
        with app.app_context():
            from sqlalchemy import select

            from marketplace.accounts.models import RoleGrant, User
            from marketplace.accounts.services import hash_password
            from marketplace.core.roles import Role
            from marketplace.core.time import now_utc
            login = "admin@bench-reports.test"
            if db.session.scalar(select(User.id).where(User.email == login)) is None:
                user = User(email=login, password_hash=hash_password(PASSWORD),
                            display_name="压测管理员", created_at=now_utc(), updated_at=now_utc())
                user.grants.append(RoleGrant(role=Role.platform_admin))
                db.session.add(user)
                db.session.commit()
        client = app.test_client()
        found = CSRF_RE.search(client.get("/login").get_data(as_text=True))
        token = (found.group(1) or found.group(2)) if found else ""
        resp = client.post("/login", data={"login": "admin@bench-reports.test",
                                           "password": PASSWORD, "csrf_token": token})
        if resp.status_code != 302:
            return None, f"sign-in answered {resp.status_code}: not measured"
        url = f"/office/reports?region={code}&period={period.name}"
        timing = Timing("page")
        for i in range(runs + 2):
            t0 = time.perf_counter()
            resp = client.get(url)
            elapsed = (time.perf_counter() - t0) * 1000
            if resp.status_code != 200:
                return None, f"GET {url} answered {resp.status_code}: not measured"
            if i >= 2:
                timing.values.append(elapsed)
        return timing, f"GET {url}"


def run_engine(engine: str, url: str, workdir: Path, args) -> Result:
    from sqlalchemy import func, select, text

    result = Result(engine)
    env = app_env(url, workdir / engine)
    (workdir / engine).mkdir(parents=True, exist_ok=True)
    log(f"[{engine}] migrating ...")
    run_flask(env, "db", "upgrade")
    with in_app(env) as (_app, db):
        from marketplace.core.time import today_china
        from marketplace.ledger import rollup
        from marketplace.ledger.models import (
            HouseholdPeriod,
            IncomeDay,
            IncomeMonth,
            LedgerEntry,
            SalesDay,
            SalesMonth,
        )
        from marketplace.orders.models import Order, OrderLine

        pg = db.engine.dialect.name == "postgresql"
        with db.engine.connect() as conn:
            result.version = conn.execute(text(
                "SELECT version()" if pg else "SELECT 'SQLite ' || sqlite_version()")).scalar()
        log(f"[{engine}] building {args.entries:,} entries ...")
        t0 = time.perf_counter()
        built = result.built = reports_ledger.build(
            db.engine, entries=args.entries, seed=args.seed, shape=reports_data.Shape(),
            today=today_china())
        built.seconds["total"] = time.perf_counter() - t0
        session = db.session
        kind = args.check if args.check != "auto" else (
            "full" if args.entries <= FULL_CHECK_MAX else "sample")
        log(f"[{engine}] checking the pre-aggregates ({kind}) ...")
        t0 = time.perf_counter()
        conn = session.connection()
        result.check = (rollup.check(conn) if kind == "full"
                        else reports_ledger.check_sample(conn, random.Random(args.seed + 1)))
        result.check_kind = f"{kind}, {time.perf_counter() - t0:.1f} s"
        session.rollback()
        for label, model in (("ledger_entries", LedgerEntry), ("income_days", IncomeDay),
                             ("sales_days", SalesDay), ("orders", Order),
                             ("order_lines", OrderLine), ("income_months", IncomeMonth),
                             ("sales_months", SalesMonth),
                             ("household_periods", HouseholdPeriod)):
            result.rows[label] = session.scalar(select(func.count()).select_from(model))
        session.rollback()

        rng = random.Random(args.seed + 2)
        counties = [code for _id, code in built.counties]
        sample = rng.sample(counties, min(args.counties, len(counties)))
        chosen = chosen_periods(today_china())
        plan = {name: [rng.choice(sample) for _ in range(args.warmup + args.runs)]
                for name in chosen}
        passes = [("as is", None)] + ([("with the proposed indexes", PROPOSED[engine])]
                                      if args.proposals else [])
        for label, indexes in passes:
            if indexes:
                log(f"[{engine}] creating the proposed indexes ...")
                result.proposal_s = add_indexes(db.engine, indexes)
            measured = Measured(label)
            for name, period in chosen.items():
                log(f"[{engine}] {label}: county dashboard and baseline, {name} {period.name}")
                measured.county[name] = measure(session, plan[name], period, args.warmup, 9,
                                                f"county {name}")
            for name, period in chosen.items():
                log(f"[{engine}] {label}: province dashboard and baseline, {name} "
                    f"{period.name}")
                measured.province[name] = measure(
                    session, [reports_data.PROVINCE[0]] * (args.province_warmup
                                                           + args.province_runs),
                    period, args.province_warmup, 4, f"province {name}")
            slowest = max(chosen, key=lambda n: measured.county[n][0].p(95))
            measured.statements_label = f"county {sample[0]}, {slowest} {chosen[slowest].name}"
            measured.statements = statements_of(db, session, sample[0], chosen[slowest],
                                                args.explain)
            if args.page_runs:
                log(f"[{engine}] {label}: the rendered page ...")
                measured.page, measured.page_note = page_timing(
                    env, sample[0], chosen["month"], args.page_runs)
            result.passes.append(measured)
    return result


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def report(results: list[Result], args) -> None:
    from marketplace.core.time import today_china
    chosen = chosen_periods(today_china())
    out = ["", "RESULTS",
           f"reports benchmark: {args.entries:,} ledger entries over 730 China days; county "
           f"dashboard over {args.counties} sampled counties, {args.runs} runs after "
           f"{args.warmup} warm-up per period; periods "
           + ", ".join(f"{k} {p.name}" for k, p in chosen.items())]
    for r in results:
        out.append(f"[{r.engine}] {r.version.split(' on ')[0]}")
        if r.skipped:
            out.append(f"  skipped: {r.skipped}")
            continue
        b = r.built
        levels = ", ".join(f"{b.regions.get(k, 0):,} {k}" for k in
                           ("province", "city", "county", "township", "village"))
        out.append(f"  regions            : {levels}")
        out.append(f"  households         : {b.households:,}; sellers "
                   + ", ".join(f"{n} {k}" for k, n in b.sellers.items()))
        out.append(f"  orders / lines     : {b.orders:,} / {b.lines:,} ({b.refunds:,} refunded "
                   f"in full); days {b.first_day} .. {b.last_day}")
        s = b.seconds
        out.append("  build              : " + ", ".join(f"{k} {v:.1f} s" for k, v in s.items())
                   + f" ({b.entries / s['orders']:,.0f} entries/s written with their orders)")
        out.append(f"  rows               : ledger_entries {r.rows['ledger_entries']:,}; "
                   f"income_days {r.rows['income_days']:,} "
                   f"({r.rows['income_days'] / r.rows['ledger_entries']:.3f} per entry); "
                   f"sales_days {r.rows['sales_days']:,} "
                   f"({r.rows['sales_days'] / r.rows['order_lines']:.3f} per order line);\n"
                   f"                       income_months {r.rows['income_months']:,}, "
                   f"sales_months {r.rows['sales_months']:,}, "
                   f"household_periods {r.rows['household_periods']:,}")
        state = "as rollup.derive implies" if not r.check else "DIFFER: " + r.check
        out.append(f"  pre-aggregates     : {state} ({r.check_kind})")
        if r.proposal_s:
            out.append(f"  proposed indexes   : created in {r.proposal_s:.1f} s: "
                       + "; ".join(PROPOSED[r.engine]))
        for m in r.passes:
            out += measured_lines(m, chosen)
    print("\n".join(out), flush=True)


def measured_lines(m: Measured, chosen) -> list[str]:
    out = [f"  -- {m.label}"]
    for title, data, child in (("county", m.county, "township"),
                               ("province", m.province, "city")):
        out.append(f"  {title} dashboard (figures.report) vs baseline (raw GROUP BY {child}):")
        for name, (dash, base) in data.items():
            ratio50 = dash.p(50) / base.p(50) if base.p(50) else 0
            ratio95 = dash.p(95) / base.p(95) if base.p(95) else 0
            out.append(f"    {name:<7} {chosen[name].name:<8} dashboard {dash.line()}")
            out.append(f"    {'':<16} baseline  {base.line()}")
            if title == "county":
                out.append(f"    {'':<16} ratio p50 {ratio50:.2f}, p95 {ratio95:.2f}; targets "
                           f"p95 <= {TARGET_COUNTY_MS:g} ms: "
                           f"{verdict(dash.p(95) <= TARGET_COUNTY_MS)}, <= {TARGET_RATIO}x "
                           f"baseline: {verdict(ratio95 <= TARGET_RATIO)}")
            else:
                out.append(f"    {'':<16} ratio p50 {ratio50:.2f}; target <= "
                           f"{TARGET_PROVINCE_MS:g} ms: "
                           f"{verdict(dash.p(95) <= TARGET_PROVINCE_MS)}")
    total = sum(ms for _s, ms in m.statements)
    out.append(f"  one report's statements ({m.statements_label}): {len(m.statements)}, "
               f"{total:.1f} ms in the database driver")
    for statement, ms in m.statements:
        out.append(f"    {ms:7.1f} ms  {statement}")
    if m.page is not None:
        out.append(f"  page ({m.page_note}): {m.page.line()}")
    elif m.page_note:
        out.append(f"  page: {m.page_note}")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engine", default="pg", choices=("pg", "sqlite", "both"))
    parser.add_argument("--pg-url", default=os.environ.get("MARKETPLACE_BENCH_PG_URL",
                                                           DEFAULT_PG_URL))
    parser.add_argument("--entries", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=20261203)
    parser.add_argument("--counties", type=int, default=20, help="counties sampled")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--province-runs", type=int, default=5)
    parser.add_argument("--province-warmup", type=int, default=1)
    parser.add_argument("--proposals", action=argparse.BooleanOptionalAction, default=True,
                        help="measure again with the proposed indexes (default: yes)")
    parser.add_argument("--page-runs", type=int, default=20, help="0: no page")
    parser.add_argument("--check", default="auto", choices=("auto", "full", "sample"),
                        help=f"the pre-aggregates against rollup.derive: auto is full up to "
                             f"{FULL_CHECK_MAX:,} entries, else a sample")
    parser.add_argument("--explain", action="store_true",
                        help="EXPLAIN ANALYZE the statements of one county report (stderr)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory and the PostgreSQL database")
    args = parser.parse_args(argv)
    if args.entries < 1000 or args.runs < 1:
        parser.error("--entries >= 1000 and --runs >= 1")
    engines = ["pg", "sqlite"] if args.engine == "both" else [args.engine]
    workdir = Path(tempfile.mkdtemp(prefix="bench-reports-"))
    results, failed = [], False
    t_start = time.perf_counter()
    try:
        for engine in engines:
            pg = None
            try:
                if engine == "pg":
                    pg = PgScratch(args.pg_url)
                    url = pg.create()
                    log(f"[pg] scratch database {pg.name} on {pg.url.host}")
                else:
                    url = f"sqlite:///{workdir / 'bench.sqlite3'}"
                results.append(run_engine(engine, url, workdir, args))
            except Skip as exc:
                results.append(Result(engine, skipped=str(exc)))
            except Exception as exc:  # noqa: BLE001 (report it, go on, exit 1)
                log(f"[{engine}] FAILED:\n{traceback.format_exc()}")
                results.append(Result(engine, skipped=f"FAILED: {exc}"[:500], failed=True))
            finally:
                if pg is not None:
                    if args.keep:
                        log(f"kept the PostgreSQL database {pg.name}")
                    else:
                        pg.drop()
        report(results, args)
        failed = any(r.failed or r.check for r in results)
        log(f"total wall time: {time.perf_counter() - t_start:.0f} s")
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
