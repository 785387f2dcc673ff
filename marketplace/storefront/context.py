"""Database work behind the storefront pages: each function returns a plain dict for a template.

The views stay thin (`render_template(name, **ctx)`), and the catalogue template can be fed the
same keys from in-memory objects (see `catalog_context`), which the storefront benchmark does.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from marketplace.catalog import queries
from marketplace.catalog.cards import CardPlace
from marketplace.catalog.filters import CatalogFilters, parse_filters
from marketplace.catalog.models import Product
from marketplace.core.money import fen_to_yuan_text
from marketplace.households.models import Household
from marketplace.ledger import chain, rules, shares
from marketplace.regions import services as regions
from marketplace.regions.models import Region, RegionLevel
from marketplace.search import catalog_searcher
from marketplace.sellers import services as sellers
from marketplace.sellers.models import CooperativeMember, Seller, SellerKind, SellerStatus

# query arguments the storefront reads; anything else (per_page, ...) is dropped
CATALOG_ARGS = ("q", "category", "region", "seller", "min_price", "max_price", "in_stock", "sort",
                "page")
FEATURED_LIMIT = 8
SELLER_PER_PAGE = 12
REGION_PER_PAGE = 12


def _web_filters(args: Mapping, per_page: int) -> CatalogFilters:
    """Parse query arguments the storefront way: bad values are silently ignored."""
    clean = {k: args.get(k) for k in CATALOG_ARGS if args.get(k) not in (None, "")}
    filters, _problems = parse_filters(clean, per_page_default=per_page,
                                       money_in_fen=False)
    if (filters.min_price is not None and filters.max_price is not None
            and filters.min_price > filters.max_price):
        filters.min_price, filters.max_price = filters.max_price, filters.min_price
    return filters


def _form_values(f: CatalogFilters) -> dict:
    return {
        "q": f.q,
        "category": f.category,
        "region": f.region,
        "seller": str(f.seller) if f.seller is not None else "",
        "min_price": fen_to_yuan_text(f.min_price) if f.min_price is not None else "",
        "max_price": fen_to_yuan_text(f.max_price) if f.max_price is not None else "",
        "in_stock": f.in_stock,
        "sort": str(f.sort),
    }


@functools.cache
def _counties_select():
    """Counties with townships under them: an origin is a village, so a county of the national
    list with none (where no household is registered) never has products to filter."""
    township = aliased(Region)
    with_townships = select(township.parent_id).where(township.level == RegionLevel.township)
    return (select(Region.id, Region.code, Region.name, Region.name_path)
            .where(Region.level == RegionLevel.county, Region.id.in_(with_townships))
            .order_by(Region.code))


def _county_places(session: Session) -> list[CardPlace]:
    """The counties for the catalogue's region select, as plain objects (code, name,
    short_place) rather than ORM objects: every catalogue page reads them."""
    return [CardPlace(*row) for row in session.execute(_counties_select())]


def catalog_context(session: Session, args: Mapping, *, per_page: int = 24) -> dict:
    """Everything templates/storefront/catalog.html needs, from the request's query arguments.

    Queries: the categories with their chip counts (one query), the counties for the region
    select, the region / seller named in the filters (only when given), then
    `queries.browse_cards` (one query for the page's cards; plus a count, unless there is no
    filter or only a category, when the chip counts already give the total). Invalid values
    are ignored.

    Keys and what the template reads from them (a benchmark may build these from plain objects):

    - ``page``: a ``core.pager.Page`` of ``cards.ProductCard``: ``.items``, ``.total``,
      ``.page``, ``.pages``, ``.has_prev``, ``.has_next``. Each item is rendered by
      ``macros.product_card``, which reads ``id``, ``name``, ``spec``, ``price_fen``, ``stock``,
      ``certified``, ``cover`` (``None`` or an object with ``thumb_filename``),
      ``category.icon``, ``origin.short_place`` and ``seller.name``.
    - ``categories``: list of ``(category, count)``; a category has ``slug``, ``icon`` and
      ``name_zh`` / ``name_en`` (through the ``category_name`` global).
    - ``counties``: list of counties with ``code`` and ``name`` (the region select).
    - ``form``: dict of strings for the filter form: ``q``, ``category``, ``region``, ``seller``,
      ``min_price``, ``max_price`` (yuan text), ``sort``; and ``in_stock`` (bool).
    - ``active_category``: ``None`` or a category (as above).
    - ``active_region``: ``None`` or a region with ``code``, ``name``, ``short_place``.
    - ``active_seller``: ``None`` or a seller with ``id`` and ``name``.
    - ``has_filters``: bool, any filter besides sort and page is set.
    - ``county_facets``: list of ``(county, count)`` for a query the search index answered.
    - ``suggestions``: list of ``(category, count)`` with products, shown when nothing matched.

    The template also calls ``url_with`` (the current URL with changed arguments), so render it
    inside a request.
    """
    f = _web_filters(args, per_page)
    categories = queries.category_counts(session)
    by_slug = {c.slug: c for c, _n in categories}
    if f.category and f.category not in by_slug:
        f.category = ""
    counties = _county_places(session)
    active_region = None
    if f.region:
        active_region = next((r for r in counties if r.code == f.region), None)
        if active_region is None:
            active_region = regions.find_by_code(session, f.region)
        if active_region is None:
            f.region = ""
    active_seller = None
    if f.seller is not None:
        active_seller = session.scalar(select(Seller).where(
            Seller.id == f.seller, Seller.status == SellerStatus.verified))
        if active_seller is None:
            f.seller = None
    has_filters = bool(f.q or f.category or f.region or f.seller is not None
                       or f.min_price is not None or f.max_price is not None or f.in_stock)
    total = None  # no filter or a category alone: the chip counts already tell the total
    if not has_filters:
        total = sum(n for _c, n in categories)
    elif f.category and not (f.q or f.region or f.seller is not None or f.min_price is not None
                             or f.max_price is not None or f.in_stock):
        total = next(n for c, n in categories if c.slug == f.category)
    page = queries.browse_cards(session, f, total=total, searcher=catalog_searcher())
    chips, county_facets = categories, []
    if page.search is not None:  # the index answered: facets of this query, marked names
        from marketplace.search.queries import highlight
        hits = page.search
        chips = [(c, hits.category_counts.get(c.id, 0)) for c, _n in categories]
        chips = [(c, n) for c, n in chips if n or c.slug == f.category]
        county_facets = sorted(((r, hits.county_counts[r.code]) for r in counties
                                if r.code in hits.county_counts), key=lambda rn: -rn[1])
        for card in page.items:
            card.name_html = highlight(card.name, hits.terms)
    return {
        "page": page,
        "categories": chips,
        "county_facets": county_facets,
        "counties": counties,
        "form": _form_values(f),
        "active_category": by_slug.get(f.category) if f.category else None,
        "active_region": active_region,
        "active_seller": active_seller,
        "has_filters": has_filters,
        "suggestions": [(c, n) for c, n in categories if n] if page.total == 0 else [],
    }


def home_context(session: Session) -> dict:
    visible = queries.visible_condition()
    listed = session.scalar(select(func.count()).select_from(Product)
                            .join(Seller, Product.seller_id == Seller.id).where(visible))
    stats = {
        "products": listed or 0,
        "sellers": session.scalar(select(func.count()).select_from(Seller)
                                  .where(Seller.status == SellerStatus.verified)) or 0,
        "households": session.scalar(select(func.count()).select_from(Household)) or 0,
    }
    return {
        "categories": queries.category_counts(session),
        "featured": queries.featured(session, FEATURED_LIMIT),
        "regions": queries.region_counts(session),
        "stats": stats,
    }


def product_context(session: Session, product_id: int, image_index: int = 0) -> dict:
    product = queries.get_visible(session, product_id)
    images = product.images
    index = image_index if 0 <= image_index < len(images) else 0
    origin = product.origin
    return {
        "product": product,
        "images": images,
        "image_index": index,
        "origin_crumbs": list(zip(origin.path_codes, origin.path_names, strict=False)),
        "seller": product.seller,
        "share": shares.for_products(session, [product])[product.id],
    }


EXAMPLE_PRICE_FEN, EXAMPLE_SHARE_BP = 3900, 3000  # the worked example of 钱去了哪里


def money_context(session: Session) -> dict:
    """The page 钱去了哪里: a worked example by the posting rule, the shares of the products on
    sale by kind of seller, and the ledger's last entry (its anchor)."""
    example = rules.estimate_fen(rules.ShareTerms(EXAMPLE_SHARE_BP, False, None),
                                 EXAMPLE_PRICE_FEN)
    return {
        "example": {"price_fen": EXAMPLE_PRICE_FEN, "share_bp": EXAMPLE_SHARE_BP,
                    "households_fen": example, "rest_fen": EXAMPLE_PRICE_FEN - example},
        "kinds": {str(k.kind): k for k in shares.by_seller_kind(session)},
        "head": chain.head(session),
    }


def seller_context(session: Session, seller_id: int, args: Mapping) -> dict:
    seller = sellers.get_public(session, seller_id)
    members = None
    if seller.kind == SellerKind.cooperative:
        members = session.scalar(select(func.count()).select_from(CooperativeMember)
                                 .where(CooperativeMember.seller_id == seller.id)) or 0
    f = _web_filters({"page": args.get("page"), "sort": args.get("sort")}, SELLER_PER_PAGE)
    f.seller = seller.id
    return {"seller": seller, "member_count": members, "page": queries.browse_cards(session, f)}


def child_counts(session: Session, region: Region, children: list[Region]) -> dict[int, int]:
    """Listed products under each child of `region`, in one GROUP BY on the origin path prefix.

    Children at one level have codes of one length, so their paths share one length too."""
    if not children:
        return {}
    length = len(children[0].path)
    prefix = func.substr(Region.path, 1, length)
    rows = session.execute(
        select(prefix, func.count()).select_from(Product)
        .join(Seller, Product.seller_id == Seller.id)
        .join(Region, Product.origin_id == Region.id)
        .where(queries.visible_condition(), Region.path.like(region.path + "%"),
               func.length(Region.path) >= length)
        .group_by(prefix)).all()
    by_path = dict(rows)
    return {c.id: by_path.get(c.path, 0) for c in children}


def region_context(session: Session, code: str, args: Mapping) -> dict:
    region = regions.get_by_code(session, code)
    children = regions.children(session, region)
    counts = child_counts(session, region, children)
    f = _web_filters({"page": args.get("page"), "sort": args.get("sort")}, REGION_PER_PAGE)
    f.region = region.code
    return {
        "region": region,
        "crumbs": list(zip(region.path_codes, region.path_names, strict=False)),
        "children": [(c, counts.get(c.id, 0)) for c in children],
        "page": queries.browse_cards(session, f),
    }
