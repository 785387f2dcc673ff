"""The product search index: Whoosh storage, our own analysis, our own query evaluation.

No Flask and no database in here: documents come in as `SearchDoc`, questions as
`SearchRequest`, answers go out as product ids in order (`SearchResult`).

What is indexed (see `schema()`). Per product: the tokens of its name (words, characters,
pinyin, and the initials of every prefix from where a word starts) and the tokens of its
description that neither the name nor its category, seller or origin already give it, in two
fields that only record *which* documents hold a token (Whoosh's `Existence` format: no
frequencies, positions or lengths); and value columns (product id, category, seller, origin
region, county, price, stock, listing time, certified, the whole name's initials). Category,
seller and region names are NOT repeated on every product: each is one small document of its
own (its name's tokens with pinyin; a region also names its parent), and a query token that
matches a seller or a place stands for all products of that seller or from that subtree. That
keeps a product at about 70 postings instead of 200, which is most of the build time.

How a query is answered: `queries.parse_query` turns the text into terms; a term matches a
product when one of its alternatives has all its tokens in the product's name, description,
category, seller or origin; terms are ANDed. Every set of documents is a Python integer used as
a bitset (`bits`): posting lists are decoded once into one (and kept in a bounded cache: a
segment never changes once written), entity sets are built from the value columns, and the
rest is AND/OR/popcount in C. Nothing is scored with term statistics: the relevance of a match
is how many terms match in the *name*, then a name whose whole initials were typed above the
others, then in stock above sold out, then newer above older.
Facets count categories and counties with one AND and popcount each. Ordering reads only as
many documents as the page needs: small result sets are decoded and sorted, large ones are
checked against a per-segment precomputed order until the page is full. A snapshot computes
its per-segment data (products by column, sort orders, facet sets) when it is opened, not on
the first query that needs them.

The code: documents.py (what goes in and out), writing.py (schema, tokens, building, changes),
generations.py (the live index and its replacement), reading.py (answering: the live index,
terms, tiers, ordering) over snapshot.py (one version of the index and its sets) and segments.py
(per-segment data, caches of sets). This module is the one the rest of the application imports.
"""
from __future__ import annotations

from marketplace.search.documents import (
    CATEGORY,
    PRODUCT,
    REGION,
    SELLER,
    SORTS,
    SearchDoc,
    SearchRequest,
    SearchResult,
    SearchUnavailable,
)
from marketplace.search.generations import (
    CURRENT,
    WATERMARK,
    Applied,
    live_directory,
    new_generation,
    read_applied,
    read_watermark,
    swap_in,
    write_applied,
    write_watermark,
)
from marketplace.search.reading import SearchIndex
from marketplace.search.writing import (
    TokenSet,  # the pickled schema of indexes built before the split names it here
    apply,
    build_index,
    fields,
    product_tokens,
    schema,
    writer,
)

__all__ = [
    "CATEGORY", "CURRENT", "PRODUCT", "REGION", "SELLER", "SORTS", "WATERMARK", "Applied",
    "SearchDoc", "SearchIndex", "SearchRequest", "SearchResult", "SearchUnavailable", "TokenSet",
    "apply", "build_index", "fields", "live_directory", "new_generation", "product_tokens",
    "read_applied", "read_watermark", "schema", "swap_in", "write_applied", "write_watermark",
    "writer",
]
