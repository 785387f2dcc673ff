"""What goes into the search index and what comes out: documents, requests, results; the
kinds of documents (a product, or the category, seller or region it refers to)."""
from __future__ import annotations

from dataclasses import dataclass, field

from marketplace.search.analysis import QueryTerm

SORTS = ("relevance", "price_asc", "price_desc", "newest")
PRODUCT, CATEGORY, SELLER, REGION = 0, 1, 2, 3  # document kinds (column c_kind)


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
