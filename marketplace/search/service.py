"""Search as the application uses it: documents from the database, the outbox applied to the
index, reindexing beside the live index, and answering the catalogue's queries (with a
database fallback when the index is missing or broken).

Functions take an explicit session and search root (`<instance>/search` by default, config
SEARCH_ROOT). The index lives in a generation directory under the root, named by the file
`CURRENT`; each generation keeps the id of the last outbox row applied to it and the gaps below
it (`engine.Applied`). `catchup` decides when a reading process applies the outbox.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import delete, func, or_, select
from sqlalchemy.orm import Session
from whoosh.index import LockError

from marketplace.catalog.models import Category, Product
from marketplace.core.time import now_utc
from marketplace.regions.models import Region
from marketplace.search import engine
from marketplace.search.models import OutboxKind, SearchOutbox
from marketplace.sellers.models import Seller

log = logging.getLogger(__name__)

# a transaction that wrote an outbox row commits within this time (on PostgreSQL an id taken
# earlier may commit after a later one: its id is a gap of the index until then)
RECENT = timedelta(seconds=60)
RETENTION = timedelta(days=7)  # `flask search sync` prunes older rows
BATCH = 500
MAX_GAPS = 1000  # gaps kept per index (the highest ids: transactions still open are recent)

_indexes: dict[Path, engine.SearchIndex] = {}
_indexes_lock = threading.Lock()


def index_for(root: Path) -> engine.SearchIndex:
    """This process's reader of the index under `root` (shared by its threads)."""
    root = Path(root)
    with _indexes_lock:
        ix = _indexes.get(root)
        if ix is None:
            ix = _indexes[root] = engine.SearchIndex(root)
        return ix


def forget(root: Path) -> None:
    with _indexes_lock:
        ix = _indexes.pop(Path(root), None)
    if ix is not None:
        ix.close()


# ---- documents from the database --------------------------------------------------------------

class _Regions:
    """Region ids, names and parents by code, read once per batch (the tree is small)."""

    def __init__(self, session: Session):
        self.by_code = {code: rid for rid, code in session.execute(select(Region.id, Region.code))}

    def chain(self, region: Region | None) -> list[tuple[int, str]]:
        """(id, name) of the region and its ancestors, the region first."""
        if region is None:
            return []
        pairs = zip(region.path_codes, region.path_names, strict=False)
        return [(self.by_code[c], n) for c, n in reversed(list(pairs)) if c in self.by_code]


def _visible():
    from marketplace.catalog.queries import visible_condition
    return visible_condition()


def _doc(product: Product, seller: Seller, category: Category | None, origin: Region | None,
         regions: _Regions) -> engine.SearchDoc:
    codes = origin.path_codes if origin else []
    chain = regions.chain(origin)
    county = codes[2] if len(codes) > 2 else ""
    listed = product.listed_at or product.created_at
    return engine.SearchDoc(
        id=product.id, name=product.name,
        description=" ".join(filter(None, [product.spec, product.description or ""])),
        category_id=category.id if category else 0,
        category_name=" ".join(filter(None, [category.name_zh, category.name_en]))
        if category else "",
        seller_id=seller.id, seller_name=seller.name,
        origin_names=[name for _id, name in chain], region_ids=[rid for rid, _name in chain],
        county_code=county, certified=product.certified, price_fen=product.price_fen,
        stock=product.stock, listed_at=int(listed.timestamp()) if listed else 0)


def _rows(session: Session, condition) -> Iterator[tuple]:
    stmt = (select(Product, Seller, Category, Region)
            .join(Seller, Product.seller_id == Seller.id)
            .outerjoin(Category, Product.category_id == Category.id)
            .outerjoin(Region, Product.origin_id == Region.id)
            .where(_visible(), condition)
            .order_by(Product.id)
            .execution_options(yield_per=1000))
    yield from session.execute(stmt)


def documents(session: Session, condition=True) -> Iterator[engine.SearchDoc]:
    """SearchDocs of the visible products that meet `condition` (all of them by default)."""
    regions = _Regions(session)
    for product, seller, category, origin in _rows(session, condition):
        yield _doc(product, seller, category, origin, regions)


def visible_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Product)
                          .join(Seller, Product.seller_id == Seller.id).where(_visible())) or 0


# ---- following the outbox ---------------------------------------------------------------------

@dataclass
class SyncReport:
    rows: int = 0
    upserted: int = 0
    deleted: int = 0
    watermark: int = 0
    skipped: str = ""  # why nothing was applied (no index, index busy)


def _affected_products(session: Session, rows: list[SearchOutbox]) -> set[int]:
    ids = {r.entity_id for r in rows if r.kind == OutboxKind.product}
    sellers = {r.entity_id for r in rows if r.kind == OutboxKind.seller}
    if sellers:
        ids |= set(session.scalars(select(Product.id).where(Product.seller_id.in_(sellers))))
    region_ids = {r.entity_id for r in rows if r.kind == OutboxKind.region}
    if region_ids:
        paths = list(session.scalars(select(Region.path).where(Region.id.in_(region_ids))))
        if paths:
            ids |= set(session.scalars(
                select(Product.id).join(Region, Product.origin_id == Region.id)
                .where(or_(*(Region.path.startswith(p) for p in paths)))))
    return ids


def _pending_rows(session: Session, applied: engine.Applied, now: float) -> list[SearchOutbox]:
    """The next rows to apply, in id order: after the watermark, and the gaps that showed up."""
    condition = SearchOutbox.id > applied.outbox_id
    gaps = applied.open_gaps(now)
    if gaps:
        condition = or_(condition, SearchOutbox.id.in_(gaps))
    return list(session.scalars(
        select(SearchOutbox).where(condition).order_by(SearchOutbox.id).limit(BATCH)))


def advance(applied: engine.Applied, rows: list[SearchOutbox], now: float) -> engine.Applied:
    """What is applied once `rows` (read in id order) are: the watermark moves to the last of
    them; an id skipped below it is a gap while the row read above it is younger than RECENT
    (the skipped one was inserted before that row: its transaction may still commit), until
    that row is RECENT old. Gaps that showed up or expired are dropped; the highest MAX_GAPS
    are kept."""
    read = {r.id for r in rows}
    gaps = {g: until for g, until in applied.gaps.items() if g not in read and until > now}
    fresh = sorted((r for r in rows if r.id > applied.outbox_id), key=lambda r: r.id,
                   reverse=True)
    window = RECENT.total_seconds()
    lows = [r.id for r in fresh[1:]] + [applied.outbox_id] if fresh else []
    added = 0
    for upper, low in zip(fresh, lows, strict=True):
        until = upper.created_at.timestamp() + window
        if until <= now:
            continue
        for missing in range(upper.id - 1, low, -1):
            if added >= MAX_GAPS:
                break
            gaps[missing] = until
            added += 1
    if len(gaps) > MAX_GAPS:
        gaps = {g: gaps[g] for g in sorted(gaps)[-MAX_GAPS:]}
    return engine.Applied(fresh[0].id if fresh else applied.outbox_id, gaps)


def sync(session: Session, root: Path, *, timeout: float = 10.0, rounds: int = 1000) -> SyncReport:
    """Apply the outbox to the live index: the rows after its watermark, and the rows of its
    gaps that committed since (see `advance`). The database is read only once this process
    holds the index's write lock, so two processes never write an older state over a newer
    one. A busy index (another writer for longer than `timeout`) or a missing one is reported,
    never raised: the rows stay for the next sync."""
    report = SyncReport()
    directory = engine.live_directory(root)
    if directory is None:
        report.skipped = "no index"
        return report
    session.commit()  # end any open read transaction: read what is committed now
    for _ in range(rounds):
        try:
            with engine.writer(directory, timeout=timeout) as writer:
                before = engine.read_applied(directory)
                now = time.time()
                rows = _pending_rows(session, before, now)
                after = advance(before, rows, now)
                report.watermark = after.outbox_id
                if not rows:
                    if after != before:  # expired gaps
                        engine.write_applied(directory, after)
                    break
                ids = _affected_products(session, rows)
                docs = list(documents(session, Product.id.in_(ids))) if ids else []
                found = {d.id for d in docs}
                # a seller's or region's own change rewrites its document; a product's
                # change (every sale changes its stock) only adds missing ones
                engine.apply(writer, docs, removed=ids - found, refresh_entities=any(
                    r.kind != OutboxKind.product for r in rows))
                writer.commit()
                engine.write_applied(directory, after)
                report.rows += len(rows)
                report.upserted += len(docs)
                report.deleted += len(ids - found)
            session.commit()
            if len(rows) < BATCH:
                break
        except LockError:
            session.rollback()
            report.skipped = "index busy"
            log.info("search index busy; the outbox will be applied by the next sync")
            break
    return report


def prune(session: Session, *, older_than: timedelta = RETENTION) -> int:
    """Delete outbox rows older than the retention (every index should have applied them). The
    newest row stays: SQLite would give its id again to the next row, below the watermarks."""
    newest = session.scalar(select(func.max(SearchOutbox.id)))
    if newest is None:
        return 0
    result = session.execute(delete(SearchOutbox).where(
        SearchOutbox.created_at < now_utc() - older_than, SearchOutbox.id < newest))
    return result.rowcount or 0


def lag(session: Session, root: Path) -> int | None:
    """Outbox rows not yet applied to the live index (None without an index)."""
    directory = engine.live_directory(root)
    if directory is None:
        return None
    applied = engine.read_applied(directory)
    condition = SearchOutbox.id > applied.outbox_id
    gaps = applied.open_gaps(time.time())
    if gaps:
        condition = or_(condition, SearchOutbox.id.in_(gaps))
    return session.scalar(select(func.count()).select_from(SearchOutbox).where(condition)) or 0


def settled_mark(session: Session) -> int:
    """The newest outbox id older than RECENT: every row up to it has committed."""
    return session.scalar(select(func.max(SearchOutbox.id))
                          .where(SearchOutbox.created_at < now_utc() - RECENT)) or 0


# ---- rebuilding -------------------------------------------------------------------------------

def reindex(session: Session, root: Path, *,
            progress: Callable[[int, int], None] | None = None) -> tuple[Path, int]:
    """Build a new generation from the database beside the live index, swap it in atomically
    and apply what changed meanwhile (the sync after the swap applies the rows of the last
    RECENT again: one may have committed after the documents were read). Search keeps answering
    from the old generation until the swap. Returns the new directory and its document count."""
    root = Path(root)
    session.commit()
    start_mark = settled_mark(session)
    total = visible_count(session)
    generation = engine.new_generation(root)
    try:
        count = engine.build_index(generation, documents(session),
                                   progress=(lambda n: progress(n, total)) if progress else None)
        engine.write_watermark(generation, start_mark)
    except BaseException:
        import shutil
        shutil.rmtree(generation, ignore_errors=True)
        raise
    session.commit()
    engine.swap_in(root, generation)
    sync(session, root)
    return generation, count


# ---- answering --------------------------------------------------------------------------------

def search(root: Path, request: engine.SearchRequest) -> engine.SearchResult:
    """Raises engine.SearchUnavailable when there is no usable index."""
    return index_for(root).search(request)


def status(session: Session, root: Path) -> dict:
    directory = engine.live_directory(root)
    out = {"root": str(root), "directory": str(directory) if directory else None,
           "documents": None, "watermark": None, "gaps": None, "lag": lag(session, root),
           "outbox_rows": session.scalar(select(func.count()).select_from(SearchOutbox)) or 0,
           "visible_products": visible_count(session), "error": None}
    if directory is not None:
        applied = engine.read_applied(directory)
        out["watermark"] = applied.outbox_id
        out["gaps"] = len(applied.open_gaps(time.time()))
        try:
            out["documents"] = index_for(root).doc_count()
        except engine.SearchUnavailable as exc:
            out["error"] = str(exc)
    return out
