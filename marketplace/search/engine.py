"""The product search index: Whoosh storage, our own analysis, our own query evaluation.

No Flask and no database in here: documents come in as `SearchDoc`, questions as
`SearchRequest`, answers go out as product ids in order (`SearchResult`).

What is indexed (see `schema()`): two token fields that only record *which* documents hold a
token (Whoosh's `Existence` format: no frequencies, positions or lengths), one with the name's
tokens and one with the tokens of everything (name, description, category, seller, origin names;
pinyin for all but the description); a field of region ids (the origin village and its
ancestors) for subtree filters; and per-document value columns (product id, category, seller,
county, price, stock, listing time) that filters, facets and sorting read.

How a query is answered: `analysis.parse_query` turns the text into terms; a term matches a
document when one of its alternatives has all its tokens there; terms are ANDed. Nothing is
scored with term statistics: the relevance of a match is how many terms match in the *name*
(name matches rank above matches elsewhere), then in stock above sold out, then newer above
older. So a query touches only the posting lists of its own tokens, as sets of document numbers
(decoded once and kept in a bounded cache: the index is read-only between commits), and the
ranking reads plain arrays. Facets count the matching documents' categories and counties.
"""
from __future__ import annotations

import heapq
import json
import os
import shutil
import threading
import time
import uuid
from array import array
from contextlib import contextmanager
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, NUMERIC, FieldType, Schema
from whoosh.formats import Existence
from whoosh.matching import WrappingMatcher
from whoosh.reading import TermNotFound

from marketplace.search.analysis import QueryTerm, analyze, parse_query

CURRENT = "CURRENT"  # file in the search root naming the live generation directory
WATERMARK = "applied.json"  # in a generation directory: the last outbox id applied to it
SORTS = ("relevance", "price_asc", "price_desc", "newest")
POSTING_CACHE_ITEMS = 1_500_000  # document numbers kept decoded, over all cached posting lists
EMPTY: frozenset[int] = frozenset()


# ---- documents, requests, results ---------------------------------------------------------------

@dataclass
class SearchDoc:
    id: int
    name: str
    description: str
    category_id: int
    category_name: str
    seller_id: int
    seller_name: str
    origin_names: list[str]  # village .. province
    region_ids: list[int]  # the origin village and all its ancestors
    county_code: str
    certified: bool
    price_fen: int
    stock: int
    listed_at: int  # unix seconds


@dataclass
class SearchRequest:
    q: str
    category_id: int | None = None
    region_id: int | None = None
    seller_id: int | None = None
    min_price: int | None = None
    max_price: int | None = None
    in_stock: bool = False
    sort: str = "relevance"
    offset: int = 0
    limit: int = 24


@dataclass
class SearchResult:
    ids: list[int]
    total: int
    category_counts: dict[int, int] = field(default_factory=dict)
    county_counts: dict[str, int] = field(default_factory=dict)
    terms: list[QueryTerm] = field(default_factory=list)


class SearchUnavailable(RuntimeError):
    """The index is missing or unreadable; callers fall back to the database."""


# ---- schema and documents -------------------------------------------------------------------------

def _tokens_field() -> FieldType:
    # tokens arrive analysed, separated by spaces; only "which documents" is recorded
    return FieldType(format=Existence(), analyzer=SpaceSeparatedTokenizer(), scorable=False,
                     stored=False)


def schema() -> Schema:
    return Schema(
        pid=NUMERIC(numtype=int, bits=64, signed=False, unique=True, stored=False, shift_step=64),
        name=_tokens_field(),
        all=_tokens_field(),
        region=_tokens_field(),
        c_pid=COLUMN(NumericColumn("q")),
        c_category=COLUMN(NumericColumn("i")),
        c_seller=COLUMN(NumericColumn("q")),
        c_county=COLUMN(NumericColumn("i")),
        c_price=COLUMN(NumericColumn("q")),
        c_stock=COLUMN(NumericColumn("i")),
        c_listed=COLUMN(NumericColumn("q")),
        c_certified=COLUMN(NumericColumn("b")),
    )


@lru_cache(maxsize=50_000)
def _tokens(text: str, pinyin: bool) -> str:
    """Analysed tokens of a text as one space-separated string (seller, category and place
    names repeat across documents: they are analysed once)."""
    return " ".join(dict.fromkeys(t.text for t in analyze(text, pinyin=pinyin)))


def fields(doc: SearchDoc) -> dict:
    """The Whoosh fields of a document (for add_document / update_document)."""
    name = _tokens(doc.name, True)
    everything = " ".join([
        name, _tokens(doc.description, False) if doc.description else "",
        _tokens(doc.category_name, True), _tokens(doc.seller_name, True),
        *(_tokens(n, True) for n in doc.origin_names)])
    return {
        "pid": doc.id,
        "name": name,
        "all": everything,
        "region": " ".join(str(r) for r in doc.region_ids),
        "c_pid": doc.id,
        "c_category": doc.category_id or 0,
        "c_seller": doc.seller_id,
        "c_county": int(doc.county_code) if doc.county_code and doc.county_code.isdigit() else 0,
        "c_price": doc.price_fen,
        "c_stock": max(0, min(doc.stock, 2**31 - 1)),
        "c_listed": max(0, doc.listed_at),
        "c_certified": 1 if doc.certified else 0,
    }


# ---- building and changing ---------------------------------------------------------------------

def build_index(directory: Path, docs: Iterable[SearchDoc], *,
                progress: Callable[[int], None] | None = None, every: int = 1000) -> int:
    """A new index in `directory` (created; must not hold one) with `docs`. Returns the count."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(directory), schema())
    writer = ix.writer(limitmb=256)
    count = 0
    try:
        for doc in docs:
            writer.add_document(**fields(doc))
            count += 1
            if progress and count % every == 0:
                progress(count)
        writer.commit(optimize=True)
    except BaseException:
        writer.cancel()
        raise
    if progress and count % every:
        progress(count)
    return count


@contextmanager
def writer(directory: Path, *, timeout: float = 10.0):
    """A writer on the index in `directory`, waiting up to `timeout` seconds for another
    process's (then whoosh's LockError). Cancelled unless the block committed it."""
    ix = whoosh_index.open_dir(str(directory))
    w = ix.writer(timeout=timeout, delay=0.05)
    try:
        yield w
    finally:
        if not w.is_closed:
            w.cancel()


# ---- generations: the live index and its replacement --------------------------------------------

def live_directory(root: Path) -> Path | None:
    """The live generation under the search root, or None when there is none."""
    try:
        name = (Path(root) / CURRENT).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return Path(root) / name if name else None


def new_generation(root: Path) -> Path:
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    path = root / f"gen-{stamp}-{os.getpid()}-{uuid.uuid4().hex[:6]}"
    path.mkdir()
    return path


def swap_in(root: Path, generation: Path, *, keep: int = 1) -> None:
    """Make `generation` the live index atomically (rename of the pointer file); readers pick it
    up at their next query. Older generations beyond `keep` are removed."""
    root = Path(root)
    tmp = root / f"{CURRENT}.{os.getpid()}.tmp"
    tmp.write_text(generation.name, encoding="utf-8")
    os.replace(tmp, root / CURRENT)
    old = sorted((p for p in root.glob("gen-*") if p.is_dir() and p != generation),
                 key=lambda p: p.stat().st_mtime)
    for path in old[:max(0, len(old) - keep)]:
        shutil.rmtree(path, ignore_errors=True)


def read_watermark(directory: Path) -> int:
    try:
        return int(json.loads((Path(directory) / WATERMARK).read_text())["outbox_id"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        return 0


def write_watermark(directory: Path, outbox_id: int) -> None:
    path = Path(directory) / WATERMARK
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"outbox_id": int(outbox_id)}))
    os.replace(tmp, path)


# ---- reading ------------------------------------------------------------------------------------

class _Segment:
    """One Whoosh segment as this process reads it: its reader, the offset of its document
    numbers in the whole index, and its deleted documents."""

    __slots__ = ("deleted", "key", "offset", "reader")

    def __init__(self, reader, offset: int):
        self.reader = reader
        self.offset = offset
        self.deleted = reader.deleted_docs_set
        self.key = reader.segment().segment_id()


_COLUMNS = ("c_pid", "c_category", "c_seller", "c_county", "c_price", "c_stock", "c_listed")
_TYPECODES = {"c_pid": "q", "c_category": "i", "c_seller": "q", "c_county": "i", "c_price": "q",
              "c_stock": "i", "c_listed": "q"}


class _Snapshot:
    """Everything one version of the index needs for answering: the searcher, its segments and
    the per-document arrays (over the whole index: document number = offset + local number)."""

    def __init__(self, directory: Path, column_cache: dict):
        self.directory = directory
        ix = whoosh_index.open_dir(str(directory))
        self.searcher = ix.searcher()
        leaves = self.searcher.reader().leaf_readers()  # [(segment reader, docnum offset)]
        self.segments = [_Segment(r, off) for r, off in leaves]
        self.doc_count = self.searcher.reader().doc_count_all()
        cols: dict[str, array] = {c: array(_TYPECODES[c]) for c in _COLUMNS}
        for seg in self.segments:
            cached = column_cache.get(seg.key)
            if cached is None:
                cached = {c: _read_column(seg.reader, c) for c in _COLUMNS}
                column_cache[seg.key] = cached
            for c in _COLUMNS:
                cols[c].extend(cached[c])
        self.pid, self.category = cols["c_pid"], cols["c_category"]
        self.seller, self.county = cols["c_seller"], cols["c_county"]
        self.price, self.stock, self.listed = cols["c_price"], cols["c_stock"], cols["c_listed"]
        # relevance tie-break in one number: in stock first, then newer, then higher id
        self.rank = array("q", ((1 << 62 if s > 0 else 0) | (t << 20) | (p & 0xFFFFF)
                                for s, t, p in zip(self.stock, self.listed, self.pid)))
        self.deleted = frozenset(d + seg.offset for seg in self.segments for d in seg.deleted)

    def up_to_date(self) -> bool:
        return self.searcher.up_to_date()

    def close(self) -> None:
        self.searcher.close()


def _read_column(reader, name: str) -> array:
    out = array(_TYPECODES[name])
    if reader.has_column(name):
        out.extend(reader.column_reader(name))
    else:
        out.extend([0] * reader.doc_count_all())
    return out


def _decode(reader, fieldname: str, token: str) -> frozenset[int]:
    """All document numbers of a token's posting list in one segment (deleted ones included),
    read block by block instead of one posting at a time."""
    try:
        m = reader.postings(fieldname, token)
    except TermNotFound:
        return EMPTY
    while isinstance(m, WrappingMatcher):
        m = m.child
    if isinstance(m, W3LeafMatcher):
        out: list[int] = []
        while True:
            if m._ids is None:
                m._read_ids()
            out.extend(m._ids)
            if m._lastblock:
                break
            m._next_block()
        return frozenset(out)
    return frozenset(m.all_ids())


class _PostingCache:
    """Decoded posting lists by (segment, field, token), least recently used out first, bounded
    by the number of document numbers held. Segments never change once written, so entries
    stay valid until their segment is merged away (then they simply age out)."""

    def __init__(self, max_items: int = POSTING_CACHE_ITEMS):
        self.max_items = max_items
        self.items = 0
        self.data: OrderedDict[tuple, frozenset[int]] = OrderedDict()
        self.lock = threading.Lock()

    def get(self, seg: _Segment, fieldname: str, token: str) -> frozenset[int]:
        key = (seg.key, fieldname, token)
        with self.lock:
            hit = self.data.get(key)
            if hit is not None:
                self.data.move_to_end(key)
                return hit
        ids = _decode(seg.reader, fieldname, token)
        with self.lock:
            if key not in self.data:
                self.data[key] = ids
                self.items += len(ids) + 1
                while self.items > self.max_items and self.data:
                    _k, old = self.data.popitem(last=False)
                    self.items -= len(old) + 1
        return ids


class SearchIndex:
    """The live index under a search root (or a plain index directory), opened lazily and
    re-opened when a writer committed or a new generation was swapped in. Thread-safe."""

    def __init__(self, root: Path, *, posting_cache_items: int = POSTING_CACHE_ITEMS):
        self.root = Path(root)
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()
        self._columns: dict = {}
        self._postings = _PostingCache(posting_cache_items)

    def _directory(self) -> Path:
        if (self.root / CURRENT).exists():
            live = live_directory(self.root)
            if live is None:
                raise SearchUnavailable(f"no live index under {self.root}")
            return live
        return self.root

    def snapshot(self) -> _Snapshot:
        directory = self._directory()
        snap = self._snapshot
        if snap is not None and snap.directory == directory and snap.up_to_date():
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.directory == directory and snap.up_to_date():
                return snap
            try:
                fresh = _Snapshot(directory, self._columns)
            except Exception as exc:  # missing, empty or corrupt: the caller falls back
                raise SearchUnavailable(f"search index at {directory} unreadable: {exc}") from exc
            live = {s.key for s in fresh.segments}
            for key in list(self._columns):
                if key not in live:
                    del self._columns[key]
            self._snapshot = fresh
            # the old searcher may still be in use by another thread: it is left to the GC
            return fresh

    def doc_count(self) -> int:
        snap = self.snapshot()
        return snap.doc_count - len(snap.deleted)

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    # -- answering

    def _term_docs(self, seg: _Segment, fieldname: str, term: QueryTerm) -> set[int] | frozenset:
        found: set[int] | frozenset = EMPTY
        for alternative in term.alternatives:
            lists = sorted((self._postings.get(seg, fieldname, t) for t in alternative), key=len)
            if not lists or not lists[0]:
                continue
            docs = lists[0].intersection(*lists[1:]) if len(lists) > 1 else lists[0]
            found = docs if not found else found | docs
        return found

    def search(self, req: SearchRequest) -> SearchResult:
        terms = parse_query(req.q)
        if not terms:
            return SearchResult(ids=[], total=0, terms=[])
        try:
            snap = self.snapshot()
            # the category facet counts the other categories too: match without that filter
            matched, name_sets = self._match(snap, terms, replace(req, category_id=None))
        except SearchUnavailable:
            raise
        except Exception as exc:  # a segment vanished or a file is corrupt mid-way
            raise SearchUnavailable(f"search failed: {exc}") from exc
        category = snap.category
        category_counts = Counter(map(category.__getitem__, matched))
        if req.category_id is not None:
            want = req.category_id
            matched = {d for d in matched if category[d] == want}
        county_counts = Counter(map(snap.county.__getitem__, matched))
        top = self._order(snap, matched, name_sets, req)
        return SearchResult(
            ids=[snap.pid[d] for d in top], total=len(matched),
            category_counts={k: v for k, v in category_counts.items() if k},
            county_counts={str(k): v for k, v in county_counts.items() if k},
            terms=terms)

    def _match(self, snap: _Snapshot, terms: list[QueryTerm], req: SearchRequest):
        matched: set[int] = set()
        name_sets: list[set[int]] = [set() for _ in terms]
        want_names = req.sort == "relevance"
        for seg in snap.segments:
            docs = None
            for term in sorted(terms, key=lambda t: len(t.alternatives)):
                found = self._term_docs(seg, "all", term)
                docs = found if docs is None else docs & found
                if not docs:
                    break
            if not docs:
                continue
            if req.region_id is not None:
                docs = docs & self._postings.get(seg, "region", str(req.region_id))
            if seg.deleted:
                docs = docs - seg.deleted
            if not docs:
                continue
            off = seg.offset
            if off:
                docs = {d + off for d in docs}
            docs = self._filter(snap, docs, req)
            if not docs:
                continue
            matched |= docs
            if want_names:
                for i, term in enumerate(terms):
                    in_name = self._term_docs(seg, "name", term)
                    if off:
                        in_name = {d + off for d in in_name}
                    name_sets[i] |= docs & in_name if len(in_name) > len(docs) else in_name & docs
        return matched, name_sets

    @staticmethod
    def _filter(snap: _Snapshot, docs, req: SearchRequest):
        checks = []
        if req.category_id is not None:
            cat, want = snap.category, req.category_id
            checks.append(lambda d: cat[d] == want)
        if req.seller_id is not None:
            sel, want_s = snap.seller, req.seller_id
            checks.append(lambda d: sel[d] == want_s)
        if req.min_price is not None:
            price, lo = snap.price, req.min_price
            checks.append(lambda d: price[d] >= lo)
        if req.max_price is not None:
            price, hi = snap.price, req.max_price
            checks.append(lambda d: price[d] <= hi)
        if req.in_stock:
            stock = snap.stock
            checks.append(lambda d: stock[d] > 0)
        for check in checks:
            docs = set(filter(check, docs))
        return docs

    @staticmethod
    def _order(snap: _Snapshot, matched: set[int], name_sets: list[set[int]],
               req: SearchRequest) -> list[int]:
        want = max(0, req.offset) + max(0, req.limit)
        if not matched or not want:
            return []
        if req.sort == "price_asc":
            price, pid = snap.price, snap.pid
            top = heapq.nsmallest(want, matched, key=lambda d: (price[d], pid[d]))
        elif req.sort == "price_desc":
            price, pid = snap.price, snap.pid
            top = heapq.nlargest(want, matched, key=lambda d: (price[d], pid[d]))
        elif req.sort == "newest":
            listed, pid = snap.listed, snap.pid
            top = heapq.nlargest(want, matched, key=lambda d: (listed[d], pid[d]))
        else:
            top = _by_relevance(snap, matched, name_sets, want)
        return top[max(0, req.offset):want]


def _by_relevance(snap: _Snapshot, matched: set[int], name_sets: list[set[int]],
                  want: int) -> list[int]:
    """Groups by how many terms match in the name (more first); inside a group in stock first,
    then newest (one precomputed number per document). Only the groups needed are sorted."""
    rank = snap.rank.__getitem__
    if len(name_sets) == 1:
        in_name = name_sets[0] & matched
        groups = [in_name, matched - in_name]
    else:
        score = Counter()
        for s in name_sets:
            score.update(s & matched)
        by_score: dict[int, list[int]] = {}
        for doc, n in score.items():
            by_score.setdefault(n, []).append(doc)
        groups = [by_score[n] for n in sorted(by_score, reverse=True)]
        groups.append(matched.difference(score))
    top: list[int] = []
    for group in groups:
        if len(top) >= want:
            break
        top.extend(heapq.nlargest(want - len(top), group, key=rank))
    return top
