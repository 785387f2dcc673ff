#!/usr/bin/env python
"""Storefront benchmark: the catalogue page over 10,000 products against a bare page.

    .venv/bin/python bench/storefront.py [--products 10000] [--duration 10] [--concurrency 8]

1. Creates a temporary SQLite database through the migrations (MARKETPLACE_MODE=demo) and fills
   it with N listed products of a few hundred verified sellers over a real region tree
   (bench/catalog_data.py; SQLAlchemy Core bulk inserts).
2. Serves it with gunicorn (2 workers, `sync` by default, see --worker-class) on 127.0.0.1 and a
   free port, and loads GET /products (the catalogue's first page: 24 products, default sort).
3. Serves, the same way, the bare page (bench/bare.py): the same app, URL and template
   `storefront/catalog.html`, rendering the same 24 products from plain in-memory objects, with
   no database work at all. Loads it with the same load generator and settings.
4. Prints both requests/s, their ratio, the catalogue's p50/p95/p99 latency at the given
   concurrency, and whether the targets are met (ratio >= 0.5, p95 <= 50 ms). When a target is
   missed (or with --profile) it also profiles the catalogue in-process: SQL statements with
   their time per request, and the top functions under cProfile.

The load generator is `wrk` (Debian package `wrk`) with bench/loadgen.lua, `-t2 -cC`, a warm-up
and then a fixed duration; without wrk, a Python load generator (bench/pyload.py: threads with
keep-alive http.client connections, bounded by time and by count). All traffic goes to
127.0.0.1. The servers are stopped at the end, also on errors and on Ctrl-C. Exit status is
non-zero only when the benchmark itself fails, never for a missed target.
"""
from __future__ import annotations

import argparse
import cProfile
import ctypes
import http.client
import io
import json
import os
import platform
import pstats
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.pyload import LoadResult

HOST = "127.0.0.1"
PATH = "/products"
TARGET_RATIO = 0.5
TARGET_P95_MS = 50.0
LUA = ROOT / "bench" / "loadgen.lua"


def log(message: str = "") -> None:
    print(message, flush=True)


def log_profile(profiler, sort: str, limit: int, what: str, write=log) -> None:
    """cProfile's top `limit` functions by `sort` ("cumulative" or "tottime"), line by line
    through `write`."""
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).strip_dirs().sort_stats(sort).print_stats(limit)
    by = "cumulative time" if sort == "cumulative" else "own time"
    write(f"  cProfile of {what}, top {limit} by {by}:")
    for line in out.getvalue().splitlines():
        if line.strip():
            write("    " + line)


# --------------------------------------------------------------------------- database


def build_database(workdir: Path, products: int, sellers: int) -> dict[str, str]:
    """Migrate a fresh SQLite database and fill it; returns the environment for the servers."""
    instance = workdir / "instance"
    env = {
        "MARKETPLACE_MODE": "demo",
        "MARKETPLACE_INSTANCE_PATH": str(instance),
        "MARKETPLACE_DATABASE_URL": f"sqlite:///{instance / 'bench.sqlite3'}",
        "MARKETPLACE_UPLOAD_FOLDER": str(instance / "uploads"),
    }
    os.environ.update(env)  # create_app reads them, here and in the gunicorn workers

    import sqlite3

    from flask_migrate import upgrade
    from sqlalchemy import func, select

    from bench.catalog_data import build_catalog
    from marketplace import create_app
    from marketplace.catalog.models import Product, ProductStatus
    from marketplace.extensions import db
    from marketplace.sellers.models import Seller, SellerStatus

    app = create_app()
    with app.app_context():
        upgrade()
        built = build_catalog(db.session, products=products, sellers=sellers,
                              upload_folder=app.config["UPLOAD_FOLDER"], progress=log)
        db.session.commit()
        visible = db.session.scalar(
            select(func.count()).select_from(Product).join(Seller, Product.seller_id == Seller.id)
            .where(Product.status == ProductStatus.listed,
                   Seller.status == SellerStatus.verified))
        if visible != products:
            raise RuntimeError(f"the database shows {visible} products, not {products}")
        db.session.remove()
        db.engine.dispose()
    con = sqlite3.connect(instance / "bench.sqlite3")
    con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    con.close()
    log(f"  built: {built.regions} regions ({built.villages} villages), {built.sellers} "
        f"sellers, {built.products} products, {built.images} images")
    return env


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def get(port: int, path: str = PATH, timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path)
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@dataclass
class Server:
    name: str
    proc: subprocess.Popen
    port: int
    logfile: Path

    def log_tail(self, lines: int = 40) -> str:
        try:
            return "\n".join(self.logfile.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


_LIBC = ctypes.CDLL(None) if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:
    """In the gunicorn master before exec (Linux): SIGTERM when this script dies, even by
    SIGKILL, so that no server outlives the benchmark (the servers run in their own session)."""
    if _LIBC is not None:
        _LIBC.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def start_server(name: str, app_spec: str, env: dict[str, str], workdir: Path, *,
                 workers: int, worker_class: str, threads: int, ready_path: str = PATH,
                 ready_timeout: float = 60.0) -> Server:
    """gunicorn serving `app_spec` on a free port, once `ready_path` answers 200."""
    port = free_port()
    logfile = workdir / f"gunicorn-{name}.log"
    cmd = [sys.executable, "-m", "gunicorn", "--workers", str(workers),
           "--worker-class", worker_class, "--bind", f"{HOST}:{port}", "--chdir", str(ROOT),
           "--pythonpath", str(ROOT), "--log-level", "warning", "--timeout", "60",
           "--graceful-timeout", "5"]
    if worker_class == "gthread":
        cmd += ["--threads", str(threads)]
    cmd.append(app_spec)
    with logfile.open("wb") as out:
        proc = subprocess.Popen(cmd, env={**os.environ, **env}, cwd=ROOT, stdout=out,
                                stderr=subprocess.STDOUT, start_new_session=True,
                                preexec_fn=_die_with_parent)  # noqa: PLW1509 (no threads)
    server = Server(name, proc, port, logfile)
    deadline = time.monotonic() + ready_timeout
    last = ""
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn ({name}) exited with {proc.returncode}:\n"
                               f"{server.log_tail()}")
        try:
            status, body = get(port, ready_path, timeout=5)
            if status == 200:
                return server
            last = f"HTTP {status}: {body[:300]!r}"
            break
        except OSError as exc:
            last = str(exc)
        time.sleep(0.2)
    stop_server(server)
    raise RuntimeError(f"gunicorn ({name}) did not answer 200 on {ready_path}: {last}\n"
                       f"{server.log_tail()}")


def stop_server(server: Server | None) -> None:
    """SIGTERM to the server's own process group (gunicorn master and its workers), then KILL."""
    if server is None or server.proc.poll() is not None:
        return
    try:
        os.killpg(server.proc.pid, signal.SIGTERM)
        server.proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(server.proc.pid, signal.SIGKILL)
        server.proc.wait(timeout=10)
    except ProcessLookupError:
        pass


# --------------------------------------------------------------------------- load


def run_wrk(port: int, *, duration: float, concurrency: int) -> LoadResult:
    threads = max(1, min(2, concurrency))
    cmd = ["wrk", f"-t{threads}", f"-c{concurrency}", f"-d{max(1, round(duration))}s",
           "--timeout", "10s", "-s", str(LUA), f"http://{HOST}:{port}{PATH}"]
    done = subprocess.run(cmd, check=False, capture_output=True, text=True,
                          timeout=duration + 60)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("BENCH ")), None)
    if done.returncode != 0 or line is None:
        raise RuntimeError(f"wrk failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    data = json.loads(line.removeprefix("BENCH "))
    return LoadResult(requests=data["requests"], seconds=data["seconds"], rps=data["rps"],
                      p50_ms=data["p50_ms"], p95_ms=data["p95_ms"], p99_ms=data["p99_ms"],
                      max_ms=data["max_ms"], mean_ms=data["mean_ms"], errors=data["errors"],
                      tool="wrk")


def run_load(tool: str, port: int, *, duration: float, concurrency: int) -> LoadResult:
    if tool == "wrk":
        return run_wrk(port, duration=duration, concurrency=concurrency)
    from bench import pyload
    return pyload.run(HOST, port, PATH, duration=duration, concurrency=concurrency)


def measure(server: Server, tool: str, *, warmup: float, duration: float,
            concurrency: int) -> LoadResult:
    if warmup > 0:
        run_load(tool, server.port, duration=warmup, concurrency=concurrency)
    result = run_load(tool, server.port, duration=duration, concurrency=concurrency)
    if server.proc.poll() is not None:
        raise RuntimeError(f"gunicorn ({server.name}) died under load:\n{server.log_tail()}")
    return result


# --------------------------------------------------------------------------- profile


def profile_in_process(budget_seconds: float = 8.0) -> None:
    """What one catalogue request spends its time on, in one process, without an HTTP server:
    catalog_context against rendering, each SQL statement re-run on its own (execute and fetch
    all rows, with SQLite's query plan), and cProfile's top functions."""
    from flask import render_template, request
    from sqlalchemy import event

    from marketplace import create_app
    from marketplace.extensions import db
    from marketplace.storefront.views import catalog_context

    app = create_app()
    per_page = app.config.get("PER_PAGE", 24)
    client = app.test_client()
    t0 = time.perf_counter()
    for _ in range(10):  # warm caches (templates, compiled statements, SQLite pages)
        client.get(PATH)
    one = (time.perf_counter() - t0) / 10
    iterations = max(10, min(200, int(budget_seconds / 3 / max(one, 1e-4))))

    t_ctx = t_render = 0.0
    for _ in range(iterations):
        with app.test_request_context(PATH):
            t0 = time.perf_counter()
            ctx = catalog_context(db.session, request.args, per_page=per_page)
            t1 = time.perf_counter()
            render_template("storefront/catalog.html", **ctx)
            t2 = time.perf_counter()
            db.session.remove()
        t_ctx += t1 - t0
        t_render += t2 - t1
    t0 = time.perf_counter()
    for _ in range(iterations):
        client.get(PATH)
    t_full = time.perf_counter() - t0

    captured: list[tuple[str, tuple]] = []

    def capture(conn, cursor, statement, parameters, context, executemany):
        captured.append((statement, parameters))

    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", capture)
    client.get(PATH)
    with app.app_context():
        event.remove(db.engine, "before_cursor_execute", capture)
        raw = db.engine.raw_connection()
    timed = []
    try:
        for statement, parameters in captured:
            if statement.lstrip().upper().startswith(("BEGIN", "COMMIT", "ROLLBACK")):
                continue
            cur = raw.cursor()
            cur.execute(statement, parameters).fetchall()
            t0 = time.perf_counter()
            for _ in range(10):
                rows = cur.execute(statement, parameters).fetchall()
            elapsed = (time.perf_counter() - t0) / 10
            plan = [r[-1] for r in cur.execute("EXPLAIN QUERY PLAN " + statement, parameters)]
            cur.close()
            timed.append((elapsed, len(rows), " ".join(statement.split()), plan))
    finally:
        raw.close()
    sql_total = sum(t for t, *_ in timed)

    log(f"\nIn-process profile ({iterations} requests each, one thread, no HTTP server):")
    log(f"  full request (test client) : {t_full / iterations * 1000:7.2f} ms")
    log(f"  catalog_context            : {t_ctx / iterations * 1000:7.2f} ms")
    log(f"  render catalog.html        : {t_render / iterations * 1000:7.2f} ms")
    log(f"  SQL alone, {len(timed)} statements     : {sql_total * 1000:7.2f} ms "
        "(each re-run on the raw connection: execute + fetch all rows)")
    for elapsed, nrows, stmt, plan in sorted(timed, key=lambda t: -t[0]):
        short = stmt if len(stmt) <= 160 else stmt[:100] + " ... " + stmt[-55:]
        log(f"    {elapsed * 1000:7.2f} ms  {nrows:3d} rows  {short}")
        log(f"               plan: {'; '.join(plan)}")

    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(iterations):
        client.get(PATH)
    profiler.disable()
    log_profile(profiler, "cumulative", 30, f"{iterations} requests")
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


# --------------------------------------------------------------------------- main


def describe(result: LoadResult) -> str:
    errors = sum(result.errors.values())
    return (f"{result.rps:8.1f} req/s  p50 {result.p50_ms:6.2f} ms  p95 {result.p95_ms:6.2f} ms  "
            f"p99 {result.p99_ms:6.2f} ms  ({result.requests} requests in "
            f"{result.seconds:.1f} s, errors: {errors if errors else 'none'})")


def compare_pages(a: bytes, b: bytes) -> str:
    if a == b:
        return f"identical ({len(a)} bytes)"
    la, lb = a.decode(errors="replace").splitlines(), b.decode(errors="replace").splitlines()
    for i, (x, y) in enumerate(zip(la, lb, strict=False), start=1):
        if x != y:
            return (f"DIFFERENT ({len(a)} vs {len(b)} bytes); first difference at line {i}:\n"
                    f"      catalogue: {x.strip()[:160]}\n      bare:      {y.strip()[:160]}")
    return f"DIFFERENT ({len(a)} vs {len(b)} bytes; one is a prefix of the other)"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--sellers", type=int, default=300)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds of measurement")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of warm-up")
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--worker-class", choices=["sync", "gthread"], default="sync")
    parser.add_argument("--threads", type=int, default=4, help="threads per gthread worker")
    parser.add_argument("--loadgen", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--profile", action=argparse.BooleanOptionalAction, default=None,
                        help="profile in-process (default: only when a target is missed)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument("--catalogue-app", default="marketplace:create_app()",
                        help="gunicorn app spec of the catalogue server (to try a variant)")
    args = parser.parse_args(argv)
    if args.products < 24 or args.concurrency < 1 or args.duration <= 0:
        parser.error("need --products >= 24, --concurrency >= 1 and --duration > 0")

    tool = args.loadgen
    if tool == "auto":
        tool = "wrk" if shutil.which("wrk") else "python"
    elif tool == "wrk" and not shutil.which("wrk"):
        parser.error("wrk is not installed (apt-get install wrk), use --loadgen python")

    def _terminate(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, _terminate)
    signal.signal(signal.SIGHUP, _terminate)  # a closed terminal: stop the servers, clean up

    workdir = Path(tempfile.mkdtemp(prefix="bench-storefront-"))
    servers: list[Server] = []
    try:
        log(f"Storefront benchmark: {args.products} products, {args.sellers} sellers; "
            f"{platform.python_implementation()} {platform.python_version()}, "
            f"{os.cpu_count()} CPUs")
        log(f"Building the database in {workdir} ...")
        t0 = time.perf_counter()
        env = build_database(workdir, args.products, args.sellers)
        log(f"  done in {time.perf_counter() - t0:.1f} s")
        wc = args.worker_class + (f" ({args.threads} threads each)"
                                  if args.worker_class == "gthread" else "")
        log(f"Servers: gunicorn, {args.workers} workers, worker class {wc}, {HOST}, free port")
        log(f"Load: {tool}" + (f" -t{max(1, min(2, args.concurrency))}" if tool == "wrk" else "")
            + f", concurrency {args.concurrency}, {args.warmup:g} s warm-up then "
            f"{args.duration:g} s measured, GET {PATH}")

        results: dict[str, LoadResult] = {}
        pages: dict[str, bytes] = {}
        for name, spec in (("catalogue", args.catalogue_app),
                           ("bare", "bench.bare:make_app()")):
            server = start_server(name, spec, env, workdir, workers=args.workers,
                                  worker_class=args.worker_class, threads=args.threads)
            servers.append(server)
            pages[name] = get(server.port)[1]
            load_before = os.getloadavg()[0]
            results[name] = measure(server, tool, warmup=args.warmup, duration=args.duration,
                                    concurrency=args.concurrency)
            log(f"  {name}: measured on port {server.port} (1-min load average before "
                f"{load_before:.2f}, after {os.getloadavg()[0]:.2f})")
            stop_server(server)

        cat, bare = results["catalogue"], results["bare"]
        cards = pages["catalogue"].count(b"product-card")
        shown = re.search(r"共 (\d+) 件商品", pages["catalogue"].decode(errors="replace"))
        if shown is None or int(shown.group(1)) != args.products:
            raise RuntimeError(f"the catalogue page does not report {args.products} products: "
                               f"{shown.group(0) if shown else 'no total found'}")
        ratio = cat.rps / bare.rps if bare.rps else 0.0
        ratio_ok = ratio >= TARGET_RATIO
        p95_ok = cat.p95_ms <= TARGET_P95_MS
        log("")
        log(f"Pages: catalogue page has {cards} product cards of {shown.group(1)} visible "
            f"products; bare page vs catalogue page: "
            f"{compare_pages(pages['catalogue'], pages['bare'])}")
        log(f"catalogue ({args.products} products, SQLite): {describe(cat)}")
        log(f"bare (same template, from memory):      {describe(bare)}")
        log(f"ratio catalogue/bare: {ratio:.2f}  (target >= {TARGET_RATIO}: "
            f"{'met' if ratio_ok else 'MISSED'})")
        log(f"catalogue p50/p95/p99 at concurrency {args.concurrency}: {cat.p50_ms:.2f} / "
            f"{cat.p95_ms:.2f} / {cat.p99_ms:.2f} ms  (target p95 <= {TARGET_P95_MS:g} ms: "
            f"{'met' if p95_ok else 'MISSED'})")
        if sum(cat.errors.values()) or sum(bare.errors.values()):
            log(f"WARNING: errors under load: catalogue {cat.errors}, bare {bare.errors}")
        log("Targets: " + ("all met" if ratio_ok and p95_ok else "MISSED"))
        if args.profile or (args.profile is None and not (ratio_ok and p95_ok)):
            profile_in_process()
        return 0
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        for server in servers:
            stop_server(server)
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
