#!/usr/bin/env python
"""Checkout benchmark: create an order and pay it over the HTTP API, against plain inserts.

    .venv/bin/python bench/checkout.py [--engines sqlite,pg] [--orders 2000] [--concurrency 16]

For each engine (SQLite, and PostgreSQL in a scratch database of its own):

1. Builds a fresh database through the migrations (`flask db upgrade`) and the demo data
   (`flask seed demo`), with MARKETPLACE_MODE=demo and MARKETPLACE_SEARCH_SYNC=off (no search
   indexing after the requests), then adds in-process (bench/checkout_fixtures.py) N buyers with
   a known password and the benchmark's products of a verified demo seller that has staff
   (an enterprise: the products are lot-backed, with supply lots covering their stock, so every
   payment also draws on a lot and posts the households' income to the ledger).
2. Serves it with gunicorn (2 sync workers by default) on 127.0.0.1 and a free port, takes a
   bearer token per buyer (POST /api/v1/auth/token), and runs C client threads (one buyer each,
   http.client): POST /api/v1/orders (one unit of a product, an address, a fresh idempotency
   key), then POST /api/v1/orders/{id}/payments {"provider": "simulated"}. A short warm-up, then
   --orders attempts are measured: paid orders per second, and p50/p95/p99 latency of the pair
   and of each call. Every answer other than 201/200 is counted by status and error code.
3. Oversell: a second product with a small stock (--oversell-stock, 50) gets more attempts
   (--oversell-attempts, 200) at the same concurrency; afterwards the database must show, for
   each product, sold units (lines of orders not cancelled) = initial - remaining stock (the
   free units), remaining >= 0, sold <= initial, and held units = those of unpaid orders. The
   oversell count is the units sold beyond the stock.
4. Floor: with the server stopped, the same rows one paid order writes (stock UPDATE, checkout,
   order, line, two events, payment, notifications, search outbox row, the lot draw and the
   ledger entry with its head) are inserted --orders times with plain SQLAlchemy Core on the
   app's tables and engine, one transaction per order, from one thread. Prints orders/s and the
   ratio HTTP paid orders/s / floor orders/s. Then `ledger verify` over every entry of the run.

A RESULTS block on stdout ends the run (with the CPU used during the load phase by the workers,
the PostgreSQL backends, the clients and other processes); progress goes to stderr. The target
(>= 100 paid orders/s on PostgreSQL) is reported as met or MISSED; with --profile (or by default
when it is missed, on PostgreSQL only) create+pay pairs are profiled in-process: the SQL
statements of each request and the time spent in them, CPU time per part of the services, and
cProfile's top functions. Timings are never asserted: the exit status is 0 unless the benchmark
fails, a server answers 5xx or drops connections, or the oversell check finds units sold beyond
the stock or stock that does not add up (1).

PostgreSQL: --pg-url (or MARKETPLACE_BENCH_PG_URL; default
postgresql+psycopg://marketplace:marketplace@127.0.0.1/marketplace_bench) names the scratch
database to create; the role needs CREATEDB. The database is created with a comment that marks
it as this benchmark's, so that a leftover of an interrupted run is dropped and recreated, and
any other existing database of that name is refused. When the server cannot be reached, the
PostgreSQL run is skipped with a message. The servers are stopped, the scratch database dropped
and the temporary directory deleted at the end, also on errors and Ctrl-C (unless --keep).
"""
from __future__ import annotations

import argparse
import cProfile
import http.client
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import uuid
from collections import Counter
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import storefront
from bench.pyload import percentile
from bench.storefront import Server, log_profile, stop_server

HOST = "127.0.0.1"
TARGET_PG = 100.0  # paid orders per second on PostgreSQL
DEFAULT_PG_URL = "postgresql+psycopg://marketplace:marketplace@127.0.0.1/marketplace_bench"
DB_MARKER = "scratch database of bench/checkout.py"
REFUSED_DB_NAMES = {"marketplace", "marketplace_test", "postgres", "template0", "template1"}
ADDRESS = {"recipient": "王小红", "mobile": "13912345678", "region_code": "431224",
           "detail": "卢峰镇建设路8号"}
READY_PATH = "/api/v1/categories"
FLASK = [sys.executable, "-m", "flask", "--app", "marketplace:create_app"]


def log(message: str = "") -> None:
    print(message, file=sys.stderr, flush=True)


class Skip(Exception):
    """This engine cannot run here (e.g. PostgreSQL unreachable); the others go on."""


# --------------------------------------------------------------------------- databases


def app_env(url: str, instance: Path) -> dict[str, str]:
    return {
        "MARKETPLACE_MODE": "demo",
        "MARKETPLACE_DATABASE_URL": url,
        "MARKETPLACE_INSTANCE_PATH": str(instance),
        "MARKETPLACE_UPLOAD_FOLDER": str(instance / "uploads"),
        "MARKETPLACE_SEARCH_ROOT": str(instance / "search"),
        "MARKETPLACE_SEARCH_SYNC": "off",
    }


def run_flask(env: dict[str, str], *args: str, timeout: float = 600) -> str:
    done = subprocess.run([*FLASK, *args], env={**os.environ, **env}, cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"`flask {' '.join(args)}` failed ({done.returncode}):\n"
                           f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done.stdout


class PgScratch:
    """Creates the scratch database named by `url` (marked by a comment) and drops it again."""

    def __init__(self, url: str):
        from sqlalchemy.engine import make_url
        self.url = make_url(url)
        self.name = self.url.database or ""
        if not self.url.drivername.startswith("postgresql"):
            raise SystemExit(f"--pg-url must be a postgresql URL, not {self.url.drivername}")
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", self.name) or self.name in REFUSED_DB_NAMES:
            raise SystemExit(f"refusing to use the database name {self.name!r} as a scratch "
                             "database (lower-case letters, digits, _; not a project database)")
        self.admin = None
        self.created = False

    def _admin_engine(self):
        from sqlalchemy import create_engine, text
        from sqlalchemy.exc import OperationalError
        last = None
        for maintenance in ("postgres", "template1", "marketplace"):
            engine = create_engine(self.url.set(database=maintenance),
                                   isolation_level="AUTOCOMMIT", pool_pre_ping=True)
            try:
                with engine.connect() as conn:
                    conn.execute(text("SELECT 1"))
                return engine
            except OperationalError as exc:
                last = exc
                engine.dispose()
        raise Skip(f"PostgreSQL at {self.url.host}:{self.url.port or 5432} cannot be reached as "
                   f"{self.url.username}: {str(last).splitlines()[0] if last else '?'}")

    def create(self) -> str:
        from sqlalchemy import text
        self.admin = self._admin_engine()
        with self.admin.connect() as conn:
            row = conn.execute(text(
                "SELECT shobj_description(oid, 'pg_database') FROM pg_database "
                "WHERE datname = :n"), {"n": self.name}).first()
            if row is not None:
                if row[0] != DB_MARKER:
                    raise SystemExit(f"database {self.name} exists and is not a scratch database "
                                     "of this benchmark: pass another --pg-url")
                log(f"  dropping the leftover scratch database {self.name}")
                _drop_database(conn, self.name)
            conn.execute(text(f'CREATE DATABASE "{self.name}" ENCODING \'UTF8\' '
                              "TEMPLATE template0"))
            self.created = True
            conn.execute(text(f"COMMENT ON DATABASE \"{self.name}\" IS '{DB_MARKER}'"))
        return self.url.render_as_string(hide_password=False)

    def drop(self) -> None:
        if self.admin is None:
            return
        if self.created:
            with self.admin.connect() as conn:
                _drop_database(conn, self.name)
            self.created = False
        self.admin.dispose()
        self.admin = None


def _drop_database(conn, name: str, tries: int = 30) -> None:
    """DROP DATABASE ... WITH (FORCE), waiting while a server process our role may not end
    (autovacuum, after a million inserts) still works in it."""
    from sqlalchemy import text
    from sqlalchemy.exc import OperationalError, ProgrammingError
    for attempt in range(tries):
        try:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            return
        except (OperationalError, ProgrammingError):
            conn.rollback()
            if attempt == tries - 1:
                raise
            time.sleep(2)


@contextmanager
def in_app(env: dict[str, str], *, push: bool = True):
    """The app on the bench database (create_app reads the MARKETPLACE_* variables), inside an
    app context unless `push` is false (then requests of the test client get their own)."""
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    try:
        from marketplace import create_app
        from marketplace.extensions import db
        app = create_app()
        if push:
            with app.app_context():
                try:
                    yield app, db
                finally:
                    db.session.remove()
                    db.engine.dispose()
        else:
            try:
                yield app, db
            finally:
                with app.app_context():
                    db.session.remove()
                    db.engine.dispose()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


# --------------------------------------------------------------------------- server


def start_server(name: str, env: dict[str, str], workdir: Path, *, workers: int) -> Server:
    """The app under gunicorn with `workers` sync workers (bench/storefront.py starts it)."""
    return storefront.start_server(name, "marketplace:create_app()", env, workdir,
                                   workers=workers, worker_class="sync", threads=1,
                                   ready_path=READY_PATH)


ERROR_START = re.compile(r"^(ERROR:|CRITICAL:|\[[^]]+\] \[\d+\] \[(ERROR|CRITICAL)\])")
RECORD_START = re.compile(r"^([A-Z]+:[\w.]+:|\[[^]]+\] \[\d+\] \[[A-Z]+\])")


def server_errors(logfile: Path) -> list[str]:
    """The error records of a gunicorn log (app logger ERROR lines with their tracebacks,
    gunicorn's own [ERROR]/[CRITICAL] lines such as worker timeouts)."""
    try:
        lines = logfile.read_text(errors="replace").splitlines()
    except OSError:
        return []
    records: list[list[str]] = []
    current: list[str] | None = None
    for line in lines:
        if ERROR_START.match(line):
            current = [line]
            records.append(current)
        elif RECORD_START.match(line):
            current = None
        elif current is not None:
            current.append(line)
    return ["\n".join(r) for r in records]


def request(port: int, method: str, path: str, body: dict | None = None, *,
            token: str | None = None, timeout: float = 30.0) -> tuple[int, dict | None, float]:
    """One request on a new connection (gunicorn's sync workers close every connection);
    returns the status, the JSON body (None if not JSON) and the milliseconds it took."""
    headers = {"Accept": "application/json"}
    data = None
    if body is not None:
        data = json.dumps(body, ensure_ascii=False).encode()
        headers["Content-Type"] = "application/json"
    if token:
        headers["Authorization"] = f"Bearer {token}"
    t0 = time.perf_counter()
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers)
        resp = conn.getresponse()
        raw = resp.read()
    finally:
        conn.close()
    ms = (time.perf_counter() - t0) * 1000
    try:
        parsed = json.loads(raw) if raw else None
    except ValueError:
        parsed = None
    return resp.status, parsed if isinstance(parsed, dict) else None, ms


def get_tokens(port: int, logins: list[str], password: str) -> list[str]:
    tokens = []
    for login in logins:
        status, body, _ = request(port, "POST", "/api/v1/auth/token",
                                  {"login": login, "password": password})
        if status != 200 or not body or "token" not in body:
            raise RuntimeError(f"no token for {login}: HTTP {status} {body}")
        tokens.append(body["token"])
    return tokens


# --------------------------------------------------------------------------- CPU


TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime
    except (OSError, IndexError, ValueError):
        return None


def _children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == pid:
                    out.append(int(entry.name))
            except (OSError, IndexError, ValueError):
                pass
    return out


def _machine_busy() -> tuple[int, int]:
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)
    return sum(values[:8]) - idle, sum(values[:8])


class CpuMeter:
    """CPU seconds used during a phase by the gunicorn workers, the database's server processes
    for the bench database (PostgreSQL backends), this script (the clients) and the machine."""

    def __init__(self, groups: dict[str, list[int]]):
        self.groups = groups
        self.ok = Path("/proc/stat").exists()
        if self.ok:
            self.start = {k: sum(_proc_ticks(p) or 0 for p in v) for k, v in groups.items()}
            self.busy0, self.total0 = _machine_busy()
            self.self0 = sum(os.times()[:2])
            self.t0 = time.perf_counter()

    def stop(self, paid: int) -> str:
        """Cores used by each group during the phase, and CPU milliseconds per paid order."""
        if not self.ok:
            return "n/a (no /proc)"
        wall = time.perf_counter() - self.t0
        busy, total = _machine_busy()
        cores = os.cpu_count() or 1
        machine = (busy - self.busy0) / max(1, total - self.total0) * cores
        used = {name: (sum(_proc_ticks(p) or 0 for p in pids) - self.start[name]) / TICK
                for name, pids in self.groups.items()}
        used["clients (this script)"] = sum(os.times()[:2]) - self.self0
        ours = sum(used.values()) / wall
        parts = [f"{name} {sec / wall:.2f} cores"
                 + (f" = {sec / paid * 1000:.1f} ms per paid order" if paid else "")
                 for name, sec in used.items()]
        return (f"machine {machine:.2f} of {cores} cores busy; " + ", ".join(parts)
                + f"; other processes ~{max(0.0, machine - ours):.2f} cores")


# --------------------------------------------------------------------------- load


@dataclass
class Phase:
    label: str
    attempts: int = 0
    paid: int = 0
    insufficient: int = 0
    seconds: float = 0.0
    pair_ms: list[float] = field(default_factory=list)  # create + pay, paid orders only
    create_ms: list[float] = field(default_factory=list)
    pay_ms: list[float] = field(default_factory=list)
    errors: Counter = field(default_factory=Counter)  # "POST /orders 500 internal_error" -> n
    samples: list[str] = field(default_factory=list)  # first few unexpected answers
    paid_ids: list[int] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.paid / self.seconds if self.seconds else 0.0

    def pct(self, values: list[float], q: float) -> float:
        return percentile(sorted(values), q)

    @property
    def broken(self) -> int:
        """Answers that mean something is wrong: 5xx and dropped connections."""
        return sum(n for k, n in self.errors.items()
                   if re.search(r" 5\d\d ", k) or " transport " in k)


def _error_key(call: str, status: int, body: dict | None) -> str:
    code = ((body or {}).get("error") or {}).get("code", "-")
    return f"{call} {status} {code}"


def run_phase(port: int, label: str, tokens: list[str], product_ids: list[int], attempts: int,
              concurrency: int, *, progress: bool = True) -> Phase:
    """`attempts` create+pay pairs from `concurrency` threads, thread i as buyer i % len(tokens)
    on product i % len(product_ids); bounded by count, not time."""
    phase = Phase(label)
    lock = threading.Lock()
    issued = [0]
    start = time.perf_counter()

    def note(key: str, sample: str) -> None:
        with lock:
            phase.errors[key] += 1
            if len(phase.samples) < 8:
                phase.samples.append(sample[:400])

    def worker(slot: int) -> None:
        token = tokens[slot % len(tokens)]
        product = product_ids[slot % len(product_ids)]
        create_ms, pay_ms, pair_ms, paid_ids = [], [], [], []
        paid = insufficient = 0
        while True:
            with lock:
                if issued[0] >= attempts:
                    break
                issued[0] += 1
            order = {"lines": [{"product_id": product, "quantity": 1}], "address": ADDRESS,
                     "idempotency_key": uuid.uuid4().hex}
            try:
                status, body, ms1 = request(port, "POST", "/api/v1/orders", order, token=token)
            except (OSError, http.client.HTTPException) as exc:
                note(f"POST /orders transport {type(exc).__name__}", repr(exc))
                time.sleep(0.05)
                continue
            create_ms.append(ms1)
            if status != 201:
                if status == 409 and _error_key("", status, body).endswith("insufficient_stock"):
                    insufficient += 1
                else:
                    note(_error_key("POST /orders", status, body), f"{status} {body}")
                continue
            order_id = body["orders"][0]["id"]
            try:
                status, body, ms2 = request(port, "POST", f"/api/v1/orders/{order_id}/payments",
                                            {"provider": "simulated"}, token=token)
            except (OSError, http.client.HTTPException) as exc:
                note(f"POST /payments transport {type(exc).__name__}", repr(exc))
                time.sleep(0.05)
                continue
            pay_ms.append(ms2)
            if status == 200 and body and body["order"]["status"] == "paid" \
                    and body["payment"]["status"] == "succeeded":
                paid += 1
                pair_ms.append(ms1 + ms2)
                paid_ids.append(order_id)
            else:
                note(_error_key("POST /payments", status, body), f"{status} {body}")
        with lock:
            phase.create_ms += create_ms
            phase.pay_ms += pay_ms
            phase.pair_ms += pair_ms
            phase.paid_ids += paid_ids
            phase.paid += paid
            phase.insufficient += insufficient

    threads = [threading.Thread(target=worker, args=(i,), daemon=True, name=f"client-{i}")
               for i in range(concurrency)]
    for t in threads:
        t.start()
    next_report = time.perf_counter() + 3
    while any(t.is_alive() for t in threads):
        time.sleep(0.2)
        if progress and time.perf_counter() >= next_report:
            elapsed = time.perf_counter() - start
            log(f"    {label}: {min(issued[0], attempts)}/{attempts} attempts in {elapsed:.0f} s")
            next_report += 3
    phase.seconds = time.perf_counter() - start
    phase.attempts = attempts
    return phase


# --------------------------------------------------------------------------- profile


@contextmanager
def _part_timers():
    """Wrap the parts of create and pay (in this process only, undone afterwards) to add up
    the CPU and wall time spent in each: {label: [calls, cpu seconds, wall seconds]}."""
    from sqlalchemy.orm import Session

    from marketplace.api import common
    from marketplace.api import orders as api_orders
    from marketplace.orders import reading, services
    from marketplace.payments import capture, payables

    parts: dict[str, list] = {}
    targets = [(common, "api_user", "auth: api_user (token, user, grants)"),
               (services, "checkout", "services.checkout"),
               (services, "_products", "  checkout: _products (with sellers, region)"),
               (services, "_clean_address", "  checkout: _clean_address"),
               (services, "_reserve", "  checkout: _reserve (stock, outbox)"),
               (services, "_make_orders", "  checkout: _make_orders (orders, lines, events)"),
               (reading, "order_for", "pay: reading.order_for"),
               (capture, "record", "payments.capture.record"),
               (payables.OrderPayable, "take", "  record: OrderPayable.take (payment, order)"),
               (payables.OrderPayable, "after_paid", "  record: after_paid (ledger posting)"),
               (api_orders, "order_json", "order_json (both calls)"),
               (Session, "commit", "session.commit (both calls)")]
    saved = []

    def wrap(func, label):
        def timed(*a, **kw):
            c0, w0 = time.process_time(), time.perf_counter()
            try:
                return func(*a, **kw)
            finally:
                entry = parts.setdefault(label, [0, 0.0, 0.0])
                entry[0] += 1
                entry[1] += time.process_time() - c0
                entry[2] += time.perf_counter() - w0
        return timed

    for owner, name, label in targets:
        original = owner.__dict__[name]
        saved.append((owner, name, original))
        setattr(owner, name, wrap(original, label))
    try:
        yield parts
    finally:
        for owner, name, original in saved:
            setattr(owner, name, original)


def profile_in_process(env: dict[str, str], fx, product_id: int, pairs: int = 60) -> None:
    """One create+pay pair in one process through the test client (no HTTP server): the SQL
    statements each request runs and the time spent in them, and cProfile's top functions."""
    from sqlalchemy import event

    with in_app(env, push=False) as (app, db):
        with app.app_context():
            engine = db.engine
        client = app.test_client()
        login = fx.buyers[0][1]
        from bench.checkout_fixtures import PASSWORD
        token = client.post("/api/v1/auth/token",
                            json={"login": login, "password": PASSWORD}).get_json()["token"]
        auth = {"Authorization": f"Bearer {token}"}

        current = ["create"]

        def pair() -> tuple[float, float]:
            current[0] = "create"
            t0 = time.perf_counter()
            r = client.post("/api/v1/orders", headers=auth, json={
                "lines": [{"product_id": product_id, "quantity": 1}], "address": ADDRESS,
                "idempotency_key": uuid.uuid4().hex})
            t1 = time.perf_counter()
            if r.status_code != 201:
                raise RuntimeError(f"profile: create answered {r.status_code} {r.get_json()}")
            oid = r.get_json()["orders"][0]["id"]
            current[0] = "pay"
            r = client.post(f"/api/v1/orders/{oid}/payments", headers=auth,
                            json={"provider": "simulated"})
            if r.status_code != 200:
                raise RuntimeError(f"profile: pay answered {r.status_code} {r.get_json()}")
            return t1 - t0, time.perf_counter() - t1

        for _ in range(10):
            pair()
        stats: dict[str, list[float]] = {}
        seen: list[tuple[str, str, float]] = []
        starts: dict[int, float] = {}

        def before(conn, cursor, statement, parameters, context, executemany):
            starts[id(cursor)] = time.perf_counter()

        def after(conn, cursor, statement, parameters, context, executemany):
            elapsed = time.perf_counter() - starts.pop(id(cursor), time.perf_counter())
            seen.append((current[0], " ".join(statement.split()), elapsed))

        event.listen(engine, "before_cursor_execute", before)
        event.listen(engine, "after_cursor_execute", after)
        t_create = t_pay = 0.0
        try:
            for _ in range(pairs):
                a, b = pair()
                t_create += a
                t_pay += b
        finally:
            event.remove(engine, "before_cursor_execute", before)
            event.remove(engine, "after_cursor_execute", after)
        for call, stmt, elapsed in seen:
            stats.setdefault(f"{call}\t{stmt}", []).append(elapsed)

        log(f"\nIn-process profile on {engine.dialect.name} ({pairs} create+pay pairs, one "
            "thread, test client, no HTTP server):")
        log(f"  create: {t_create / pairs * 1000:6.2f} ms/request   pay: "
            f"{t_pay / pairs * 1000:6.2f} ms/request")
        total_sql = sum(e for _, _, e in seen)
        log(f"  SQL: {len(seen) / pairs:.1f} statements per pair, "
            f"{total_sql / pairs * 1000:.2f} ms per pair in cursor.execute "
            f"(of {(t_create + t_pay) / pairs * 1000:.2f} ms)")
        rows = sorted(stats.items(), key=lambda kv: -sum(kv[1]))
        for call in ("create", "pay"):
            mine = [e for c, _, e in seen if c == call]
            log(f"  {call}: {len(mine) / pairs:.1f} statements, "
                f"{sum(mine) / pairs * 1000:.2f} ms in cursor.execute per request")
        for key, times in rows[:30]:
            call, stmt = key.split("\t", 1)
            short = stmt if len(stmt) <= 140 else stmt[:90] + " ... " + stmt[-45:]
            log(f"    {call:6s} {len(times) / pairs:4.1f}x {sum(times) / pairs * 1000:6.3f} ms  "
                f"{short}")

        log(f"  CPU time per part ({pairs} pairs; nested parts are included in their callers):")
        with _part_timers() as parts:
            for _ in range(pairs):
                pair()
        for label, (calls, cpu, wall) in sorted(parts.items(), key=lambda kv: -kv[1][1]):
            log(f"    {label:34s} {calls / pairs:4.1f}x  CPU {cpu / pairs * 1000:6.2f} ms  "
                f"wall {wall / pairs * 1000:6.2f} ms per pair")

        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(pairs):
            pair()
        profiler.disable()
        log_profile(profiler, "cumulative", 35, f"{pairs} pairs", write=log)
        log_profile(profiler, "tottime", 20, f"{pairs} pairs", write=log)


# --------------------------------------------------------------------------- one engine


@dataclass
class EngineResult:
    engine: str
    load: Phase | None = None
    oversell_phase: Phase | None = None
    checks: list = field(default_factory=list)  # StockCheck per product
    floor: object | None = None  # FloorResult
    http_rows: dict[str, float] = field(default_factory=dict)
    server_errors: list[str] = field(default_factory=list)  # tracebacks in the gunicorn log
    skipped: str = ""
    failed: bool = False
    seconds: float = 0.0
    loadavg: float = 0.0  # 1-minute load average before the load phase
    cpu: str = ""  # who used the CPU during the load phase
    ledger: str = ""  # `ledger verify` over every entry the run posted

    @property
    def oversell(self) -> int:
        return sum(c.oversell for c in self.checks)

    @property
    def consistent(self) -> bool:
        return all(c.consistent for c in self.checks)

    @property
    def ratio(self) -> float:
        if self.load is None or self.floor is None or not self.floor.rate:
            return 0.0
        return self.load.rate / self.floor.rate


def run_engine(engine: str, url: str, workdir: Path, args, pg: PgScratch | None) -> EngineResult:
    from sqlalchemy import create_engine, text

    from bench import checkout_fixtures as cf

    result = EngineResult(engine)
    t_engine = time.perf_counter()
    instance = workdir / engine
    instance.mkdir(parents=True, exist_ok=True)
    env = app_env(url, instance)
    log(f"[{engine}] migrating and seeding the demo data ...")
    t0 = time.perf_counter()
    run_flask(env, "db", "upgrade")
    run_flask(env, "seed", "demo", "--image-size", "32")
    load_stock = args.orders + args.warmup + 100
    with in_app(env) as (_app, db):
        if not cf.region_exists(db.session, ADDRESS["region_code"]):
            raise RuntimeError(f"region {ADDRESS['region_code']} is not in the demo data")
        fx = cf.make_fixtures(db.session, buyers=max(args.buyers, args.concurrency), products={
            "load": [load_stock] * args.products, "oversell": [args.oversell_stock],
            "floor": [args.orders + 10], "profile": [1000]})
        db.session.commit()
    log(f"  done in {time.perf_counter() - t0:.1f} s: {len(fx.buyers)} buyers, products "
        f"{fx.products} of seller {fx.seller_id} {fx.seller_name} "
        f"({len(fx.staff_ids)} staff)")

    probe = create_engine(url, pool_pre_ping=True)  # counts and checks, outside the app
    server = None
    try:
        server = start_server(engine, env, workdir, workers=args.workers)
        log(f"  gunicorn: {args.workers} sync workers on {HOST}:{server.port}")
        tokens = get_tokens(server.port, [login for _, login in fx.buyers], cf.PASSWORD)
        log(f"  {len(tokens)} bearer tokens")
        load_ids = fx.products["load"]
        if args.warmup:
            warm = run_phase(server.port, "warm-up", tokens, load_ids, args.warmup,
                             args.concurrency, progress=False)
            log(f"  warm-up: {warm.paid}/{warm.attempts} paid, errors {dict(warm.errors) or 0}")
        with probe.connect() as conn:
            before = cf.table_counts(conn)
        result.loadavg = os.getloadavg()[0]
        groups = {"gunicorn workers": _children(server.proc.pid)}
        if engine == "pg":
            with probe.connect() as conn:
                groups["postgres backends"] = list(conn.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
                    "AND pid <> pg_backend_pid()")).scalars())
        meter = CpuMeter(groups)
        log(f"  load: {args.orders} create+pay attempts at concurrency {args.concurrency} ...")
        result.load = run_phase(server.port, "load", tokens, load_ids, args.orders,
                                args.concurrency)
        result.cpu = meter.stop(result.load.paid)
        log(f"  CPU during the load phase: {result.cpu}")
        log(f"  load: {result.load.paid} paid in {result.load.seconds:.1f} s = "
            f"{result.load.rate:.1f}/s (1-min load average before {result.loadavg:.2f}, after "
            f"{os.getloadavg()[0]:.2f})")
        with probe.connect() as conn:
            after = cf.table_counts(conn)
        if result.load.paid:
            result.http_rows = {k: (after[k] - before[k]) / result.load.paid for k in after}

        log(f"  oversell: {args.oversell_attempts} attempts on a stock of "
            f"{args.oversell_stock} ...")
        result.oversell_phase = run_phase(
            server.port, "oversell", tokens, fx.products["oversell"], args.oversell_attempts,
            args.concurrency)
        ov = result.oversell_phase
        log(f"  oversell: {ov.paid} paid, {ov.insufficient} insufficient_stock, "
            f"errors {dict(ov.errors) or 0}")
        if server.proc.poll() is not None:
            raise RuntimeError(f"gunicorn died under load:\n{server.log_tail()}")
    finally:
        stop_server(server)
    if server is not None:
        result.server_errors = server_errors(server.logfile)

    with probe.connect() as conn:
        for role in ("load", "oversell"):
            for pid in fx.products[role]:
                result.checks.append(cf.stock_check(conn, pid, fx.stock[pid]))
    probe.dispose()

    log(f"  floor: {args.orders} paid orders as plain inserts, one thread ...")
    with in_app(env) as (_app, db):
        result.floor = cf.floor(db.engine, fx, fx.products["floor"][0], args.orders,
                                region_code=ADDRESS["region_code"], progress=log)
    log(f"  floor: {result.floor.rate:.1f} orders/s")
    with in_app(env) as (_app, db):
        from marketplace.ledger import chain as ledger
        verdict = ledger.verify(db.session)
        result.ledger = (f"{verdict.entries} entries verified" if verdict.ok else
                         f"BROKEN at entry {verdict.seq}: {verdict.problem}")
    log(f"  ledger: {result.ledger}")
    missed = engine == "pg" and result.load.rate < TARGET_PG
    if args.profile or (args.profile is None and missed):
        profile_in_process(env, fx, fx.products["profile"][0])
    result.seconds = time.perf_counter() - t_engine
    return result


# --------------------------------------------------------------------------- report


def report(results: list[EngineResult], args) -> None:
    def ms(phase: Phase, values: list[float]) -> str:
        return " / ".join(f"{phase.pct(values, q):.1f}" for q in (50, 95, 99))

    out = ["", "RESULTS",
           (f"checkout benchmark: gunicorn {args.workers} sync workers, concurrency "
           f"{args.concurrency}, {args.orders} measured create+pay attempts per engine "
           f"(after {args.warmup} warm-up), {os.cpu_count()} CPUs, "
           f"{platform.python_implementation()} {platform.python_version()}")]
    for r in results:
        if r.skipped:
            out.append(f"[{r.engine}] {'' if r.failed else 'SKIPPED: '}{r.skipped}")
            continue
        ld, ov = r.load, r.oversell_phase
        out.append(f"[{r.engine}]")
        out.append(f"  paid orders/s          : {ld.rate:.1f}  ({ld.paid} paid of {ld.attempts} "
                   f"attempts in {ld.seconds:.1f} s)")
        out.append(f"  create+pay p50/p95/p99 : {ms(ld, ld.pair_ms)} ms")
        out.append(f"  create     p50/p95/p99 : {ms(ld, ld.create_ms)} ms")
        out.append(f"  pay        p50/p95/p99 : {ms(ld, ld.pay_ms)} ms")
        out.append(f"  CPU during load        : {r.cpu}; 1-min load average before "
                   f"{r.loadavg:.2f}")
        out.append(f"  load errors            : {dict(ld.errors) or 'none'}"
                   + (f"; insufficient_stock {ld.insufficient}" if ld.insufficient else ""))
        out.append(f"  oversell phase         : {ov.attempts} attempts on stock "
                   f"{args.oversell_stock}: {ov.paid} paid, {ov.insufficient} insufficient_stock,"
                   f" errors {dict(ov.errors) or 'none'}")
        for c in r.checks:
            out.append(f"    product {c.product_id}: initial {c.initial}, remaining {c.remaining}, "
                       f"held {c.held} (unpaid orders hold {c.holding}), "
                       f"sold {c.sold} (paid orders {c.paid_orders}, payments {c.payments}): "
                       f"{'consistent' if c.consistent else 'INCONSISTENT'}")
        out.append(f"  oversell               : {r.oversell}")
        out.append(f"  floor orders/s         : {r.floor.rate:.1f}  ({r.floor.orders} orders in "
                   f"{r.floor.seconds:.1f} s, one thread, plain inserts)")
        out.append(f"  ratio HTTP/floor       : {r.ratio:.2f}")
        out.append(f"  households' ledger     : {r.ledger}")
        rows_http = ", ".join(f"{k} {v:g}" for k, v in r.http_rows.items())
        rows_floor = ", ".join(f"{k} {v:g}" for k, v in r.floor.rows_per_order.items())
        out.append(f"  rows per paid order    : HTTP {rows_http}")
        out.append(f"                           floor {rows_floor}")
        if r.server_errors:
            out.append(f"  server log: {len(r.server_errors)} error(s); first:")
            out += ["    " + ln for ln in r.server_errors[0].splitlines()[-25:]]
        for s in (ld.samples + ov.samples)[:3]:
            out.append(f"  sample unexpected answer: {s}")
        out.append(f"  engine wall time       : {r.seconds:.0f} s")
    pg = next((r for r in results if r.engine == "pg" and not r.skipped), None)
    if pg is None:
        out.append(f"Target: >= {TARGET_PG:g} paid orders/s on PostgreSQL: not measured")
    else:
        verdict = "met" if pg.load.rate >= TARGET_PG else "MISSED"
        out.append(f"Target: >= {TARGET_PG:g} paid orders/s on PostgreSQL: {verdict} "
                   f"({pg.load.rate:.1f})")
    print("\n".join(out), flush=True)


# --------------------------------------------------------------------------- main

def twin_settings(text: str) -> list[str]:
    """--twins: SQL_TWINS settings separated by ';' (each a value core.db.configure_twins
    takes: all, none, or twin names separated by commas)."""
    return [t.strip() for t in text.split(";") if t.strip()] or ["all"]


def compare_twins(results, figure, unit: str) -> None:
    """With several --twins settings: each run's `figure` against the engine's run with every
    twin ('all'), the 15% rule of docs/architecture.md in numbers."""
    base = {r.engine: figure(r) for r in results if " " not in r.engine}
    lines = []
    for r in results:
        engine = r.engine.split(" ")[0]
        if " " in r.engine and figure(r) and base.get(engine):
            lines.append(f"  {r.engine:<40}: {figure(r):,.1f} {unit}, twins (all) "
                         f"{base[engine]:,.1f}: the twins make it {base[engine] / figure(r):.2f}x")
    if lines:
        print("TWINS (see docs/architecture.md: a twin stays if its path is >= 1.15x faster)")
        print("\n".join(lines), flush=True)



def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--engines", default="sqlite,pg",
                        help="comma-separated: sqlite, pg (default: both)")
    parser.add_argument("--pg-url", default=os.environ.get("MARKETPLACE_BENCH_PG_URL",
                                                           DEFAULT_PG_URL),
                        help="scratch PostgreSQL database to create and drop "
                             "(env MARKETPLACE_BENCH_PG_URL)")
    parser.add_argument("--orders", type=int, default=2000, help="measured create+pay attempts")
    parser.add_argument("--warmup", type=int, default=64, help="unmeasured attempts first")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--buyers", type=int, default=16,
                        help="buyers with a token (at least --concurrency)")
    parser.add_argument("--products", type=int, default=1,
                        help="products the load phase spreads its orders over")
    parser.add_argument("--oversell-stock", type=int, default=50)
    parser.add_argument("--oversell-attempts", type=int, default=200)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn sync workers")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                        help="profile in-process (default: only when the PostgreSQL target is "
                             "missed)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the temporary directory and the PostgreSQL database")
    parser.add_argument("--twins", default="all",
                        help="SQL_TWINS settings to compare, separated by ';' (e.g. "
                             "'all;none;ledger.draw'): each engine runs once per setting")
    args = parser.parse_args(argv)
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if not engines or set(engines) - {"sqlite", "pg"}:
        parser.error("--engines takes sqlite and/or pg")
    if args.orders < 1 or args.concurrency < 1 or args.products < 1 or args.oversell_stock < 1 \
            or args.oversell_attempts <= args.oversell_stock:
        parser.error("need --orders, --concurrency, --products, --oversell-stock >= 1 and "
                     "--oversell-attempts > --oversell-stock")

    def _terminate(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)

    workdir = Path(tempfile.mkdtemp(prefix="bench-checkout-"))
    results: list[EngineResult] = []
    pg: PgScratch | None = None
    t_start = time.perf_counter()
    try:
        log(f"Checkout benchmark: engines {', '.join(engines)}; {args.orders} orders at "
            f"concurrency {args.concurrency}; {platform.python_implementation()} "
            f"{platform.python_version()}, {os.cpu_count()} CPUs; work directory {workdir}")
        for engine, setting in ((e, t) for e in engines for t in twin_settings(args.twins)):
            os.environ["MARKETPLACE_SQL_TWINS"] = setting  # the servers and fixtures read it
            label = engine if setting == "all" else f"{engine} twins={setting}"
            try:
                if engine == "sqlite":
                    url = f"sqlite:///{workdir / label / 'bench.sqlite3'}"
                else:
                    pg = PgScratch(args.pg_url)
                    url = pg.create()
                    log(f"[{label}] scratch database {pg.name} on {pg.url.host}")
                results.append(run_engine(engine, url, workdir / label.replace(" ", "-"),
                                          args, pg))
                results[-1].engine = label
            except Skip as exc:
                log(f"[{label}] skipped: {exc}")
                results.append(EngineResult(label, skipped=str(exc)))
            except Exception as exc:  # noqa: BLE001 (report it, go on with the others, exit 1)
                log(f"[{label}] FAILED:\n{traceback.format_exc()}")
                results.append(EngineResult(label, skipped=f"FAILED: {exc}"[:500],
                                            failed=True))
            finally:
                if pg is not None and not args.keep:
                    pg.drop()
        report(results, args)
        compare_twins(results, lambda r: None if r.skipped else r.load.rate, "paid orders/s")
        log(f"total wall time: {time.perf_counter() - t_start:.0f} s")
        broken = [r.engine for r in results if r.failed or not r.skipped and (
            r.oversell or not r.consistent or r.load.broken or r.oversell_phase.broken)]
        if broken:
            log(f"BROKEN on {', '.join(broken)}: the run failed, or oversell, inconsistent stock, "
                "5xx answers or dropped connections (see RESULTS)")
            return 1
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        if pg is not None:
            if args.keep:
                log(f"kept the PostgreSQL database {pg.name}")
            else:
                pg.drop()
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
