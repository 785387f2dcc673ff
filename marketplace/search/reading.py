"""Answering queries: per-segment data read from the value columns once, snapshots of the index,
sets of documents as Python integers, facets, relevance tiers and page ordering. See engine.py
for the design."""
from __future__ import annotations

import bisect
import heapq
import itertools
import sys
import threading
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.columns import NumericColumn
from whoosh.matching import WrappingMatcher
from whoosh.reading import TermNotFound

from marketplace.search import bits
from marketplace.search.analysis import QueryTerm, parse_query
from marketplace.search.documents import (
    CATEGORY,
    PRODUCT,
    REGION,
    SELLER,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
)
from marketplace.search.generations import CURRENT, live_directory
from marketplace.search.writing import COLUMNS, READ_COLUMNS

TOKEN_CACHE_BYTES = 40 * 1024 * 1024  # decoded posting lists kept, as sets
ENTITY_CACHE_BYTES = 16 * 1024 * 1024  # per snapshot: products of sellers, regions, categories
FACET_SETS = 256  # a facet column with more values is counted by going through the hits


# ---- reading ------------------------------------------------------------------------------------

def _read_column(reader, name: str, size: int) -> array:
    """A value column of a segment as an array. Whoosh's numeric columns are big-endian
    fixed-size values with the trailing defaults (0) left out: read as one block of bytes."""
    out = array(COLUMNS[name])
    if reader.has_column(name):
        column = reader.column_reader(name, translate=False)
        if isinstance(column, NumericColumn.Reader) and column._fixedlen == out.itemsize:
            out.frombytes(column._dbfile.get(column._basepos, column._count * column._fixedlen))
            if sys.byteorder == "little":
                out.byteswap()
        else:
            out.extend(column)
    if len(out) < size:
        out.frombytes(bytes((size - len(out)) * out.itemsize))
    return out


class _SegmentData:
    """What one segment contributes, computed from its columns once: segments never change
    after they are written (only their deletions do, and those are applied per snapshot).
    Document numbers in here are the segment's own."""

    def __init__(self, reader):
        self.size = size = reader.doc_count_all()
        self.cols = {name: _read_column(reader, name, size) for name in READ_COLUMNS}
        kind = self.cols["c_kind"]
        self.products = array("i", (d for d in range(size) if kind[d] == PRODUCT))
        self.product_bits = bits.from_positions(self.products, size, len(self.products))
        stock = self.cols["c_stock"]
        in_stock = [d for d in self.products if stock[d] > 0]
        self.in_stock = bits.from_positions(in_stock, size, len(in_stock))
        self._members: dict[str, dict[int, array]] = {}
        self._groups: dict[str, dict[int, int]] = {}
        self._orders: dict[str, array] = {}
        self._price_keys: array | None = None

    def members(self, column: str) -> dict[int, array]:
        """Products by a column's value: value -> their document numbers (4 bytes each, however
        many values there are; sets are made from them on demand)."""
        found = self._members.get(column)
        if found is None:
            values = self.cols[column]
            lists: dict[int, array] = {}
            for d in self.products:
                v = values[d]
                group = lists.get(v)
                if group is None:
                    lists[v] = group = array("i")
                group.append(d)
            found = self._members[column] = lists
        return found

    def groups(self, column: str) -> dict[int, int]:
        """Products by a column's value as sets: for the facets (few values)."""
        found = self._groups.get(column)
        if found is None:
            found = {v: bits.from_positions(ds, self.size, len(ds))
                     for v, ds in self.members(column).items()}
            self._groups[column] = found
        return found

    def order(self, sort: str) -> array:
        """The segment's products in a sort order: "newest" (newest first, then higher id) or
        "price" (cheapest first, then lower id)."""
        found = self._orders.get(sort)
        if found is None:
            ids, first = self.cols["c_id"], self.cols["c_listed" if sort == "newest" else "c_price"]
            # one integer key per product (value, then id) sorts much faster than tuples
            key = [0] * self.size
            for d in self.products:
                key[d] = first[d] << 64 | ids[d]
            found = array("i", sorted(self.products, key=key.__getitem__,
                                      reverse=sort == "newest"))
            self._orders[sort] = found
        return found

    def price_range(self, lo: int | None, hi: int | None) -> int:
        order = self.order("price")
        if self._price_keys is None:
            price = self.cols["c_price"]
            self._price_keys = array("q", [price[d] for d in order])
        keys = self._price_keys
        start = 0 if lo is None else bisect.bisect_left(keys, lo)
        end = len(keys) if hi is None else bisect.bisect_right(keys, hi)
        return bits.from_positions(order[start:end], self.size, max(0, end - start))


class _Segment:
    """One segment in one snapshot: its reader, its document-number offset in the snapshot,
    its deletions at the time, and its (shared, cached) data."""

    __slots__ = ("data", "deleted", "key", "offset", "reader")

    def __init__(self, reader, offset: int, data: _SegmentData, key: str):
        self.reader = reader
        self.offset = offset
        self.data = data
        self.key = key
        self.deleted = reader.deleted_docs_set


class _Sets:
    """Sets (integers) by key, least recently used out first, bounded by their bytes."""

    def __init__(self, max_bytes: int):
        self.max_bytes = max_bytes
        self.size = 0
        self.data: OrderedDict = OrderedDict()
        self.lock = threading.Lock()

    def get(self, key) -> int | None:
        with self.lock:
            hit = self.data.get(key)
            if hit is not None:
                self.data.move_to_end(key)
            return hit

    def put(self, key, value: int) -> int:
        cost = 64 + (value.bit_length() >> 3)
        with self.lock:
            if key not in self.data:
                self.data[key] = value
                self.size += cost
                while self.size > self.max_bytes and self.data:
                    _k, old = self.data.popitem(last=False)
                    self.size -= 64 + (old.bit_length() >> 3)
        return value


class _TokenCache(_Sets):
    """Decoded posting lists as sets by (segment, field, token). Segments never change once
    written, so entries stay valid until their segment is merged away (then they age out)."""

    def __init__(self, max_bytes: int = TOKEN_CACHE_BYTES):
        super().__init__(max_bytes)

    def postings(self, seg: _Segment, fieldname: str, token: str) -> int:
        key = (seg.key, fieldname, token)
        hit = self.get(key)
        if hit is not None:
            return hit
        ids = _decode(seg.reader, fieldname, token)
        return self.put(key, bits.from_positions(ids, seg.data.size, len(ids)) if ids else 0)


def _decode(reader, fieldname: str, token: str) -> list[int]:
    """All document numbers of a token's posting list in one segment (deleted ones included),
    read block by block instead of one posting at a time."""
    try:
        m = reader.postings(fieldname, token)
    except TermNotFound:
        return []
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
        return out
    return list(m.all_ids())


class _Snapshot:
    """One version of the index as this process answers from it: the searcher, its segments,
    the live products, the value columns over the whole index (document number = segment
    offset + the segment's own number) and sets computed on demand."""

    def __init__(self, directory: Path, segment_data: dict[str, _SegmentData],
                 tokens: _TokenCache):
        self.directory = directory
        self.tokens = tokens
        ix = whoosh_index.open_dir(str(directory))
        self.searcher = ix.searcher()
        self.segments: list[_Segment] = []
        for reader, offset in self.searcher.reader().leaf_readers():
            key = reader.segment().segment_id()
            data = segment_data.get(key)
            if data is None:
                data = segment_data[key] = _SegmentData(reader)
            self.segments.append(_Segment(reader, offset, data, key))
        self.size = sum(s.data.size for s in self.segments)
        live = in_stock = 0
        if len(self.segments) == 1:  # the usual case after a rebuild: no copies
            cols = self.segments[0].data.cols
            self.ids, self.listed, self.price = cols["c_id"], cols["c_listed"], cols["c_price"]
        else:
            self.ids, self.listed, self.price = array("q"), array("q"), array("q")
            for seg in self.segments:
                self.ids.extend(seg.data.cols["c_id"])
                self.listed.extend(seg.data.cols["c_listed"])
                self.price.extend(seg.data.cols["c_price"])
        for seg in self.segments:
            data, off = seg.data, seg.offset
            alive = data.product_bits
            if seg.deleted:
                alive &= ~bits.from_positions(seg.deleted, data.size, len(seg.deleted))
            live |= alive << off
            in_stock |= (data.in_stock & alive) << off
        self.live, self.in_stock = live, in_stock
        self._groups: dict[str, dict[int, int]] = {}
        self._entities = _Sets(ENTITY_CACHE_BYTES)  # (kind, id) and ("token", token)
        self._children: dict[int, list[int]] | None = None

    def up_to_date(self) -> bool:
        return self.searcher.up_to_date()

    def close(self) -> None:
        self.searcher.close()

    # -- sets

    def token(self, fieldname: str, token: str) -> int:
        out = 0
        for seg in self.segments:
            found = self.tokens.postings(seg, fieldname, token)
            if found:
                out |= found << seg.offset
        return out

    def counts(self, hits: int, column: str) -> dict[int, int]:
        """How many of `hits` have each value of a column (0 left out): one AND and popcount
        per value while there are few values (categories, counties of a region), else by
        going through the hits."""
        distinct = max(len(seg.data.members(column)) for seg in self.segments)
        if distinct <= FACET_SETS:
            out = {}
            for value, members in self.groups(column).items():
                if value:
                    n = (hits & members).bit_count()
                    if n:
                        out[value] = n
            return out
        counter: Counter = Counter()
        for seg in self.segments:
            local = hits >> seg.offset & ((1 << seg.data.size) - 1)
            if local:
                counter.update(map(seg.data.cols[column].__getitem__, bits.positions(local)))
        counter.pop(0, None)
        return dict(counter)

    def groups(self, column: str) -> dict[int, int]:
        """Products (deleted ones included) by a column's value over all segments."""
        found = self._groups.get(column)
        if found is None:
            found = {}
            for seg in self.segments:
                for value, members in seg.data.groups(column).items():
                    found[value] = found.get(value, 0) | members << seg.offset
            self._groups[column] = found
        return found

    def _region_children(self) -> dict[int, list[int]]:
        if self._children is None:
            children: dict[int, list[int]] = {}
            for seg in self.segments:
                cols = seg.data.cols
                kind, ids, parent = cols["c_kind"], cols["c_id"], cols["c_parent"]
                for d in range(seg.data.size):
                    if kind[d] == REGION and d not in seg.deleted:
                        children.setdefault(parent[d], []).append(ids[d])
            self._children = children
        return self._children

    def entity(self, kind: int, entity_id: int) -> int:
        """The products of a category or seller, or from a region or anywhere below it."""
        key = (kind, entity_id)
        found = self._entities.get(key)
        if found is not None:
            return found
        if kind == REGION:
            region_ids, todo = set(), [entity_id]
            children = self._region_children()
            while todo:
                region = todo.pop()
                if region not in region_ids:
                    region_ids.add(region)
                    todo.extend(children.get(region, ()))
        else:
            region_ids = {entity_id}
        column = {CATEGORY: "c_category", SELLER: "c_seller", REGION: "c_origin"}[kind]
        found = 0
        for seg in self.segments:
            members = seg.data.members(column)
            lists = [members[r] for r in region_ids if r in members]
            if lists:
                count = sum(map(len, lists))
                local = bits.from_positions(itertools.chain.from_iterable(lists),
                                            seg.data.size, count)
                found |= local << seg.offset
        return self._entities.put(key, found)

    def entity_token(self, token: str) -> int:
        """The products whose category, seller or a region of whose origin has the token."""
        key = ("token", token)
        found = self._entities.get(key)
        if found is not None:
            return found
        matched: set[tuple[int, int]] = set()
        for seg in self.segments:
            local = self.tokens.postings(seg, "etok", token)
            if not local:
                continue
            kind, ids = seg.data.cols["c_kind"], seg.data.cols["c_id"]
            matched.update((kind[d], ids[d]) for d in bits.positions(local)
                           if d not in seg.deleted)
        found = 0
        for kind, entity_id in matched:
            found |= self.entity(kind, entity_id)
        return self._entities.put(key, found)

    def anywhere(self, token: str) -> int:
        return self.token("name", token) | self.token("text", token) | self.entity_token(token)

    def price_range(self, lo: int | None, hi: int | None) -> int:
        out = 0
        for seg in self.segments:
            out |= seg.data.price_range(lo, hi) << seg.offset
        return out

    # -- order

    def _key(self, sort: str):
        if sort == "newest":
            listed, ids = self.listed, self.ids
            return lambda d: (listed[d], ids[d])
        price, ids = self.price, self.ids
        return lambda d: (price[d], ids[d])

    def top(self, members: int, count: int, need: int, sort: str, descending: bool) -> list[int]:
        """The first `need` of a set of `count` documents in a sort order ("newest" or
        "price"). A small set is decoded and sorted; a large one is found by going down the
        precomputed order and keeping the members, which takes about need * size / count
        steps."""
        if count <= need or 2 * count * count < need * self.size:
            key = self._key(sort)
            found = bits.positions(members)
            if count <= need:
                found.sort(key=key, reverse=descending)
                return found
            pick = heapq.nlargest if descending else heapq.nsmallest
            return pick(need, found, key=key)
        data = bits.as_bytes(members, self.size)
        runs = []
        for seg in self.segments:
            order = seg.data.order(sort)
            if sort == "price" and descending:
                order = reversed(order)
            off = seg.offset
            runs.append(map(off.__add__, order) if off else iter(order))
        if len(runs) == 1:
            stream = runs[0]
        else:
            stream = heapq.merge(*runs, key=self._key(sort), reverse=descending)
        out: list[int] = []
        for d in stream:
            if data[d >> 3] >> (d & 7) & 1:
                out.append(d)
                if len(out) >= need:
                    break
        return out


def _term_set(term: QueryTerm, lookup: Callable[[str], int]) -> int:
    """Documents where some alternative of the term has all its tokens."""
    out = 0
    for alternative in term.alternatives:
        found = None
        for token in alternative:
            these = lookup(token)
            found = these if found is None else found & these
            if not found:
                break
        if found:
            out |= found
    return out


def _tiers(hits: int, in_name: list[int]) -> list[int]:
    """The hits grouped by how many terms match in the name, most first (the counts are added
    up bit-parallel: one binary digit per set)."""
    if len(in_name) == 1:
        return [in_name[0], hits & ~in_name[0]]
    digits: list[int] = []
    for members in in_name:
        carry = members
        for i, digit in enumerate(digits):
            if not carry:
                break
            digits[i], carry = digit ^ carry, digit & carry
        if carry:
            digits.append(carry)
    tiers = []
    for score in range(len(in_name), -1, -1):
        tier = hits
        for i, digit in enumerate(digits):
            tier = tier & digit if score >> i & 1 else tier & ~digit
            if not tier:
                break
        if score >> len(digits):
            tier = 0
        tiers.append(tier)
    return tiers


class SearchIndex:
    """The live index under a search root (or a plain index directory), opened lazily and
    re-opened when a writer committed or a new generation was swapped in. Thread-safe."""

    def __init__(self, root: Path, *, token_cache_bytes: int = TOKEN_CACHE_BYTES):
        self.root = Path(root)
        self._snapshot: _Snapshot | None = None
        self._lock = threading.Lock()
        self._segment_data: dict[str, _SegmentData] = {}
        self._tokens = _TokenCache(token_cache_bytes)

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
                fresh = _Snapshot(directory, self._segment_data, self._tokens)
            except Exception as exc:  # missing, empty or corrupt: the caller falls back
                raise SearchUnavailable(f"search index at {directory} unreadable: {exc}") from exc
            live = {s.key for s in fresh.segments}
            for key in list(self._segment_data):
                if key not in live:
                    del self._segment_data[key]
            self._snapshot = fresh
            # the old searcher may still be in use by another thread: it is left to the GC
            return fresh

    def doc_count(self) -> int:
        return self.snapshot().live.bit_count()

    def close(self) -> None:
        with self._lock:
            if self._snapshot is not None:
                self._snapshot.close()
                self._snapshot = None

    # -- answering

    def search(self, req: SearchRequest) -> SearchResult:
        terms = parse_query(req.q)
        if not terms:
            return SearchResult(ids=[], total=0, terms=[])
        snap = self.snapshot()
        try:
            return self._search(snap, terms, req)
        except Exception as exc:  # a segment vanished or a file is corrupt mid-way
            raise SearchUnavailable(f"search failed: {exc}") from exc

    def _search(self, snap: _Snapshot, terms: list[QueryTerm], req: SearchRequest) -> SearchResult:
        hits = snap.live
        for term in sorted(terms, key=lambda t: len(t.alternatives)):
            hits &= _term_set(term, snap.anywhere)
            if not hits:
                break
        if hits and req.region_id is not None:
            hits &= snap.entity(REGION, req.region_id)
        if hits and req.seller_id is not None:
            hits &= snap.entity(SELLER, req.seller_id)
        if hits and (req.min_price is not None or req.max_price is not None):
            hits &= snap.price_range(req.min_price, req.max_price)
        if hits and req.in_stock:
            hits &= snap.in_stock
        # the category facet counts the other categories too: counted before that filter
        category_counts = snap.counts(hits, "c_category") if hits else {}
        if hits and req.category_id is not None:
            hits &= snap.entity(CATEGORY, req.category_id)
        county_counts = snap.counts(hits, "c_county") if hits else {}
        total = hits.bit_count()
        top = self._order(snap, hits, total, terms, req) if total else []
        ids = snap.ids
        return SearchResult(
            ids=[ids[d] for d in top], total=total, category_counts=category_counts,
            county_counts={str(k): v for k, v in county_counts.items()}, terms=terms)

    @staticmethod
    def _order(snap: _Snapshot, hits: int, total: int, terms: list[QueryTerm],
               req: SearchRequest) -> list[int]:
        offset = max(0, req.offset)
        want = offset + max(0, req.limit)
        if not want:
            return []
        if req.sort == "price_asc":
            return snap.top(hits, total, want, "price", False)[offset:want]
        if req.sort == "price_desc":
            return snap.top(hits, total, want, "price", True)[offset:want]
        if req.sort == "newest":
            return snap.top(hits, total, want, "newest", True)[offset:want]
        in_name = [hits & _term_set(term, lambda t: snap.token("name", t)) for term in terms]
        out: list[int] = []
        for tier in _tiers(hits, in_name):
            for part in (tier & snap.in_stock, tier & ~snap.in_stock):
                if len(out) >= want:
                    return out[offset:want]
                count = part.bit_count() if part else 0
                if count:
                    out.extend(snap.top(part, count, want - len(out), "newest", True))
        return out[offset:want]
