"""Product cards: what `macros.product_card` shows of a product, built from plain rows of one
query (`card_select`) instead of ORM objects, for the storefront's grids (`queries.browse_cards`).
"""
from __future__ import annotations

import functools

from sqlalchemy import select
from sqlalchemy.orm import aliased

from marketplace.catalog.models import Category, Product, ProductImage
from marketplace.regions.models import Region
from marketplace.sellers.models import Seller


class CardImage:
    """The cover of a card: the thumbnail's file name."""

    __slots__ = ("thumb_filename",)

    def __init__(self, thumb_filename: str):
        self.thumb_filename = thumb_filename


class CardCategory:
    __slots__ = ("icon", "id", "name_en", "name_zh", "slug")
    name_for = Category.name_for

    def __init__(self, id, slug, icon, name_zh, name_en):
        self.id, self.slug, self.icon, self.name_zh, self.name_en = (id, slug, icon, name_zh,
                                                                     name_en)


class CardPlace:
    """A product's origin on a card; `path_names` and `short_place` are Region's own."""

    __slots__ = ("code", "id", "name", "name_path")
    path_names = Region.path_names
    short_place = Region.short_place

    def __init__(self, id, code, name, name_path):
        self.id, self.code, self.name, self.name_path = id, code, name, name_path


class CardSeller:
    __slots__ = ("id", "name")

    def __init__(self, id, name):
        self.id, self.name = id, name


class ProductCard:
    """What `macros.product_card` shows of a product, read with plain rows, no ORM objects.

    Attributes have the names of Product's (`id`, `name`, `spec`, `price_fen`, `stock`,
    `certified`, `cover`, `category.icon`, `origin.short_place`, `seller.name`); `certified` is
    Product's own rule. Built by `browse_cards`."""

    __slots__ = (
        "category",
        "certificate_checked",
        "certificate_no",
        "certificate_valid_until",
        "cover",
        "id",
        "name",
        "name_html",
        "origin",
        "price_fen",
        "seller",
        "spec",
        "stock",
    )
    certified = Product.certified

    def __init__(self, id, name, spec, price_fen, stock, certificate_no,
                 certificate_checked, certificate_valid_until, cover, category, origin, seller):
        self.id, self.name, self.spec, self.price_fen, self.stock = (id, name, spec, price_fen,
                                                                     stock)
        self.certificate_no = certificate_no
        self.certificate_checked = certificate_checked
        self.certificate_valid_until = certificate_valid_until
        self.cover, self.category, self.origin, self.seller = cover, category, origin, seller
        self.name_html = None  # the name with the search terms marked, on search results

    def __repr__(self) -> str:
        return f"<ProductCard {self.id} {self.name}>"


@functools.cache
def card_select():
    """What a card reads (built once: the statement is rebuilt for every page otherwise); the
    origin is an alias because Region itself may be joined by a region filter."""
    origin = aliased(Region, name="origin")
    cover = (select(ProductImage.thumb_filename).where(ProductImage.product_id == Product.id)
             .order_by(ProductImage.position).limit(1).scalar_subquery().label("cover"))
    columns = (Product.id, Product.name, Product.spec, Product.price_fen, Product.stock,
               Product.certificate_no, Product.certificate_checked,
               Product.certificate_valid_until, Seller.id, Seller.name, Category.id,
               Category.slug, Category.icon, Category.name_zh, Category.name_en, origin.id,
               origin.code, origin.name, origin.name_path, cover)
    return columns, origin


def cards_from_rows(rows) -> list[ProductCard]:
    """Cards from rows of `card_select`'s columns, in their order; each category, origin and
    seller is one object shared by its cards."""
    items: list[ProductCard] = []
    categories: dict[int, CardCategory] = {}
    places: dict[int, CardPlace] = {}
    sellers: dict[int, CardSeller] = {}
    for (pid, name, spec, price_fen, stock, cert_no, cert_checked, cert_until, seller_id,
         seller_name, category_id, slug, icon, name_zh, name_en, origin_id, origin_code,
         origin_name, name_path, cover) in rows:
        category = categories.get(category_id)
        if category is None:
            category = categories[category_id] = CardCategory(category_id, slug, icon, name_zh,
                                                              name_en)
        place = places.get(origin_id)
        if place is None:
            place = places[origin_id] = CardPlace(origin_id, origin_code, origin_name,
                                                  name_path)
        seller = sellers.get(seller_id)
        if seller is None:
            seller = sellers[seller_id] = CardSeller(seller_id, seller_name)
        items.append(ProductCard(pid, name, spec, price_fen, stock, cert_no, cert_checked,
                                 cert_until, CardImage(cover) if cover else None, category,
                                 place, seller))
    return items
