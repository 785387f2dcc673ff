#!/usr/bin/env python
"""Search benchmark (issue 3, point 7; issue 15, point 6): the Whoosh product index against a
SQLite LIKE scan.

    .venv/bin/python bench/search.py [--products 300000] [--queries 2000] [--seed 20240601]
                                     [--keep] [--index-dir DIR] [--skip-baseline] [--profile]

1. Generates N products (bench/search_data.py, seeded, deterministic): realistic Chinese names
   built from the categories, places (the real counties, townships and villages of
   seed/regions.csv and more of Hunan) and specs, 30-80 character descriptions, ~300 sellers,
   prices in fen, stock (10% sold out), listing dates over two years, as
   `marketplace.search.engine.SearchDoc` objects.
2. Builds the index with `engine.build_index(dir, docs, progress=...)` and reports the build
   rate (docs/s) and the index size on disk. With --index-dir DIR an existing index there is
   reused (for iterating on query speed); an empty or missing DIR is built and kept.
3. In a FRESH subprocess (only the engine imported) opens the index with
   `engine.SearchIndex(dir).open()` (timed: it reads what queries need), times the first query
   after that, runs 50 warm-up queries, then the timed mix of --queries queries (single
   characters, words, places, full pinyin, initials, two terms; shuffled deterministically),
   each `index.search(SearchRequest(q=q, limit=24))` (first page, relevance sort, facet counts
   included), and reports the latency p50/p95/p99 (overall and per query kind) and that
   process's peak memory (VmHWM and VmRSS of /proc/self/status, ru_maxrss). When a latency
   target is missed (or with --profile) it profiles the slowest queries with cProfile and
   prints the top functions. Then, untimed, the recall of initials: for --recall products
   picked at random, the initials of the start of the name, of a later word, and of the whole
   name (`search_data.initials_samples`); a start or word query recalls its product when the
   product is among the hits, a whole-name query when the product, or another whose whole
   name has the same initials, is among the first three.
4. Baseline in the same run: the same products in a SQLite table (name, description, category,
   seller, origin names, and all of them joined in one `body` column), the same queries as a LIKE
   scan of `body` (every term ANDed) that fetches the newest 24 matches and counts all matches in
   the same scan (a window count); p50/p95/p99 and the ratio.
5. Prints the targets (p95 <= 10 ms at 300,000 products, the first query after opening the
   index <= 100 ms, build >= 1,000 docs/s, <= 250 MB for a process holding the open index) and
   whether they are met.

While `marketplace.search.engine` is missing (ImportError) or not implemented
(NotImplementedError), steps 2-3 are skipped and the rest still runs. Exit status is non-zero
only when the benchmark itself fails (including the engine raising), never for a missed target.
Temporary files are removed at the end unless --keep.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import json
import math
import os
import pstats
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import time
import traceback
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

TARGET_P95_MS = 10.0
TARGET_FIRST_MS = 100.0
TARGET_BUILD_RATE = 1000.0
TARGET_RSS_MB = 250.0
TARGET_PRODUCTS = 300_000
WARMUP = 50
RESULT_MARK = "@@RESULT@@ "


def log(message: str = "") -> None:
    print(message, flush=True)


def percentile(values: list[float], p: float) -> float:
    """Nearest-rank percentile of `values` (not necessarily sorted)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, math.ceil(p / 100 * len(ordered)))
    return ordered[rank - 1]


def stats_line(values: list[float]) -> str:
    return (f"p50 {percentile(values, 50):8.2f} ms  p95 {percentile(values, 95):8.2f} ms  "
            f"p99 {percentile(values, 99):8.2f} ms  max {max(values):8.2f} ms  "
            f"mean {sum(values) / len(values):8.2f} ms")


def by_kind(kinds: list[str], values: list[float]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for kind, value in zip(kinds, values, strict=True):
        out.setdefault(kind, []).append(value)
    return out


def kind_lines(kinds: list[str], values: list[float]) -> list[str]:
    """p50/p95/p99/max per query kind, one line each."""
    from bench.search_data import QUERY_KINDS
    out = []
    per = by_kind(kinds, values)
    for kind in QUERY_KINDS:
        if kind in per:
            v = per[kind]
            out.append(f"    {kind:10s} n={len(v):4d}  p50 {percentile(v, 50):8.2f}  "
                       f"p95 {percentile(v, 95):8.2f}  p99 {percentile(v, 99):8.2f}  "
                       f"max {max(v):8.2f} ms")
    return out


def dir_size(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


def proc_status() -> dict[str, int]:
    """VmRSS, VmHWM, RssAnon, RssFile (kB) of this process, and ru_maxrss (kB on Linux)."""
    out = {"ru_maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                key, _, value = line.partition(":")
                if key in ("VmRSS", "VmHWM", "RssAnon", "RssFile"):
                    out[key] = int(value.split()[0])
    except OSError:
        pass
    return out


def mb(kb: int | None) -> str:
    return "n/a" if kb is None else f"{kb / 1024:.1f} MB"


class EngineMissing(Exception):
    """The engine is not there yet (ImportError / NotImplementedError)."""


def engine_fingerprint() -> str:
    """Short hashes of the engine's source files (the engine may change between runs)."""
    import hashlib
    parts = []
    for name in ("engine.py", "analysis.py"):
        path = ROOT / "marketplace" / "search" / name
        try:
            parts.append(f"{name} {hashlib.sha1(path.read_bytes()).hexdigest()[:10]}")
        except OSError:
            parts.append(f"{name} missing")
    return ", ".join(parts)


def load_engine():
    try:
        from marketplace.search import engine
    except ImportError as exc:
        raise EngineMissing(f"import marketplace.search.engine failed: {exc}") from exc
    missing = [n for n in ("SearchDoc", "build_index", "SearchIndex", "SearchRequest")
               if not hasattr(engine, n)]
    if missing:
        raise EngineMissing(f"marketplace.search.engine lacks {', '.join(missing)}")
    return engine


# ---- child: a fresh process holding the open index ---------------------------------------------

def child_main(index_dir: str, queries_file: str, profile: bool) -> int:
    status0 = proc_status()
    print(f"    child: {engine_fingerprint()}", flush=True)
    t0 = time.perf_counter()
    from marketplace.search.engine import SearchIndex, SearchRequest
    import_s = time.perf_counter() - t0
    status_import = proc_status()
    with open(queries_file, encoding="utf-8") as fh:
        spec = json.load(fh)
    warmup = [q for _k, q in spec["warmup"]]
    mix = spec["queries"]

    t0 = time.perf_counter()
    index = SearchIndex(Path(index_dir))
    if hasattr(index, "open"):  # reads now what the first queries would wait for
        index.open()
    open_s = time.perf_counter() - t0
    t0 = time.perf_counter()
    first = index.search(SearchRequest(q=warmup[0], limit=24))
    first_ms = (time.perf_counter() - t0) * 1000
    status_open = proc_status()
    print(f"    child: imports {import_s:.2f} s, open {open_s * 1000:.1f} ms, first query "
          f"{warmup[0]!r} {first_ms:.1f} ms ({first.total} hits)", flush=True)

    t0 = time.perf_counter()
    for q in warmup:
        index.search(SearchRequest(q=q, limit=24))
    warm_s = time.perf_counter() - t0

    lat: list[float] = []
    totals: dict[str, int] = {}
    facets_seen = 0
    t_all = time.perf_counter()
    for _kind, q in mix:
        t0 = time.perf_counter()
        res = index.search(SearchRequest(q=q, limit=24))
        lat.append((time.perf_counter() - t0) * 1000)
        totals[q] = res.total
        if res.category_counts or res.county_counts:
            facets_seen += 1
        if len(res.ids) > 24:
            raise AssertionError(f"{q!r}: {len(res.ids)} ids for limit=24")
    run_s = time.perf_counter() - t_all
    status_end = proc_status()
    print(f"    child: warm-up {len(warmup)} queries {warm_s:.2f} s; timed {len(mix)} queries "
          f"{run_s:.2f} s", flush=True)

    kinds = [k for k, _q in mix]
    per_kind = by_kind(kinds, lat)
    slow = (percentile(lat, 95) > TARGET_P95_MS
            or any(percentile(v, 95) > TARGET_P95_MS for v in per_kind.values()))
    if profile or slow:
        profile_slowest(index, SearchRequest, mix, lat)
    status_final = proc_status()  # before the recall's untimed searches of every hit
    recall = initials_recall(index, SearchRequest, spec.get("recall", []))
    result = {
        "latencies_ms": lat, "kinds": kinds, "totals": totals, "facets_seen": facets_seen,
        "open_ms": open_s * 1000, "first_ms": first_ms, "import_s": import_s,
        "status_start": status0, "status_import": status_import, "status_open": status_open,
        "status_end": status_end, "status_final": status_final, "recall": recall,
    }
    print(RESULT_MARK + json.dumps(result, ensure_ascii=False), flush=True)
    return 0


def initials_recall(index, SearchRequest, samples: list[dict]) -> list[list[int]]:
    """For each sample: the ids that decide its recall (untimed). A start or word query: [the
    product's id] when it is among the hits (all of them, within its seller: the same match,
    fewer ids to return), else []; a whole-name query: the first three results."""
    out = []
    for sample in samples:
        if sample["kind"] == "whole":
            out.append(index.search(SearchRequest(q=sample["q"], limit=3)).ids)
        else:
            ids = index.search(SearchRequest(q=sample["q"], seller_id=sample["seller"],
                                             limit=10**7)).ids
            out.append([sample["id"]] if sample["id"] in ids else [])
    return out


def recall_lines(samples: list[dict], found: list[list[int]], names: dict[int, str]) -> list[str]:
    """Recall per kind of initials query. A whole-name query is answered when the first three
    results hold the product, or a product whose whole name has the same initials (as good an
    answer: 溆浦红枣 and 溆浦灰枣 both read xphz); how often the product itself is there says
    how many names in the catalogue share its initials."""
    from bench.search_data import INITIALS_SAMPLE_KINDS
    from marketplace.search.analysis import whole_name_initials
    what = {"prefix": "start of the name, among the hits",
            "word": "start of a later word, among the hits",
            "whole": "whole name: a name of the same initials in the first 3"}
    out = [f"initials recall ({len(samples)} queries from "
           f"{len({s['id'] for s in samples})} random products):"]
    for kind in INITIALS_SAMPLE_KINDS:
        rows = [(s, ids) for s, ids in zip(samples, found, strict=True) if s["kind"] == kind]
        if not rows:
            continue
        if kind == "whole":
            misses = [s for s, ids in rows if s["id"] not in ids and not any(
                whole_name_initials(names.get(i, "")) == s["q"] for i in ids)]
        else:
            misses = [s for s, ids in rows if s["id"] not in ids]
        share = 100 * (len(rows) - len(misses)) / len(rows)
        out.append(f"    {kind:7s} n={len(rows):4d}  recall {share:6.1f} %  ({what[kind]})")
        if kind == "whole":
            itself = sum(s["id"] in ids for s, ids in rows)
            out.append(f"            the product itself in the first 3: "
                       f"{100 * itself / len(rows):.1f} %")
        if misses:
            out.append("      missed: " + ", ".join(f"{s['q']} ({s['name']})"
                                                   for s in misses[:8]))
    return out


def profile_slowest(index, SearchRequest, mix, lat) -> None:
    worst: dict[str, tuple[float, str, str]] = {}
    for (kind, q), ms in zip(mix, lat, strict=True):
        if q not in worst or ms > worst[q][0]:
            worst[q] = (ms, kind, q)
    ranked = sorted(worst.values(), reverse=True)
    chosen = ranked[:6]
    # and the slowest query of every kind not yet in the list
    kinds_in = {k for _ms, k, _q in chosen}
    for ms, kind, q in ranked:
        if kind not in kinds_in:
            chosen.append((ms, kind, q))
            kinds_in.add(kind)
    print("\n    Profile (cProfile) of the slowest distinct queries, 3 runs each:", flush=True)
    combined = None
    for ms, kind, q in chosen:
        prof = cProfile.Profile()
        t0 = time.perf_counter()
        prof.enable()
        for _ in range(3):
            index.search(SearchRequest(q=q, limit=24))
        prof.disable()
        per = (time.perf_counter() - t0) / 3 * 1000
        print(f"      {kind:10s} {q!r:14s} worst in run {ms:8.2f} ms; under profiler "
              f"{per:8.2f} ms/query", flush=True)
        out = io.StringIO()
        st = pstats.Stats(prof, stream=out)
        st.strip_dirs().sort_stats("tottime").print_stats(6)
        for line in _stat_rows(out.getvalue()):
            print("          " + line, flush=True)
        if combined is None:
            combined = pstats.Stats(prof)
        else:
            combined.add(prof)
    if combined is None:
        return
    for order, n in (("tottime", 25), ("cumulative", 30)):
        out = io.StringIO()
        combined.stream = out
        combined.strip_dirs().sort_stats(order).print_stats(n)
        print(f"\n    All profiled queries together, top {n} by {order}:", flush=True)
        for line in _stat_rows(out.getvalue(), header=True):
            print("      " + line, flush=True)


def _stat_rows(text: str, header: bool = False) -> list[str]:
    lines = text.splitlines()
    for i, line in enumerate(lines):
        if line.lstrip().startswith("ncalls"):
            rows = [ln for ln in lines[i + 1:] if ln.strip()]
            return ([line] if header else []) + rows
    return []


def run_child(index_dir: Path, queries_file: Path, profile: bool) -> dict:
    # Started through a small intermediate Python process: on Linux a process's ru_maxrss
    # starts from its parent's image at exec (fork copies it; vfork shares it), so a child
    # started directly from this big process would report our peak, not its own.
    spawn = "import subprocess, sys; sys.exit(subprocess.call(sys.argv[1:]))"
    cmd = [sys.executable, "-c", spawn, sys.executable, str(Path(__file__).resolve()),
           "--child", str(index_dir), "--queries-file", str(queries_file)]
    cmd += ["--profile"] if profile else []
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True, encoding="utf-8",
                            cwd=str(ROOT), env=env)
    result = None
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith(RESULT_MARK):
            result = json.loads(line[len(RESULT_MARK):])
        else:
            log(line.rstrip("\n"))
    rc = proc.wait()
    if rc != 0 or result is None:
        raise RuntimeError(f"the query subprocess failed (exit status {rc})")
    return result


# ---- the SQLite LIKE baseline ------------------------------------------------------------------


def build_baseline(path: Path, products: list) -> tuple[sqlite3.Connection, float]:
    from bench.search_data import iter_like_rows
    t0 = time.perf_counter()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("""CREATE TABLE products (
        id INTEGER PRIMARY KEY, name TEXT NOT NULL, description TEXT NOT NULL,
        category_id INTEGER NOT NULL, category TEXT NOT NULL, seller TEXT NOT NULL,
        places TEXT NOT NULL, county_code TEXT NOT NULL, certified INTEGER NOT NULL,
        price_fen INTEGER NOT NULL, stock INTEGER NOT NULL, listed_at INTEGER NOT NULL,
        body TEXT NOT NULL)""")
    # body: every searchable text of the product in one column, so a term is one LIKE
    conn.executemany("INSERT INTO products VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                     (row + (" ".join(row[1:3] + row[4:7]),) for row in iter_like_rows(products)))
    conn.execute("CREATE INDEX ix_products_listed_at ON products (listed_at)")
    conn.commit()
    conn.execute("ANALYZE")
    return conn, time.perf_counter() - t0


def like_condition(q: str) -> tuple[str, list[str]]:
    terms = q.split()
    if not terms:
        return "1", []
    parts, params = [], []
    for term in terms:
        pattern = "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        parts.append("body LIKE ? ESCAPE '\\'")
        params.append(pattern)
    return " AND ".join(parts), params


def like_search(conn: sqlite3.Connection, q: str) -> tuple[list[int], int]:
    """The newest 24 matches and the count of all of them, in one scan (a window count): what
    a LIKE-based search page needs."""
    cond, params = like_condition(q)
    rows = conn.execute(f"SELECT id, count(*) OVER () FROM products WHERE {cond} "
                        "ORDER BY listed_at DESC LIMIT 24", params).fetchall()
    return [r[0] for r in rows], rows[0][1] if rows else 0


def run_baseline(conn, warmup, mix) -> tuple[list[float], dict[str, int]]:
    for _k, q in warmup:
        like_search(conn, q)
    lat, totals = [], {}
    t_report = time.perf_counter()
    for i, (_kind, q) in enumerate(mix, start=1):
        t0 = time.perf_counter()
        _ids, total = like_search(conn, q)
        lat.append((time.perf_counter() - t0) * 1000)
        totals[q] = total
        if time.perf_counter() - t_report > 30:
            log(f"    {i}/{len(mix)} queries, running p95 {percentile(lat, 95):.1f} ms")
            t_report = time.perf_counter()
    return lat, totals


# ---- main --------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--products", type=int, default=TARGET_PRODUCTS)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=20240601)
    ap.add_argument("--recall", type=int, default=300,
                    help="products whose initials are asked for (the recall of initials)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary directory")
    ap.add_argument("--index-dir", type=Path,
                    help="reuse the index in DIR (build it there, and keep it, if DIR is empty)")
    ap.add_argument("--skip-baseline", action="store_true", help="no SQLite LIKE baseline")
    ap.add_argument("--profile", action="store_true",
                    help="profile the slowest queries even when the targets are met")
    ap.add_argument("--child", metavar="INDEX_DIR", help=argparse.SUPPRESS)
    ap.add_argument("--queries-file", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        return child_main(args.child, args.queries_file, args.profile)

    from bench import search_data

    failed = False
    workdir = Path(tempfile.mkdtemp(prefix="search-bench-"))
    report: list[str] = []
    try:
        log(f"Search benchmark: {args.products:,} products, {args.queries:,} queries "
            f"(+{WARMUP} warm-up), seed {args.seed}; work dir {workdir}")
        log(f"  {engine_fingerprint()}")
        try:
            engine = load_engine()
            engine_error = None
        except EngineMissing as exc:
            engine, engine_error = None, str(exc)
            log(f"  engine not available: {engine_error}")

        log("Generating the catalogue ...")
        t0 = time.perf_counter()
        factory = engine.SearchDoc if engine else None
        cat = search_data.generate(
            args.products, seed=args.seed, factory=factory,
            progress=lambda n: log(f"    {n:,}/{args.products:,}"))
        gen_s = time.perf_counter() - t0
        docs = cat.products
        log(f"  {len(docs):,} products, {len(cat.sellers)} sellers, {len(cat.villages)} villages "
            f"({len(cat.regions)} regions) in {gen_s:.1f} s")
        warmup = search_data.query_mix(WARMUP, seed=args.seed + 1)
        mix = search_data.query_mix(args.queries, seed=args.seed)
        queries_file = workdir / "queries.json"
        samples = search_data.initials_samples(docs, args.recall, seed=args.seed + 2)
        names = {s["id"]: s["name"] for s in samples}
        queries_file.write_text(json.dumps({"warmup": warmup, "queries": mix,
                                            "recall": samples},
                                           ensure_ascii=False), encoding="utf-8")
        kinds = [k for k, _q in mix]
        distinct = len({q for _k, q in mix})
        log(f"  query mix: {len(mix)} queries, {distinct} distinct, kinds "
            + ", ".join(f"{k} {kinds.count(k)}" for k in search_data.QUERY_KINDS))

        # ---- the index ----
        child = None
        build_rate = size_mb = None
        if engine is not None:
            try:
                build_rate, size_mb, index_dir = index_phase(engine, args, workdir, docs)
                log("Querying the index in a fresh process ...")
                child = run_child(index_dir, queries_file, args.profile)
                if child.get("recall"):  # the names of what the whole-name queries found
                    wanted = {i for ids in child["recall"] for i in ids}
                    names.update((d.id, d.name) for d in docs if d.id in wanted)
            except EngineMissing as exc:
                engine_error = str(exc)
                log(f"  engine not available: {engine_error}")
            except Exception:  # noqa: BLE001 (reported; the baseline still runs)
                failed = True
                engine_error = "the engine raised:\n" + traceback.format_exc()
                log(engine_error)

        # ---- the baseline ----
        like_lat = like_totals = None
        if not args.skip_baseline:
            log("SQLite LIKE baseline: building the table ...")
            conn, base_s = build_baseline(workdir / "baseline.sqlite", docs)
            log(f"  {len(docs):,} rows in {base_s:.1f} s, "
                f"{(workdir / 'baseline.sqlite').stat().st_size / 1e6:.1f} MB")
            log(f"  running {WARMUP} warm-up + {len(mix)} queries (LIMIT 24 + count(*)) ...")
            like_lat, like_totals = run_baseline(conn, warmup, mix)
            conn.close()
        del docs, cat

        # ---- report ----
        report = summarize(args, mix, engine_error, build_rate, size_mb, child, like_lat,
                           like_totals, samples, names)
    except KeyboardInterrupt:
        log("interrupted")
        failed = True
    except Exception:  # noqa: BLE001 (printed; temporary files still removed)
        traceback.print_exc()
        failed = True
    finally:
        if args.keep:
            log(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    for line in report:
        log(line)
    return 1 if failed else 0


def index_phase(engine, args, workdir: Path, docs: list) -> tuple[float | None, float, Path]:
    meta = {"products": args.products, "seed": args.seed}
    if args.index_dir is not None:
        index_dir = args.index_dir.resolve()
        meta_file = index_dir.parent / (index_dir.name + ".bench.json")
        if index_dir.is_dir() and any(index_dir.iterdir()):
            size_mb = dir_size(index_dir) / 1e6
            old = json.loads(meta_file.read_text()) if meta_file.exists() else None
            log(f"Reusing the index in {index_dir} ({size_mb:.1f} MB; built for {old})")
            if old is not None and old != meta:
                log(f"  WARNING: built for {old}, this run generates {meta}")
            return None, size_mb, index_dir
    else:
        index_dir = workdir / "index"
        meta_file = None
    index_dir.mkdir(parents=True, exist_ok=True)
    log(f"Building the index in {index_dir} ...")
    state = {"last_n": 0, "last_t": time.perf_counter()}
    t0 = time.perf_counter()

    def progress(n: int) -> None:
        now = time.perf_counter()
        if n - state["last_n"] >= 25_000 or now - state["last_t"] >= 15 or n == len(docs):
            log(f"    {n:,}/{len(docs):,} docs, {now - t0:6.1f} s, "
                f"{n / max(now - t0, 1e-9):,.0f} docs/s")
            state["last_n"], state["last_t"] = n, now

    try:
        count = engine.build_index(index_dir, docs, progress=progress)
    except NotImplementedError as exc:
        raise EngineMissing(f"build_index: NotImplementedError {exc}") from exc
    build_s = time.perf_counter() - t0
    size_mb = dir_size(index_dir) / 1e6
    rate = len(docs) / build_s
    log(f"  built: {count:,} docs in {build_s:.1f} s = {rate:,.0f} docs/s; "
        f"index {size_mb:.1f} MB on disk")
    if count != len(docs):
        log(f"  WARNING: build_index returned {count}, {len(docs)} docs were given")
    if meta_file is not None:
        meta_file.write_text(json.dumps(meta))
    return rate, size_mb, index_dir


def summarize(args, mix, engine_error, build_rate, size_mb, child, like_lat,
              like_totals, samples=(), names=None) -> list[str]:
    title = (f"RESULTS  ({args.products:,} products, {len(mix):,} queries, "
             f"seed {args.seed})")
    out = ["", "=" * 78, title, "=" * 78]
    kinds = [k for k, _q in mix]
    idx_p95 = like_p95 = None
    if engine_error and child is None:
        out.append("index: not measured — " + engine_error.strip().splitlines()[-1])
    if build_rate is not None:
        out.append(f"index build rate      : {build_rate:,.0f} docs/s")
    elif size_mb is not None:
        out.append("index build rate      : (index reused, not built in this run)")
    if size_mb is not None:
        out.append(f"index size on disk    : {size_mb:.1f} MB")
    if child is not None:
        lat = child["latencies_ms"]
        idx_p95 = percentile(lat, 95)
        st = child["status_final"]
        out.append(f"index query latency   : {stats_line(lat)}")
        out.extend(kind_lines(kinds, lat))
        firsts, seen = [], set()
        for (_k, q), ms in zip(mix, lat, strict=True):
            if q not in seen:
                seen.add(q)
                firsts.append(ms)
        out.append(f"    first occurrence of each distinct query (n={len(firsts)}): "
                   f"p95 {percentile(firsts, 95):.2f} ms")
        out.append(f"    open (SearchIndex().open()) {child['open_ms']:.1f} ms, first query "
                   f"after open {child['first_ms']:.1f} ms; facet counts present in "
                   f"{child['facets_seen']}/{len(lat)} results")
        s0, si, so = child["status_start"], child["status_import"], child["status_open"]
        out.append(f"query process memory  : peak VmHWM {mb(st.get('VmHWM'))}, VmRSS at end "
                   f"{mb(st.get('VmRSS'))}, ru_maxrss {mb(st.get('ru_maxrss_kb'))}")
        out.append(f"    VmRSS: interpreter {mb(s0.get('VmRSS'))}, after importing the engine "
                   f"{mb(si.get('VmRSS'))}, after open + first query {mb(so.get('VmRSS'))}, "
                   f"at end {mb(st.get('VmRSS'))} (anonymous {mb(st.get('RssAnon'))}, "
                   f"file-backed {mb(st.get('RssFile'))})")
    if like_lat is not None:
        like_p95 = percentile(like_lat, 95)
        out.append(f"SQLite LIKE baseline  : {stats_line(like_lat)}")
        out.extend(kind_lines(kinds, like_lat))
    if idx_p95 is not None and like_p95 is not None:
        out.append(f"ratio index-p95 / LIKE-p95: {idx_p95 / like_p95:.3f}  "
                   f"(index {like_p95 / idx_p95:.1f}x faster at p95)")
    if child is not None and like_totals is not None:
        out.append("matches, index total vs LIKE count (a few queries of each kind):")
        per_kind_shown: dict[str, int] = {}
        shown_q: set[str] = set()
        for kind, q in mix:
            if per_kind_shown.get(kind, 0) >= 4 or q in shown_q:
                continue
            per_kind_shown[kind] = per_kind_shown.get(kind, 0) + 1
            shown_q.add(q)
            out.append(f"    {kind:10s} {q!r:14s} index {child['totals'][q]:8,}  "
                       f"LIKE {like_totals[q]:8,}")
        fewer = sorted({q for _k, q in mix if child["totals"][q] < like_totals[q]})
        if fewer:
            out.append(f"  index finds FEWER than LIKE for {len(fewer)} queries: " + ", ".join(
                f"{q} ({child['totals'][q]:,} < {like_totals[q]:,})" for q in fewer[:20]))
    if child is not None:
        zero = sorted({f"{k}:{q}" for k, q in mix if child["totals"][q] == 0})
        if zero:
            out.append(f"  queries with no index hits ({len(zero)}): " + ", ".join(zero))
        if child.get("recall") and samples:
            out.extend(recall_lines(list(samples), child["recall"], names or {}))

    out.append("")
    out.append("Targets:")
    at_scale = args.products >= TARGET_PRODUCTS
    scale_note = "" if at_scale else f" (measured at {args.products:,}, target is for 300,000)"
    verdicts = []

    def target(label: str, value: str | None, ok: bool) -> None:
        if value is None:
            out.append(f"  {label:34s}: not measured")
            return
        verdicts.append(ok)
        out.append(f"  {label:34s}: {value}  {'met' if ok else 'MISSED'}{scale_note}")

    target(f"query p95 <= {TARGET_P95_MS:.0f} ms",
           None if idx_p95 is None else f"{idx_p95:8.2f} ms",
           idx_p95 is not None and idx_p95 <= TARGET_P95_MS)
    target(f"first query after open <= {TARGET_FIRST_MS:.0f} ms",
           None if child is None else f"{child['first_ms']:8.2f} ms",
           child is not None and child["first_ms"] <= TARGET_FIRST_MS)
    target(f"build >= {TARGET_BUILD_RATE:,.0f} docs/s",
           None if build_rate is None else f"{build_rate:8,.0f} docs/s",
           build_rate is not None and build_rate >= TARGET_BUILD_RATE)
    peak = None
    if child is not None:
        peak = (child["status_final"].get("VmHWM") or child["status_final"]["ru_maxrss_kb"]) / 1024
    target(f"open-index process <= {TARGET_RSS_MB:.0f} MB",
           None if peak is None else f"{peak:8.1f} MB",
           peak is not None and peak <= TARGET_RSS_MB)
    if len(verdicts) == 4:
        out.append("  => " + ("all targets met" if all(verdicts) else "targets MISSED")
                   + ("" if at_scale else " (not at 300,000 products)"))
    return out


if __name__ == "__main__":
    sys.exit(main())
