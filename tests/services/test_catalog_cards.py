"""Shopper queries behind the storefront grids: category counts, product cards, the catalogue
context and the index of migration 0002 (both engines)."""
from flask import request
from sqlalchemy import inspect

from marketplace.catalog import queries
from marketplace.catalog.filters import parse_filters
from marketplace.catalog.models import ProductImage, ProductStatus
from marketplace.extensions import db
from marketplace.sellers.models import SellerStatus
from marketplace.storefront.context import catalog_context
from tests.fixtures.factories import make_product, make_seller


def filters(**args):
    f, problems = parse_filters(args, per_page_default=24, money_in_fen=True)
    assert not problems
    return f


def test_category_counts_count_only_listed_products_of_verified_sellers(session, regions):
    good = make_seller(session)
    make_product(session, good, category_slug="tea")
    make_product(session, good, category_slug="tea")
    make_product(session, good, category_slug="tea", status=ProductStatus.draft)
    make_product(session, good, category_slug="jujube", status=ProductStatus.delisted)
    suspended = make_seller(session, status=SellerStatus.suspended)
    make_product(session, suspended, category_slug="tea")
    make_product(session, suspended, category_slug="jujube")
    make_product(session, suspended, category_slug="jujube", status=ProductStatus.pending)
    pending = make_seller(session, status=SellerStatus.pending)
    make_product(session, pending, category_slug="oil")
    counts = {c.slug: n for c, n in queries.category_counts(session)}
    assert counts["tea"] == 2 and counts["jujube"] == 0 and counts["oil"] == 0
    assert sum(counts.values()) == 2 == queries.browse(session, filters()).total
    assert len(counts) == 9  # every category, also the empty ones

    suspended.status = SellerStatus.verified
    session.flush()
    counts = {c.slug: n for c, n in queries.category_counts(session)}
    assert counts["tea"] == 3 and counts["jujube"] == 1 and counts["oil"] == 0


def test_cards_match_the_orm_products_for_every_sort_and_filter(session, regions):
    seller = make_seller(session, name="古楼茶叶合作社")
    other = make_seller(session)
    make_product(session, seller, name="雪峰云雾茶", price_fen=12800, stock=0, certified=True)
    make_product(session, seller, name="溆浦红枣", category_slug="jujube", price_fen=3990,
                 origin_code="431224210201")
    make_product(session, other, name="古楼绿茶", price_fen=5600, origin_code="430525101202")
    make_product(session, other, name="暂停不见", status=ProductStatus.delisted)
    with_image = make_product(session, other, name="山茶油", category_slug="oil", price_fen=8800)
    session.add_all([ProductImage(product=with_image, position=2, filename="b.jpg",
                                  thumb_filename="b_t.jpg", width=10, height=10),
                     ProductImage(product=with_image, position=1, filename="a.jpg",
                                  thumb_filename="a_t.jpg", width=10, height=10)])
    session.flush()
    session.expire_all()
    cases = [{}, {"sort": "price_asc"}, {"sort": "price_desc"}, {"sort": "newest"},
             {"category": "jujube"}, {"region": "430525"}, {"seller": str(seller.id)},
             {"min_price": "4000", "max_price": "9000"}, {"in_stock": "1"}, {"q": "茶"},
             {"q": "古楼 茶"}, {"region": "999999"}, {"per_page": "2", "page": "2"}]
    for args in cases:
        products = queries.browse(session, filters(**args))
        cards = queries.browse_cards(session, filters(**args))
        assert cards.total == products.total, args
        assert [c.id for c in cards.items] == [p.id for p in products.items], args
        for card, product in zip(cards.items, products.items, strict=True):
            assert (card.name, card.spec, card.price_fen, card.stock, card.certified) == (
                product.name, product.spec, product.price_fen, product.stock, product.certified)
            assert card.seller.name == product.seller.name
            assert card.category.icon == product.category.icon
            assert card.origin.short_place == product.origin.short_place
            assert (card.cover.thumb_filename if card.cover else None) == (
                product.cover.thumb_filename if product.cover else None)
    oil = queries.browse_cards(session, filters(category="oil")).items
    assert [c.cover.thumb_filename for c in oil] == ["a_t.jpg"]  # the first by position
    assert queries.browse_cards(session, filters(q="暂停")).items == []


def test_catalogue_total_from_the_chip_counts_matches_a_count(app, session, regions):
    seller = make_seller(session)
    for i in range(3):
        make_product(session, seller, name=f"茶{i}")
    make_product(session, seller, name="红枣", category_slug="jujube", stock=0)
    make_product(session, make_seller(session, status=SellerStatus.suspended), name="暂停茶")
    for query, total in (("", 4), ("category=tea", 3), ("category=jujube", 1),
                         ("category=tea&in_stock=1", 3), ("in_stock=1", 3),
                         ("category=nope", 4)):
        with app.test_request_context("/products?" + query):
            ctx = catalog_context(db.session, request.args, per_page=2)
            assert ctx["page"].total == total, query
            assert len(ctx["page"].items) == min(2, total)


def test_migration_0002_adds_the_default_sort_index(session):
    indexes = {ix["name"]: ix["column_names"]
               for ix in inspect(session.connection()).get_indexes("products")}
    assert indexes["ix_products_status_featured_listed_at"] == [
        "status", "featured", "listed_at", "id", "seller_id"]
