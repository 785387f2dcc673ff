"""The product search index: Whoosh storage, our own analysis, our own query evaluation.

No Flask and no database in here: documents come in as `SearchDoc`, questions as
`SearchRequest`, answers go out as product ids in order (`SearchResult`).

What is indexed (see `schema()`). Per product: the tokens of its name (words, characters,
pinyin and initials) and the tokens of its description that neither the name nor its category,
seller or origin already give it, in two fields that only record *which* documents hold a token
(Whoosh's `Existence` format: no frequencies, positions or lengths); and value columns (product
id, category, seller, origin region, county, price, stock, listing time, certified). Category,
seller and region names are NOT repeated on every product: each is one small document of its
own (its name's tokens with pinyin; a region also names its parent), and a query token that
matches a seller or a place stands for all products of that seller or from that subtree. That
keeps a product at about 70 postings instead of 200, which is most of the build time.

How a query is answered: `analysis.parse_query` turns the text into terms; a term matches a
product when one of its alternatives has all its tokens in the product's name, description,
category, seller or origin; terms are ANDed. Every set of documents is a Python integer used as
a bitset (`bits`): posting lists are decoded once into one (and kept in a bounded cache: a
segment never changes once written), entity sets are built from the value columns, and the
rest is AND/OR/popcount in C. Nothing is scored with term statistics: the relevance of a match
is how many terms match in the *name*, then in stock above sold out, then newer above older.
Facets count categories and counties with one AND and popcount each. Ordering reads only as
many documents as the page needs: small result sets are decoded and sorted, large ones are
checked against a per-segment precomputed order until the page is full.
"""
from __future__ import annotations

import bisect
import heapq
import itertools
import json
import os
import shutil
import sys
import threading
import time
import uuid
from array import array
from collections import Counter, OrderedDict
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec import whoosh3
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, FieldType, Schema
from whoosh.formats import Existence
from whoosh.matching import WrappingMatcher
from whoosh.reading import TermNotFound

from marketplace.search import bits
from marketplace.search.analysis import QueryTerm, parse_query, token_texts

CURRENT = "CURRENT"  # file in the search root naming the live generation directory
WATERMARK = "applied.json"  # in a generation directory: the last outbox id applied to it
SORTS = ("relevance", "price_asc", "price_desc", "newest")
TOKEN_CACHE_BYTES = 40 * 1024 * 1024  # decoded posting lists kept, as sets
ENTITY_CACHE_BYTES = 16 * 1024 * 1024  # per snapshot: products of sellers, regions, categories
BLOCK_WRITES = True  # build_index writes whole blocks through Whoosh 2.7's W3 postings writer
FACET_SETS = 256  # a facet column with more values is counted by going through the hits

PRODUCT, CATEGORY, SELLER, REGION = 0, 1, 2, 3  # document kinds (column c_kind)
_KEY_PREFIX = {PRODUCT: "p", CATEGORY: "c", SELLER: "s", REGION: "r"}


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
    origin_names: list[str]  # the origin region and its ancestors: village .. province
    region_ids: list[int]  # their ids, in the same order (each region's parent follows it)
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

class TokenSet(FieldType):
    """Tokens analysed beforehand (a list of strings, or one space-separated string); only
    *which* documents hold a token is recorded."""

    def __init__(self):
        super().__init__(format=Existence(), analyzer=SpaceSeparatedTokenizer(), scorable=False,
                         stored=False)

    def index(self, value, **kwargs):
        if isinstance(value, str):
            value = value.split()
        return [(t.encode("utf-8"), 1, 1.0, b"") for t in dict.fromkeys(value)]


_COLUMNS = {"c_kind": "b", "c_id": "q", "c_category": "i", "c_seller": "q", "c_origin": "q",
            "c_county": "i", "c_price": "q", "c_stock": "i", "c_listed": "q",
            "c_certified": "b", "c_parent": "q"}


_READ_COLUMNS = [name for name in _COLUMNS if name != "c_certified"]  # certified: not queried yet


def schema() -> Schema:
    columns = {name: COLUMN(NumericColumn(code)) for name, code in _COLUMNS.items()}
    return Schema(key=ID(unique=True), name=TokenSet(), text=TokenSet(), etok=TokenSet(),
                  **columns)


@lru_cache(maxsize=100_000)
def _pinyin_tokens(text: str) -> tuple[str, ...]:
    """Tokens of a name (product, category, seller, place): with pinyin and initials."""
    return tuple(token_texts(text, pinyin=True))


@lru_cache(maxsize=20_000)
def _context_tokens(category: str, seller: str, origin: tuple[str, ...]) -> frozenset[str]:
    """The tokens a product gets from its category, seller and origin documents."""
    out: set[str] = set(_pinyin_tokens(category))
    out.update(_pinyin_tokens(seller))
    for name in origin:
        out.update(_pinyin_tokens(name))
    return frozenset(out)


def product_tokens(doc: SearchDoc) -> tuple[tuple[str, ...], list[str]]:
    """(name tokens, description tokens not already given by the name, category, seller or
    origin): the product's own postings."""
    name = _pinyin_tokens(doc.name)
    if not doc.description:
        return name, []
    given = _context_tokens(doc.category_name, doc.seller_name, tuple(doc.origin_names))
    own = set(name)
    return name, [t for t in token_texts(doc.description, pinyin=False)
                  if t not in own and t not in given]


def _product_columns(doc: SearchDoc) -> dict:
    return {
        "key": f"p{doc.id}", "c_kind": PRODUCT, "c_id": doc.id,
        "c_category": doc.category_id or 0, "c_seller": doc.seller_id,
        "c_origin": doc.region_ids[0] if doc.region_ids else 0,
        "c_county": int(doc.county_code) if doc.county_code and doc.county_code.isdigit() else 0,
        "c_price": doc.price_fen, "c_stock": max(0, min(doc.stock, 2**31 - 1)),
        "c_listed": max(0, doc.listed_at), "c_certified": 1 if doc.certified else 0,
    }


def _entities(doc: SearchDoc) -> Iterable[tuple[str, dict, tuple[str, ...]]]:
    """(key, columns, tokens) of the category, seller and origin regions of a product."""
    if doc.category_id:
        yield (f"c{doc.category_id}", {"c_kind": CATEGORY, "c_id": doc.category_id},
               _pinyin_tokens(doc.category_name))
    yield (f"s{doc.seller_id}", {"c_kind": SELLER, "c_id": doc.seller_id},
           _pinyin_tokens(doc.seller_name))
    chain = doc.region_ids
    for i, region_id in enumerate(chain):
        parent = chain[i + 1] if i + 1 < len(chain) else 0
        name = doc.origin_names[i] if i < len(doc.origin_names) else ""
        yield (f"r{region_id}", {"c_kind": REGION, "c_id": region_id, "c_parent": parent},
               _pinyin_tokens(name))


def fields(doc: SearchDoc) -> dict:
    """The Whoosh fields of a product document (for update_document)."""
    name, text = product_tokens(doc)
    return {"name": list(name), "text": text, **_product_columns(doc)}


# ---- Whoosh, made to skip work it does not need ---------------------------------------------------

def _cached_reader(self, fieldname, column):
    """W3PerDocReader._cached_reader that also remembers a column that is NOT there: Whoosh
    asks for the (absent) length column of our unscored fields once per posting while it
    writes a segment, and every asking was a stat() of the file system."""
    try:
        return self._readers[fieldname]
    except KeyError:
        reader = self.column_reader(fieldname, column) if self.has_column(fieldname) else None
        self._readers[fieldname] = reader
        return reader


whoosh3.W3PerDocReader._cached_reader = _cached_reader


def _write_field(fieldwriter, fieldname: str, fieldobj, terms: dict[str, array]) -> None:
    """Write one field's posting lists, term by term in order, a block of document numbers at
    a time (Whoosh's own writer takes one posting per Python call and sorts them first)."""
    fieldwriter.start_field(fieldname, fieldobj)
    pw = fieldwriter._postwriter
    limit = getattr(pw, "_blocklimit", None) if BLOCK_WRITES else None
    if limit is None or not hasattr(pw, "_write_block"):  # another codec: the public way
        for token in sorted(terms):
            fieldwriter.start_term(token.encode("utf-8"))
            for docnum in terms[token]:
                fieldwriter.add(docnum, 1.0, b"", 0)
            fieldwriter.finish_term()
        fieldwriter.finish_field()
        return
    for token in sorted(terms):
        ids = terms[token]
        fieldwriter.start_term(token.encode("utf-8"))
        for i in range(0, len(ids), limit):
            if i:
                pw._write_block()
            block = ids[i:i + limit]
            pw._ids = block
            pw._weights = array("f", [1.0]) * len(block)
            pw._maxweight = 1.0
        fieldwriter.finish_term()
    fieldwriter.finish_field()


def _post(table: dict[str, array], tokens: Iterable[str], docnum: int) -> None:
    get = table.get
    for t in tokens:
        ids = get(t)
        if ids is None:
            table[t] = ids = array("I")
        ids.append(docnum)


# ---- building and changing ---------------------------------------------------------------------

def build_index(directory: Path, docs: Iterable[SearchDoc], *,
                progress: Callable[[int], None] | None = None, every: int = 1000) -> int:
    """A new index in `directory` (created; must not hold one) with `docs`, written as one
    segment: the columns through Whoosh's writer, the posting lists collected in memory (as
    arrays of document numbers, 4 bytes a posting) and written in order. Returns the count."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    ix = whoosh_index.create_in(str(directory), schema())
    writer = ix.writer(compound=False)
    inverted: dict[str, dict[str, array]] = {"etok": {}, "name": {}, "text": {}}
    names, texts = inverted["name"], inverted["text"]
    entities: dict[str, tuple[dict, tuple[str, ...]]] = {}
    count = 0
    try:
        add = writer.add_document
        for doc in docs:
            name, text = product_tokens(doc)
            docnum = writer.docnum
            add(**_product_columns(doc))
            _post(names, name, docnum)
            _post(texts, text, docnum)
            for key, columns, tokens in _entities(doc):
                entities[key] = (columns, tokens)
            count += 1
            if progress and count % every == 0:
                progress(count)
        for key, (columns, tokens) in entities.items():
            docnum = writer.docnum
            add(key=key, **columns)
            _post(inverted["etok"], tokens, docnum)
        fieldwriter = writer.fieldwriter
        pooled = fieldwriter.add_postings

        def add_postings(schema, lengths, items):
            pooled(schema, None, items)  # the pool holds only the key field's postings
            for fieldname, terms in sorted(inverted.items()):
                if terms:
                    _write_field(fieldwriter, fieldname, schema[fieldname], terms)

        fieldwriter.add_postings = add_postings
        writer.commit(merge=False)
    except BaseException:
        if not writer.is_closed:
            writer.cancel()
        raise
    if progress and count % every:
        progress(count)
    return count


def apply(writer, docs: Iterable[SearchDoc], removed: Iterable[int] = ()) -> int:
    """Add or replace the documents of `docs` (with their category, seller and origin
    documents) and remove the products with the ids in `removed`, in an open writer."""
    for product_id in removed:
        writer.delete_by_term("key", f"p{product_id}")
    entities: dict[str, tuple[dict, tuple[str, ...]]] = {}
    count = 0
    for doc in docs:
        writer.update_document(**fields(doc))
        for key, columns, tokens in _entities(doc):
            entities[key] = (columns, tokens)
        count += 1
    for key, (columns, tokens) in entities.items():
        writer.update_document(key=key, etok=list(tokens), **columns)
    return count


@contextmanager
def writer(directory: Path, *, timeout: float = 10.0):
    """A writer on the index in `directory`, waiting up to `timeout` seconds for another
    process's (then whoosh's LockError). Cancelled unless the block committed it."""
    ix = whoosh_index.open_dir(str(directory))
    w = ix.writer(timeout=timeout, delay=0.05, compound=False)
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

def _read_column(reader, name: str, size: int) -> array:
    """A value column of a segment as an array. Whoosh's numeric columns are big-endian
    fixed-size values with the trailing defaults (0) left out: read as one block of bytes."""
    out = array(_COLUMNS[name])
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
        self.cols = {name: _read_column(reader, name, size) for name in _READ_COLUMNS}
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
