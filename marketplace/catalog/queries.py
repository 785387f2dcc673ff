"""What shoppers see: only listed products of verified sellers, with filters, sorts and pages.

The filters come from `catalog.filters`, cards are built by `catalog.cards`; a page of either
kind is a `ProductPage` (`core.pager.Page` with the filters that chose it)."""
from __future__ import annotations

import functools
from dataclasses import dataclass, field, replace

from sqlalchemy import Integer, bindparam, case, func, or_, select
from sqlalchemy.orm import Session, contains_eager, joinedload, load_only, selectinload

from marketplace.catalog.cards import card_select, cards_from_rows
from marketplace.catalog.filters import CatalogFilters, Searcher, SearchHits, Sort
from marketplace.catalog.models import Category, Product, ProductStatus
from marketplace.core.errors import NotFound
from marketplace.core.pager import Page
from marketplace.regions.models import Region
from marketplace.sellers.models import Seller, SellerStatus


@dataclass
class ProductPage(Page):
    """A page of the catalogue: `items` are ORM products (`browse`) or cards (`browse_cards`),
    with the filters that chose them, the region and category they name, and what the search
    index answered (None when the database did)."""

    filters: CatalogFilters = field(default_factory=CatalogFilters)
    region: Region | None = None
    category: Category | None = None
    problems: dict[str, str] = field(default_factory=dict)
    search: SearchHits | None = None  # set when the search index answered the query


@functools.cache
def visible_condition():
    """Listed products of verified sellers (needs Seller joined); built once, reused."""
    return (Product.status == ProductStatus.listed) & (Seller.status == SellerStatus.verified)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def card_options(*, seller_joined: bool):
    """Loader options for ORM products shown as cards or list items (home, API list).

    Only the columns a card or an API item reads are loaded (the long description, review
    note and timestamps stay deferred, loaded on first access); the seller comes from the join
    that checks its status (`seller_joined`) instead of a second join, without its own region
    and household (loaded on first access); images come in one extra query (selectin).
    """
    seller = (contains_eager(Product.seller) if seller_joined
              else joinedload(Product.seller))
    return (
        load_only(Product.id, Product.sku, Product.seller_id, Product.category_id,
                  Product.origin_id, Product.name, Product.spec, Product.price_fen,
                  Product.stock, Product.status, Product.certificate_no,
                  Product.certificate_valid_until, Product.certificate_checked,
                  Product.featured, Product.listed_at),
        seller.load_only(Seller.id, Seller.name, Seller.kind, Seller.status),
        seller.lazyload(Seller.region),
        seller.lazyload(Seller.household),
        selectinload(Product.images),
    )


@dataclass
class _Match:
    """The filters of a query: its `shape` (which conditions, hashable: statements are built
    once per shape and sort, see `_statement`) and the values of their bound parameters."""
    shape: tuple
    params: dict
    region: Region | None
    category: Category | None


def _match(session: Session, f: CatalogFilters) -> _Match:
    shape: list = []
    params: dict = {}
    region = category = None
    if f.category:
        category = session.scalar(select(Category).where(Category.slug == f.category))
        shape.append("category")
        params["category_id"] = category.id if category else -1
    if f.region:
        region = session.scalar(select(Region).where(Region.code == f.region))
        if region is None:
            shape.append("nothing")
        else:
            shape.append("region")
            params["region_path"] = region.path + "%"
    if f.seller is not None:
        shape.append("seller")
        params["seller_id"] = f.seller
    if f.min_price is not None:
        shape.append("min_price")
        params["min_price"] = f.min_price
    if f.max_price is not None:
        shape.append("max_price")
        params["max_price"] = f.max_price
    if f.in_stock:
        shape.append("in_stock")
    if f.q:
        # plain substring match for now; the search issue replaces this with the index
        terms = f.q.split()[:5]
        shape.append(("q", len(terms)))
        for i, term in enumerate(terms):
            params[f"q{i}"] = f"%{_like_escape(term)}%"
    return _Match(tuple(shape), params, region, category)


def _where(stmt, shape: tuple):
    """Join the seller (its status decides visibility) and, for a region filter, the origin
    region; then the conditions of `shape`, with bound parameters named as in `_match`."""
    stmt = stmt.join(Seller, Product.seller_id == Seller.id).where(visible_condition())
    for item in shape:
        if item == "category":
            stmt = stmt.where(Product.category_id == bindparam("category_id"))
        elif item == "nothing":
            stmt = stmt.where(Product.id == -1)
        elif item == "region":
            stmt = stmt.join(Region, Product.origin_id == Region.id).where(
                Region.path.like(bindparam("region_path")))
        elif item == "seller":
            stmt = stmt.where(Product.seller_id == bindparam("seller_id"))
        elif item == "min_price":
            stmt = stmt.where(Product.price_fen >= bindparam("min_price"))
        elif item == "max_price":
            stmt = stmt.where(Product.price_fen <= bindparam("max_price"))
        elif item == "in_stock":
            stmt = stmt.where(Product.stock > 0)
        elif item == "ids":
            stmt = stmt.where(Product.id.in_(bindparam("ids", expanding=True)))
        else:
            _q, n = item
            for i in range(n):
                term = bindparam(f"q{i}")
                stmt = stmt.where(or_(Product.name.like(term, escape="\\"),
                                      Product.description.like(term, escape="\\"),
                                      Seller.name.like(term, escape="\\")))
    return stmt


@functools.cache
def _statement(kind: str, shape: tuple, sort: Sort | None = None):
    """The count, ORM product or card statement for a shape of filters and a sort, built once
    (building and hashing a statement costs more than running it on a small page); values
    come as bound parameters, the page as `offset` and `limit`."""
    if kind == "count":
        return _where(select(func.count()).select_from(Product), shape)
    if kind == "products":
        stmt = _where(select(Product), shape).options(*card_options(seller_joined=True))
    else:
        columns, origin = card_select()
        stmt = (_where(select(*columns), shape)
                # outer joins: SQLite keeps them after products and sellers, so a page is read
                # in the sort's index order and stops at its last row
                .outerjoin(Category, Product.category_id == Category.id)
                .outerjoin(origin, Product.origin_id == origin.id))
    if sort is None:  # ids from the search index: their order is restored in Python
        return stmt
    return (stmt.order_by(*_order(sort))
            .offset(bindparam("offset", type_=Integer)).limit(bindparam("limit", type_=Integer)))


@functools.cache
def _order(sort: Sort) -> tuple:
    return {
        Sort.price_asc: (Product.price_fen.asc(), Product.id.asc()),
        Sort.price_desc: (Product.price_fen.desc(), Product.id.desc()),
        Sort.newest: (Product.listed_at.desc(), Product.id.desc()),
        # read off ix_products_status_featured_listed_at (migration 0002)
        Sort.relevance: (Product.featured.desc(), Product.listed_at.desc(), Product.id.desc()),
    }[sort]


def _run(session: Session, m: _Match, f: CatalogFilters, kind: str, total: int | None):
    """(total, rows) for a page: counts unless `total` is given, skips the page when empty."""
    if total is None:
        total = session.scalar(_statement("count", m.shape), m.params) or 0
    if not total:
        return 0, []
    params = {**m.params, "offset": (f.page - 1) * f.per_page, "limit": f.per_page}
    return total, session.execute(_statement(kind, m.shape, f.sort), params)


def _searched(session: Session, f: CatalogFilters, searcher: Searcher | None):
    """Ask the search index when there is a query and an index: (hits, rows of the page's
    visible products in the index's order) or None to browse the database instead."""
    if not f.q or searcher is None:
        return None
    return searcher(session, f)


def _in_order(rows, ids: list[int], key) -> list:
    position = {pid: i for i, pid in enumerate(ids)}
    return sorted(rows, key=lambda r: position.get(key(r), len(position)))


def browse(session: Session, f: CatalogFilters, *, total: int | None = None,
           searcher: Searcher | None = None) -> ProductPage:
    """One page of visible products as ORM objects (the API list). `total` may be passed when
    the caller already knows how many products match; otherwise it is counted. With a query
    and a `searcher`, the index decides which products and in what order."""
    hits = _searched(session, f, searcher)
    m = _match(session, replace(f, q="") if hits else f)
    if hits is not None:
        rows = (session.scalars(_statement("products", ("ids",)), {"ids": hits.ids}).all()
                if hits.ids else [])
        return ProductPage(items=_in_order(rows, hits.ids, lambda p: p.id), total=hits.total,
                           page=f.page, per_page=f.per_page, filters=f, region=m.region,
                           category=m.category, search=hits)
    total, result = _run(session, m, f, "products", total)
    items: list[Product] = list(result.scalars()) if total else []
    return ProductPage(items=items, total=total, page=f.page, per_page=f.per_page, filters=f,
                       region=m.region, category=m.category)


def browse_cards(session: Session, f: CatalogFilters, *, total: int | None = None,
                 searcher: Searcher | None = None) -> ProductPage:
    """One page of visible products as `ProductCard`s (the storefront's grids), in one query:
    the product with its seller (the join that checks the seller's status), category and origin,
    and its cover thumbnail (subquery on the (product_id, position) key). `total` may be passed
    when the caller already knows how many products match; otherwise it is counted."""
    hits = _searched(session, f, searcher)
    m = _match(session, replace(f, q="") if hits else f)
    if hits is not None:
        total = hits.total
        rows = (_in_order(session.execute(_statement("cards", ("ids",)), {"ids": hits.ids}),
                          hits.ids, lambda r: r[0]) if hits.ids else [])
    else:
        total, rows = _run(session, m, f, "cards", total)
    return ProductPage(items=cards_from_rows(rows), total=total, page=f.page,
                       per_page=f.per_page, filters=f, region=m.region, category=m.category,
                       search=hits)


def get_visible(session: Session, product_id: int) -> Product:
    product = session.scalar(select(Product).join(Seller, Product.seller_id == Seller.id).where(
        Product.id == product_id, visible_condition()))
    if product is None:
        raise NotFound("商品不存在或已下架")
    return product


def featured(session: Session, limit: int = 8) -> list[Product]:
    stmt = (select(Product).join(Seller, Product.seller_id == Seller.id)
            .where(visible_condition())
            .order_by(Product.featured.desc(), Product.listed_at.desc(), Product.id.desc())
            .options(*card_options(seller_joined=True)).limit(limit))
    return list(session.scalars(stmt))


@functools.cache
def _category_counts_select():
    listed = (select(func.count()).select_from(Product)
              .where(Product.status == ProductStatus.listed, Product.category_id == Category.id)
              .correlate(Category).scalar_subquery())
    hidden = (select(Product.category_id,
                     func.count(case((Product.status == ProductStatus.listed, Product.id)))
                     .label("n"))
              .where(Product.seller_id.in_(select(Seller.id).where(
                  Seller.status != SellerStatus.verified)))
              .group_by(Product.category_id).subquery("hidden"))
    return (select(Category, listed - func.coalesce(hidden.c.n, 0))
            .outerjoin(hidden, hidden.c.category_id == Category.id)
            .order_by(Category.sort_order, Category.id))


def category_counts(session: Session) -> list[tuple[Category, int]]:
    """Every category (in display order) with its number of visible products, in one query.

    Counted as the category's listed products (a count over the index on (status, category_id)
    alone) minus the listed products of sellers that are not verified (found from those
    sellers through the index on seller_id; usually none), so that no query looks up the seller
    of every listed product."""
    return [(c, n) for c, n in session.execute(_category_counts_select())]


def region_counts(session: Session, level: str = "county") -> list[tuple[Region, int]]:
    """Listed products per region at a level (counties by default), for the home page."""
    regions = list(session.scalars(select(Region).where(Region.level == level)
                                   .order_by(Region.code)))
    out = []
    for region in regions:
        n = session.scalar(select(func.count()).select_from(Product)
                           .join(Seller, Product.seller_id == Seller.id)
                           .join(Region, Product.origin_id == Region.id)
                           .where(visible_condition(), Region.path.like(region.path + "%")))
        out.append((region, n or 0))
    return out
