"""Answering queries: the live index (`SearchIndex`, re-opened when it changed), the query's
terms as sets of documents, relevance tiers and page ordering. The sets come from
snapshot.py, per-segment data and caches from segments.py. See engine.py for the design."""
from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path

from marketplace.search.analysis import MAX_INITIALS, QueryTerm, initials_query
from marketplace.search.documents import (
    CATEGORY,
    REGION,
    SELLER,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
)
from marketplace.search.generations import CURRENT, live_directory
from marketplace.search.queries import parse_query
from marketplace.search.segments import TOKEN_CACHE_BYTES, SegmentData, TokenCache
from marketplace.search.snapshot import Snapshot
from marketplace.search.writing import initials_code


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


def tiers(hits: int, in_name: list[int]) -> list[int]:
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
        self._snapshot: Snapshot | None = None
        self._lock = threading.Lock()
        self._segment_data: dict[str, SegmentData] = {}
        self._tokens = TokenCache(token_cache_bytes)

    def _directory(self) -> Path:
        if (self.root / CURRENT).exists():
            live = live_directory(self.root)
            if live is None:
                raise SearchUnavailable(f"no live index under {self.root}")
            return live
        return self.root

    def snapshot(self) -> Snapshot:
        directory = self._directory()
        snap = self._snapshot
        if snap is not None and snap.directory == directory and snap.up_to_date():
            return snap
        with self._lock:
            snap = self._snapshot
            if snap is not None and snap.directory == directory and snap.up_to_date():
                return snap
            try:
                fresh = Snapshot(directory, self._segment_data, self._tokens).warm()
            except Exception as exc:  # missing, empty or corrupt: the caller falls back
                raise SearchUnavailable(f"search index at {directory} unreadable: {exc}") from exc
            live = {s.key for s in fresh.segments}
            for key in list(self._segment_data):
                if key not in live:
                    del self._segment_data[key]
            self._snapshot = fresh
            # the old searcher may still be in use by another thread: it is left to the GC
            return fresh

    def open(self) -> SearchIndex:
        """Open the live index now and compute what its first query would wait for (a new
        snapshot is warmed whenever the index changed, see `snapshot`). Raises
        SearchUnavailable like a search would."""
        self.snapshot()
        return self

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

    def _search(self, snap: Snapshot, terms: list[QueryTerm], req: SearchRequest) -> SearchResult:
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
    def _order(snap: Snapshot, hits: int, total: int, terms: list[QueryTerm],
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
        # a name whose whole initials were typed comes first among equally many name matches
        whole = 0
        for term, named in zip(terms, in_name, strict=True):
            letters = initials_query(term)
            if letters is not None and named and len(letters) <= MAX_INITIALS:
                whole |= snap.whole_name(named, len(letters), initials_code(letters))
        out: list[int] = []
        for tier in tiers(hits, in_name):
            parts = (tier & snap.in_stock, tier & ~snap.in_stock)
            if whole and tier & whole:
                parts = (parts[0] & whole, parts[1] & whole, parts[0] & ~whole,
                         parts[1] & ~whole)
            for part in parts:
                if len(out) >= want:
                    return out[offset:want]
                count = part.bit_count() if part else 0
                if count:
                    out.extend(snap.top(part, count, want - len(out), "newest", True))
        return out[offset:want]
