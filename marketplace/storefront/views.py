"""The public storefront: home, catalogue, product, seller and region pages (read-only)."""
from __future__ import annotations

from flask import Blueprint, current_app, render_template, request

from marketplace.core.inputs import bounded_int
from marketplace.extensions import db
from marketplace.storefront.context import (
    catalog_context,
    home_context,
    money_context,
    product_context,
    region_context,
    seller_context,
)

bp = Blueprint("storefront", __name__)


@bp.route("/")
def home():
    return render_template("storefront/home.html", **home_context(db.session))


@bp.route("/products")
def catalog():
    ctx = catalog_context(db.session, request.args,
                          per_page=current_app.config.get("PER_PAGE", 24))
    return render_template("storefront/catalog.html", **ctx)


@bp.route("/products/<int:product_id>")
def product(product_id: int):
    index = bounded_int(request.args.get("img"), 0, 99) or 0  # which image is large; bad values -> 0
    return render_template("storefront/product.html",
                           **product_context(db.session, product_id, index))


@bp.route("/where-money-goes")
def where_money_goes():
    """钱去了哪里: the households' share, by kind of seller, the ledger and how to check it."""
    return render_template("storefront/where_money_goes.html", **money_context(db.session))


@bp.route("/sellers/<int:seller_id>")
def seller(seller_id: int):
    return render_template("storefront/seller.html",
                           **seller_context(db.session, seller_id, request.args))


@bp.route("/regions/<code>")
def region(code: str):
    return render_template("storefront/region.html",
                           **region_context(db.session, code, request.args))
