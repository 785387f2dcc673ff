"""Writing the index: the schema, the tokens and columns of a document, the bulk build of a new
index (posting lists collected in memory and written a block at a time), and changes applied
through a Whoosh writer. See engine.py for the design."""
from __future__ import annotations

from array import array
from collections.abc import Callable, Iterable
from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path

from whoosh import index as whoosh_index
from whoosh.analysis import SpaceSeparatedTokenizer
from whoosh.codec import whoosh3
from whoosh.columns import NumericColumn
from whoosh.fields import COLUMN, ID, FieldType, Schema
from whoosh.formats import Existence

from marketplace.search.analysis import token_texts, whole_name_initials
from marketplace.search.documents import CATEGORY, PRODUCT, REGION, SELLER, SearchDoc

BLOCK_WRITES = True  # build_index writes whole blocks through Whoosh 2.7's W3 postings writer


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


# c_whole: how many letters the initials of the product's whole name have (0: none), and
# c_whole_code those letters (`initials_code`): a query of initials typed the whole name of the
# products among its name matches that have both (the length narrows them down as a set)
COLUMNS = {"c_kind": "b", "c_id": "q", "c_category": "i", "c_seller": "q", "c_origin": "q",
            "c_county": "i", "c_price": "q", "c_stock": "i", "c_listed": "q",
            "c_certified": "b", "c_parent": "q", "c_whole": "b", "c_whole_code": "q"}


READ_COLUMNS = [name for name in COLUMNS if name != "c_certified"]  # certified: not queried yet


def schema() -> Schema:
    columns = {name: COLUMN(NumericColumn(code)) for name, code in COLUMNS.items()}
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


def initials_code(letters: str) -> int:
    """Up to 12 lower-case latin letters as one number, five bits a letter (a = 1): a 64-bit
    column holds them without collisions."""
    code = 0
    for ch in letters:
        code = code << 5 | (ord(ch) - 96)
    return code


@lru_cache(maxsize=100_000)
def _whole_initials(name: str) -> tuple[int, int]:
    letters = whole_name_initials(name)
    return len(letters), initials_code(letters)


def _product_columns(doc: SearchDoc) -> dict:
    whole_length, whole_code = _whole_initials(doc.name)
    return {
        "key": f"p{doc.id}", "c_kind": PRODUCT, "c_id": doc.id,
        "c_category": doc.category_id or 0, "c_seller": doc.seller_id,
        "c_origin": doc.region_ids[0] if doc.region_ids else 0,
        "c_county": int(doc.county_code) if doc.county_code and doc.county_code.isdigit() else 0,
        "c_price": doc.price_fen, "c_stock": max(0, min(doc.stock, 2**31 - 1)),
        "c_listed": max(0, doc.listed_at), "c_certified": 1 if doc.certified else 0,
        "c_whole": whole_length, "c_whole_code": whole_code,
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


def apply(writer, docs: Iterable[SearchDoc], removed: Iterable[int] = (), *,
          refresh_entities: bool = True) -> int:
    """Add or replace the documents of `docs` and remove the products with the ids in
    `removed`, in an open writer. Their category, seller and origin documents are rewritten too,
    or, with refresh_entities=False (only products changed: a sale's stock, a new product),
    only written where the index has none yet."""
    for product_id in removed:
        writer.delete_by_term("key", f"p{product_id}")
    entities: dict[str, tuple[dict, tuple[str, ...]]] = {}
    count = 0
    known = set(writer.schema.names())  # an index built before a column was added lacks it
    for doc in docs:
        writer.update_document(**{k: v for k, v in fields(doc).items() if k in known})
        for key, columns, tokens in _entities(doc):
            entities[key] = (columns, tokens)
        count += 1
    if not refresh_entities and entities:
        with writer.reader() as existing:
            entities = {k: v for k, v in entities.items() if ("key", k) not in existing}
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
