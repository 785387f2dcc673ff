"""What each segment of the search index contributes, computed once (segments never change
after they are written): its value columns as arrays, its products by column value and in sort
orders; and the bounded caches of sets (posting lists decoded into sets, entity sets)."""
from __future__ import annotations

import bisect
import itertools
import sys
import threading
from array import array
from collections import OrderedDict

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.columns import NumericColumn
from whoosh.matching import WrappingMatcher
from whoosh.reading import TermNotFound

from marketplace.search import bits
from marketplace.search.documents import PRODUCT, REGION
from marketplace.search.writing import COLUMNS, READ_COLUMNS

TOKEN_CACHE_BYTES = 40 * 1024 * 1024  # decoded posting lists kept, as sets


def _read_column(reader, name: str, size: int) -> array:
    """A value column of a segment as an array. Whoosh's numeric columns are big-endian
    fixed-size values with the trailing defaults (0) left out: read as one block of bytes. A
    column the index's schema lacks (built before it was added) reads as all 0."""
    out = array(COLUMNS[name])
    if name in reader.schema and reader.has_column(name):
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


def _where(kind: bytes, value: int) -> array:
    """The document numbers whose kind byte is `value`, picked in C."""
    flags = kind.translate(bytes(int(i == value) for i in range(256)))
    return array("i", itertools.compress(range(len(kind)), flags))


class SegmentData:
    """What one segment contributes, computed from its columns once: segments never change
    after they are written (only their deletions do, and those are applied per snapshot).
    Document numbers in here are the segment's own."""

    def __init__(self, reader):
        self.size = size = reader.doc_count_all()
        self.cols = {name: _read_column(reader, name, size) for name in READ_COLUMNS}
        kind = self.cols["c_kind"].tobytes()  # one byte per document
        self.products = _where(kind, PRODUCT)
        self.regions = _where(kind, REGION)
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
            # one integer per product (value, then id, then the document number in the low 32
            # bits) sorts without a key function, several times faster than tuples or a key
            keys = [first[d] << 96 | ids[d] << 32 | d for d in self.products]
            keys.sort(reverse=sort == "newest")
            found = array("i", [k & 0xFFFFFFFF for k in keys])
            self._orders[sort] = found
        return found

    def warm(self, facets) -> None:
        """Compute now what queries would otherwise compute on first use: products by each
        column a query filters or counts on, the facets' sets, both sort orders."""
        for column in ("c_category", "c_county", "c_seller", "c_origin"):
            self.members(column)
        for column in facets:
            self.groups(column)
        self.order("newest")
        self.price_range(None, None)  # the price order and its keys

    def price_range(self, lo: int | None, hi: int | None) -> int:
        order = self.order("price")
        if self._price_keys is None:
            price = self.cols["c_price"]
            self._price_keys = array("q", [price[d] for d in order])
        keys = self._price_keys
        start = 0 if lo is None else bisect.bisect_left(keys, lo)
        end = len(keys) if hi is None else bisect.bisect_right(keys, hi)
        return bits.from_positions(order[start:end], self.size, max(0, end - start))


class Segment:
    """One segment in one snapshot: its reader, its document-number offset in the snapshot,
    its deletions at the time, and its (shared, cached) data."""

    __slots__ = ("data", "deleted", "key", "offset", "reader")

    def __init__(self, reader, offset: int, data: SegmentData, key: str):
        self.reader = reader
        self.offset = offset
        self.data = data
        self.key = key
        self.deleted = reader.deleted_docs_set


class BoundedSets:
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


class TokenCache(BoundedSets):
    """Decoded posting lists as sets by (segment, field, token). Segments never change once
    written, so entries stay valid until their segment is merged away (then they age out)."""

    def __init__(self, max_bytes: int = TOKEN_CACHE_BYTES):
        super().__init__(max_bytes)

    def postings(self, seg: Segment, fieldname: str, token: str) -> int:
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
